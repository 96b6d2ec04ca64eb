"""Benchmark: an order edited in Centra to its updated row in DuckDB, p50 and p99, webhooks.

The engine runs as ``serve`` runs it (``Engine.run(stop)``: the fulfilment loops and the
analytics loop of store ``se`` with ``trigger = "webhook"``), with the Centra and Ongoing
emulators in this process; the Centra emulator's webhook plugin posts its signed
Integration-API events into the engine's receiver app (in process, no socket). After the
first load (the reconciliation at start), orders are edited one at a time through the
control API (``PATCH /_emulator/orders/{n}``, a new ``other_comment``); each latency runs
from just before that call to the first read of the DuckDB file that shows the new comment
(polled every 20 ms, between loads: a read holds the destination's lock, as a load
does). Reconciliation is off during the run, so only the webhook path brings the edits in.

    .venv/bin/python benchmarks/analytics_latency.py [--edits 40] [--gap 0.5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import httpx

from centrasync.analytics.source import dataset_name
from centrasync.config import parse_settings
from centrasync.emulators.centra import CentraEmulator, WebhookSettings
from centrasync.emulators.faults import EmulatorTransport
from centrasync.emulators.ongoing import OngoingEmulator
from centrasync.logs import configure_logging
from centrasync.runtime import Connections, Engine
from centrasync.server import create_app
from centrasync.store.sql import open_store
from centrasync.sync.tally import Tally

TOKEN = "bench-graphql-token"
SECRET = "s3cret"
WEBHOOK_SECRET = "whsec-bench"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def settings_for(folder: Path) -> Any:
    document = {
        "engine": {
            "database_url": f"sqlite+aiosqlite:///{folder / 'state.db'}",
            "centra_rate": 10_000.0,
        },
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
                "analytics": {
                    "destination": "analytics.duckdb",
                    "trigger": "webhook",
                    "reconcile_interval": 0,
                },
            }
        },
    }
    env = {
        "CENTRASYNC_SE_CENTRA_SECRET": SECRET,
        "CENTRASYNC_SE_WMS_PASSWORD": "secret",
        "CENTRASYNC_SE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "TOKEN": TOKEN,
    }
    return parse_settings(document, env)


async def run(edits: int, gap: float) -> None:
    folder = Path(tempfile.mkdtemp(prefix="analytics-latency-"))
    settings = settings_for(folder)
    state = await open_store(settings.engine.database_url)
    app = create_app(settings, state)
    centra = CentraEmulator(
        seed="demo", secret=SECRET, graphql_token=TOKEN, webhook_transport=EmulatorTransport(app)
    )
    centra.webhooks.configure(
        WebhookSettings(
            url="http://engine.test/webhooks/centra/se",
            secret=WEBHOOK_SECRET,
            store="wms",
            triggers=["order", "shipment", "return"],
        )
    )
    ongoing = OngoingEmulator(warehouse="se-dc", password="secret")
    wired = {
        "se": Connections(centra=EmulatorTransport(centra.app), wms=EmulatorTransport(ongoing.app))
    }
    engine = Engine(
        settings, state, events=Tally(), owner="bench", connections=wired, analytics_base=folder
    )
    control = httpx.AsyncClient(transport=EmulatorTransport(centra.app), base_url="http://c.test")
    database = folder / "analytics.duckdb"
    schema = dataset_name("se")
    stop = asyncio.Event()
    async with engine, control:
        (
            await control.put("/_emulator/rate-limits", json={"plan": "enterprise"})
        ).raise_for_status()
        live = engine.analytics["se"]
        workers = asyncio.create_task(engine.run(stop))

        async def read(sql: str) -> list[tuple[Any, ...]]:
            async with live.destination_lock():
                with duckdb.connect(str(database), read_only=True) as conn:
                    return conn.execute(sql).fetchall()

        # The first load: one reconciliation pass at start, by hand (the loop's is off).
        began = time.perf_counter()
        await live.reconcile()
        print(f"first load: {time.perf_counter() - began:.1f} s")
        # Orders of store se's plugin (uri wms): the environment holds the other store's too.
        numbers = sorted(o.number for o in centra.world.orders.values() if o.store_uri == "wms")
        latencies: list[float] = []
        edited: dict[int, str] = {}
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        for index in range(edits):
            number = numbers[index % len(numbers)]
            edited[number] = f"edit {index}"
            sql = f"SELECT other_comment FROM {schema}.orders WHERE order_number = {number}"
            sent = time.perf_counter()
            patched = await control.patch(
                f"/_emulator/orders/{number}", json={"other_comment": edited[number]}
            )
            patched.raise_for_status()
            while (await read(sql)) != [(edited[number],)]:
                if workers.done():
                    workers.result()  # the engine stopped on its own: show why
                await asyncio.sleep(0.02)
            latencies.append(time.perf_counter() - sent)
            await asyncio.sleep(gap)
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        stop.set()
        await workers
    await centra.aclose()
    await state.close()
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    print(f"edits: {len(latencies)}, one every {gap} s after the last arrived")
    print(
        f"latency edit -> DuckDB row: p50 {statistics.median(latencies):.2f} s, "
        f"p99 {percentile(latencies, 0.99):.2f} s, max {max(latencies):.2f} s "
        f"(target p99 < 5 s)"
    )
    print(f"process CPU during the edits: {cpu:.1f} s; load average {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=40)
    parser.add_argument("--gap", type=float, default=0.5)
    args = parser.parse_args()
    configure_logging(level=os.environ.get("BENCH_LOG", "warning"))
    asyncio.run(run(args.edits, args.gap))


if __name__ == "__main__":
    main()
