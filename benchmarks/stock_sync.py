"""Benchmark: the incremental stock sync over 50,000 SKUs with 1 % changed.

Both emulators run in a child process (:mod:`served`) and are reached over 127.0.0.1
through the real clients, as in production, so this process holds only the engine: the
flow, its clients and its SQLite state file. Its max RSS is the engine's peak memory.

    .venv/bin/python benchmarks/stock_sync.py [--skus 50000] [--changed 0.01] [--runs 3]
    .venv/bin/python benchmarks/stock_sync.py --skus 100000 --page-size 5000

The emulators re-filter their whole catalogue for every page they serve, so a full read
costs them pages x SKUs; the 100,000-SKU variant asks for larger pages to keep that from
swamping the engine's own time, which is printed apart from the time spent waiting on the
emulators (their work plus the round trips).

One cold full pass builds the flow's mirror of Centra's stock list (nothing differs, so it
writes nothing); then each run moves the stock of 1 % of the SKUs in the WMS and times one
incremental pass. Printed per run and as the median: SKUs seen, SKUs written, calls made
per endpoint, batch size and wall time; then this process's max RSS over the cold full and
the incremental passes, and the Python allocation peaks (tracemalloc, which slows a pass
and costs memory itself, so it runs afterwards) of one more incremental and one more full
pass. The run fails loudly if anything but the changed SKUs is written.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import httpx
from harness import Counting
from served import Served, served

from centrasync.centra.client import OrderApiClient
from centrasync.config import parse_settings
from centrasync.http import RateBudget
from centrasync.store.sql import open_store
from centrasync.sync.stock import StockFlow, StockReport
from centrasync.wms.ongoing.client import OngoingWarehouse

ZONE = "Europe/Stockholm"
BATCH_SIZE = 100


async def main(skus: int, changed: float, runs: int, page_size: int) -> None:
    async with served("stock", skus) as emulators:
        print(f"built {skus} SKUs in both emulators in {emulators.built_s:.1f} s")
        await measure(emulators, changed, runs, page_size)


async def measure(emulators: Served, changed: float, runs: int, page_size: int) -> None:
    clock = emulators.clock
    to_centra = Counting(httpx.AsyncHTTPTransport())
    to_ongoing = Counting(httpx.AsyncHTTPTransport())
    wms_url = f"{emulators.ongoing}/demo/api/v1/"
    settings = parse_settings(
        {
            "stores": {
                "bench": {
                    "centra": {"host": emulators.centra, "uri": "wms", "timezone": ZONE},
                    "wms": {"base_url": wms_url, "user": "centrasync", "goods_owner_id": 1},
                    "sync_stock": True,
                    "stock_quiet_window": 0,
                }
            }
        },
        {"CENTRASYNC_BENCH_CENTRA_SECRET": "s3cret", "CENTRASYNC_BENCH_WMS_PASSWORD": "secret"},
    ).store("bench")
    with tempfile.TemporaryDirectory() as folder:
        state = await open_store(f"sqlite+aiosqlite:///{Path(folder) / 'state.sqlite'}")
        async with (
            OrderApiClient(
                f"{emulators.centra}/api/wms/",
                "s3cret",
                ZONE,
                transport=to_centra,
                budget=RateBudget(10_000),
            ) as client,
            OngoingWarehouse(
                wms_url,
                "centrasync",
                "secret",
                1,
                transport=to_ongoing,
                clock=clock,
                page_size=page_size,
            ) as wms,
        ):
            flow = StockFlow(
                settings, state, client, wms, now=clock, batch_size=BATCH_SIZE, page_size=page_size
            )
            await emulators.advance(3600)
            cold = time.perf_counter()
            report = await flow.run_full()
            took = time.perf_counter() - cold
            waited = to_centra.seconds + to_ongoing.seconds
            print(
                f"cold full pass: seen {report.seen}, written {report.written}, {took:.1f} s "
                f"({waited:.1f} s waiting on the emulators, {took - waited:.1f} s in the engine), "
                f"calls {dict(to_centra.calls)} {dict(to_ongoing.calls)}"
            )
            times: list[float] = []
            print(
                f"\n{'run':>3} {'seen':>6} {'written':>7} {'batch':>5} {'POST stock':>10} "
                f"{'Centra GETs':>11} {'Ongoing GETs':>12} {'seconds':>8} {'waiting':>12}"
            )
            rss = 0.0
            for run in range(1, runs + 2):
                moved = await change(emulators, changed)
                to_centra.reset()
                to_ongoing.reset()
                writes_before = (await emulators.summary())["centra_stock_writes"]
                measure = run > runs
                if measure:
                    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                    tracemalloc.start()
                began = time.perf_counter()
                report = await flow.run_incremental()
                took = time.perf_counter() - began
                if measure:
                    peak = tracemalloc.get_traced_memory()[1]
                    tracemalloc.stop()
                await check(emulators, writes_before, moved, report)
                if measure:
                    break
                times.append(took)
                print(
                    f"{run:>3} {report.seen:>6} {report.written:>7} {BATCH_SIZE:>5} "
                    f"{to_centra.calls['POST stock']:>10} "
                    f"{sum(n for k, n in to_centra.calls.items() if k.startswith('GET')):>11} "
                    f"{sum(n for k, n in to_ongoing.calls.items() if k.startswith('GET')):>12} "
                    f"{took:>8.3f} {to_centra.seconds + to_ongoing.seconds:>12.3f}"
                )
            await emulators.advance(3600)
            tracemalloc.start()
            await flow.run_full()
            full_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            await state.close()
    child = (await emulators.summary())["max_rss_mib"]
    print(f"\nmedian wall time of {runs} incremental passes: {statistics.median(times):.3f} s")
    print(
        f"peak memory: process max RSS {rss:.0f} MiB (the engine alone, over the cold full "
        f"and the incremental passes; the emulators' process: {child:.0f} MiB); Python "
        f"allocations during one incremental pass {peak / 2**20:.1f} MiB, "
        f"during one full pass {full_peak / 2**20:.1f} MiB"
    )


async def change(emulators: Served, share: float) -> dict[str, float]:
    """Move the WMS stock of ``share`` of the SKUs, then let the next pass come due.

    The changes land well after the previous pass began and well before the next one, so
    the pass's overlap window (two minutes) re-reads none of the earlier run's changes.
    """
    await emulators.advance(60)
    moved = await emulators.move_stock(share)
    await emulators.advance(600)
    return moved


async def check(
    emulators: Served, writes_before: int, moved: dict[str, float], report: StockReport
) -> None:
    writes = await emulators.stock_writes(writes_before)
    if dict(writes) != moved or len(writes) != len(moved) or report.written != len(moved):
        sys.exit(f"wrong writes: {len(writes)} written, {len(moved)} changed")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=50_000)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--page-size", type=int, default=1000)
    args = parser.parse_args()
    asyncio.run(main(args.skus, args.changed, args.runs, args.page_size))
