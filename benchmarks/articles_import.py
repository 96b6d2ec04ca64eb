"""Benchmark: the initial article import of 100,000 sizes, Centra to the WMS.

Both emulators run in a child process (:mod:`served`) and are reached over 127.0.0.1
through the real clients, so this process holds only the engine (or the bare loop). Each
run starts from fresh emulators and a fresh SQLite state file, then times

* the engine: one :class:`~centrasync.sync.articles.ArticlesFlow` pass (the first, so
  every size is new and written once), and
* a bare loop of the same HTTP calls: read every product page, map each row, PUT each
  article, with no ledger and no effects,

    .venv/bin/python benchmarks/articles_import.py [--sizes 100000] [--runs 3]
        [--page-size 5000] [--no-memory]

Printed per run and as medians: rows read, articles written, calls per endpoint, wall
time, articles per second and the engine's time over the bare loop's (issue #6 asks for at
most 1.5). Then this process's max RSS over those passes, which is the engine's peak
memory (the bare loop holds less), and the peak of Python allocations during one more
engine pass (tracemalloc, so that pass is slower). The Centra emulator re-filters its
whole catalogue for every page it serves, so large pages keep that quadratic cost from
swamping both loops alike.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import httpx
from harness import Counting
from served import Served, served

from centrasync.centra.client import OrderApiClient
from centrasync.config import StoreSettings, parse_settings
from centrasync.http import RateBudget
from centrasync.store.sql import open_store
from centrasync.sync.article_mapping import filter_reason, product_to_article
from centrasync.sync.articles import ArticlesFlow
from centrasync.wms.ongoing.client import OngoingWarehouse

ZONE = "Europe/Stockholm"


@dataclass(frozen=True)
class Result:
    read: int
    written: int
    seconds: float
    calls: dict[str, int]


def settings(world: World) -> StoreSettings:
    return parse_settings(
        {
            "stores": {
                "bench": {
                    "centra": {"host": world.emulators.centra, "uri": "wms", "timezone": ZONE},
                    "wms": {"base_url": world.wms_url, "user": "centrasync", "goods_owner_id": 1},
                }
            }
        },
        {"CENTRASYNC_BENCH_CENTRA_SECRET": "s3cret", "CENTRASYNC_BENCH_WMS_PASSWORD": "secret"},
    ).store("bench")


class World:
    """Fresh emulators holding ``sizes`` sizes, and clients that count their calls."""

    def __init__(self, emulators: Served) -> None:
        self.emulators = emulators
        self.wms_url = f"{emulators.ongoing}/demo/api/v1/"
        self.to_centra = Counting(httpx.AsyncHTTPTransport())
        self.to_ongoing = Counting(httpx.AsyncHTTPTransport())

    def client(self) -> OrderApiClient:
        return OrderApiClient(
            f"{self.emulators.centra}/api/wms/",
            "s3cret",
            ZONE,
            transport=self.to_centra,
            budget=RateBudget(1_000_000),
        )

    def wms(self) -> OngoingWarehouse:
        return OngoingWarehouse(self.wms_url, "centrasync", "secret", 1, transport=self.to_ongoing)

    def calls(self) -> dict[str, int]:
        return {**self.to_centra.calls, **self.to_ongoing.calls}


async def engine_pass(sizes: int, page_size: int, *, trace: bool = False) -> Result:
    async with served("articles", sizes) as emulators:
        world = World(emulators)
        with tempfile.TemporaryDirectory() as folder:
            state = await open_store(f"sqlite+aiosqlite:///{Path(folder) / 'state.sqlite'}")
            try:
                async with world.client() as client, world.wms() as wms:
                    flow = ArticlesFlow(settings(world), state, client, wms, page_size=page_size)
                    if trace:
                        tracemalloc.start()
                    began = time.perf_counter()
                    done = await flow.sync(full=False)
                    took = time.perf_counter() - began
            finally:
                await state.close()
        held = (await emulators.summary())["ongoing_articles"]
    if held != done.written:
        raise SystemExit(f"the WMS holds {held} articles")
    return Result(done.read, done.written, took, world.calls())


async def bare_pass(sizes: int, page_size: int) -> Result:
    async with served("articles", sizes) as emulators:
        world = World(emulators)
        store = settings(world)
        read = written = 0
        async with world.client() as client, world.wms() as wms:
            began = time.perf_counter()
            async for page in client.iter_products(limit=page_size):
                for row in page:
                    read += 1
                    if filter_reason(row, store) is None:
                        await wms.upsert_articles([product_to_article(row, store)])
                        written += 1
            took = time.perf_counter() - began
    return Result(read, written, took, world.calls())


async def main(sizes: int, runs: int, page_size: int, memory: bool) -> None:
    print(f"{sizes} sizes, {page_size} product rows per page, {runs} runs of each loop\n")
    print(f"{'run':>3} {'loop':>6} {'read':>7} {'written':>7} {'seconds':>8} {'per s':>7}  calls")
    engine: list[float] = []
    bare: list[float] = []
    for run in range(1, runs + 1):
        for name, work, times in (
            ("engine", engine_pass, engine),
            ("bare", bare_pass, bare),
        ):
            result = await work(sizes, page_size)
            times.append(result.seconds)
            print(
                f"{run:>3} {name:>6} {result.read:>7} {result.written:>7} "
                f"{result.seconds:>8.2f} {result.written / result.seconds:>7.0f}  {result.calls}"
            )
    print(
        f"\nmedian of {runs}: engine {statistics.median(engine):.2f} s "
        f"({sizes / statistics.median(engine):.0f} articles/s), "
        f"bare loop {statistics.median(bare):.2f} s, "
        f"engine / bare {statistics.median(engine) / statistics.median(bare):.2f}"
    )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"process max RSS: {rss:.0f} MiB (the engine alone, over the passes above; "
        "the emulators run in a child process)"
    )
    if memory:
        await engine_pass(sizes, page_size, trace=True)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"peak Python allocations during one engine pass: {peak / 2**20:.0f} MiB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--page-size", type=int, default=5000)
    parser.add_argument("--no-memory", dest="memory", action="store_false")
    args = parser.parse_args()
    asyncio.run(main(args.sizes, args.runs, args.page_size, args.memory))
