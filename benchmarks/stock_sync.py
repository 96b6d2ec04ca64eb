"""Benchmark: the incremental stock sync over 50,000 SKUs with 1 % changed.

Both emulators hold the catalogue in-process (they take 50,000 SKUs in a few seconds, so no
fakes are needed) and are reached through the real clients, as in production:

    .venv/bin/python benchmarks/stock_sync.py [--skus 50000] [--changed 0.01] [--runs 3]
    .venv/bin/python benchmarks/stock_sync.py --skus 100000 --page-size 5000

The emulators re-filter their whole catalogue for every page they serve, so a full read
costs them pages x SKUs; the 100,000-SKU variant asks for larger pages to keep that from
swamping the engine's own time, which is printed apart from the emulators'.

One cold full pass builds the flow's mirror of Centra's stock list (nothing differs, so it
writes nothing); then each run moves the stock of 1 % of the SKUs in the WMS and times one
incremental pass. Printed per run and as the median: SKUs seen, SKUs written, calls made
per endpoint, batch size and wall time; then the process's peak memory and the Python
allocation peaks of one more incremental and one more full pass. The run fails loudly if
anything but the changed SKUs is written.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from harness import Clock, Counting, catalogue

from centrasync.centra.client import OrderApiClient
from centrasync.config import parse_settings
from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.faults import EmulatorTransport
from centrasync.emulators.ongoing import OngoingEmulator
from centrasync.emulators.ongoing.payloads import ArticleIn
from centrasync.http import RateBudget
from centrasync.store import open_store
from centrasync.sync.stock import StockFlow, StockReport
from centrasync.wms.ongoing.client import OngoingWarehouse

ZONE = "Europe/Stockholm"
BATCH_SIZE = 100


async def main(skus: int, changed: float, runs: int, page_size: int) -> None:
    clock = Clock()
    started = time.perf_counter()
    centra = CentraEmulator(seed=None, clock=clock)
    centra.load_catalogue(catalogue(skus))
    store = centra.world.store("wms")
    ongoing = OngoingEmulator(clock=clock)
    numbers = []
    for ref in centra.world.sizes.values():
        number = ref.physical_sku
        numbers.append(number)
        ongoing.state.upsert_article(
            ArticleIn(goods_owner_id=1, article_number=number, article_name=number)
        )
        ongoing.state.adjust_stock(number, centra.world.store_stock(store, ref.size.id)[0])
    print(f"built {len(numbers)} SKUs in both emulators in {time.perf_counter() - started:.1f} s")

    to_centra = Counting(EmulatorTransport(centra.app))
    to_ongoing = Counting(EmulatorTransport(ongoing.app))
    settings = parse_settings(
        {
            "stores": {
                "bench": {
                    "centra": {"host": "http://c.test", "uri": "wms", "timezone": ZONE},
                    "wms": {
                        "base_url": "http://o.test/demo/api/v1/",
                        "user": "centrasync",
                        "goods_owner_id": 1,
                    },
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
                "http://c.test/api/wms/",
                "s3cret",
                ZONE,
                transport=to_centra,
                budget=RateBudget(10_000),
            ) as client,
            OngoingWarehouse(
                "http://o.test/demo/api/v1/",
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
            clock.advance(3600)
            cold = time.perf_counter()
            report = await flow.run_full()
            took = time.perf_counter() - cold
            emulated = to_centra.seconds + to_ongoing.seconds
            print(
                f"cold full pass: seen {report.seen}, written {report.written}, {took:.1f} s "
                f"({emulated:.1f} s in the emulators, {took - emulated:.1f} s in the engine), "
                f"calls {dict(to_centra.calls)} {dict(to_ongoing.calls)}"
            )
            rng = random.Random(5)
            times: list[float] = []
            print(
                f"\n{'run':>3} {'seen':>6} {'written':>7} {'batch':>5} {'POST stock':>10} "
                f"{'Centra GETs':>11} {'Ongoing GETs':>12} {'seconds':>8} {'in emulators':>12}"
            )
            for run in range(1, runs + 2):
                moved = change(ongoing, numbers, changed, rng, clock)
                to_centra.reset()
                to_ongoing.reset()
                writes_before = len(centra.world.written("stock_writes"))
                measure = run > runs
                if measure:
                    tracemalloc.start()
                began = time.perf_counter()
                report = await flow.run_incremental()
                took = time.perf_counter() - began
                if measure:
                    peak = tracemalloc.get_traced_memory()[1]
                    tracemalloc.stop()
                check(centra, writes_before, moved, report)
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
            clock.advance(3600)
            tracemalloc.start()
            await flow.run_full()
            full_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            await state.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nmedian wall time of {runs} incremental passes: {statistics.median(times):.3f} s")
    print(
        f"peak memory: process max RSS {rss:.0f} MiB (both emulators included); "
        f"Python allocations during one incremental pass {peak / 2**20:.1f} MiB, "
        f"during one full pass {full_peak / 2**20:.1f} MiB (pages the emulators render included)"
    )


def change(
    ongoing: OngoingEmulator, numbers: list[str], share: float, rng: random.Random, clock: Clock
) -> dict[str, float]:
    """Move the WMS stock of ``share`` of the SKUs, then let the next pass come due.

    The changes land well after the previous pass began and well before the next one, so
    the pass's overlap window (two minutes) re-reads none of the earlier run's changes.
    """
    clock.advance(60)
    moved = {}
    for number in rng.sample(numbers, int(len(numbers) * share)):
        value = ongoing.state.articles[number].number_of_items + rng.randint(1, 5)
        ongoing.state.adjust_stock(number, value)
        moved[number] = value
    clock.advance(600)
    return moved


def check(
    centra: CentraEmulator, writes_before: int, moved: dict[str, float], report: StockReport
) -> None:
    writes = centra.world.written("stock_writes")[writes_before:]
    sent = {str(w.data["product"]): float(w.data["requested"]) for w in writes}
    if sent != moved or len(writes) != len(moved) or report.written != len(moved):
        sys.exit(f"wrong writes: {len(writes)} written, {len(moved)} changed")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=50_000)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--page-size", type=int, default=1000)
    args = parser.parse_args()
    asyncio.run(main(args.skus, args.changed, args.runs, args.page_size))
