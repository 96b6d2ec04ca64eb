"""Wake on arrival (#23): a webhook wakes its store's worker at once, across processes on
PostgreSQL through LISTEN/NOTIFY, with the tick as the safety net; a shipment event is
resolved through the Integration API to that one shipment."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from centrasync.centra.webhooks import WebhookEvent, encode_event
from centrasync.config import Settings, parse_settings
from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.centra.webhooks import encode_body, signature_header
from centrasync.emulators.faults import EmulatorTransport, FaultKind, FaultRule
from centrasync.emulators.ongoing import OngoingEmulator
from centrasync.http import RetryPolicy
from centrasync.runtime import Connections, Engine
from centrasync.server import create_app
from centrasync.store.base import RecordKind, StateStore
from centrasync.store.sql import open_store
from centrasync.sync.shipments import ShipmentState
from centrasync.sync.tally import Tally

TOKEN = "gql-token"
WEBHOOK_SECRET = "whsec-se"
# Far beyond any wait below: only a wake-up can move a shipment in time.
LONG_TICK = 30.0


def settings(*, integration: bool = True, sweep: float = 0) -> Settings:
    # Every poll off: only the inbox (or the sweep, when on) can move anything.
    schedule = dict.fromkeys(
        (
            "shipments",
            "confirmations",
            "cancellations",
            "articles",
            "in_deliveries",
            "returns",
            "stock",
            "stock_full",
        ),
        0,
    )
    store: dict[str, Any] = {
        "centra": {"host": "http://centra.test", "uri": "wms", "timezone": "Europe/Stockholm"},
        "wms": {
            "base_url": "http://ongoing.test/demo/api/v1/",
            "user": "centrasync",
            "goods_owner_id": 1,
        },
        "capture_policy": "on_complete",
        "schedule": {**schedule, "sweep": sweep},
    }
    env = {
        "CENTRASYNC_SE_CENTRA_SECRET": "s3cret",
        "CENTRASYNC_SE_WMS_PASSWORD": "secret",
        "CENTRASYNC_SE_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    if integration:
        store["integration_api"] = {"url": "http://centra.test/graphql"}
        env["CENTRASYNC_SE_INTEGRATION_API_TOKEN"] = TOKEN
    return parse_settings({"stores": {"se": store}}, env)


@dataclass
class Counted(httpx.AsyncBaseTransport):
    """Notes ``METHOD path`` (and the GraphQL operation) of each request to Centra."""

    inner: httpx.AsyncBaseTransport
    calls: list[str] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = (await request.aread()).decode()
        name = "query Shipments" if "query Shipments" in body else ""
        if "rateLimits" not in body:
            self.calls.append(f"{request.method} {request.url.path} {name}".strip())
        return await self.inner.handle_async_request(request)


@dataclass
class Shop:
    centra: CentraEmulator
    ongoing: OngoingEmulator
    to_centra: Counted

    def engine(self, config: Settings, state: StateStore, *, tick: float) -> Engine:
        wired = Connections(self.to_centra, EmulatorTransport(self.ongoing.app))
        return Engine(
            config,
            state,
            events=Tally(),
            owner="w1",
            connections={"se": wired},
            tick=tick,
            retry=RetryPolicy(max_attempts=1),
        )

    def shipment_id(self, number: str) -> int:
        """Centra's internal id of a shipment, which its webhook events carry."""
        return next(s.id for s in self.centra.world.shipments.values() if s.number == number)

    def gtg_numbers(self) -> set[str]:
        return {s.number for s in self.centra.world.shipments.values() if s.gtg and not s.shipped}


@pytest.fixture
def shop() -> Shop:
    centra = CentraEmulator(seed="demo", graphql_token=TOKEN)
    return Shop(centra, OngoingEmulator(), Counted(EmulatorTransport(centra.app)))


@pytest.fixture
async def state(tmp_path: Path) -> AsyncIterator[StateStore]:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path}/state.sqlite")
    yield store
    await store.close()


def shipment_event(shipment_id: int) -> WebhookEvent:
    return WebhookEvent(type="shipment", action="good_to_go", id=str(shipment_id))


async def sent(state: StateStore) -> set[str]:
    records = await state.list_records("se", kind=RecordKind.SHIPMENT, limit=1000)
    return {r.ref.key for r in records if r.state == ShipmentState.SENT}


async def until(check: Callable[[], Awaitable[bool]], *, within: float) -> float:
    """Seconds until ``check`` holds; fails after ``within``."""
    began = time.monotonic()
    while not await check():
        assert time.monotonic() - began < within, "not within the time allowed"
        await asyncio.sleep(0.02)
    return time.monotonic() - began


async def running(engine: Engine, body: Callable[[], Awaitable[None]]) -> None:
    """``body`` while ``engine.run`` works; then stop it."""
    stop = asyncio.Event()
    async with engine:
        loop = asyncio.create_task(engine.run(stop))
        try:
            # The first round (no pass due) is under way: now only an arrival wakes it.
            await asyncio.sleep(0.3)
            await body()
        finally:
            stop.set()
            await loop


async def test_a_webhook_wakes_the_worker_long_before_its_tick(
    shop: Shop, state: StateStore
) -> None:
    config = settings()
    app = create_app(config, state)
    number = "1001-1"
    payload = {
        "events": [
            {
                "type": "shipment",
                "action": "good_to_go",
                "date": datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f"),
                "id": shop.shipment_id(number),
            }
        ]
    }
    body = encode_body(payload)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Centra-Signature": signature_header(WEBHOOK_SECRET, body, int(time.time())),
    }

    async def webhook_then_wms() -> None:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://engine.test"
        ) as client:
            answer = await client.post("/webhooks/centra/se", content=body, headers=headers)
            assert answer.status_code == 200

            async def in_wms() -> bool:
                return number in await sent(state)

            # The tick is 30 s: only the wake-up can bring it in this soon.
            await until(in_wms, within=10)

    await running(shop.engine(config, state, tick=LONG_TICK), webhook_then_wms)
    assert await sent(state) == {number}


async def test_a_shipment_event_fetches_that_one_shipment_through_the_integration_api(
    shop: Shop, state: StateStore
) -> None:
    """Not the whole Good-to-Go list: one Integration API query names the shipment, one
    Order API read of its order brings it, and the other Good-to-Go shipments stay where
    they are."""
    assert len(shop.gtg_numbers()) > 1
    async with shop.engine(settings(), state, tick=LONG_TICK) as engine:
        await state.add_to_inbox(
            "se", "e1", encode_event(shipment_event(shop.shipment_id("1005-1")))
        )
        shop.to_centra.calls.clear()
        await engine.workers[0].step()
    assert await sent(state) == {"1005-1"}
    assert shop.to_centra.calls == ["POST /graphql query Shipments", "GET /api/wms/shipments"]


async def test_without_an_integration_api_a_shipment_event_brings_the_sweep_forward(
    shop: Shop, state: StateStore
) -> None:
    """Today's behaviour: the event names an id the Order API does not know, so the sweep
    finds what changed."""
    async with shop.engine(settings(integration=False, sweep=900), state, tick=LONG_TICK) as engine:
        worker = engine.workers[0]
        await worker.step()  # the first sweep, due at start
        assert len(await sent(state)) > 1
        await state.add_to_inbox(
            "se", "e1", encode_event(shipment_event(shop.shipment_id("1001-1")))
        )
        shop.to_centra.calls.clear()
        worker.clock = lambda: time.monotonic() + 60  # past the nudge gap
        await worker.step()
    assert shop.to_centra.calls[0] == "GET /api/wms/shipments"
    assert not any("graphql" in call for call in shop.to_centra.calls)


async def test_a_shipment_event_with_an_id_that_is_not_centras_is_parked(
    shop: Shop, state: StateStore
) -> None:
    async with shop.engine(settings(), state, tick=LONG_TICK) as engine:
        await state.add_to_inbox(
            "se", "bad", encode_event(WebhookEvent(type="shipment", action="update", id="x-1"))
        )
        await engine.workers[0].step()
    [dead] = await state.list_dead("se")
    assert "shipment event x-1: field 'id'" in dead.reason
    assert await state.inbox_backlog("se") == 0


async def test_the_tick_still_drains_an_inbox_event_nobody_announced(
    shop: Shop, state: StateStore, tmp_path: Path
) -> None:
    """A lost notification: another writer of the same SQLite file (as another process
    would be) cannot wake this worker, so its tick must find the event."""
    other = await open_store(f"sqlite+aiosqlite:///{tmp_path}/state.sqlite")
    event = encode_event(shipment_event(shop.shipment_id("1003-1")))

    async def unannounced() -> None:
        await other.add_to_inbox("se", "quiet", event)

        async def in_wms() -> bool:
            return "1003-1" in await sent(state)

        await until(in_wms, within=10)

    try:
        await running(shop.engine(settings(), state, tick=0.5), unannounced)
    finally:
        await other.close()
    assert await sent(state) == {"1003-1"}


_WRITER = """
import asyncio, sys
from centrasync.store.sql import open_store

async def main(url: str, body: str) -> None:
    state = await open_store(url)
    await state.add_to_inbox("se", "from-the-web-process", body.encode())
    await state.close()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def test_notify_wakes_the_worker_in_another_process_on_postgresql(
    shop: Shop, pg_schema_url: Callable[[], str]
) -> None:
    url = pg_schema_url()
    state = await open_store(url)
    event = encode_event(shipment_event(shop.shipment_id("1008-1"))).decode()

    async def written_by_another_process() -> None:
        writer = await asyncio.create_subprocess_exec(sys.executable, "-c", _WRITER, url, event)
        assert await writer.wait() == 0

        async def in_wms() -> bool:
            return "1008-1" in await sent(state)

        await until(in_wms, within=10)

    try:
        await running(shop.engine(settings(), state, tick=LONG_TICK), written_by_another_process)
        assert await sent(state) == {"1008-1"}
    finally:
        await state.close()


async def test_the_listener_wakes_only_for_its_own_schema(
    pg_schema_url: Callable[[], str],
) -> None:
    """Notifications are per database; a store in another schema is not this one's."""
    mine, theirs = pg_schema_url(), pg_schema_url()
    state, other = await open_store(mine), await open_store(theirs)
    try:
        await state.wait_for_inbox("se", 5)  # listening now (an arrival is assumed)
        await other.add_to_inbox("se", "elsewhere", b"{}")
        assert not await state.wait_for_inbox("se", 0.5)
        writer = subprocess.run(
            [sys.executable, "-c", _WRITER, mine, "{}"], check=True, capture_output=True
        )
        assert writer.returncode == 0
        assert await state.wait_for_inbox("se", 5)
    finally:
        await state.close()
        await other.close()


async def test_an_event_arriving_while_the_last_ones_are_in_flight_is_not_kept_waiting(
    shop: Shop, state: StateStore
) -> None:
    """A round that has run its tick ends only once its events are handled; an event that
    arrives meanwhile is claimed at once, not after the slow WMS write ahead of it."""
    shop.ongoing.plan.add(
        FaultRule(kind=FaultKind.LATENCY, method="PUT", path="*/orders", times=1, latency=3.0)
    )
    lookups = "POST /graphql query Shipments"

    async def second_behind_a_slow_write() -> None:
        await state.add_to_inbox(
            "se", "a", encode_event(shipment_event(shop.shipment_id("1001-1")))
        )

        async def first_read() -> bool:
            return shop.to_centra.calls.count(lookups) == 1

        await until(first_read, within=2)
        # Past the round's tick: the round now waits for the 3 s write to be answered.
        await asyncio.sleep(0.4)
        await state.add_to_inbox(
            "se", "b", encode_event(shipment_event(shop.shipment_id("1003-1")))
        )

        async def second_read() -> bool:
            return shop.to_centra.calls.count(lookups) == 2

        assert await until(second_read, within=2.5) < 1.0

        async def both_in_wms() -> bool:
            return len(await sent(state)) == 2

        await until(both_in_wms, within=10)

    shop.to_centra.calls.clear()
    await running(shop.engine(settings(), state, tick=0.2), second_behind_a_slow_write)
    assert await sent(state) == {"1001-1", "1003-1"}


def order_event(number: str) -> WebhookEvent:
    return WebhookEvent(type="order", action="update", id=number)


async def test_a_shipment_event_beside_its_orders_event_costs_no_second_read(
    shop: Shop, state: StateStore
) -> None:
    """Centra sends an order event and a shipment event for one change: the order's read
    brings the shipment, so the shipment event adds only the lookup that names its order."""
    async with shop.engine(settings(), state, tick=LONG_TICK) as engine:
        shipment = encode_event(shipment_event(shop.shipment_id("1005-1")))
        await state.add_to_inbox("se", "e1", shipment)
        await state.add_to_inbox("se", "e2", encode_event(order_event("1005")))
        shop.to_centra.calls.clear()
        await engine.workers[0].step()
    assert await sent(state) == {"1005-1"}
    assert sorted(shop.to_centra.calls) == [
        "GET /api/wms/shipments",
        "POST /graphql query Shipments",
    ]
    assert await state.inbox_backlog("se") == 0


async def test_an_order_event_does_not_wait_for_the_shipment_lookup_of_its_claim(
    shop: Shop, state: StateStore
) -> None:
    """Only the shipment events need the Integration API query; an order event claimed
    with them is acted on while the query is still out."""
    shop.centra.plan.add(FaultRule(kind=FaultKind.LATENCY, path="/graphql", latency=3.0))
    async with shop.engine(settings(), state, tick=LONG_TICK) as engine:
        await state.add_to_inbox(
            "se", "e1", encode_event(shipment_event(shop.shipment_id("1001-1")))
        )
        await state.add_to_inbox("se", "e2", encode_event(order_event("1003")))
        step = asyncio.create_task(engine.workers[0].step())

        async def order_in_wms() -> bool:
            return "1003-1" in await sent(state)

        assert await until(order_in_wms, within=10) < 2.0
        await step
    assert await sent(state) == {"1001-1", "1003-1"}


async def test_shipment_events_claimed_while_a_lookup_is_out_share_the_next_lookup(
    shop: Shop, state: StateStore
) -> None:
    """The Integration API quota is small: claims handled beside each other do not each
    send a lookup; what arrives while one is out goes together in the next."""
    shop.centra.plan.add(FaultRule(kind=FaultKind.LATENCY, path="/graphql", latency=1.0))
    lookups = "POST /graphql query Shipments"

    async def three_events() -> None:
        await state.add_to_inbox(
            "se", "a", encode_event(shipment_event(shop.shipment_id("1001-1")))
        )

        async def first_lookup() -> bool:
            return shop.to_centra.calls.count(lookups) == 1

        await until(first_lookup, within=2)
        for key, number in (("b", "1003-1"), ("c", "1005-1")):
            await state.add_to_inbox(
                "se", key, encode_event(shipment_event(shop.shipment_id(number)))
            )
            await asyncio.sleep(0.1)

        async def all_in_wms() -> bool:
            return len(await sent(state)) == 3

        await until(all_in_wms, within=10)

    shop.to_centra.calls.clear()
    await running(shop.engine(settings(), state, tick=0.2), three_events)
    assert await sent(state) == {"1001-1", "1003-1", "1005-1"}
    assert shop.to_centra.calls.count(lookups) == 2
