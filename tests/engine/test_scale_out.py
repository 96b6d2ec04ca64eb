"""Acceptance: several engine processes share one PostgreSQL database and survive a kill.

Issue #6. Everything runs as real processes, as in the crash test: the Centra emulator (the
demo seed plus 100 more shipments over both stores), one Ongoing emulator per store, one
``centrasync serve --role web`` that receives Centra's webhooks into the shared inbox, and
three ``serve --role worker`` processes, all on one PostgreSQL schema. First the workers
divide the leases per (store, flow) between them, two different ones taking the two
stores' shipments. Then the new shipments arrive and the warehouses' auto-operators start
picking and shipping; once a few shipments are completed (most are sent, none of the new
ones finished), the worker holding store ``se``'s shipment lease is SIGKILLed. The other two
must take its leases over when they expire and finish the run with every shipment
processed exactly once.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from centrasync.store.base import RecordKind, StateStore
from centrasync.store.sql import open_store
from centrasync.sync.articles import ARTICLES
from centrasync.sync.indeliveries import IN_DELIVERIES
from centrasync.sync.returns import RETURNS
from centrasync.sync.shipments import ShipmentState
from centrasync.sync.stock import STOCK

from .helpers import (
    SE,
    STORES,
    US,
    WEBHOOK_SECRET,
    StoreSetup,
    add_shipments,
    orderable_eans,
    settings_document,
    settings_toml,
)
from .test_crash import (
    Processes,
    client,
    free_port,
    get_json,
    processes,
    start_emulators,
    wait_until_up,
)

WORKERS = ("w1", "w2", "w3")
# The lease of each store's loops: the shipment passes, and every further flow.
LOOP_LEASES = {
    f"worker/{store.name}{suffix}"
    for store in STORES
    for suffix in (
        "",
        # The full stock pass runs in the stock loop.
        *(f"/{flow}" for flow in (ARTICLES, IN_DELIVERIES, RETURNS, STOCK)),
    )
}
# On top of the demo seed's 50: 150 shipments over the two stores.
EXTRA_PER_STORE = 50
AUTO_OPERATOR_INTERVAL = 0.05
SCHEDULE = {"shipments": 0.3, "confirmations": 0.3, "cancellations": 1.0, "sweep": 2.0}
# The kill comes once this many shipments are completed, before half of them are.
KILL_AFTER_COMPLETED = 10
# The engine's lease time to live, the 5 s a worker without a lease waits between attempts
# and the second its count of members may be old, plus slack for a loaded machine.
TAKEOVER_WITHIN = 15 + 5 + 1 + 9
FINISH_WITHIN = 60.0

_FINAL = {ShipmentState.COMPLETED, ShipmentState.CAPTURE_DECLINED}


class ScaleOut:
    """The emulators, one web and three worker processes, and the database they share."""

    def __init__(
        self,
        procs: Processes,
        tmp: Path,
        database_url: str,
        engine: dict[str, Any] | None = None,
    ) -> None:
        self.procs = procs
        self.database_url = database_url
        self.engine_options = engine or {}
        self.centra_url = f"http://127.0.0.1:{free_port()}"
        self.wms_urls = {s.name: f"http://127.0.0.1:{free_port()}" for s in STORES}
        self.web_port = free_port()
        self.config = tmp / "centrasync.toml"
        self.workers: dict[str, subprocess.Popen[bytes]] = {}

    async def start_emulators(self) -> None:
        await start_emulators(self.procs, self.centra_url, self.wms_urls)

    async def start_engine(self) -> None:
        """The web process and the three workers, started together."""
        document = settings_document(
            self.database_url,
            centra_host=self.centra_url,
            wms_hosts=self.wms_urls,
            schedule=SCHEDULE,
            # Four processes on one server: at most 4 x 16 connections of its 100.
            engine={"listen_port": self.web_port, "database_pool": 8, **self.engine_options},
        )
        self.config.write_text(settings_toml(document))
        serve = ("serve", "--config", str(self.config))
        web = self.procs.start("web", *serve, "--role", "web")
        for worker in WORKERS:
            self.workers[worker] = self.procs.start(
                worker, *serve, "--role", "worker", "--worker-id", worker
            )
        await wait_until_up(f"http://127.0.0.1:{self.web_port}/healthz", web, self.procs, "web")

    async def configure_webhooks(self, centra: httpx.AsyncClient) -> None:
        """Centra's webhooks for store se go to the web process."""
        answer = await centra.put(
            "/_emulator/webhook",
            json={
                "url": f"http://127.0.0.1:{self.web_port}/webhooks/centra/{SE.name}",
                "secret": WEBHOOK_SECRET,
                "store": SE.uri,
                "timeout": 2,
            },
        )
        assert answer.status_code == 200, answer.text

    async def start_warehouse_work(self) -> None:
        """Both warehouses pick and ship by themselves from now on."""
        for store in STORES:
            async with client(self.wms_urls[store.name]) as wms:
                answer = await wms.put(
                    "/_emulator/auto-operator",
                    json={"interval": AUTO_OPERATOR_INTERVAL, "short_pick_order_numbers": []},
                )
                assert answer.status_code == 200, answer.text

    def work_leases(self) -> dict[str, str]:
        """Every valid lease of a store's loop (not the memberships), by name: its holder."""
        rows = self._query(
            "SELECT name, owner FROM leases WHERE expires_at > %s AND name LIKE 'worker/%%'",
            datetime.now(UTC),
        )
        return {str(name): str(owner) for name, owner in rows}

    def inbox(self) -> tuple[int, int]:
        """How many webhook events the inbox received, and how many of them were handled."""
        ((received, handled),) = self._query(
            "SELECT count(*), count(processed_at) FROM inbox WHERE store = %s", SE.name
        )
        return int(received), int(handled)

    def pending_wms_orders(self, store: StoreSetup) -> int:
        """WMS orders whose effect was begun and not yet confirmed: queued or in flight."""
        ((pending,),) = self._query(
            "SELECT count(*) FROM effects WHERE store = %s AND status = 'pending' "
            "AND key LIKE 'wms-order/%%'",
            store.name,
        )
        return int(pending)

    def _query(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url.replace("+psycopg", "")) as conn:
            return conn.execute(sql, params).fetchall()

    def kill(self, worker: str) -> None:
        process = self.workers[worker]
        assert process.poll() is None, f"{worker} died:\n{self.procs.log(worker)[-3000:]}"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def events(self, worker: str, *, until: float) -> Counter[str]:
        """How often each event is in the worker's log up to ``until`` (epoch seconds)."""
        counted: Counter[str] = Counter()
        for line in self.procs.log(worker).splitlines():
            if line.startswith("{"):
                event = json.loads(line)
                if datetime.fromisoformat(event["timestamp"]).timestamp() < until:
                    counted[event["event"]] += 1
        return counted


async def ledger(state: StateStore) -> dict[str, str]:
    states: dict[str, str] = {}
    for store in STORES:
        records = await state.list_records(store.name, kind=RecordKind.SHIPMENT, limit=1000)
        states |= {r.ref.key: r.state for r in records}
    return states


# Four processes and a kill take most of the suite's default limit on a busy machine.
@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_three_workers_share_the_work_and_survive_a_kill(
    tmp_path: Path, pg_schema_url: Callable[[], str]
) -> None:
    database_url = pg_schema_url()
    began = time.monotonic()
    with processes(tmp_path) as procs:
        run = ScaleOut(procs, tmp_path, database_url)
        await run.start_emulators()
        await run.start_engine()
        state = await open_store(database_url)
        try:
            async with client(run.centra_url) as centra:
                summary = await get_json(centra, "/_emulator/seed-summary")
                declined = summary["capture_declines"]["shipment"]
                await run.configure_webhooks(centra)
                divided = await wait_for_division(run)
                print(f"divided {time.monotonic() - began:.1f}s after the start: {divided}")

                for store in STORES:
                    eans = await orderable_eans(centra, store, EXTRA_PER_STORE)
                    await add_shipments(centra, store, eans)
                await run.start_warehouse_work()
                total = len(await get_json(centra, "/_emulator/shipments"))

                victim, held = await kill_mid_run(run, state, total)
                killed_at = time.time()
                takeover = await wait_for_takeover(run, victim, held)
                print(f"{victim} killed holding {sorted(held)}; taken over after {takeover:.1f}s")

                await finish(run, state, total)
                print(f"{total} shipments finished {time.monotonic() - began:.1f}s after the start")
                await assert_exactly_once(run, state, centra, declined)

            received = await inbox_drained(run)
            print(f"webhook events through the web process and the shared inbox: {received}")
            assert received > 0

            survivors = set(WORKERS) - {victim}
            at_end = run.work_leases()
            print(f"leases at the end: {at_end}")
            assert set(at_end) == LOOP_LEASES, f"every loop's lease is held: {at_end}"
            assert set(at_end.values()) == survivors
            assert at_end[f"worker/{SE.name}"] != at_end[f"worker/{US.name}"]
            assert_work_divided(run, killed_at)
        finally:
            await state.close()


async def wait_for_division(run: ScaleOut) -> dict[str, str]:
    """Wait until every worker holds leases, two of them the two stores' shipment leases.

    Returns the leases and their holders then.
    """
    deadline = time.monotonic() + 30
    while True:
        leases = run.work_leases()
        shipments = {leases.get(f"worker/{store.name}") for store in STORES}
        if set(leases.values()) == set(WORKERS) and len(shipments - {None}) == len(STORES):
            return leases
        assert time.monotonic() < deadline, f"the workers did not divide the leases: {leases}"
        await asyncio.sleep(0.2)


async def kill_mid_run(run: ScaleOut, state: StateStore, total: int) -> tuple[str, set[str]]:
    """SIGKILL the holder of store se's shipment lease while shipments are being completed.

    Returns the victim and the leases it held.
    """
    deadline = time.monotonic() + 30
    while True:
        states = Counter((await ledger(state)).values())
        completed = states[ShipmentState.COMPLETED]
        assert completed < total // 2, f"most shipments completed before the kill: {states}"
        if completed >= KILL_AFTER_COMPLETED:
            break
        assert time.monotonic() < deadline, f"the warehouses did not get going: {states}"
        await asyncio.sleep(0.1)
    leases = run.work_leases()
    victim = leases[f"worker/{SE.name}"]
    held = {name for name, owner in leases.items() if owner == victim}
    print(f"killing {victim} at {dict(states)}; leases: {leases}")
    run.kill(victim)
    return victim, held


async def wait_for_takeover(run: ScaleOut, victim: str, held: set[str]) -> float:
    """Seconds until the survivors hold every lease the victim held."""
    started = time.monotonic()
    while True:
        leases = run.work_leases()
        if all(leases.get(name) not in (None, victim) for name in held):
            return time.monotonic() - started
        waited = time.monotonic() - started
        assert waited < TAKEOVER_WITHIN, f"not taken over after {waited:.1f}s: {leases}"
        await asyncio.sleep(0.2)


async def finish(run: ScaleOut, state: StateStore, total: int) -> None:
    deadline = time.monotonic() + FINISH_WITHIN
    while True:
        states = await ledger(state)
        open_ones = {n: s for n, s in states.items() if s not in _FINAL}
        if len(states) == total and not open_ones:
            return
        if time.monotonic() > deadline:
            logs = "\n".join(run.procs.log(w)[-1500:] for w in WORKERS)
            raise AssertionError(
                f"not finished after {FINISH_WITHIN}s: {len(states)} of {total} shipments in "
                f"the ledger; still open: {open_ones}\n{logs}"
            )
        await asyncio.sleep(0.5)


async def inbox_drained(run: ScaleOut) -> int:
    """Wait until the workers handled every webhook event received; returns how many."""
    deadline = time.monotonic() + 10
    while True:
        received, handled = run.inbox()
        if handled == received:
            return received
        assert time.monotonic() < deadline, f"{handled} of {received} webhook events handled"
        await asyncio.sleep(0.2)


async def wms_orders(run: ScaleOut, store: StoreSetup) -> list[dict[str, Any]]:
    async with client(run.wms_urls[store.name]) as wms:
        snapshot = await get_json(wms, "/_emulator/state")
    orders: list[dict[str, Any]] = snapshot["orders"]
    return orders


async def assert_exactly_once(
    run: ScaleOut, state: StateStore, centra: httpx.AsyncClient, declined: str
) -> None:
    shipments = {s["number"]: s for s in await get_json(centra, "/_emulator/shipments")}
    states = await ledger(state)
    completed = set(shipments) - {declined}
    assert {n: states.get(n) for n in completed if states.get(n) != ShipmentState.COMPLETED} == {}
    assert states[declined] == ShipmentState.CAPTURE_DECLINED
    assert all(shipments[n]["shipped"] and shipments[n]["tracking"] for n in completed)

    in_wms: set[str] = set()
    for store in STORES:
        numbers = Counter(o["orderInfo"]["orderNumber"] for o in await wms_orders(run, store))
        assert {n: c for n, c in numbers.items() if c > 1} == {}, f"doubled in {store.name}"
        in_wms |= set(numbers)
    assert completed <= in_wms

    completions = Counter(
        w["shipment"] for w in await get_json(centra, "/_emulator/writes/completions")
    )
    assert {n: c for n, c in completions.items() if c > 1} == {}
    assert set(completions) == completed

    captures = await get_json(centra, "/_emulator/writes/captures")
    captured = Counter(c["shipment"] for c in captures if c["outcome"] == "captured")
    assert {n: c for n, c in captured.items() if c > 1} == {}
    assert completed <= set(captured)
    assert declined not in captured


def assert_work_divided(run: ScaleOut, killed_at: float) -> None:
    """Before the kill, every worker held leases and more than one sent shipments."""
    before_kill = {worker: run.events(worker, until=killed_at) for worker in WORKERS}
    print(f"events per worker before the kill: {before_kill}")
    assert all(events["lease taken"] for events in before_kill.values()), before_kill
    senders = [w for w, events in before_kill.items() if events["shipment sent to WMS"]]
    assert len(senders) > 1, before_kill
