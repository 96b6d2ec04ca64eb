"""Error mapping at the client boundary, against httpx.MockTransport servers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from centrasync.centra.client import OrderApiClient
from centrasync.centra.requestor import check_envelope
from centrasync.errors import (
    AuthenticationError,
    CaptureDeclinedError,
    CentrasyncError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RecordValidationError,
    RemoteRefusedError,
    ServerError,
)
from centrasync.http import RetryPolicy

SECRET = "s3cret-abcdef"
Handler = Callable[[httpx.Request], httpx.Response]


class Sleeps:
    """Records the waits the retry loop asked for, without waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make_client(handler: Handler, sleeps: Sleeps | None = None) -> OrderApiClient:
    return OrderApiClient(
        "https://shop.centra.com/api/wms",
        SECRET,
        "Europe/Stockholm",
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(max_attempts=3, base_delay=0.01),
        sleep=sleeps or Sleeps(),
    )


def ok(**body: Any) -> httpx.Response:
    return httpx.Response(200, json={"status": "ok", **body})


async def test_sends_secret_header_and_json_accept() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return ok(shipments=[])

    async with make_client(handler) as client:
        assert len(await client.list_shipments()) == 0
    request = seen[0]
    assert request.headers["API-Authorization"] == SECRET
    assert request.headers["Accept"] == "application/json"
    assert request.url.path == "/api/wms/shipments"
    assert request.url.params["status"] == "goodtogo"
    assert SECRET not in repr(client)


async def test_status_no_is_a_refusal_carrying_centras_message() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={"status": "no", "msg": "shipment has invoices or creditnotes", "shipment": "3-1"},
        )

    async with make_client(handler) as client:
        with pytest.raises(RemoteRefusedError) as caught:
            await client.delete_shipment("3-1")
    assert caught.value.remote_message == "shipment has invoices or creditnotes"
    assert caught.value.endpoint == "DELETE /shipments/3-1"
    assert not isinstance(caught.value, CaptureDeclinedError)


@pytest.mark.parametrize("msg", ["capture failed", "can not capture order"])
async def test_capture_refusals_are_capture_declined(msg: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"status": "no", "msg": msg, "order": 5, "shipment": "5-1"})

    async with make_client(handler) as client:
        with pytest.raises(CaptureDeclinedError, match=msg):
            await client.capture_shipment("5-1")
        with pytest.raises(CaptureDeclinedError):
            await client.create_shipment(5, {"1": 1})
        with pytest.raises(CaptureDeclinedError):
            await client.complete_shipment(5, "5-1", tracking="T1")


async def test_403_not_allowed_names_the_endpoint() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"status": "Not Allowed"})

    async with make_client(handler) as client:
        with pytest.raises(PermissionDeniedError) as caught:
            await client.list_returns()
    assert "GET /returns" in str(caught.value)


async def test_401_is_authentication_and_never_shows_the_secret() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, text=f"bad key {request.headers['API-Authorization']}")

    async with make_client(handler) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.list_orders()
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(caught.value.body)


async def test_429_waits_for_retry_after_then_succeeds() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return httpx.Response(429, headers={"Retry-After": "7"}, json={"status": "no"})
        return ok(orders=[])

    sleeps = Sleeps()
    async with make_client(handler, sleeps) as client:
        await client.list_orders()
    assert sleeps.calls == [7.0]


async def test_429_that_persists_is_rate_limited_with_retry_after() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "2"})

    sleeps = Sleeps()
    async with make_client(handler, sleeps) as client:
        with pytest.raises(RateLimitedError) as caught:
            await client.capture_shipment("1-1")
    assert caught.value.retry_after == 2.0
    assert sleeps.calls == [2.0, 2.0]  # 429 is retried even for captures: nothing happened


async def test_5xx_is_retried_for_reads() -> None:
    statuses = iter([503, 502, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(statuses)
        return ok(shipments=[]) if status == 200 else httpx.Response(status, text="oops")

    sleeps = Sleeps()
    async with make_client(handler, sleeps) as client:
        await client.list_shipments()
    assert len(sleeps.calls) == 2


async def test_5xx_is_not_retried_for_complete() -> None:
    attempts = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        return httpx.Response(500, text="Internal Server Error")

    async with make_client(handler) as client:
        with pytest.raises(ServerError) as caught:
            await client.complete_shipment("83651", "83651-1", carrier="DHL", tracking="T")
    assert attempts == 1
    assert caught.value.status == 500 and caught.value.endpoint == "PUT /shipment"


@pytest.mark.parametrize(
    "body",
    [b"<html>Bad gateway</html>", b'{"status": "ok", "shipm', b"[1, 2]", b'{"result": 1}'],
    ids=["html", "truncated", "not-object", "no-status"],
)
async def test_malformed_body_names_the_endpoint(body: bytes) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    async with make_client(handler) as client:
        with pytest.raises(MalformedResponseError) as caught:
            await client.list_shipments(status="completed", limit=10)
    assert "GET /shipments" in str(caught.value)


async def test_connection_drop_is_network_error_and_write_is_not_repeated() -> None:
    attempts = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        raise httpx.RemoteProtocolError("peer closed connection", request=request)

    async with make_client(handler) as client:
        with pytest.raises(NetworkError) as caught:
            await client.create_return("1-1", {"10": 1})
        assert attempts == 1
        assert caught.value.endpoint == "POST /return"
        with pytest.raises(NetworkError):
            await client.list_orders()
        assert attempts == 4  # reads are retried up to max_attempts


async def test_connect_error_is_retried_even_for_writes() -> None:
    attempts = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise httpx.ConnectError("refused", request=request)
        return ok(order=1, shipment="1-1")

    async with make_client(handler) as client:
        ref = await client.capture_shipment("1-1")
    assert ref.shipment == "1-1" and attempts == 2


async def test_404_and_other_statuses() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404 if "orders" in request.url.path else 400, text="nope")

    async with make_client(handler) as client:
        with pytest.raises(NotFoundError):
            await client.list_orders()
        with pytest.raises(RemoteRefusedError):
            await client.list_supplier_deliveries()


async def test_bad_record_is_reported_not_fatal_for_lists_and_fatal_for_gets() -> None:
    good = {"orderId": "1", "shipmentId": "1-1", "products": []}
    bad = {"orderId": "2", "shipmentId": "2-1", "paid": "perhaps"}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/orders"):
            return ok(orders=[{"orderId": "2", "orderDate": "not a date"}])
        return ok(shipments=[good, bad])

    async with make_client(handler) as client:
        page = await client.list_shipments()
        assert [s.shipment_id for s in page] == ["1-1"]
        (error,) = page.rejected
        assert error.record == "shipment 2-1" and error.field == "paid"
        with pytest.raises(RecordValidationError) as caught:
            await client.get_order(2)
    assert caught.value.record == "order 2" and caught.value.field == "orderDate"


async def test_every_error_is_ours() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    async with make_client(handler) as client:
        with pytest.raises(CentrasyncError):
            await client.get_supplier_delivery("957-1", details=True)


def test_field_errors_in_msg_are_kept_readable() -> None:
    response = httpx.Response(
        200, content=json.dumps({"status": "no", "msg": {"orderNumber": "invalid value"}})
    )
    with pytest.raises(RemoteRefusedError) as caught:
        check_envelope("POST /check-first", response)
    assert caught.value.remote_message == '{"orderNumber": "invalid value"}'
