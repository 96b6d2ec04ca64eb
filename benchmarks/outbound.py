"""Benchmark: outbound throughput, N shipments end to end over two stores.

Both emulators run in-process behind the real clients. Store ``se`` (plugin ``wms``)
captures on completion and store ``us`` (plugin ``wms-us``) captures on import, each with
its own Ongoing warehouse. N Good-to-Go shipments are placed through the Centra emulator's
control API (not timed), then the engine is driven by ``Engine.run_once()``: the first
pass takes every shipment and creates its WMS order, the emulated warehouses allocate,
pick and ship every order, and the following passes confirm each one in Centra until the
ledger holds every shipment as completed.

    .venv/bin/python benchmarks/outbound.py [--shipments 10000] [--database sqlite|postgresql]

Printed: shipments per second, Centra and WMS calls per shipment by endpoint, and the
floor: the same number of calls to the same endpoints made by a bare loop of httpx
requests at concurrency 1 (no ledger, no effects), and engine / bare. The engine's
shipment passes are sequential per store today, so concurrency 1 is also its own.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
from harness import Counting

from centrasync.config import parse_settings
from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.centra.seed import ean13
from centrasync.emulators.centra.specs import (
    CatalogueSpec,
    ProductSpec,
    SizeSpec,
    StoreSpec,
    VariantSpec,
    WarehouseSpec,
)
from centrasync.emulators.faults import EmulatorTransport
from centrasync.emulators.ongoing import OngoingEmulator
from centrasync.emulators.ongoing.model import OrderStatus
from centrasync.logs import configure_logging
from centrasync.server.runtime import Connections, Engine
from centrasync.store import open_store
from centrasync.store.base import RecordKind
from centrasync.sync.shipments import ShipmentState
from centrasync.sync.tally import Tally

SECRET = "s3cret"
WMS_PASSWORD = "secret"
STORES = {
    "se": ("wms", "Europe/Stockholm", "on_complete", "se-dc"),
    "us": ("wms-us", "America/New_York", "on_import", "us-dc"),
}
PRODUCTS = 40
NUMBER = re.compile(r"(?<=/)[^/]*\d[^/]*(?=/|$)")
PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# Polling only; the passes are driven by run_once(), so the intervals never matter.
SCHEDULE = {"shipments": 60, "confirmations": 60, "cancellations": 300, "sweep": 900}
BILLING = {
    "name": "Anna Berg",
    "address": "Storgatan 1",
    "zipcode": "111 22",
    "city": "Stockholm",
    "country": "SE",
    "email": "anna@example.com",
}


@dataclass(frozen=True)
class Outcome:
    shipments: int
    seconds: float
    passes: int
    calls: dict[str, int]
    # The requests of each pass, in order, for the floor to send again.
    sent: list[list[httpx.Request]]


def settings_document(database_url: str) -> dict[str, Any]:
    stores = {
        name: {
            "centra": {"host": "http://centra.test", "uri": uri, "timezone": zone},
            "wms": {
                "base_url": f"http://{warehouse}.test/{warehouse}/api/v1/",
                "user": "centrasync",
                "goods_owner_id": 1,
            },
            "capture_policy": policy,
            "schedule": SCHEDULE,
        }
        for name, (uri, zone, policy, warehouse) in STORES.items()
    }
    # The emulator does not rate-limit; Centra's real budget would make this a sleep test.
    return {"engine": {"database_url": database_url, "centra_rate": 1e9}, "stores": stores}


def secrets_env() -> dict[str, str]:
    env = {}
    for name in STORES:
        env[f"CENTRASYNC_{name.upper()}_CENTRA_SECRET"] = SECRET
        env[f"CENTRASYNC_{name.upper()}_WMS_PASSWORD"] = WMS_PASSWORD
    return env


def centra_catalogue() -> CatalogueSpec:
    """Both stores on one warehouse with stock that no number of orders runs out of."""
    products = [
        ProductSpec(
            sku=f"P{index:04d}",
            name=f"Product {index}",
            variants=[
                VariantSpec(
                    name="Black",
                    sku="BLK",
                    sizes=[
                        SizeSpec(name="M", sku="M", ean=ean13(index + 1), stock={1: 10**7}),
                    ],
                )
            ],
        )
        for index in range(PRODUCTS)
    ]
    stores = [
        StoreSpec(uri=uri, secret=SECRET, timezone=zone, primary_warehouse_id=1)
        for uri, zone, _, _ in STORES.values()
    ]
    return CatalogueSpec(warehouses=[WarehouseSpec(name="Main")], stores=stores, products=products)


@asynccontextmanager
async def database(kind: str) -> AsyncIterator[str]:
    """A fresh, empty state store URL; its file or schema is gone afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite+aiosqlite:///{Path(folder) / 'state.sqlite'}"
        return
    schema = f"bench_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield f"{PG_URL}?options=-csearch_path%3D{schema}"
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@dataclass
class Recording(httpx.AsyncBaseTransport):
    """Keeps every request (method, URL, headers, body) so the floor can send it again."""

    inner: httpx.AsyncBaseTransport
    sent: list[httpx.Request]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.sent.append(request)
        return await self.inner.handle_async_request(request)


class World:
    """The Centra emulator with N Good-to-Go shipments, two warehouses, counting wires."""

    def __init__(self, webhooks: httpx.AsyncBaseTransport | None = None) -> None:
        self.centra = CentraEmulator(seed=None, webhook_transport=webhooks)
        self.centra.load_catalogue(centra_catalogue())
        self.warehouses = {
            name: OngoingEmulator(warehouse=warehouse, password=WMS_PASSWORD)
            for name, (_, _, _, warehouse) in STORES.items()
        }
        self.to_centra = Counting(EmulatorTransport(self.centra.app))
        self.to_wms = {
            name: Counting(EmulatorTransport(emulator.app))
            for name, emulator in self.warehouses.items()
        }
        self.sent: list[httpx.Request] = []

    def recording(self, wire: httpx.AsyncBaseTransport) -> Recording:
        return Recording(wire, self.sent)

    async def place(self, count: int) -> None:
        """Place ``count`` one-line orders, alternating stores, each made Good-to-Go."""
        uris = [uri for uri, _, _, _ in STORES.values()]
        eans = [ean13(index + 1) for index in range(PRODUCTS)]
        async with httpx.AsyncClient(
            transport=EmulatorTransport(self.centra.app), base_url="http://c.test"
        ) as control:
            for index in range(count):
                placed = await control.post(
                    "/_emulator/orders",
                    json={
                        "store": uris[index % len(uris)],
                        "lines": [{"ean": eans[index % len(eans)], "qty": 1}],
                        "billing": BILLING,
                    },
                )
                placed.raise_for_status()
                made = await control.post(
                    f"/_emulator/orders/{placed.json()['number']}/shipments",
                    json={"gtg": True, "capture": False},
                )
                made.raise_for_status()

    def ship_everything(self) -> int:
        """The warehouses allocate, pick and ship every open order; how many they shipped."""
        shipped = 0
        for emulator in self.warehouses.values():
            for order in list(emulator.state.orders.values()):
                if order.is_active and order.status == OrderStatus.OPEN:
                    emulator.state.allocate(order.number)
                    emulator.state.pick(order.number, None)
                    emulator.state.ship(order.number, None)
                    shipped += 1
        return shipped

    def calls(self) -> Counter[str]:
        """Calls per endpoint, record numbers folded into ``{id}``."""
        total: Counter[str] = Counter()
        for key, value in self.to_centra.calls.items():
            total[NUMBER.sub("{id}", key)] += value
        for wire in self.to_wms.values():
            for key, value in wire.calls.items():
                total[f"wms {NUMBER.sub('{id}', key)}"] += value
        return total

    def reset_counts(self) -> None:
        self.to_centra.reset()
        for wire in self.to_wms.values():
            wire.reset()


async def engine_run(count: int, kind: str) -> Outcome:
    world = World()
    await world.place(count)
    world.reset_counts()
    async with database(kind) as url:
        settings = parse_settings(settings_document(url), secrets_env())
        state = await open_store(url)
        connections = {
            name: Connections(
                centra=world.recording(world.to_centra),
                wms=world.recording(world.to_wms[name]),
            )
            for name in STORES
        }
        sent: list[list[httpx.Request]] = []
        engine = Engine(settings, state, events=Tally(), owner="bench", connections=connections)
        try:
            async with engine:
                took = 0.0
                passes = 0
                completed = 0
                while completed < count and passes < 20:
                    began = time.perf_counter()
                    await engine.run_once()
                    world.ship_everything()
                    took += time.perf_counter() - began
                    passes += 1
                    sent.append(list(world.sent))
                    world.sent.clear()
                    # Counting the ledger is the benchmark's check, not the engine's work.
                    completed = 0
                    for name in STORES:
                        records = await state.list_records(
                            name, kind=RecordKind.SHIPMENT, limit=count + 1
                        )
                        completed += sum(r.state == ShipmentState.COMPLETED for r in records)
        finally:
            await state.close()
            await world.centra.aclose()
    if completed != count:
        raise SystemExit(f"only {completed} of {count} shipments completed after {passes} passes")
    return Outcome(count, took, passes, dict(world.calls()), sent)


async def bare_run(count: int, sent: list[list[httpx.Request]]) -> Outcome:
    """The floor: the engine's own requests, sent again one by one by a bare loop.

    Fresh emulators get the same orders (so the same numbers and ids), and each pass's
    requests are replayed in order, with the warehouses shipping between passes as in
    the engine's run; no ledger, no effects, no parsing beyond reading the body.
    """
    world = World()
    await world.place(count)
    world.reset_counts()
    wires: dict[str, httpx.AsyncBaseTransport] = {"centra.test": world.to_centra}
    for name, (_, _, _, warehouse) in STORES.items():
        wires[f"{warehouse}.test"] = world.to_wms[name]
    clients = {host: httpx.AsyncClient(transport=wire) for host, wire in wires.items()}
    try:
        began = time.perf_counter()
        for requests in sent:
            for request in requests:
                answer = await clients[request.url.host].request(
                    request.method, request.url, headers=request.headers, content=request.content
                )
                await answer.aread()
            world.ship_everything()
        took = time.perf_counter() - began
    finally:
        for client in clients.values():
            await client.aclose()
        await world.centra.aclose()
    return Outcome(count, took, len(sent), dict(world.calls()), [])


def table(outcome: Outcome, bare: Outcome | None, kind: str) -> dict[str, Any]:
    total = sum(outcome.calls.values())
    centra = sum(v for k, v in outcome.calls.items() if not k.startswith("wms "))
    row: dict[str, Any] = {
        "benchmark": "outbound",
        "database": kind,
        "shipments": outcome.shipments,
        "passes": outcome.passes,
        "seconds": round(outcome.seconds, 2),
        "shipments_per_s": round(outcome.shipments / outcome.seconds, 1),
        "centra_calls_per_shipment": round(centra / outcome.shipments, 2),
        "wms_calls_per_shipment": round((total - centra) / outcome.shipments, 2),
        "calls": outcome.calls,
    }
    if bare is not None:
        row["bare_seconds"] = round(bare.seconds, 2)
        row["engine_over_bare"] = round(outcome.seconds / bare.seconds, 2)
        if bare.calls != outcome.calls:
            raise SystemExit(f"the floor made other calls than the engine: {bare.calls}")
    return row


async def measure(count: int, kind: str, floor: bool) -> dict[str, Any]:
    outcome = await engine_run(count, kind)
    bare = await bare_run(count, outcome.sent) if floor else None
    return table(outcome, bare, kind)


def report(row: dict[str, Any]) -> None:
    print(
        f"{row['shipments']} shipments on {row['database']}: {row['seconds']:.2f} s in "
        f"{row['passes']} passes, {row['shipments_per_s']:.0f} shipments/s, "
        f"{row['centra_calls_per_shipment']:.2f} Centra + {row['wms_calls_per_shipment']:.2f} "
        f"WMS calls per shipment"
    )
    for endpoint, times in sorted(row["calls"].items()):
        print(f"  {times:>7}  {endpoint}")
    if "bare_seconds" in row:
        print(
            f"floor: the same calls from a bare httpx loop at concurrency 1 took "
            f"{row['bare_seconds']:.2f} s; engine / bare {row['engine_over_bare']:.2f} "
            f"(the engine's shipment passes are sequential per store today, so 1 is also "
            f"its default concurrency)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipments", type=int, default=10_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--no-floor", dest="floor", action="store_false")
    args = parser.parse_args()
    configure_logging(level="warning")
    report(asyncio.run(measure(args.shipments, args.database, args.floor)))
