"""Acceptance: a worker paused past its lease changes and sends nothing once it resumes.

Issue #17. As in the scale-out test, everything runs as real processes on one PostgreSQL
schema: the Centra emulator, one Ongoing emulator per store, a web process and three
workers, with a short lease. The Ongoing emulator of store ``se`` answers order writes
slowly, so the worker holding that store's shipment lease has writes queued behind one in
flight when it is SIGSTOPped. It stays stopped well past its lease: another worker takes the
lease over, sends the orders, and the warehouse starts picking and shipping them. Then the
paused worker is SIGCONTed. It must send none of what it had queued and write nothing over
what the new holder did: every shipment ends completed in Centra once, with one WMS order,
and nothing is parked but the seed's declined capture.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from centrasync.store.sql import open_store

from .helpers import SE, add_shipments, orderable_eans
from .test_crash import client, get_json, processes
from .test_scale_out import (
    WORKERS,
    ScaleOut,
    assert_exactly_once,
    finish,
    ledger,
    wait_for_division,
)

LEASE_TTL = 3.0
# Well past the lease: long enough for another worker to take it over and send the orders.
PAUSE = 4 * LEASE_TTL
NEW_SHIPMENTS = 20


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    "write_latency",
    [0.3, 2.5],
    ids=["writes queued behind one in flight", "paused mid-write"],
)
async def test_a_worker_paused_past_its_lease_sends_nothing_when_it_resumes(
    tmp_path: Path, pg_schema_url: Callable[[], str], write_latency: float
) -> None:
    database_url = pg_schema_url()
    with processes(tmp_path) as procs:
        run = ScaleOut(procs, tmp_path, database_url, engine={"lease_ttl": LEASE_TTL})
        await run.start_emulators()
        await run.start_engine()
        state = await open_store(database_url)
        try:
            async with client(run.centra_url) as centra:
                summary = await get_json(centra, "/_emulator/seed-summary")
                declined = summary["capture_declines"]["shipment"]
                await run.configure_webhooks(centra)
                await wait_for_division(run)
                slow = await slow_order_writes(run, write_latency)

                await add_shipments(centra, SE, await orderable_eans(centra, SE, NEW_SHIPMENTS))
                total = len(await get_json(centra, "/_emulator/shipments"))
                victim = await pause_the_sender(run)
                paused_at = time.monotonic()
                print(f"paused {victim} with {run.pending_wms_orders(SE)} WMS orders pending")

                await run.start_warehouse_work()
                taker = await wait_for_new_holder(run, victim)
                print(
                    f"{taker} took worker/{SE.name} over after {time.monotonic() - paused_at:.1f}s"
                )
                await asyncio.sleep(max(0.0, PAUSE - (time.monotonic() - paused_at)))
                async with client(run.wms_urls[SE.name]) as wms:
                    answer = await wms.delete(f"/_emulator/faults/{slow}")
                    assert answer.status_code == 200, answer.text
                run.workers[victim].send_signal(signal.SIGCONT)
                resumed_at = time.time()

                await finish(run, state, total)
                await assert_exactly_once(run, state, centra, declined)
            states = await ledger(state)
            parked = {n: s for n, s in states.items() if s not in ("completed",)}
            assert parked == {declined: "capture_declined"}
            dead = await state.list_dead(SE.name)
            assert [d.record.key for d in dead] == [declined]
            after = run.events(victim, until=time.time() + 1) - run.events(victim, until=resumed_at)
            print(f"{victim} after it resumed: {dict(after)}")
            assert after["lease lost during a pass; pass stopped"] >= 1
            assert after["shipment sent to WMS"] == 0
            assert after["alert: record parked"] == 0
        finally:
            await state.close()


async def slow_order_writes(run: ScaleOut, latency: float) -> int:
    """Store se's warehouse answers every order write ``latency`` seconds late; the rule id."""
    async with client(run.wms_urls[SE.name]) as wms:
        answer = await wms.post(
            "/_emulator/faults",
            json={
                "kind": "latency",
                "method": "PUT",
                "path": f"/{SE.warehouse}/api/v1/orders",
                "latency": latency,
            },
        )
        assert answer.status_code == 200, answer.text
        return int(answer.json()["id"])


async def pause_the_sender(run: ScaleOut) -> str:
    """SIGSTOP the holder of store se's shipment lease once it has WMS orders on their way."""
    deadline = time.monotonic() + 30
    while run.pending_wms_orders(SE) == 0:
        assert time.monotonic() < deadline, "no WMS order was ever on its way"
        await asyncio.sleep(0.02)
    victim = run.work_leases()[f"worker/{SE.name}"]
    run.workers[victim].send_signal(signal.SIGSTOP)
    return victim


async def wait_for_new_holder(run: ScaleOut, victim: str) -> str:
    deadline = time.monotonic() + 30
    while True:
        holder = run.work_leases().get(f"worker/{SE.name}")
        if holder not in (None, victim):
            assert holder in WORKERS
            return holder
        assert time.monotonic() < deadline, f"nobody took worker/{SE.name} from {victim}"
        await asyncio.sleep(0.1)
