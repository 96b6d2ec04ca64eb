"""Benchmark: a ``/metrics`` scrape with 1,000,000 shipments in the ledger, SQLite and PostgreSQL.

Each scrape refreshes the inbox backlog and the flow backlog gauges from the state store,
so it costs what the store's counting does on a ledger of that size. The store is filled
with ``--rows`` shipment rows of store ``se`` (``--open`` of them waiting for the WMS to
ship, a tenth as many not yet sent, one percent cancelled, the rest completed, in shuffled
key order) by multi-row inserts, and the real ASGI app of ``server/`` with a running
engine's gauges is scraped in-process through httpx, ``--scrapes`` times after two warm-up
scrapes. PostgreSQL is vacuumed and analysed after the fill, as its autovacuum would do;
SQLite is not, since the engine never runs ``ANALYZE``.

Beside the scrape, the shipment count the gauge needs is timed alone three ways: in the
waiting states only (what the scrape runs), in every state (``GROUP BY state`` over the
store's whole ledger) and as before issue #17 (the 100,000 most recently changed rows
listed and counted in Python, which also missed every older waiting shipment). Then the
flows' reads of the ledger by state (``records_in``): every open shipment, as the
cancellation pass reads them, and the shipments in ``retry``, which every shipment round
reads (none here).

    .venv/bin/python benchmarks/metrics_scrape.py [--rows 1000000] [--open 10000]
        [--scrapes 21] [--database sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from outbound import database, secrets_env, settings_document
from sqlalchemy import insert, text

from centrasync.config import parse_settings
from centrasync.logs import configure_logging
from centrasync.runtime import Engine
from centrasync.server import create_app
from centrasync.store import RecordKind, StateStore
from centrasync.store.base import records_in
from centrasync.store.engine import create_store_engine
from centrasync.store.schema import ledger_records
from centrasync.store.sql import open_store
from centrasync.sync.shipments import ShipmentState, flow_backlog
from centrasync.sync.shipments.ledger import CONFIRMABLE, OPEN, TAKEABLE
from centrasync.sync.tally import Tally

STORE = "se"
BATCH = 50_000
OLD_LISTING = 100_000


def states(rows: int, waiting: int) -> list[str]:
    """The ledger's states in shuffled order: waiting, unsent, cancelled, the rest completed."""
    unsent, cancelled = waiting // 10, rows // 100
    completed = rows - waiting - unsent - cancelled
    if completed < 0:
        raise SystemExit(f"--open {waiting} leaves no room in --rows {rows}")
    chosen = (
        [ShipmentState.SENT.value] * waiting
        + [ShipmentState.NEW.value] * unsent
        + [ShipmentState.CANCELLED.value] * cancelled
        + [ShipmentState.COMPLETED.value] * completed
    )
    random.Random(17).shuffle(chosen)
    return chosen


async def fill(url: str, chosen: list[str]) -> float:
    """Insert one shipment row per state in ``chosen``; seconds taken."""
    began = time.perf_counter()
    start = datetime(2024, 1, 1, tzinfo=UTC)
    engine = create_store_engine(url)
    try:
        async with engine.begin() as conn:
            for first in range(0, len(chosen), BATCH):
                rows = [
                    {
                        "store": STORE,
                        "kind": RecordKind.SHIPMENT.value,
                        "key": f"{100_000 + index}-1",
                        "state": state,
                        "attempts": 1,
                        "created_at": start + timedelta(minutes=index),
                        "updated_at": start + timedelta(minutes=index),
                    }
                    for index, state in enumerate(chosen[first : first + BATCH], start=first)
                ]
                await conn.execute(insert(ledger_records), rows)
        if engine.dialect.name == "postgresql":
            async with engine.connect() as conn:
                done = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await done.execute(text("VACUUM ANALYZE ledger_records"))
    finally:
        await engine.dispose()
    return time.perf_counter() - began


async def timed(work: Callable[[], Awaitable[Any]], runs: int) -> float:
    """Median wall time of ``runs`` calls of ``work``, in milliseconds."""
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        await work()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


async def backlog_before_17(state: StateStore) -> dict[str, int]:
    """What ``flow_backlog`` did before issue #17: the newest rows, filtered in Python."""
    waiting = {"outbound": 0, "confirmation": 0}
    listed = await state.list_records(STORE, kind=RecordKind.SHIPMENT, limit=OLD_LISTING)
    for record in listed:
        if record.state in TAKEABLE:
            waiting["outbound"] += 1
        elif record.state in CONFIRMABLE:
            waiting["confirmation"] += 1
    return waiting


async def read_all(state: StateStore, states: frozenset[str]) -> int:
    """Read every shipment in ``states`` as the flows do, page by page; how many there were."""
    return sum([1 async for _ in records_in(state, STORE, RecordKind.SHIPMENT, states)])


async def measure(kind: str, chosen: list[str], scrapes: int) -> dict[str, Any]:
    async with database(kind) as url:
        state = await open_store(url)
        try:
            filled = await fill(url, chosen)
            hosts = {name: f"http://{name}.test" for name in ("centra", "se", "us")}
            settings = parse_settings(settings_document(url, hosts), secrets_env())
            async with Engine(settings, state, events=Tally(), owner="bench") as engine:
                app = create_app(settings, state, engine=engine)
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://e.test") as web:

                    async def scrape() -> None:
                        (await web.get("/metrics")).raise_for_status()

                    await timed(scrape, 2)
                    scraped = await timed(scrape, scrapes)
            waiting = await timed(lambda: flow_backlog(state, STORE), scrapes)
            every = await timed(lambda: state.count_records(STORE, RecordKind.SHIPMENT), scrapes)
            before = await timed(lambda: backlog_before_17(state), 3)
            opened = await timed(lambda: read_all(state, OPEN), 3)
            retried = await timed(lambda: read_all(state, frozenset({ShipmentState.RETRY})), 3)
            counted = await flow_backlog(state, STORE)
            missed = await backlog_before_17(state)
        finally:
            await state.close()
    return {
        "database": kind,
        "fill_s": filled,
        "scrape_ms": scraped,
        "waiting_ms": waiting,
        "every_ms": every,
        "before_ms": before,
        "open_ms": opened,
        "retry_ms": retried,
        "counted": counted,
        "before_counted": missed,
    }


def report(rows: int, results: list[dict[str, Any]]) -> None:
    names = [result["database"] for result in results]
    print(f"{rows:,} shipment rows in store {STORE}")
    print(f"{'':54}" + "".join(f"{name:>14}" for name in names))
    lines = [
        ("fill (s)", "fill_s", "{:.1f}"),
        ("/metrics scrape, median (ms)", "scrape_ms", "{:.1f}"),
        ("count in the waiting states, median (ms)", "waiting_ms", "{:.1f}"),
        ("count in every state, median (ms)", "every_ms", "{:.1f}"),
        (f"before #17: newest {OLD_LISTING:,} listed (ms)", "before_ms", "{:.0f}"),
        ("every open shipment read, as cancellation does (ms)", "open_ms", "{:.0f}"),
        ("every shipment in retry (none) read (ms)", "retry_ms", "{:.1f}"),
    ]
    for label, key, form in lines:
        print(f"{label:54}" + "".join(f"{form.format(r[key]):>14}" for r in results))
    for result in results:
        print(
            f"{result['database']}: waiting {result['counted']}; "
            f"before #17 the gauge showed {result['before_counted']}"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--scrapes", type=int, default=21)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    configure_logging(level="warning")
    chosen = states(args.rows, args.open)
    kinds = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    report(args.rows, [await measure(kind, chosen, args.scrapes) for kind in kinds])


if __name__ == "__main__":
    asyncio.run(main())
