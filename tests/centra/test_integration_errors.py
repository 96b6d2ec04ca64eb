"""The Integration API requestor at its boundary: statuses, retries, field errors, secrets,
and a refused token pausing a flow the way a refused Order API secret does."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import httpx
import pytest
from pydantic import SecretStr

from centrasync.centra.integration.client import IntegrationApiClient
from centrasync.errors import (
    ConfigError,
    GiveUpError,
    MalformedResponseError,
    NetworkError,
    RemoteRefusedError,
    ServerError,
    TokenInvalidError,
)
from centrasync.http import RetryPolicy
from centrasync.store.base import RecordKind, RecordRef, StateStore
from centrasync.store.sql import open_store
from centrasync.sync.effects import apply_once
from centrasync.sync.policy import Ladder, ParkedStates, RecordPolicy
from centrasync.sync.tally import Tally

TOKEN = "secret-token-value-123"
URL = "https://shop.centra.test/graphql"
Handler = Callable[[httpx.Request], httpx.Response]


class Server:
    """Answers from a list; records what it was sent."""

    def __init__(self, *answers: httpx.Response) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def body(self, index: int = 0) -> dict[str, object]:
        sent: dict[str, object] = json.loads(self.requests[index].content)
        return sent


async def _sleep(_: float) -> None:
    return None


def client(server: Server) -> IntegrationApiClient:
    return IntegrationApiClient(
        URL,
        SecretStr(TOKEN),
        transport=httpx.MockTransport(server),
        retry=RetryPolicy(max_attempts=3, base_delay=0.01),
        sleep=_sleep,
    )


def ok(data: dict[str, object], complexity: int = 5) -> httpx.Response:
    return httpx.Response(200, json={"data": data, "extensions": {"complexity": complexity}})


WAREHOUSE = {
    "id": 1,
    "name": "Main",
    "status": "ACTIVE",
    "stockOwnership": "OWN",
    "allocationPolicy": "DIRECT",
    "stockMaster": "CENTRA",
    "threshold": None,
}


async def test_the_operation_goes_out_with_its_name_variables_and_bearer_token() -> None:
    server = Server(ok({"warehouses": [WAREHOUSE]}))
    async with client(server) as api:
        (warehouse,) = await api.warehouses({"name": {"contains": "Ma"}}, limit=5)
    assert warehouse.name == "Main"
    sent = server.body()
    assert sent["operationName"] == "Warehouses"
    assert sent["variables"] == {"where": {"name": {"contains": "Ma"}}, "limit": 5, "page": 1}
    assert server.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert str(server.requests[0].url) == URL


async def test_403_is_token_invalid_and_never_shows_the_token() -> None:
    echo = {"errors": [{"message": f"token {TOKEN} expired"}]}
    server = Server(httpx.Response(403, json=echo))
    async with client(server) as api:
        with pytest.raises(TokenInvalidError) as refused:
            await api.rate_limits()
        shown = str(refused.value) + repr(refused.value) + repr(api) + (refused.value.body or "")
    assert "invalid or expired" in str(refused.value)
    assert isinstance(refused.value, ConfigError)
    assert TOKEN not in shown
    assert len(server.requests) == 1, "a refused token is not retried"


async def test_400_is_a_refusal_not_retried() -> None:
    body = {"errors": [{"message": "Cannot query field 'nope' on type 'Query'."}]}
    server = Server(httpx.Response(400, json=body))
    async with client(server) as api:
        with pytest.raises(RemoteRefusedError, match="Cannot query field") as refused:
            await api.orders()
    assert isinstance(refused.value, GiveUpError)
    assert len(server.requests) == 1


async def test_5xx_retries_reads_but_not_a_new_shipment() -> None:
    server = Server(httpx.Response(502, text="bad gateway"))
    async with client(server) as api:
        with pytest.raises(ServerError):
            await api.orders()
        assert len(server.requests) == 3
        with pytest.raises(ServerError):
            await api.create_shipment(1001)
    assert len(server.requests) == 4, "a new shipment could be made twice"


async def test_499_a_query_too_slow_is_a_network_failure() -> None:
    server = Server(httpx.Response(499, text=""))
    async with client(server) as api:
        with pytest.raises(NetworkError, match="too long"):
            await api.orders()


async def test_a_cut_short_answer_is_read_again_for_a_query_only() -> None:
    server = Server(
        httpx.Response(200, text='{"data": {"warehouses": ['),
        ok({"warehouses": [WAREHOUSE]}),
    )
    async with client(server) as api:
        assert len(await api.warehouses()) == 1
    assert len(server.requests) == 2
    server = Server(httpx.Response(200, text='{"data": {"createShipment": '))
    async with client(server) as api:
        with pytest.raises(MalformedResponseError):
            await api.create_shipment(1001)
    assert len(server.requests) == 1


async def test_field_errors_in_a_200_fail_the_call() -> None:
    body = {"data": {"orders": None}, "errors": [{"message": "Limit must be in range 1 - 200"}]}
    server = Server(httpx.Response(200, json=body))
    async with client(server) as api:
        with pytest.raises(RemoteRefusedError, match="Limit must be in range"):
            await api.orders()


async def test_warnings_come_back_with_the_result() -> None:
    payload = {
        "eventListeners": [],
        "userErrors": [],
        "userWarnings": [{"message": "duplicate skipped", "path": ["input", "1"]}],
    }
    server = Server(ok({"setEventListeners": payload}))
    async with client(server) as api:
        result = await api.set_event_listeners({"Order": None, "Order ": None})
    assert [(w.message, w.where) for w in result.warnings] == [("duplicate skipped", "input.1")]


async def test_naive_datetimes_are_refused_before_anything_is_sent() -> None:
    server = Server(ok({"orders": []}))
    async with client(server) as api:
        with pytest.raises(ValueError, match="naive"):
            await api.orders({"createdAt": {"from": datetime(2025, 1, 1)}})
    assert server.requests == []


# -- a refused token pauses the flow using it -----------------------------------------------

REF = RecordRef("se", RecordKind.SHIPMENT, "1042-1")


@pytest.fixture
async def state() -> AsyncIterator[StateStore]:
    store = await open_store("sqlite+aiosqlite:///:memory:")
    try:
        yield store
    finally:
        await store.close()


async def test_a_refused_token_fails_the_pass_without_counting_against_the_record(
    state: StateStore,
) -> None:
    """As with a revoked Order API secret (tests/hostile/test_revoked_credentials.py): the
    pass stops, nothing is parked, and the effect's attempts are not used up."""
    server = Server(httpx.Response(403, json={"errors": [{"message": "expired"}]}))
    ladder = Ladder.of(("new",), ("sent",), ("refused", "invalid", "failed"))
    parked = ParkedStates(invalid="invalid", refused="refused", failed="failed")
    steps = RecordPolicy(state, Tally(), "se", "outbound", parked, 3, ladder=ladder)
    await state.upsert_record(REF)
    async with client(server) as api:

        async def step() -> None:
            await apply_once(state, "capture/1042-1", REF, {}, lambda: _capture(api))

        for _ in range(5):
            with pytest.raises(TokenInvalidError):
                await steps.run(REF, step)
    record = await state.get_record(REF)
    assert record is not None and record.state == "new"
    effect = await state.get_effect("capture/1042-1")
    assert effect is not None and effect.attempts == 0
    assert await state.list_dead("se") == []


async def _capture(api: IntegrationApiClient) -> dict[str, object]:
    result = await api.capture_shipment(1908)
    return {"captured": result.value.is_captured}
