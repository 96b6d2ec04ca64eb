"""Benchmark: the console's records list with 1,000,000 ledger rows, p50 and p95 per search.

The ledger of a fresh PostgreSQL schema on 127.0.0.1:5432 (database ``test``; dropped
afterwards) is filled by the server itself (``generate_series``) with ``--rows`` records
over two stores, changed one every 30 seconds over about a year: 70 % shipments (mostly
completed; some sent, failed and a few capture_declined), 20 % articles, 10 % stock; each
shipment with its Centra order and WMS order id and a small last request. The database is
then vacuumed and analysed, as its autovacuum would do.

The real app (the engine's routes with the console mounted) is called in-process through
httpx after logging in, so every figure is a whole page: the search in SQL, the template
and the secret masking. Each search is requested ``--requests`` times after two warm-up
requests; printed per search: rows on the page, p50 and p95 in milliseconds, and the p95
over every request of every search, which is the figure the target (200 ms) applies to.

    .venv/bin/python benchmarks/console_records.py [--rows 1000000] [--requests 50]
        [--database postgresql|sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from outbound import database
from sqlalchemy import text

from centrasync.config import parse_settings
from centrasync.console import create_console, hash_password
from centrasync.logs import configure_logging
from centrasync.server import create_app
from centrasync.store.engine import create_store_engine
from centrasync.store.sql import open_store

PASSWORD = "benchmark-password"
START = datetime(2026, 1, 1, tzinfo=UTC)
STEP_SECONDS = 30

# One statement: the server makes the rows, so filling a million takes seconds, not minutes.
_FILL = """
INSERT INTO ledger_records (store, kind, key, centra_id, wms_id, centra_order, state,
    last_request, attempts, created_at, updated_at)
SELECT
    CASE WHEN i % 2 = 0 THEN 'se' ELSE 'us' END,
    CASE WHEN i % 10 < 7 THEN 'shipment' WHEN i % 10 < 9 THEN 'article' ELSE 'stock' END,
    CASE WHEN i % 10 < 7 THEN (100000 + i) || '-1' ELSE 'SKU' || i END,
    CASE WHEN i % 10 < 7 THEN (100000 + i) || '-1' ELSE NULL END,
    CASE WHEN i % 10 < 7 THEN (5000000 + i)::text ELSE NULL END,
    CASE WHEN i % 10 < 7 THEN (100000 + i)::text ELSE NULL END,
    CASE
        WHEN i % 10 >= 7 THEN CASE WHEN i % 10 < 9 THEN 'synced' ELSE 'written' END
        WHEN i % 9973 = 0 THEN 'capture_declined'
        WHEN i % 997 = 0 THEN 'failed'
        WHEN i % 50 = 1 THEN 'sent'
        ELSE 'completed'
    END,
    CASE WHEN i % 10 < 7 THEN
        ('{"order": {"number": "' || (100000 + i) || '", "lines": [{"sku": "SKU' || (i % 5000)
         || '", "quantity": "1"}]}}')::json
    ELSE NULL END,
    1,
    :start + make_interval(secs => i * :step),
    :start + make_interval(secs => i * :step)
FROM generate_series(1, :rows) AS i
"""


async def fill_postgres(url: str, rows: int) -> float:
    began = time.perf_counter()
    engine = create_store_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(_FILL), {"start": START, "step": STEP_SECONDS, "rows": rows})
        async with engine.connect() as conn:
            done = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await done.execute(text("VACUUM ANALYZE ledger_records"))
    finally:
        await engine.dispose()
    return time.perf_counter() - began


async def fill_sqlite(url: str, rows: int) -> float:
    """The same rows through SQLite's own recursive series."""
    began = time.perf_counter()
    sql = (
        _FILL.replace("FROM generate_series(1, :rows) AS i", "FROM series")
        .replace("::text", "")
        .replace("::json", "")
        .replace(
            ":start + make_interval(secs => i * :step)",
            "strftime('%Y-%m-%d %H:%M:%f', '2026-01-01', '+' || (i * :step) || ' seconds')",
        )
    )
    sql = (
        "WITH RECURSIVE series(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM series "
        "WHERE i < :rows) " + sql.replace("INSERT INTO", "INSERT INTO", 1)
    )
    # SQLite takes the WITH after INSERT ... (columns); move it there.
    head, _, select = sql.partition("INSERT INTO")
    columns, _, body = select.partition("SELECT\n")
    sql = f"INSERT INTO{columns}{head}SELECT\n{body}"
    engine = create_store_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(sql), {"step": STEP_SECONDS, "rows": rows})
    finally:
        await engine.dispose()
    return time.perf_counter() - began


def searches(rows: int) -> list[tuple[str, str]]:
    middle = START + timedelta(seconds=rows // 2 * STEP_SECONDS)
    shipment = 100000 + (rows // 2 // 10 * 10 + 3)
    return [
        ("newest, no filter", "/records"),
        ("one store and flow", "/records?store=se&kind=shipment"),
        ("one flow, every store", "/records?kind=shipment"),
        ("state completed, one store", "/records?store=us&kind=shipment&state=completed"),
        ("rare state (capture_declined)", "/records?state=capture_declined"),
        ("parked shipments (any parked state)", "/records?kind=shipment&parked=1"),
        ("Centra order number", f"/records?number={shipment}"),
        ("shipment number", f"/records?number={shipment}-1"),
        ("WMS order id", f"/records?wms={5000000 + rows // 2 // 10 * 10 + 3}"),
        ("SKU", f"/records?sku=SKU{rows // 2 // 10 * 10 + 8}"),
        (
            "one day, mid-ledger",
            f"/records?since={middle:%Y-%m-%d}&until={middle:%Y-%m-%d}",
        ),
        (
            "store, flow, state and a month",
            f"/records?store=se&kind=shipment&state=completed&since={middle:%Y-%m-01}"
            f"&until={middle:%Y-%m-28}",
        ),
        ("unknown number (no match)", "/records?number=no-such-number"),
        ("a flow with no records, one store", "/records?store=se&kind=return"),
        ("a flow with no records, every store", "/records?kind=return"),
        ("a flow another store has, one store", "/records?store=se&kind=stock"),
    ]


_NEXT = re.compile(r'<a href="([^"]+)" rel="next">')
_ROW = re.compile(r'<td><a href="/records/')


async def measure(kind: str, rows: int, requests: int) -> list[dict[str, Any]]:
    async with database(kind) as url:
        state = await open_store(url)
        try:
            filled = await (fill_postgres if kind == "postgresql" else fill_sqlite)(url, rows)
            print(f"{kind}: {rows:,} ledger rows filled in {filled:.1f} s", flush=True)
            settings = parse_settings(
                {
                    "engine": {"database_url": url},
                    "stores": {
                        name: {
                            "centra": {
                                "host": "http://centra.test",
                                "uri": name,
                                "timezone": "Europe/Stockholm",
                            },
                            "wms": {
                                "base_url": "http://wms.test/api/v1/",
                                "user": "u",
                                "goods_owner_id": 1,
                            },
                        }
                        for name in ("se", "us")
                    },
                    "console": {"users": {"bench": hash_password(PASSWORD)}},
                },
                {
                    **{f"CENTRASYNC_{n}_CENTRA_SECRET": "bench-secret" for n in ("SE", "US")},
                    **{f"CENTRASYNC_{n}_WMS_PASSWORD": "bench-password" for n in ("SE", "US")},
                },
            )
            app = create_app(settings, state)
            app.mount("/", create_console(settings, state, metrics=app.state.metrics))
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://c.test") as web:
                login = await web.get("/login")
                csrf = re.search(r'name="csrf" value="([^"]+)"', login.text)
                assert csrf is not None
                answer = await web.post(
                    "/login", data={"csrf": csrf.group(1), "name": "bench", "password": PASSWORD}
                )
                assert answer.status_code == 303, answer.text
                plan = searches(rows)
                # A deep page: the 200th page of one store's shipments (at 1,000,000 rows),
                # reached by following its links.
                depth = min(200, rows // 5000)
                url_ = "/records?store=se&kind=shipment"
                for _ in range(depth):
                    found = _NEXT.search((await web.get(url_)).text)
                    assert found is not None
                    url_ = found.group(1).replace("&amp;", "&")
                plan.append((f"page {depth + 1} of one store's shipments", url_))
                # Not the records list, so outside its figure: the overview and a record.
                plan.append(("(overview page)", "/"))
                plan.append(("(one record's page)", f"/records/se/shipment/{100000 + 2}-1"))
                results = []
                for label, path in plan:
                    times = []
                    for run in range(requests + 2):
                        began = time.perf_counter()
                        page = await web.get(path)
                        spent = (time.perf_counter() - began) * 1000
                        page.raise_for_status()
                        if run >= 2:
                            times.append(spent)
                    results.append(
                        {
                            "search": label,
                            "rows": len(_ROW.findall(page.text)),
                            "times": times,
                        }
                    )
        finally:
            await state.close()
    return results


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def report(kind: str, rows: int, results: list[dict[str, Any]]) -> None:
    print(f"\nrecords list, {kind}, {rows:,} ledger rows (ms per whole page)")
    print(f"{'search':42}{'rows':>6}{'p50':>9}{'p95':>9}")
    every: list[float] = []
    for result in results:
        times = result["times"]
        if not result["search"].startswith("("):
            every.extend(times)
        print(
            f"{result['search']:42}{result['rows']:>6}"
            f"{statistics.median(times):>9.1f}{p95(times):>9.1f}"
        )
    print(
        f"{'every request of every search above':42}{'':>6}"
        f"{statistics.median(every):>9.1f}{p95(every):>9.1f}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    args = parser.parse_args()
    configure_logging(level="warning")
    results = await measure(args.database, args.rows, args.requests)
    report(args.database, args.rows, results)


if __name__ == "__main__":
    asyncio.run(main())
