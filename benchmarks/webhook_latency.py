"""Benchmark: webhook to WMS order latency, p50 and p99, and where the time goes.

The emulators run in child processes (``remote.py``, as in ``outbound.py``, with the same
modelled ``--latency-ms`` per API call, the Integration API's included). Orders for store
``se`` are made Good-to-Go one at a time at a steady pace; the Centra emulator posts its
signed webhooks (``shipment`` ``create`` and ``good_to_go``, carrying Centra's internal
shipment id) over a real socket to the engine's web app. Store ``se`` has an Integration
API, so the worker resolves the id to the shipment and takes that one.

Each shipment's latency runs from just before the control call that makes it Good-to-Go
(the moment Centra emits the event) to the moment the WMS answered the engine's ``PUT
orders`` for it. Polls are set to once a minute, so the webhook path, not a poll, brings
the shipments in. Centra's Order API budget is unlimited (the engine's own guard, not a
limit of Centra's: see docs/engine.md) and the Integration API emulator runs
Centra's Enterprise plan (1,500 requests per 10 s), so the figure is the engine's, not a
queue for tokens; on Growth (60 per 10 s) one lookup per event would be paced.

Processes: ``--processes 1`` serves the web app (uvicorn) and runs ``Engine.run(stop)`` in
this process; ``--processes 2`` serves the web app in a child process of its own (as
``serve --role web`` would) and runs the worker here, so an event crosses the database: on
PostgreSQL the inbox insert notifies the worker (``LISTEN``/``NOTIFY``), on SQLite only
its tick would find it. The engine's tick is its default (0.2 s).

Where the time goes: the engine logs each hand-over at debug level
(:func:`centrasync.logs.handover`); here they are captured in memory (the web child
writes its own to a file at exit) and joined per shipment: Centra's webhook reaching the
receiver, the inbox commit, the worker claiming it, the Centra reads, the WMS answering and
the ledger confirming. Printed: p50 and p99 of each hand-over, and the floor: the three
calls a shipment event costs (Integration API lookup, Order API read, WMS write) sent one
after the other by a bare httpx loop, for ``--floor`` shipments, in the same run. The
engine is often below it: Centra sends an order event beside each shipment event, and the
order's read alone brings the shipment (docs/engine.md).

    .venv/bin/python benchmarks/webhook_latency.py [--orders 500] [--gap 0.05]
        [--database sqlite|postgresql] [--processes 1|2] [--latency-ms 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import bisect
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import structlog
import uvicorn
from outbound import (
    LATENCY_MS,
    STORES,
    UNLIMITED,
    Recording,
    Shop,
    build_shop,
    centra_catalogue,
    database,
    order_request,
    secrets_env,
    settings_document,
)
from remote import child_apps
from store_counts import counting

from centrasync.config import parse_settings
from centrasync.logs import HANDOVER
from centrasync.runtime import Connections, Engine
from centrasync.server import create_app
from centrasync.store.sql import open_store
from centrasync.sync.tally import Tally

WEBHOOK_SECRET = "whsec-bench"
GRAPHQL_TOKEN = "gql-bench"
# The Integration API plan the emulator runs: one lookup per event fits in its quota.
PLAN = "enterprise"
HANDOVERS = ("received", "inbox", "worker", "centra", "wms", "ledger")
SEGMENTS = (
    ("Centra's webhook reaches the receiver", "start", "received"),
    ("receiver: verified to inbox committed", "received", "inbox"),
    ("inbox committed to worker claimed it", "inbox", "worker"),
    ("worker: Centra read(s) (the order, or lookup and shipment)", "worker", "centra"),
    ("WMS write (PUT orders answered)", "centra", "wms"),
    ("ledger confirmed", "wms", "ledger"),
)


def environment(database_url: str, urls: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The engine's settings document and secrets: ``se`` with a webhook secret and an
    Integration API, polls once a minute."""
    document = settings_document(database_url, urls, centra_rate=UNLIMITED)
    document["stores"]["se"]["integration_api"] = {"url": f"{urls['centra']}/graphql"}
    env = {
        **secrets_env(),
        "CENTRASYNC_SE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "CENTRASYNC_SE_INTEGRATION_API_TOKEN": GRAPHQL_TOKEN,
    }
    return document, env


async def build_world(latency_ms: str, part: str) -> dict[str, Any]:
    """One child's app: a warehouse as in ``outbound.py``, or Centra with a GraphQL token
    on the Enterprise plan and no shipments yet."""
    if part in STORES:
        return await build_shop("0", latency_ms, part)
    from centrasync.emulators.centra import CentraEmulator
    from centrasync.emulators.centra.graphql import PLANS
    from centrasync.emulators.faults import FaultKind, FaultRule

    centra = CentraEmulator(seed=None, graphql_token=GRAPHQL_TOKEN)
    centra.load_catalogue(centra_catalogue())
    centra.integration_api.limiter.configure(PLANS[PLAN])
    latency = float(latency_ms) / 1000
    if latency:
        centra.plan.add(FaultRule(kind=FaultKind.LATENCY, latency=latency))
    return {"centra": centra.app}


# -- the hand-overs ------------------------------------------------------------------------


class Handovers:
    """A structlog processor keeping the engine's hand-over events; it drops every other
    debug and info event and lets warnings through to ``render``."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, _logger: Any, method: str, event: MutableMapping[str, Any]) -> Any:
        if event.get("event") == HANDOVER:
            self.events.append(dict(event))
            raise structlog.DropEvent
        if method in ("debug", "info"):
            raise structlog.DropEvent
        return event

    def install(self) -> None:
        structlog.configure(
            processors=[self, structlog.processors.add_log_level, structlog.dev.ConsoleRenderer()],
            wrapper_class=structlog.make_filtering_bound_logger(10),
            cache_logger_on_first_use=False,
        )


async def web_app(database_url: str, urls_json: str, trace_file: str) -> dict[str, Any]:
    """The web role in a child process (``remote.py`` serves it): the receiver on the state
    store, no worker. Its hand-overs are written to ``trace_file`` when it exits."""
    handovers = Handovers()
    handovers.install()
    atexit.register(lambda: Path(trace_file).write_text(json.dumps(handovers.events)))
    document, env = environment(database_url, json.loads(urls_json))
    settings = parse_settings(document, env)
    state = await open_store(database_url)
    return {"web": create_app(settings, state)}


@dataclass
class Arrivals(httpx.AsyncBaseTransport):
    """Notes when the WMS has answered the ``PUT orders`` of each order number."""

    inner: httpx.AsyncBaseTransport
    at: dict[str, float] = field(default_factory=dict)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "PUT" and request.url.path.endswith("/orders"):
            number = json.loads(await request.aread())["orderNumber"]
            self.at.setdefault(number, time.time())
        return response


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def breakdown(
    began: dict[str, float], events: Iterable[dict[str, Any]]
) -> dict[str, dict[str, float]]:
    """Per hand-over, p50 and p99 in ms over the shipments whose whole path was traced.

    The Centra read names the shipments it found and the event (``subject``) it was for;
    each earlier hand-over is that subject's latest one before the next.
    """
    by_subject: dict[tuple[str, str], list[float]] = defaultdict(list)
    by_shipment: dict[tuple[str, str], float] = {}
    reads: dict[str, tuple[float, str]] = {}
    for event in events:
        stage, at = event["stage"], float(event["at"])
        if stage in ("received", "inbox", "worker"):
            for subject in event["subjects"]:
                by_subject[stage, subject].append(at)
        elif stage == "centra":
            for number in event["shipments"]:
                if number not in reads or at < reads[number][0]:
                    reads[number] = (at, event["subject"])
        else:
            by_shipment.setdefault((stage, event["shipment"]), at)
    for times in by_subject.values():
        times.sort()
    spans: dict[str, list[float]] = defaultdict(list)
    for number, start in began.items():
        if number not in reads:
            continue
        read_at, subject = reads[number]
        at = {"start": start, "centra": read_at}
        before = read_at
        for stage in ("worker", "inbox", "received"):
            times = by_subject.get((stage, subject), [])
            index = bisect.bisect_right(times, before) - 1
            if index < 0:
                break
            at[stage] = before = times[index]
        for stage in ("wms", "ledger"):
            if (stage, number) in by_shipment:
                at[stage] = by_shipment[stage, number]
        if not all(stage in at for stage in HANDOVERS):
            continue
        for label, first, last in SEGMENTS:
            spans[label].append(at[last] - at[first])
        spans["total (to ledger confirmed)"].append(at["ledger"] - start)
    return {
        label: {
            "p50_ms": round(percentile(values, 0.5) * 1000, 1),
            "p99_ms": round(percentile(values, 0.99) * 1000, 1),
            "traced": len(values),
        }
        for label, values in spans.items()
    }


# -- the run -------------------------------------------------------------------------------


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


@asynccontextmanager
async def web_role(
    processes: int, url: str, shop: Shop, app: Any, trace: list[dict[str, Any]]
) -> AsyncIterator[str]:
    """The web app's URL: ``app`` served here, or a web app of its own in a child process,
    whose hand-overs are added to ``trace`` once it has exited."""
    if processes == 1:
        async with serving(app) as engine_url:
            yield engine_url
        return
    with tempfile.TemporaryDirectory() as folder:
        written = Path(folder) / "web-trace.json"
        async with child_apps(
            "webhook_latency:web_app", url, json.dumps(shop.urls), written
        ) as urls:
            yield urls["web"]
        if not written.exists():
            raise SystemExit("the web process exited without writing its hand-overs")
        trace += json.loads(written.read_text())


async def floor(shop: Shop, sent: list[tuple[str, httpx.Request]], sample: int) -> list[float]:
    """The engine's own three calls per shipment (Integration API lookup, Order API read,
    WMS write) for ``sample`` shipments, sent again one after the other by a bare loop;
    the seconds each shipment's three took."""
    lookups = [r for wire, r in sent if wire == "centra" and r.url.path.endswith("/graphql")]
    lookups = [r for r in lookups if b"query Shipments" in r.content]
    reads = [r for wire, r in sent if wire == "centra" and r.url.path.endswith("/shipments")]
    writes = [
        r
        for wire, r in sent
        if wire == "wms" and r.method == "PUT" and r.url.path.endswith("/orders")
    ]
    count = min(sample, len(lookups), len(reads), len(writes))
    took: list[float] = []
    async with (
        httpx.AsyncClient(transport=shop.transport()) as centra,
        httpx.AsyncClient(transport=shop.transport()) as wms,
    ):
        for index in range(count):
            started = time.time()
            for client, request in (
                (centra, lookups[index]),
                (centra, reads[index]),
                (wms, writes[index]),
            ):
                answer = await client.send(
                    client.build_request(
                        request.method,
                        request.url,
                        headers=request.headers,
                        content=request.content,
                    )
                )
                answer.raise_for_status()
            took.append(time.time() - started)
    return took


async def measure(
    orders: int,
    gap: float,
    kind: str,
    latency_ms: float = LATENCY_MS,
    processes: int = 1,
    floor_sample: int = 50,
    count_store: bool = False,
) -> dict[str, Any]:
    configured = structlog.get_config()
    handovers = Handovers()
    handovers.install()
    try:
        if not count_store:
            return await _measure(handovers, orders, gap, kind, latency_ms, processes, floor_sample)
        with counting() as counts:
            row = await _measure(handovers, orders, gap, kind, latency_ms, processes, floor_sample)
        row["store_per_shipment"] = {k: round(v / orders, 2) for k, v in sorted(counts.items())}
        return row
    finally:
        structlog.configure(**configured)


async def _measure(
    handovers: Handovers,
    orders: int,
    gap: float,
    kind: str,
    latency_ms: float,
    processes: int,
    floor_sample: int,
) -> dict[str, Any]:
    web_trace: list[dict[str, Any]] = []
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    async with (
        child_apps("webhook_latency:build_world", latency_ms, apart=("centra", *STORES)) as urls,
        database(kind) as url,
    ):
        shop = Shop(urls, httpx.AsyncHTTPTransport)
        se_uri = STORES["se"][0]
        document, env = environment(url, urls)
        settings = parse_settings(document, env)
        state = await open_store(url)
        sent: list[tuple[str, httpx.Request]] = []
        arrivals = Arrivals(Recording(shop.to_wms["se"], "wms", sent))
        connections = {
            "se": Connections(centra=Recording(shop.to_centra, "centra", sent), wms=arrivals),
            "us": Connections(centra=shop.to_centra, wms=shop.to_wms["us"]),
        }
        engine = Engine(settings, state, events=Tally(), owner="bench", connections=connections)
        began: dict[str, float] = {}
        stop = asyncio.Event()
        try:
            async with (
                engine,
                web_role(
                    processes, url, shop, create_app(settings, state, engine=engine), web_trace
                ) as engine_url,
                httpx.AsyncClient(base_url=urls["centra"], timeout=30) as control,
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
                    started = time.time()
                    made = await control.post(
                        f"/_emulator/orders/{placed.json()['number']}/shipments",
                        json={"gtg": True, "capture": False},
                    )
                    made.raise_for_status()
                    began[str(made.json()["number"])] = started
                    await asyncio.sleep(gap)
                deadline = time.time() + 30
                while len(arrivals.at) < orders and time.time() < deadline:
                    await asyncio.sleep(0.05)
                stop.set()
                await loop
            cpu_after = resource.getrusage(resource.RUSAGE_SELF)
            floors = await floor(shop, sent, floor_sample)
        finally:
            await shop.aclose()
            await state.close()
    missing = set(began) - set(arrivals.at)
    if missing:
        raise SystemExit(f"{len(missing)} shipments never reached the WMS, e.g. {min(missing)}")
    latencies = [arrivals.at[number] - began[number] for number in began]
    events = handovers.events + web_trace
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    return {
        "benchmark": "webhook_latency",
        "database": kind,
        "processes": processes,
        "orders": orders,
        "gap_s": gap,
        "latency_ms": latency_ms,
        "concurrency": settings.engine.concurrency,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
        "floor_p50_ms": round(percentile(floors, 0.50) * 1000, 1),
        "floor_p99_ms": round(percentile(floors, 0.99) * 1000, 1),
        "engine_cpu_ms_per_webhook": round(cpu / orders * 1000, 2),
        "centra_calls_per_shipment": round(sum(w == "centra" for w, _ in sent) / orders, 2),
        "wms_calls_per_shipment": round(sum(w == "wms" for w, _ in sent) / orders, 2),
        "load": [round(x, 2) for x in os.getloadavg()],
        "breakdown": breakdown(began, events),
    }


def report(row: dict[str, Any]) -> None:
    print(
        f"{row['orders']} webhooks on {row['database']} ({row['processes']} process"
        f"{'es' if row['processes'] > 1 else ''}), one every {row['gap_s']} s, "
        f"{row['latency_ms']:g} ms per API call: webhook to WMS order p50 {row['p50_ms']:.0f} ms, "
        f"p99 {row['p99_ms']:.0f} ms (mean {row['mean_ms']:.0f} ms, max {row['max_ms']:.0f} ms); "
        f"floor (the three calls alone) p50 {row['floor_p50_ms']:.0f} ms, "
        f"p99 {row['floor_p99_ms']:.0f} ms; engine CPU {row['engine_cpu_ms_per_webhook']:.1f} ms "
        f"per webhook (this process); {row['centra_calls_per_shipment']:.2f} Centra and "
        f"{row['wms_calls_per_shipment']:.2f} WMS calls per shipment; load {row['load']}"
    )
    for label, figures in row["breakdown"].items():
        print(
            f"  {label:<42} p50 {figures['p50_ms']:7.1f} ms   p99 {figures['p99_ms']:7.1f} ms"
            f"   ({figures['traced']} traced)"
        )
    if "store_per_shipment" in row:
        print(f"  store work per shipment (this process): {row['store_per_shipment']}")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--gap", type=float, default=0.05)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--processes", type=int, choices=(1, 2), default=1)
    parser.add_argument("--latency-ms", type=float, default=LATENCY_MS)
    parser.add_argument("--floor", type=int, default=50, help="shipments the floor replays")
    parser.add_argument("--rounds", type=int, default=1, help="runs; medians printed last")
    parser.add_argument(
        "--count-store",
        action="store_true",
        help="count store calls, statements and round trips (benchmarks/store_counts.py)",
    )
    args = parser.parse_args()
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    rows = []
    for _ in range(args.rounds):
        row = asyncio.run(
            measure(
                args.orders,
                args.gap,
                args.database,
                args.latency_ms,
                args.processes,
                args.floor,
                args.count_store,
            )
        )
        report(row)
        rows.append(row)
    if args.rounds > 1:
        keys = ("p50_ms", "p99_ms", "floor_p50_ms", "floor_p99_ms", "engine_cpu_ms_per_webhook")
        medians = {key: statistics.median(row[key] for row in rows) for key in keys}
        print(
            f"median of {args.rounds}: p50 {medians['p50_ms']:.0f} ms, p99 {medians['p99_ms']:.0f} "
            f"ms; floor p50 {medians['floor_p50_ms']:.0f} ms, p99 {medians['floor_p99_ms']:.0f} ms;"
            f" engine CPU {medians['engine_cpu_ms_per_webhook']:.1f} ms per webhook"
        )
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
