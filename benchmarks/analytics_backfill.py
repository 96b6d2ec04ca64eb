"""Issue #20: the analytics back-fill of 100,000 orders (with lines) on the Growth plan.

The Centra emulator runs in a child process (``remote.py``) with the demo catalogue, its
stock raised so every order can be placed; the orders (1 to 4 lines, spread over a year,
both stores) go in through the control API's ``POST /_emulator/orders/bulk`` in batches,
which places each exactly as ``POST /_emulator/orders`` would. The plan is then set
(buckets full, charges counted from zero) and :func:`sync_store` loads the store into a
fresh DuckDB file in this process, through a client with its own quota budget, as
``centrasync analytics sync`` does.

Printed: rows per second (orders, and orders plus lines), requests (the client's attempts,
the emulator's count and 429s), peak RSS and CPU time of this process, and the ratio of
the elapsed time to the least time the quota allows for what the emulator charged: each
of the six buckets starts full and refills evenly, so ``total - quota`` of it takes
``(total - quota) / (quota / window)`` seconds; the tightest bucket sets the bound. The
tables are checked against the emulator's order and line counts.

    ../.venv/bin/python analytics_backfill.py [--orders 100000] [--plan growth] [--scale 1]
        [--pages 25] [--runs 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from integration_api import quota_bound
from remote import child_apps

from centrasync.analytics.source import sync_store
from centrasync.centra.integration.client import IntegrationApiClient
from centrasync.config import AnalyticsSettings
from centrasync.http.quota import QuotaBudget

TOKEN = "bench-token"
BATCH = 5_000


def build() -> dict[str, Any]:
    """The child's app: the demo world, with stock for a year of orders in every store."""
    from centrasync.emulators.centra import CentraEmulator

    emulator = CentraEmulator(seed="demo", graphql_token=TOKEN)
    world = emulator.world
    for store in world.stores.values():
        for ref in world.sizes.values():
            world.set_physical(store.primary_warehouse_id, ref.size.id, 10**8)
    return {"centra": emulator.app}


async def seed(control: httpx.AsyncClient, client: IntegrationApiClient, orders: int) -> float:
    """Place ``orders`` orders through the bulk route; seconds it took."""
    stores = [s["uri"] for s in (await control.get("/_emulator/seed-summary")).json()["stores"]]
    eans = [s.ean async for page in client.all_product_sizes_stock() for s in page if s.ean]
    rng = random.Random(20)
    first = datetime.now(UTC) - timedelta(days=365)
    step = 365 * 86_400 / orders
    began = time.perf_counter()
    for start in range(0, orders, BATCH):
        batch = [
            {
                "store": stores[index % len(stores)],
                "lines": [
                    {"ean": ean, "qty": rng.randint(1, 3)}
                    for ean in rng.sample(eans, rng.randint(1, 4))
                ],
                "customer_id": 10_000 + index,
                "created_at": (first + timedelta(seconds=index * step)).isoformat(),
            }
            for index in range(start, min(orders, start + BATCH))
        ]
        answer = await control.post("/_emulator/orders/bulk", json={"orders": batch}, timeout=600)
        answer.raise_for_status()
    return time.perf_counter() - began


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def children_cpu() -> float:
    """CPU seconds of this process's running children (the emulator), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


async def backfill(
    base: str, control: httpx.AsyncClient, quotas: dict[str, int], pages: int
) -> dict[str, Any]:
    (await control.put("/_emulator/rate-limits", json={"quotas": quotas})).raise_for_status()
    settings = AnalyticsSettings(destination="bench.duckdb", backfill_pages=pages)
    with tempfile.TemporaryDirectory() as folder:
        async with IntegrationApiClient(
            f"{base}/graphql", SecretStr(TOKEN), budget=QuotaBudget()
        ) as client:
            cpu_before, emulator_before = cpu(), children_cpu()
            began = time.perf_counter()
            result = await sync_store("se", client, settings, base=Path(folder))
            seconds, cpu_seconds = time.perf_counter() - began, cpu() - cpu_before
            emulator_seconds = children_cpu() - emulator_before
            stats = client.transport.stats
    charged = (await control.get("/_emulator/rate-limits")).json()["charged"]
    # The bound for that many requests of the mean complexity is the bound for the totals.
    mean = charged["complexity"] / max(1, charged["requests"])
    bound, binding = quota_bound(quotas, charged["requests"], mean)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "emulator_seconds": emulator_seconds,
        "bound": bound,
        "binding": binding,
        "charged": charged,
        "attempts": stats.attempts,
        "rate_limited": stats.rate_limited,
        "tables": result.tables,
    }


async def run(args: argparse.Namespace) -> None:
    async with child_apps("analytics_backfill:build") as urls:
        base = urls["centra"]
        async with (
            httpx.AsyncClient(base_url=base) as control,
            IntegrationApiClient(f"{base}/graphql", SecretStr(TOKEN)) as setup,
        ):
            await control.put("/_emulator/rate-limits", json={"plan": "enterprise"})
            seeded = await seed(control, setup, args.orders)
            total = await setup.counters()
            chosen = await control.put("/_emulator/rate-limits", json={"plan": args.plan})
            quotas = {k: int(v * args.scale) for k, v in chosen.json()["quotas"].items()}
            print(f"seeded {args.orders:,} orders in {seeded:.1f} s ({total})")
            print(f"plan {args.plan} x{args.scale:g}, {args.pages} pages of 200 per load")
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            for attempt in range(args.runs):
                r = await backfill(base, control, quotas, args.pages)
                orders, lines = r["tables"]["orders"], r["tables"]["orders__lines"]
                print(f"run {attempt + 1}")
                print(f"  orders / lines  {orders:,} / {lines:,} in DuckDB")
                print(
                    f"  time            {r['seconds']:.1f} s (CPU: this process "
                    f"{r['cpu_seconds']:.1f} s, the emulator {r['emulator_seconds']:.1f} s)"
                )
                print(
                    f"  rows per second {orders / r['seconds']:,.0f} orders, "
                    f"{(orders + lines) / r['seconds']:,.0f} orders + lines"
                )
                print(f"  quota allows    {r['bound']:.1f} s (bound by {r['binding']})")
                ratio = r["seconds"] / r["bound"] if r["bound"] else float("nan")
                print(f"  ratio           {ratio:.3f}")
                print(
                    f"  requests        {r['attempts']} sent, {r['charged']['requests']} "
                    f"charged, {r['rate_limited']} answered 429; complexity "
                    f"{r['charged']['complexity']:,}"
                )
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            print(f"peak RSS {peak / 1024:.0f} MiB (before the loads {rss_before / 1024:.0f} MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--plan", default="growth")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--pages", type=int, default=25, help="backfill_pages")
    parser.add_argument("--runs", type=int, default=1)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
