"""Analytics in the engine: webhook-driven updates, the events trigger, reconciliation
counts, and a refused token pausing analytics while fulfilment carries on.

The engine runs as ``serve`` runs it (:class:`~centrasync.runtime.Engine` with its worker
loops and the webhook receiver app), on the Centra and Ongoing emulators in process; the
Centra emulator's webhook plugin posts signed Integration-API events into the receiver.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb
import httpx
import pytest

from centrasync.analytics.live import LiveAnalytics
from centrasync.analytics.source import dataset_name
from centrasync.centra.webhooks import sign_payload
from centrasync.config import AnalyticsSettings, Settings, parse_settings
from centrasync.emulators.centra import CentraEmulator, WebhookSettings
from centrasync.emulators.faults import EmulatorTransport
from centrasync.emulators.ongoing import OngoingEmulator
from centrasync.runtime import Connections, Engine
from centrasync.server import create_app
from centrasync.server.metrics import ReceiverMetrics
from centrasync.store import RecordKind
from centrasync.store.base import StateStore
from centrasync.store.sql import open_store
from centrasync.sync.tally import Tally
from centrasync.testing.centra import CentraHarness
from engine.helpers import CENTRA_SECRET, SE, WMS_PASSWORD, add_shipments, orderable_eans

from .conftest import place_order

TOKEN = "graphql-token-live"
WEBHOOK_SECRET = "whsec-live"


def _settings(database: Path, analytics: dict[str, Any]) -> Settings:
    document = {
        "engine": {"database_url": f"sqlite+aiosqlite:///{database}", "centra_rate": 10_000.0},
        "stores": {
            "se": {
                "centra": {
                    "host": "http://centra.test",
                    "uri": "wms",
                    "timezone": "Europe/Stockholm",
                },
                "integration_api": {"url": "http://centra.test/graphql", "token_env": "TOKEN"},
                "wms": {
                    "base_url": "http://se-dc.test/se-dc/api/v1/",
                    "user": "centrasync",
                    "goods_owner_id": 1,
                },
                "schedule": {
                    "shipments": 0.2,
                    "confirmations": 0.2,
                    "cancellations": 1.0,
                    "sweep": 5.0,
                    "articles": 0,
                    "in_deliveries": 0,
                    "returns": 0,
                    "stock": 0,
                    "stock_full": 0,
                },
                "analytics": {"destination": "analytics.duckdb", **analytics},
            }
        },
    }
    env = {
        "CENTRASYNC_SE_CENTRA_SECRET": CENTRA_SECRET,
        "CENTRASYNC_SE_WMS_PASSWORD": WMS_PASSWORD,
        "CENTRASYNC_SE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "TOKEN": TOKEN,
    }
    return parse_settings(document, env)


@dataclass
class Rig:
    centra: CentraEmulator
    state: StateStore
    engine: Engine
    control: httpx.AsyncClient
    tally: Tally
    database: Path

    def order_of_store(self) -> int:
        """An order of store se (plugin wms), whose webhooks reach the engine; the loaded
        tables hold the whole environment's orders."""
        return min(o.number for o in self.centra.world.orders.values() if o.store_uri == "wms")

    async def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Read the DuckDB file between loads (DuckDB allows one kind of connection to a
        file per process, and dlt's are read-write)."""
        async with self.engine.analytics["se"].destination_lock():
            return query(self.database, sql)


def query(database: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(database), read_only=True) as conn:
        return conn.execute(sql.replace("$s", dataset_name("se"))).fetchall()


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 15.0) -> float:
    """Seconds until ``check`` holds; fails after ``within``."""
    began = time.monotonic()
    while not await check():
        if time.monotonic() - began > within:
            raise AssertionError(f"not within {within} s")
        await asyncio.sleep(0.05)
    return time.monotonic() - began


@asynccontextmanager
async def running(tmp_path: Path, **analytics: Any) -> AsyncIterator[Rig]:
    """The engine with analytics on for store ``se``, running until the block ends."""
    database = tmp_path / "state.db"
    settings = _settings(database, analytics)
    state = await open_store(f"sqlite+aiosqlite:///{database}")
    app = create_app(settings, state)
    centra = CentraEmulator(
        seed="demo",
        secret=CENTRA_SECRET,
        graphql_token=TOKEN,
        webhook_transport=EmulatorTransport(app),
    )
    centra.webhooks.configure(
        WebhookSettings(
            url="http://engine.test/webhooks/centra/se",
            secret=WEBHOOK_SECRET,
            store="wms",
            triggers=["order", "shipment", "return"],
        )
    )
    ongoing = OngoingEmulator(warehouse="se-dc", password=WMS_PASSWORD)
    connections = {
        "se": Connections(centra=EmulatorTransport(centra.app), wms=EmulatorTransport(ongoing.app))
    }
    tally = Tally()
    engine = Engine(
        settings,
        state,
        events=tally,
        owner="test",
        connections=connections,
        tick=0.05,
        analytics_base=tmp_path,
    )
    control = httpx.AsyncClient(transport=EmulatorTransport(centra.app), base_url="http://c.test")
    stop = asyncio.Event()
    try:
        async with engine, control:
            plan = await control.put("/_emulator/rate-limits", json={"plan": "enterprise"})
            plan.raise_for_status()
            workers = asyncio.create_task(engine.run(stop))
            try:
                yield Rig(centra, state, engine, control, tally, tmp_path / "analytics.duckdb")
            finally:
                stop.set()
                await workers
    finally:
        await centra.aclose()
        await state.close()


async def loaded(rig: Rig) -> bool:
    if not rig.database.exists():
        return False
    with suppress(duckdb.CatalogException):
        return bool((await rig.rows("SELECT count(*) FROM $s.orders"))[0][0])
    return False


async def comment_of(rig: Rig, number: int) -> str | None:
    found = await rig.rows(f"SELECT other_comment FROM $s.orders WHERE order_number = {number}")
    return found[0][0] if found else None


async def test_serve_merges_an_order_edited_in_centra_within_seconds_of_its_webhook(
    tmp_path: Path,
) -> None:
    async with running(tmp_path, reconcile_interval=3600) as rig:
        await eventually(lambda: loaded(rig), within=60)
        orders = await rig.rows("SELECT count(*) FROM $s.orders")
        number = rig.order_of_store()
        patched = await rig.control.patch(
            f"/_emulator/orders/{number}", json={"other_comment": "leave at the door"}
        )
        patched.raise_for_status()

        async def updated() -> bool:
            return await comment_of(rig, number) == "leave at the door"

        assert await eventually(updated) < 5.0
        assert await rig.rows("SELECT count(*) FROM $s.orders") == orders
        await eventually(lambda: _backlog_is(rig.state, 0))
        assert rig.tally.processed_count["se", "analytics"] >= 1
        # Fulfilment consumed the same webhooks: its inbox is drained too.
        await eventually(lambda: _inbox_is(rig.state, 0))


async def _backlog_is(state: StateStore, count: int) -> bool:
    return await state.analytics_backlog("se") == count


async def _inbox_is(state: StateStore, count: int) -> bool:
    return await state.inbox_backlog("se") == count


async def test_the_events_trigger_reads_the_queue_and_leaves_webhooks_to_fulfilment(
    tmp_path: Path,
) -> None:
    async with running(
        tmp_path, trigger="events", events_interval=0.2, reconcile_interval=3600
    ) as rig:
        await eventually(lambda: loaded(rig), within=60)
        number = rig.order_of_store()
        patched = await rig.control.patch(
            f"/_emulator/orders/{number}", json={"other_comment": "by the queue"}
        )
        patched.raise_for_status()

        async def updated() -> bool:
            return await comment_of(rig, number) == "by the queue"

        await eventually(updated)
        # The webhook still reached the inbox, but analytics noted nothing from it.
        assert await rig.state.analytics_backlog("se") == 0
        live = rig.engine.analytics["se"]
        assert await live.client.events() == []


async def test_a_refused_token_pauses_analytics_and_fulfilment_carries_on(tmp_path: Path) -> None:
    async with running(tmp_path, reconcile_interval=3600, paused_retry=3600) as rig:
        await eventually(lambda: loaded(rig), within=60)
        (token,) = (await rig.control.get("/_emulator/tokens")).json()
        (await rig.control.delete(f"/_emulator/tokens/{token['id']}")).raise_for_status()
        number = rig.order_of_store()
        patched = await rig.control.patch(
            f"/_emulator/orders/{number}", json={"other_comment": "never loaded"}
        )
        patched.raise_for_status()
        live = rig.engine.analytics["se"]

        async def paused() -> bool:
            return live.paused is not None

        await eventually(paused)
        assert live.paused is not None and "403" in live.paused and "se" in live.paused
        assert TOKEN not in live.paused
        assert rig.tally.parked_reasons["se", "token_invalid"] == 1
        # Fulfilment goes on: a new Good-to-Go order reaches the WMS.
        (shipment,) = await add_shipments(rig.control, SE, await orderable_eans(rig.control, SE, 1))

        async def in_the_wms() -> bool:
            found = await rig.state.list_records("se", kind=RecordKind.SHIPMENT, limit=10_000)
            return any(r.ref.key == shipment and r.wms_id is not None for r in found)

        await eventually(in_the_wms)
        # What the webhook named waits for the new token: not lost, not loaded.
        assert await rig.state.analytics_backlog("se") >= 1
        assert await comment_of(rig, number) != "never loaded"
        assert rig.tally.parked_reasons["se", "token_invalid"] == 1
        # A scrape shows the pause and the waiting notes.
        metrics = ReceiverMetrics(["se"])
        metrics.engine = rig.engine
        scraped = (await metrics.render(rig.state)).decode()
        assert 'centrasync_analytics_paused{store="se"} 1.0' in scraped
        (waiting,) = [
            float(line.rsplit(" ", 1)[1])
            for line in scraped.splitlines()
            if line.startswith('centrasync_analytics_backlog{store="se"}')
        ]
        assert waiting >= 1
        assert 'centrasync_analytics_parked{store="se"} 0.0' in scraped


# -- the receiver's notes and the reconciliation, without the worker loops ---------------


@pytest.fixture
async def state(tmp_path: Path) -> AsyncIterator[StateStore]:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'state.db'}")
    yield store
    await store.close()


async def test_the_receiver_notes_orders_shipments_and_returns_beside_the_inbox(
    tmp_path: Path, state: StateStore
) -> None:
    settings = _settings(tmp_path / "unused.db", {})
    app = create_app(settings, state, clock=lambda: 1_780_000_000.0)
    payload = {
        "events": [
            {"type": "order", "action": "update", "date": "2026-05-28 22:13:20.0", "id": 7},
            {"type": "shipment", "action": "create", "date": "2026-05-28 22:13:20.1", "id": 3},
            {"type": "return", "action": "create", "date": "2026-05-28 22:13:20.2", "id": 9},
            {"type": "customer", "action": "update", "date": "2026-05-28 22:13:20.3", "id": 1},
        ]
    }
    body = ("payload=" + quote(json.dumps(payload), safe="")).encode()
    signature = sign_payload(body, WEBHOOK_SECRET, 1_780_000_000)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Centra-Signature": f"t=1780000000,v1={signature}",
    }
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://engine.test") as client:
        for _ in range(2):  # Centra may deliver a call twice
            answer = await client.post("/webhooks/centra/se", content=body, headers=headers)
            assert answer.status_code == 200, answer.text
    # Fulfilment takes every event from its inbox; analytics' notes stay.
    await state.mark_inbox_processed([item.id for item in await state.claim_inbox("se", 100)])
    claim = await state.claim_analytics("se", 100)
    assert sorted(claim.objects) == [("orders", 7), ("returns", 9), ("shipments", 3)]
    # A claimer that dies leaves them to the next once the claim lapses; a webhook that
    # arrives during a load keeps its object waiting after the load is confirmed.
    await state.note_for_analytics("se", [("orders", 7)])
    await state.finish_analytics(claim)
    again = await state.claim_analytics("se", 100)
    assert again.objects == (("orders", 7),)
    await state.finish_analytics(again)
    assert await state.analytics_backlog("se") == 0


async def test_reconciliation_counts_the_rows_no_trigger_had_loaded(
    centra: CentraHarness, state: StateStore, tmp_path: Path
) -> None:
    live = LiveAnalytics(
        "se",
        centra.client,
        AnalyticsSettings(destination="a.duckdb", overlap=3600),
        state,
        tally := Tally(),
        tmp_path,
    )
    first = await live.reconciliation()
    assert set(first.baseline) >= {"orders", "shipments"} and first.total_missed == 0
    numbers = [n for (n,) in query(tmp_path / "a.duckdb", "SELECT order_number FROM $s.orders")]
    missed, announced, waiting = numbers[:2], numbers[2], numbers[3]
    for number in (*missed, announced, waiting):
        patched = await centra.control.patch(
            f"/_emulator/orders/{number}", json={"other_comment": f"edit {number}"}
        )
        patched.raise_for_status()
    # Only one edit reaches analytics through its trigger (as the receiver notes it).
    await state.note_for_analytics("se", [("orders", announced)])
    assert await live.webhook_pass() == 1
    # Another is announced but not re-read yet: waiting, not missed.
    await state.note_for_analytics("se", [("orders", waiting)])

    second = await live.reconciliation()

    assert second.missed["orders"] == 2, second.missed
    assert second.total_missed == 2
    assert tally.recovered_count["se", "analytics"] == 2
    assert (await live.reconciliation()).total_missed == 0
    comments = query(
        tmp_path / "a.duckdb",
        f"SELECT other_comment FROM $s.orders WHERE order_number IN ({missed[0]}, {missed[1]})",
    )
    assert sorted(c for (c,) in comments) == sorted(f"edit {n}" for n in missed)


async def test_a_shipment_webhook_re_reads_its_order_once(
    centra: CentraHarness, state: StateStore, tmp_path: Path
) -> None:
    client = centra.client
    number = await place_order(centra, 1)
    shipment = (await client.create_shipment(number, good_to_go=True, capture=True)).value
    live = LiveAnalytics(
        "se", client, AnalyticsSettings(destination="a.duckdb"), state, Tally(), tmp_path
    )
    await live.reconciliation()
    db = tmp_path / "a.duckdb"
    status = f"SELECT status FROM $s.orders WHERE order_number = {number}"
    (before,) = query(db, status)
    await client.complete_shipment(shipment.id)
    [order] = await client.orders({"number": [number]})
    after = (order.status,)
    assert after != before, "shipping the order's only shipment changes the order's status"

    # Centra names only the shipment; the pass notes its order, the next reads it.
    await state.note_for_analytics("se", [("shipments", shipment.id)])
    assert await live.webhook_pass() == 1
    assert await state.pending_analytics("se") == [("orders", number)]
    assert await live.webhook_pass() == 1
    assert query(db, status) == [after]
    assert await state.analytics_backlog("se") == 0

    # With the order in the same claim, it is read once, in that claim.
    await state.note_for_analytics("se", [("shipments", shipment.id), ("orders", number)])
    assert await live.webhook_pass() == 2
    assert await state.analytics_backlog("se") == 0
