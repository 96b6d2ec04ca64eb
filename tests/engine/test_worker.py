"""The per-store worker: webhook inbox, schedules, backoff, leases; and the flow metrics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from centrasync.centra.webhooks import WebhookEvent, encode_event
from centrasync.config import Settings, parse_settings
from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.faults import EmulatorTransport, FaultRule
from centrasync.emulators.ongoing import OngoingEmulator
from centrasync.http import RetryPolicy
from centrasync.runtime import Connections, Engine
from centrasync.server import create_app
from centrasync.store.base import RecordKind, RecordRef, StateStore
from centrasync.store.sql import open_store
from centrasync.sync.shipments import ShipmentState
from centrasync.sync.tally import Tally
from centrasync.sync.worker import ScheduledFlow, StoreWorker


def settings(**schedule: float) -> Settings:
    for flow in ("sweep", "articles", "in_deliveries", "returns", "stock", "stock_full"):
        schedule.setdefault(flow, 0)
    env = {"CENTRASYNC_SE_CENTRA_SECRET": "s3cret", "CENTRASYNC_SE_WMS_PASSWORD": "secret"}
    document: dict[str, Any] = {
        "engine": {"max_attempts": 3},
        "stores": {
            "se": {
                "centra": {
                    "host": "http://centra.test",
                    "uri": "wms",
                    "timezone": "Europe/Stockholm",
                },
                "wms": {
                    "base_url": "http://ongoing.test/demo/api/v1/",
                    "user": "centrasync",
                    "goods_owner_id": 1,
                },
                "capture_policy": "on_complete",
                "schedule": schedule,
            }
        },
    }
    return parse_settings(document, env)


@dataclass
class Rig:
    centra: CentraEmulator
    ongoing: OngoingEmulator
    state: StateStore
    tally: Tally

    def engine(self, config: Settings, owner: str = "w1") -> Engine:
        wired = Connections(EmulatorTransport(self.centra.app), EmulatorTransport(self.ongoing.app))
        return Engine(
            config,
            self.state,
            events=self.tally,
            owner=owner,
            connections={"se": wired},
            # No waiting between attempts: the tests count failures, not seconds.
            retry=RetryPolicy(max_attempts=1),
        )

    async def states(self) -> dict[str, str]:
        records = await self.state.list_records("se", kind=RecordKind.SHIPMENT, limit=1000)
        return {r.ref.key: r.state for r in records}


@pytest.fixture
async def rig(tmp_path: Any) -> AsyncIterator[Rig]:
    state = await open_store(f"sqlite+aiosqlite:///{tmp_path}/state.sqlite")
    yield Rig(CentraEmulator(seed="demo"), OngoingEmulator(), state, Tally())
    await state.close()


def order_event(number: str) -> bytes:
    return encode_event(WebhookEvent(type="order", action="update", id=number))


async def test_an_order_webhook_fetches_only_that_orders_shipments(rig: Rig) -> None:
    # Polls off: only the inbox can move anything.
    async with rig.engine(settings(shipments=0, confirmations=0, cancellations=0)) as engine:
        await rig.state.add_to_inbox("se", "evt-1", order_event("1001"))
        await engine.workers[0].step()
    assert await rig.states() == {"1001-1": ShipmentState.SENT}
    assert await rig.state.inbox_backlog("se") == 0
    assert ("se", "outbound") in rig.tally.processed_count


@pytest.mark.parametrize(
    ("body", "names"),
    [
        pytest.param(b"not json", "not an encoded event", id="damaged"),
        pytest.param(order_event("abc"), "order webhook event: field 'id'", id="not-a-number"),
    ],
)
async def test_an_inbox_event_that_can_never_be_acted_on_is_parked_at_once(
    rig: Rig, body: bytes, names: str
) -> None:
    """Bad data stays bad: parked with its body on the first try, not after every attempt."""
    async with rig.engine(settings(shipments=0, confirmations=0, cancellations=0)) as engine:
        await rig.state.add_to_inbox("se", "evt-bad", body)
        await engine.workers[0].step()
    [dead] = await rig.state.list_dead("se")
    assert dead.reason.startswith("webhook event cannot be acted on: ") and names in dead.reason
    assert isinstance(dead.payload, dict) and dead.payload["body"] == body.decode()
    assert await rig.state.inbox_backlog("se") == 0
    assert rig.tally.failed_count["se", "webhooks"] == 0
    assert rig.tally.parked_reasons["se", "invalid"] == 1
    assert rig.centra.world.writes == [] and await rig.states() == {}


async def test_an_inbox_event_that_keeps_failing_is_parked_after_the_attempts(rig: Rig) -> None:
    rig.centra.plan.add(FaultRule(kind="server_error", path="/api/wms/shipments*"))
    async with rig.engine(settings(shipments=0, confirmations=0, cancellations=0)) as engine:
        await rig.state.add_to_inbox("se", "evt-1", order_event("1001"))
        for _ in range(5):
            await engine.workers[0].step()
    [dead] = await rig.state.list_dead("se")
    assert dead.reason.startswith("webhook event kept failing after 3 attempts: ")
    assert rig.tally.failed_count["se", "webhooks"] == 2
    assert rig.tally.parked_reasons["se", "failed"] == 1


async def test_a_failing_poll_backs_off_and_recovers(rig: Rig) -> None:
    rig.centra.plan.add(FaultRule(kind="server_error", path="/api/wms/shipments*", times=2))
    now = [1000.0]
    async with rig.engine(settings(shipments=60, confirmations=0, cancellations=0)) as engine:
        worker = engine.workers[0]
        worker.clock = lambda: now[0]
        await worker.step()  # fails: 503
        assert await rig.states() == {}
        await worker.step()  # backing off: not due yet
        now[0] += 1.0
        await worker.step()  # due after 1 s: fails again (second fault)
        now[0] += 1.5
        await worker.step()  # the second back-off is 2 s: not due yet
        now[0] += 0.5
        await worker.step()  # due: succeeds
    assert rig.tally.failed_count["se", "outbound"] == 2
    assert len(await rig.states()) == 30


async def test_only_the_lease_holder_works(rig: Rig) -> None:
    config = settings(shipments=60, confirmations=0, cancellations=0)
    async with rig.engine(config, owner="a") as first, rig.engine(config, owner="b") as second:
        assert await rig.state.acquire_lease("worker/se", "a", first.workers[0].lease_ttl)
        import asyncio

        stop = asyncio.Event()
        task = asyncio.create_task(second.run(stop))
        await asyncio.sleep(0.3)
        stop.set()
        await task
    assert await rig.states() == {}


async def test_retry_state_is_re_driven_without_repeating_done_effects(rig: Rig) -> None:
    async with rig.engine(
        settings(shipments=3600, confirmations=3600, cancellations=3600)
    ) as engine:
        await engine.run_once()
        ref = RecordRef("se", RecordKind.SHIPMENT, "1001-1")
        await rig.state.transition(ref, ShipmentState.RETRY, note="retry requested")
        await engine.workers[0].step()
    # Re-driven at once although no poll was due; the WMS order effect was not repeated.
    assert (await rig.states())["1001-1"] == ShipmentState.SENT
    effect = await rig.state.get_effect("wms-order/se/shipment/1001-1")
    assert effect is not None and (effect.status, effect.attempts) == ("succeeded", 0)


async def test_metrics_show_flows_per_store(rig: Rig) -> None:
    config = settings(shipments=3600, confirmations=3600, cancellations=3600)
    app = create_app(config, rig.state)
    async with rig.engine(config) as engine:
        engine.workers[0].flows.events = app.state.metrics.flows
        app.state.metrics.engine = engine
        await engine.run_once()
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://engine.test"
        ) as client:
            text = (await client.get("/metrics")).text
    assert 'centrasync_flow_processed_total{flow="outbound",store="se"} 30.0' in text
    assert 'centrasync_flow_backlog{flow="confirmation",store="se"} 30.0' in text
    assert 'centrasync_centra_rate_limited{store="se"} 0.0' in text


async def test_flows_of_one_store_are_leased_separately(rig: Rig) -> None:
    """Another process holding the articles lease keeps only that flow away from us."""
    import asyncio

    config = settings(shipments=60, confirmations=0, cancellations=0, articles=60)
    async with rig.engine(config, owner="b") as engine:
        worker = engine.workers[0]
        assert worker.lease_for("articles") == "worker/se/articles"
        assert await rig.state.acquire_lease("worker/se/articles", "a", worker.lease_ttl)
        stop = asyncio.Event()
        task = asyncio.create_task(engine.run(stop))
        for _ in range(100):
            if len(await rig.states()) == 30:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await task
    assert set((await rig.states()).values()) == {ShipmentState.SENT}
    assert await rig.state.list_records("se", kind=RecordKind.ARTICLE) == []


async def test_stopping_cancels_a_long_pass_after_the_grace_period(rig: Rig) -> None:
    import asyncio

    started = asyncio.Event()

    async def endless() -> int:
        started.set()
        await asyncio.sleep(3600)
        return 0

    config = settings(shipments=0, confirmations=0, cancellations=0)
    async with rig.engine(config) as engine:
        base = engine.workers[0]
        side = ScheduledFlow("endless", 60, endless)
        worker = StoreWorker(
            base.flows,
            base.schedule,
            base.owner,
            more_flows=(side,),
            stop_grace=0.1,
            share=engine.share,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        await asyncio.wait_for(started.wait(), 5)
        stop.set()
        await asyncio.wait_for(task, 5)
    # The cancelled pass let go of its lease on the way out.
    assert await rig.state.acquire_lease("worker/se/endless", "other", worker.lease_ttl)


@dataclass
class CountingWire(httpx.AsyncBaseTransport):
    inner: httpx.AsyncBaseTransport
    gets: int = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            self.gets += 1
        return await self.inner.handle_async_request(request)


async def test_events_about_one_order_in_a_batch_are_acted_on_once(rig: Rig) -> None:
    wire = CountingWire(EmulatorTransport(rig.centra.app))
    config = settings(shipments=0, confirmations=0, cancellations=0)
    engine = Engine(
        config,
        rig.state,
        events=rig.tally,
        owner="w1",
        connections={"se": Connections(wire, EmulatorTransport(rig.ongoing.app))},
    )
    async with engine:
        for copy in range(3):
            await rig.state.add_to_inbox("se", f"evt-{copy}", order_event("1001"))
        await rig.state.add_to_inbox("se", "evt-other", order_event("1003"))
        await engine.workers[0].step()
    assert await rig.states() == {"1001-1": ShipmentState.SENT, "1003-1": ShipmentState.SENT}
    assert wire.gets == 2, "one listing per order, not per event"
    assert await rig.state.inbox_backlog("se") == 0


@pytest.mark.slow
async def test_webhooks_are_handled_while_a_long_pass_runs(rig: Rig) -> None:
    """A pass taking seconds must not hold the inbox back."""
    slow = FaultRule(kind="latency", method="GET", path="/api/wms/shipments", latency=5.0, times=1)
    rig.centra.plan.add(slow)
    config = settings(shipments=60, confirmations=0, cancellations=0)
    stop = asyncio.Event()
    async with rig.engine(config) as engine:
        loop = asyncio.create_task(engine.run(stop))
        # The first poll lists Good-to-Go for five seconds; meanwhile a webhook arrives.
        await asyncio.sleep(0.5)
        await rig.state.add_to_inbox("se", "evt-1", order_event("1001"))
        for _ in range(40):
            if (await rig.states()).get("1001-1") == ShipmentState.SENT:
                break
            await asyncio.sleep(0.05)
        handled = await rig.states()
        stop.set()
        await loop
    assert handled.get("1001-1") == ShipmentState.SENT
