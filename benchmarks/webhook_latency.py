"""Benchmark: webhook to WMS order latency, p50 and p99, with the worker loop running.

The Centra emulator posts its signed webhooks into the engine's app (in-process), the
engine runs ``Engine.run(stop)`` at its default tick, and orders for store ``se`` are made
Good-to-Go one at a time at a steady pace. Each shipment's latency runs from just before
the control call that makes it Good-to-Go (the moment Centra emits the event) to the
moment the WMS answered the engine's ``PUT orders`` for it. Shipment polling is set to
once a minute, so the webhook path, not a poll, brings the shipments in.

    .venv/bin/python benchmarks/webhook_latency.py [--orders 500] [--gap 0.02]
        [--database sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from outbound import BILLING, PRODUCTS, STORES, World, database, secrets_env, settings_document

from centrasync.config import parse_settings
from centrasync.emulators.centra import WebhookSettings
from centrasync.emulators.centra.seed import ean13
from centrasync.emulators.faults import EmulatorTransport
from centrasync.logs import configure_logging
from centrasync.server import create_app
from centrasync.server.runtime import Connections, Engine
from centrasync.store import open_store
from centrasync.sync.tally import Tally

WEBHOOK_SECRET = "whsec-bench"


@dataclass
class Arrivals(httpx.AsyncBaseTransport):
    """Notes when the WMS has answered the ``PUT orders`` of each order number."""

    inner: httpx.AsyncBaseTransport
    at: dict[str, float] = field(default_factory=dict)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "PUT" and request.url.path.endswith("/orders"):
            number = json.loads(await request.aread())["orderNumber"]
            self.at.setdefault(number, time.perf_counter())
        return response


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def measure(orders: int, gap: float, kind: str) -> dict[str, Any]:
    se_uri = STORES["se"][0]
    async with database(kind) as url:
        env = {**secrets_env(), "CENTRASYNC_SE_WEBHOOK_SECRET": WEBHOOK_SECRET}
        settings = parse_settings(settings_document(url), env)
        state = await open_store(url)
        app = create_app(settings, state)
        world = World(webhooks=EmulatorTransport(app))
        arrivals = Arrivals(world.to_wms["se"])
        world.centra.webhooks.configure(
            WebhookSettings(
                url="http://engine.test/webhooks/centra/se", secret=WEBHOOK_SECRET, store=se_uri
            )
        )
        connections = {
            "se": Connections(centra=world.to_centra, wms=arrivals),
            "us": Connections(centra=world.to_centra, wms=world.to_wms["us"]),
        }
        engine = Engine(settings, state, events=Tally(), owner="bench", connections=connections)
        began: dict[str, float] = {}
        stop = asyncio.Event()
        try:
            async with (
                engine,
                httpx.AsyncClient(
                    transport=EmulatorTransport(world.centra.app), base_url="http://c.test"
                ) as control,
            ):
                loop = asyncio.create_task(engine.run(stop))
                for index in range(orders):
                    placed = await control.post(
                        "/_emulator/orders",
                        json={
                            "store": se_uri,
                            "lines": [{"ean": ean13(index % PRODUCTS + 1), "qty": 1}],
                            "billing": BILLING,
                        },
                    )
                    placed.raise_for_status()
                    started = time.perf_counter()
                    made = await control.post(
                        f"/_emulator/orders/{placed.json()['number']}/shipments",
                        json={"gtg": True, "capture": False},
                    )
                    made.raise_for_status()
                    began[str(made.json()["number"])] = started
                    await asyncio.sleep(gap)
                deadline = time.perf_counter() + 30
                while len(arrivals.at) < orders and time.perf_counter() < deadline:
                    await asyncio.sleep(0.05)
                stop.set()
                await loop
        finally:
            await state.close()
            await world.centra.aclose()
    missing = set(began) - set(arrivals.at)
    if missing:
        raise SystemExit(f"{len(missing)} shipments never reached the WMS, e.g. {min(missing)}")
    latencies = [arrivals.at[number] - began[number] for number in began]
    return {
        "benchmark": "webhook_latency",
        "database": kind,
        "orders": orders,
        "gap_s": gap,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
    }


def report(row: dict[str, Any]) -> None:
    print(
        f"{row['orders']} webhooks on {row['database']}, one every {row['gap_s']} s: "
        f"webhook to WMS order p50 {row['p50_ms']:.0f} ms, p99 {row['p99_ms']:.0f} ms "
        f"(mean {row['mean_ms']:.0f} ms, max {row['max_ms']:.0f} ms)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--gap", type=float, default=0.02)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    configure_logging(level="warning")
    report(asyncio.run(measure(args.orders, args.gap, args.database)))
