"""Benchmark: webhook to WMS order latency, p50 and p99, with the worker loop running.

The emulators run in child processes (``remote.py``, as in ``outbound.py``, with the same
modelled ``--latency-ms`` per API call) and the engine's web app is served by uvicorn in
this process: the Centra emulator posts its signed webhooks to it over a real socket, the
engine runs ``Engine.run(stop)`` at its default tick and concurrency, and orders for store
``se`` are made Good-to-Go one at a time at a steady pace. Each shipment's latency runs
from just before the control call that makes it Good-to-Go (the moment Centra emits the
event) to the moment the WMS answered the engine's ``PUT orders`` for it. Shipment
polling is set to once a minute, so the webhook path, not a poll, brings them in. Centra's
budget is unlimited: at the default 10 calls per second, one order per 50 ms would outrun
it, and the figure would be the queue for tokens, not the engine.

    .venv/bin/python benchmarks/webhook_latency.py [--orders 500] [--gap 0.02]
        [--database sqlite|postgresql] [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from outbound import (
    LATENCY_MS,
    STORES,
    UNLIMITED,
    database,
    order_request,
    remote_shop,
    secrets_env,
    settings_document,
)

from centrasync.config import parse_settings
from centrasync.logs import configure_logging
from centrasync.runtime import Connections, Engine
from centrasync.server import create_app
from centrasync.store.sql import open_store
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


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """The engine's web app on a free port of 127.0.0.1, in this process; its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        await task


async def measure(
    orders: int, gap: float, kind: str, latency_ms: float = LATENCY_MS
) -> dict[str, Any]:
    se_uri = STORES["se"][0]
    async with remote_shop(0, latency_ms) as shop, database(kind) as url:
        env = {**secrets_env(), "CENTRASYNC_SE_WEBHOOK_SECRET": WEBHOOK_SECRET}
        document = settings_document(url, shop.urls, centra_rate=UNLIMITED)
        settings = parse_settings(document, env)
        state = await open_store(url)
        arrivals = Arrivals(shop.to_wms["se"])
        connections = {
            "se": Connections(centra=shop.to_centra, wms=arrivals),
            "us": Connections(centra=shop.to_centra, wms=shop.to_wms["us"]),
        }
        engine = Engine(settings, state, events=Tally(), owner="bench", connections=connections)
        began: dict[str, float] = {}
        stop = asyncio.Event()
        try:
            async with (
                engine,
                serving(create_app(settings, state, engine=engine)) as engine_url,
                httpx.AsyncClient(base_url=shop.urls["centra"], timeout=30) as control,
            ):
                configured = await control.put(
                    "/_emulator/webhook",
                    json={
                        "url": f"{engine_url}/webhooks/centra/se",
                        "secret": WEBHOOK_SECRET,
                        "store": se_uri,
                    },
                )
                configured.raise_for_status()
                loop = asyncio.create_task(engine.run(stop))
                for index in range(orders):
                    placed = await control.post(
                        "/_emulator/orders", json=order_request(se_uri, index)
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
    missing = set(began) - set(arrivals.at)
    if missing:
        raise SystemExit(f"{len(missing)} shipments never reached the WMS, e.g. {min(missing)}")
    latencies = [arrivals.at[number] - began[number] for number in began]
    return {
        "benchmark": "webhook_latency",
        "database": kind,
        "orders": orders,
        "gap_s": gap,
        "latency_ms": latency_ms,
        "concurrency": settings.engine.concurrency,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
    }


def report(row: dict[str, Any]) -> None:
    print(
        f"{row['orders']} webhooks on {row['database']}, one every {row['gap_s']} s, "
        f"{row['latency_ms']:g} ms per API call: webhook to WMS order p50 {row['p50_ms']:.0f} ms, "
        f"p99 {row['p99_ms']:.0f} ms (mean {row['mean_ms']:.0f} ms, max {row['max_ms']:.0f} ms)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--gap", type=float, default=0.02)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--latency-ms", type=float, default=LATENCY_MS)
    args = parser.parse_args()
    configure_logging(level="warning")
    report(asyncio.run(measure(args.orders, args.gap, args.database, args.latency_ms)))
