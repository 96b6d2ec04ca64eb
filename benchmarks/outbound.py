"""Benchmark: outbound throughput, N shipments end to end over two stores.

The emulators run in child processes (``remote.py``), Centra and each warehouse in one of
its own as in the world, and the engine reaches them over real sockets through its real
clients, so its CPU and memory are its own. Store ``se`` (plugin ``wms``) captures on
completion and store ``us`` (plugin ``wms-us``) captures on import, each with its own
Ongoing warehouse. N Good-to-Go shipments are placed before the clock starts; the engine is
driven by ``Engine.run_once()``: the first pass takes every shipment and creates its WMS
order, the warehouses ship every order (``POST /_emulator/orders/ship-open``, not timed:
that is the warehouse's work), and the next pass confirms each one in Centra, until the
ledger holds every shipment as completed.

Latency: every API call is given a modelled latency in the emulators, as a remote API
would take; a WMS write spends it inside its goods owner's write lane, because Ongoing
executes a goods owner's writes one at a time (ongoing-api.md section 8). Neither vendor
documents a latency. ``--profile lan`` (the default) gives every call 20 ms, far below a
call across the internet to a hosted API, so it favours the floor; ``--profile hosted``
gives Centra's calls 120 ms and the WMS's 60 ms, closer to hosted APIs across the
internet, so that a gain that shows only at 20 ms is seen as such. ``--latency-ms N``
gives every call N ms instead (``0`` measures CPU alone).

Centra's rate budget: both stores share one Centra account, so one budget of
``--centra-rate`` calls per second. The default runs measure the engine's default (10 per
second; two Centra calls a shipment make it about 5 shipments per second, the budget's
pace, so those runs take ``--budgeted-shipments``, 1,000) and then ``unlimited`` (a budget
no run reaches, so the figures are the engine's own; ``--shipments``, 10,000).

    .venv/bin/python benchmarks/outbound.py [--shipments 10000] [--budgeted-shipments 1000]
        [--database sqlite|postgresql] [--concurrency 8] [--floor-shipments 1000]
        [--profile lan|hosted | --latency-ms 20] [--centra-rate 10 --centra-rate unlimited]
        [--rounds 1]

Printed: shipments per second, the engine process's CPU time (user + system, from
``getrusage``; the emulators run in child processes) per shipment, Centra and WMS calls
per shipment by endpoint, and the
floor: the calls the engine made for the first ``--floor-shipments`` shipments at
concurrency 1 (and with the two stores' passes in turn, so one call is in flight at a
time), sent again one by one by a bare loop of httpx requests (no ledger, no effects, its
Centra calls within the same budget) to fresh emulators. Then engine / bare at
concurrency 1 (time for the same calls) and, at the given concurrency, the engine's
shipments per second over the floor's. The engine and the bare loop use the same transport,
httpx's own (the engine's clients' default). With ``--rounds N`` the rates take turns N
times and the medians of each rate's figures are printed last: the machine's noise then
falls on every rate alike.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import resource
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from harness import Counting
from remote import child_apps
from store_counts import counting

from centrasync.config import EngineSettings, parse_settings
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
from centrasync.emulators.faults import EmulatorTransport, FaultKind, FaultRule
from centrasync.emulators.ongoing import OngoingEmulator
from centrasync.http import RateBudget
from centrasync.logs import configure_logging
from centrasync.runtime import Connections, Engine
from centrasync.store.base import RecordKind
from centrasync.store.sql import open_store
from centrasync.sync.shipments import ShipmentState
from centrasync.sync.tally import Tally

SECRET = "s3cret"
WMS_PASSWORD = "secret"
STORES = {
    "se": ("wms", "Europe/Stockholm", "on_complete", "se-dc"),
    "us": ("wms-us", "America/New_York", "on_import", "us-dc"),
}
PRODUCTS = 40
LATENCY_MS = 20.0


@dataclass(frozen=True)
class Profile:
    """The modelled latency of each API call: Centra's and the WMS's, in milliseconds."""

    name: str
    centra_ms: float
    wms_ms: float

    def arg(self) -> str:
        """As the emulators' child process takes it: ``centra/wms``."""
        return f"{self.centra_ms:g}/{self.wms_ms:g}"


PROFILES = {
    # Today's model: far below a call to a hosted API, which favours the floor.
    "lan": Profile("lan", LATENCY_MS, LATENCY_MS),
    # Closer to hosted APIs reached across the internet (issue #23).
    "hosted": Profile("hosted", 120.0, 60.0),
}
# A profile, or one latency in milliseconds for every call.
Latency = Profile | float


def profile_of(latency: Latency) -> Profile:
    if isinstance(latency, Profile):
        return latency
    return Profile(f"{latency:g} ms", latency, latency)


def cpu_seconds() -> float:
    """This process's CPU time so far, user and system: the engine's, not the emulators'."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


DEFAULT_RATE: float = EngineSettings.model_fields["centra_rate"].default
# A Centra budget no run comes near: the engine's figures without Centra's rate limit.
UNLIMITED = 1e9
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


def settings_document(
    database_url: str,
    urls: dict[str, str],
    *,
    concurrency: int = 8,
    centra_rate: float = DEFAULT_RATE,
) -> dict[str, Any]:
    stores = {
        name: {
            "centra": {"host": urls["centra"], "uri": uri, "timezone": zone},
            "wms": {
                "base_url": f"{urls[name]}/{warehouse}/api/v1/",
                "user": "centrasync",
                "goods_owner_id": 1,
            },
            "capture_policy": policy,
            "schedule": SCHEDULE,
        }
        for name, (uri, zone, policy, warehouse) in STORES.items()
    }
    engine = {
        "database_url": database_url,
        "centra_rate": centra_rate,
        "concurrency": concurrency,
    }
    return {"engine": engine, "stores": stores}


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


def order_request(store: str, index: int) -> dict[str, Any]:
    """The control call that places the ``index``-th one-line order."""
    return {
        "store": store,
        "lines": [{"ean": ean13(index % PRODUCTS + 1), "qty": 1}],
        "billing": BILLING,
    }


async def build_shop(count: str, latency_ms: str, part: str) -> dict[str, Any]:
    """One child's app: Centra with ``count`` Good-to-Go shipments, or store ``part``'s WMS.

    Orders alternate between the stores and are placed in-process before serving, so
    two children built alike hold the same orders under the same numbers and ids.
    ``latency_ms``: one figure for every call, or ``centra/wms`` (:meth:`Profile.arg`).
    """
    centra_ms, _, wms_ms = latency_ms.partition("/")
    latency = float(wms_ms or centra_ms) / 1000
    if part in STORES:
        warehouse = OngoingEmulator(
            warehouse=STORES[part][3], password=WMS_PASSWORD, write_delay=latency
        )
        if latency:
            # Writes already take ``write_delay`` inside the goods owner's lane.
            warehouse.plan.add(FaultRule(kind=FaultKind.LATENCY, method="GET", latency=latency))
        return {part: warehouse.app}
    latency = float(centra_ms) / 1000
    centra = CentraEmulator(seed=None)
    centra.load_catalogue(centra_catalogue())
    uris = [uri for uri, _, _, _ in STORES.values()]
    async with httpx.AsyncClient(
        transport=EmulatorTransport(centra.app), base_url="http://c.test"
    ) as control:
        for index in range(int(count)):
            placed = await control.post(
                "/_emulator/orders", json=order_request(uris[index % len(uris)], index)
            )
            placed.raise_for_status()
            made = await control.post(
                f"/_emulator/orders/{placed.json()['number']}/shipments",
                json={"gtg": True, "capture": False},
            )
            made.raise_for_status()
    if latency:
        centra.plan.add(FaultRule(kind=FaultKind.LATENCY, latency=latency))
    return {"centra": centra.app}


Transport = Callable[[], httpx.AsyncBaseTransport]


@dataclass
class Recording(httpx.AsyncBaseTransport):
    """Keeps every request (method, URL, headers, body) so the floor can send it again."""

    inner: httpx.AsyncBaseTransport
    name: str
    sent: list[tuple[str, httpx.Request]]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.sent.append((self.name, request))
        return await self.inner.handle_async_request(request)


@dataclass
class Shop:
    """The emulators' child process as the engine's process sees it: URLs and counting wires.

    ``transport`` makes each wire's transport, the same for the engine's runs and the bare
    loop of the floor: httpx's own by default, which is what the engine's clients use
    unless given another.
    """

    urls: dict[str, str]
    transport: Transport = httpx.AsyncHTTPTransport
    to_centra: Counting = field(init=False)
    to_wms: dict[str, Counting] = field(init=False)
    sent: list[tuple[str, httpx.Request]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.to_centra = Counting(self.transport())
        self.to_wms = {name: Counting(self.transport()) for name in STORES}

    def connections(self, *, record: bool) -> dict[str, Connections]:
        """Each store's two wires; with ``record``, keeping what they carry for the floor.

        Only the concurrency-1 run is replayed, so only it pays for keeping every request.
        """
        if not record:
            return {
                name: Connections(centra=self.to_centra, wms=self.to_wms[name]) for name in STORES
            }
        return {
            name: Connections(
                centra=Recording(self.to_centra, "centra", self.sent),
                wms=Recording(self.to_wms[name], name, self.sent),
            )
            for name in STORES
        }

    async def ship_everything(self) -> int:
        """Both warehouses ship every open order; how many they shipped."""
        shipped = 0
        async with httpx.AsyncClient(timeout=600) as control:
            for name in STORES:
                answer = await control.post(f"{self.urls[name]}/_emulator/orders/ship-open")
                answer.raise_for_status()
                shipped += int(answer.json()["shipped"])
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

    async def aclose(self) -> None:
        await self.to_centra.inner.aclose()
        for wire in self.to_wms.values():
            await wire.inner.aclose()


@asynccontextmanager
async def remote_shop(
    count: int, latency_ms: Latency, transport: Transport = httpx.AsyncHTTPTransport
) -> AsyncIterator[Shop]:
    async with child_apps(
        "outbound:build_shop", count, profile_of(latency_ms).arg(), apart=("centra", *STORES)
    ) as urls:
        shop = Shop(urls, transport)
        try:
            yield shop
        finally:
            await shop.aclose()


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


@dataclass(frozen=True)
class Outcome:
    shipments: int
    seconds: float
    passes: int
    calls: dict[str, int]
    # This process's CPU time over the timed passes.
    cpu: float
    # The requests of each pass, in order, by wire, for the floor to send again.
    sent: list[list[tuple[str, httpx.Request]]]


async def engine_run(
    count: int,
    kind: str,
    concurrency: int,
    latency_ms: Latency,
    centra_rate: float = DEFAULT_RATE,
    transport: Transport = httpx.AsyncHTTPTransport,
) -> Outcome:
    async with remote_shop(count, latency_ms, transport) as shop, database(kind) as url:
        document = settings_document(
            url, shop.urls, concurrency=concurrency, centra_rate=centra_rate
        )
        settings = parse_settings(document, secrets_env())
        state = await open_store(url)
        sent: list[list[tuple[str, httpx.Request]]] = []
        engine = Engine(
            settings,
            state,
            events=Tally(),
            owner="bench",
            connections=shop.connections(record=concurrency == 1),
        )
        try:
            async with engine:
                took = cpu = 0.0
                passes = 0
                completed = 0
                while completed < count and passes < 20:
                    began, began_cpu = time.perf_counter(), cpu_seconds()
                    if concurrency == 1:
                        # One call in flight at a time, as in the floor: the stores in turn.
                        for worker in engine.workers:
                            await worker.run_once()
                    else:
                        await engine.run_once()
                    took += time.perf_counter() - began
                    cpu += cpu_seconds() - began_cpu
                    passes += 1
                    sent.append(list(shop.sent))
                    shop.sent.clear()
                    await shop.ship_everything()
                    # Counting the ledger is the benchmark's check, not the engine's work.
                    completed = 0
                    for name in STORES:
                        records = await state.list_records(
                            name, kind=RecordKind.SHIPMENT, limit=count + 1
                        )
                        completed += sum(r.state == ShipmentState.COMPLETED for r in records)
        finally:
            await state.close()
        calls = dict(shop.calls())
    if completed != count:
        raise SystemExit(f"only {completed} of {count} shipments completed after {passes} passes")
    return Outcome(count, took, passes, calls, cpu, sent)


async def bare_run(
    count: int,
    latency_ms: Latency,
    sent: list[list[tuple[str, httpx.Request]]],
    centra_rate: float = DEFAULT_RATE,
    transport: Transport = httpx.AsyncHTTPTransport,
) -> Outcome:
    """The floor: the engine's own requests, sent again one by one by a bare loop.

    A fresh child holds the same orders (so the same numbers and ids), and each pass's
    requests are replayed in order, with the warehouses shipping between passes as in
    the engine's run; no ledger, no effects, no parsing beyond reading the body. Each
    Centra call first takes a token of a budget like the engine's: the floor keeps to the
    same rate limit.
    """
    budget = RateBudget(centra_rate)
    async with remote_shop(count, latency_ms, transport) as shop:
        clients = {"centra": httpx.AsyncClient(transport=shop.to_centra)}
        clients |= {name: httpx.AsyncClient(transport=shop.to_wms[name]) for name in STORES}
        bases = {name: httpx.URL(url) for name, url in shop.urls.items()}
        took = cpu = 0.0
        try:
            for requests in sent:
                began, began_cpu = time.perf_counter(), cpu_seconds()
                for name, request in requests:
                    if name == "centra":
                        await budget.acquire()
                    target = request.url.copy_with(host=bases[name].host, port=bases[name].port)
                    answer = await clients[name].request(
                        request.method, target, headers=request.headers, content=request.content
                    )
                    await answer.aread()
                took += time.perf_counter() - began
                cpu += cpu_seconds() - began_cpu
                await shop.ship_everything()
        finally:
            for client in clients.values():
                await client.aclose()
        calls = dict(shop.calls())
    return Outcome(count, took, len(sent), calls, cpu, [])


def rate_name(centra_rate: float) -> str:
    return "unlimited" if centra_rate >= UNLIMITED else f"{centra_rate:g}/s"


def table(
    outcome: Outcome,
    kind: str,
    concurrency: int,
    latency_ms: Latency,
    centra_rate: float,
    floor: dict[str, Any] | None,
) -> dict[str, Any]:
    profile = profile_of(latency_ms)
    total = sum(outcome.calls.values())
    centra = sum(v for k, v in outcome.calls.items() if not k.startswith("wms "))
    row: dict[str, Any] = {
        "benchmark": "outbound",
        "database": kind,
        "concurrency": concurrency,
        "profile": profile.name,
        "centra_ms": profile.centra_ms,
        "wms_ms": profile.wms_ms,
        "centra_rate": rate_name(centra_rate),
        "shipments": outcome.shipments,
        "passes": outcome.passes,
        "seconds": round(outcome.seconds, 2),
        "shipments_per_s": round(outcome.shipments / outcome.seconds, 1),
        "cpu_ms_per_shipment": round(1000 * outcome.cpu / outcome.shipments, 2),
        "centra_calls_per_shipment": round(centra / outcome.shipments, 2),
        "wms_calls_per_shipment": round((total - centra) / outcome.shipments, 2),
        "calls": outcome.calls,
    }
    if floor is not None:
        row |= floor
        row["throughput_over_floor"] = round(
            row["shipments_per_s"] / floor["floor_shipments_per_s"], 2
        )
    return row


async def measure_floor(
    count: int, kind: str, latency_ms: Latency, centra_rate: float, transport: Transport
) -> dict[str, Any]:
    """Engine at concurrency 1 against the bare loop of the same calls."""
    single = await engine_run(count, kind, 1, latency_ms, centra_rate, transport)
    bare = await bare_run(count, latency_ms, single.sent, centra_rate, transport)
    if bare.calls != single.calls:
        raise SystemExit(f"the floor made other calls than the engine: {bare.calls}")
    return {
        "floor_shipments": count,
        "floor_seconds": round(bare.seconds, 2),
        "floor_shipments_per_s": round(count / bare.seconds, 1),
        "concurrency_1_seconds": round(single.seconds, 2),
        "engine_over_bare": round(single.seconds / bare.seconds, 2),
        "concurrency_1_cpu_ms_per_shipment": round(1000 * single.cpu / count, 2),
        "bare_cpu_ms_per_shipment": round(1000 * bare.cpu / count, 2),
    }


async def measure(
    count: int,
    kind: str,
    *,
    concurrency: int = 8,
    floor_count: int | None = 1000,
    latency_ms: Latency = LATENCY_MS,
    centra_rate: float = DEFAULT_RATE,
    transport: Transport = httpx.AsyncHTTPTransport,
) -> dict[str, Any]:
    floor = None
    if floor_count:
        floor = await measure_floor(
            min(floor_count, count), kind, latency_ms, centra_rate, transport
        )
    outcome = await engine_run(count, kind, concurrency, latency_ms, centra_rate, transport)
    return table(outcome, kind, concurrency, latency_ms, centra_rate, floor)


# The figures whose medians over rounds are printed, and how.
MEDIANS = {
    "shipments_per_s": "engine shipments/s",
    "floor_shipments_per_s": "floor shipments/s",
    "throughput_over_floor": "engine / floor throughput",
    "engine_over_bare": "engine / bare time at concurrency 1",
    "cpu_ms_per_shipment": "engine CPU ms per shipment",
    "concurrency_1_cpu_ms_per_shipment": "engine CPU ms per shipment at concurrency 1",
    "bare_cpu_ms_per_shipment": "bare loop CPU ms per shipment",
}


def medians(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """The median of each figure in :data:`MEDIANS` over ``rows`` (one rate's rounds)."""
    return {
        key: round(statistics.median(row[key] for row in rows), 2)
        for key in MEDIANS
        if all(key in row for row in rows)
    }


def latency_text(row: dict[str, Any]) -> str:
    """How long the row's API calls took: ``20 ms`` or ``hosted: Centra 120 ms, WMS 60 ms``."""
    if row["centra_ms"] == row["wms_ms"]:
        return f"{row['centra_ms']:g} ms"
    return f"{row['profile']}: Centra {row['centra_ms']:g} ms, WMS {row['wms_ms']:g} ms"


def report(row: dict[str, Any]) -> None:
    print(
        f"{row['shipments']} shipments on {row['database']} at concurrency "
        f"{row['concurrency']}, Centra budget {row['centra_rate']}, {latency_text(row)} "
        f"per API call: {row['seconds']:.2f} s in {row['passes']} passes, "
        f"{row['shipments_per_s']:.1f} shipments/s, engine CPU "
        f"{row['cpu_ms_per_shipment']:.1f} ms per shipment, {row['centra_calls_per_shipment']:.2f} "
        f"Centra + {row['wms_calls_per_shipment']:.2f} WMS calls per shipment"
    )
    for endpoint, times in sorted(row["calls"].items()):
        print(f"  {times:>7}  {endpoint}")
    if "floor_seconds" in row:
        print(
            f"floor: the engine's calls for {row['floor_shipments']} shipments at concurrency 1 "
            f"({row['concurrency_1_seconds']:.2f} s), sent again by a bare httpx loop, took "
            f"{row['floor_seconds']:.2f} s ({row['floor_shipments_per_s']:.1f} shipments/s); "
            f"engine / bare {row['engine_over_bare']:.2f} at concurrency 1; at concurrency "
            f"{row['concurrency']} the engine moves {row['throughput_over_floor']:.2f}x the "
            f"floor's shipments per second; CPU per shipment at concurrency 1: engine "
            f"{row['concurrency_1_cpu_ms_per_shipment']:.1f} ms, bare loop "
            f"{row['bare_cpu_ms_per_shipment']:.1f} ms"
        )


def report_medians(rows_by_rate: dict[str, list[dict[str, Any]]]) -> None:
    for rate, rows in rows_by_rate.items():
        figures = ", ".join(f"{MEDIANS[k]} {v:g}" for k, v in medians(rows).items())
        print(f"Centra budget {rate}, medians of {len(rows)} rounds: {figures}")


async def count_store(args: argparse.Namespace) -> None:
    """One engine run at ``--concurrency``, its store work counted per shipment; no floor
    (counting costs CPU, so no time it takes is quoted)."""
    rate = (args.centra_rate or [UNLIMITED])[0]
    latency = PROFILES[args.profile] if args.latency_ms is None else args.latency_ms
    with counting() as counts:
        outcome = await engine_run(args.shipments, args.database, args.concurrency, latency, rate)
    print(f"{outcome.shipments} shipments on {args.database} at concurrency {args.concurrency}:")
    for key, value in sorted(counts.items()):
        print(f"  {value / outcome.shipments:8.2f}  {key} per shipment")


def centra_rate(text: str) -> float:
    return UNLIMITED if text == "unlimited" else float(text)


async def rounds(args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    """Each rate in turn, ``args.rounds`` times; every row reported as it is measured."""
    rates = args.centra_rate or [DEFAULT_RATE, UNLIMITED]
    rows: dict[str, list[dict[str, Any]]] = {rate_name(rate): [] for rate in rates}
    for _ in range(args.rounds):
        for rate in rates:
            count = args.shipments if rate >= UNLIMITED else args.budgeted_shipments
            row = await measure(
                count,
                args.database,
                concurrency=args.concurrency,
                floor_count=args.floor_shipments,
                latency_ms=PROFILES[args.profile] if args.latency_ms is None else args.latency_ms,
                centra_rate=rate,
            )
            report(row)
            rows[rate_name(rate)].append(row)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipments", type=int, default=10_000, help="at an unlimited rate")
    parser.add_argument(
        "--budgeted-shipments", type=int, default=1000, help="at a finite --centra-rate"
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--floor-shipments", type=int, default=1000, help="0: no floor, no concurrency-1 run"
    )
    parser.add_argument("--profile", choices=sorted(PROFILES), default="lan")
    parser.add_argument(
        "--latency-ms", type=float, help="every call this long instead of --profile's latencies"
    )
    parser.add_argument(
        "--centra-rate",
        type=centra_rate,
        action="append",
        help="calls per second, or 'unlimited'; repeat for several (default: 10, unlimited)",
    )
    parser.add_argument("--rounds", type=int, default=1, help="times each rate is measured")
    parser.add_argument(
        "--count-store",
        action="store_true",
        help="count store calls, statements and round trips per shipment (store_counts.py)",
    )
    args = parser.parse_args()
    configure_logging(level="warning")
    if args.count_store:
        asyncio.run(count_store(args))
    else:
        report_medians(asyncio.run(rounds(args)))
