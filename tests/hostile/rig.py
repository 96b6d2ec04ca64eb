"""The hostile rig: both emulators and the real engine on one event loop, faults on tap.

One store, ``se`` (the Centra emulator's ``wms`` plugin, Europe/Stockholm), feeds one
Ongoing warehouse. The engine is :class:`~centrasync.runtime.Engine`, built from
settings as ``serve`` builds it, with in-process transports and its webhook app; a test
drives it one pass at a time and plays the warehouse floor itself, so a run takes the same
path every time and nothing waits on a clock.

Faults come from the emulators' own fault plans (429 with ``Retry-After``, 5xx, HTML
instead of JSON, a body cut in half after the write was applied, a connection dropped
mid-answer), plus read timeouts, which an in-process transport cannot produce by itself:
:class:`TimeoutTransport` lets the request reach the emulator and then raises
``httpx.ReadTimeout``, the worst case for a write (applied, answer lost). Every plan is
seeded, so a failing seed reproduces.
"""

from __future__ import annotations

import fnmatch
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from centrasync.config import Settings, parse_settings
from centrasync.emulators.centra import CentraEmulator, WebhookSettings
from centrasync.emulators.centra.specs import CatalogueSpec
from centrasync.emulators.faults import EmulatorTransport, FaultKind, FaultPlan, FaultRule
from centrasync.emulators.ongoing import OngoingEmulator
from centrasync.http import RetryPolicy
from centrasync.runtime import Connections, Engine
from centrasync.server import create_app
from centrasync.store.base import RecordKind, StateStore
from centrasync.store.sql import open_store
from centrasync.sync.ports import FlowEvents
from centrasync.sync.tally import Tally
from centrasync.sync.worker import StoreWorker

STORE = "se"
URI = "wms"
CENTRA_SECRET = "s3cret"
WMS_USER = "centrasync"
WMS_PASSWORD = "ongoing-pw-7Qx"
WEBHOOK_SECRET = "whsec-hostile"
WMS_URL = "http://ongoing.test/demo/api/v1/"

# Transport retries without waiting: the backoff is a millisecond, and every 429 asks for
# "Retry-After: 0", so a run spends its time on work, not on sleeping.
QUICK_RETRY = RetryPolicy(max_attempts=4, base_delay=0.001, max_delay=0.002)

# The engine's flows by schedule key; a rig runs only the ones a test names.
FLOWS = (
    "shipments",
    "confirmations",
    "cancellations",
    "sweep",
    "articles",
    "in_deliveries",
    "returns",
    "stock",
    "stock_full",
)
SHIPMENT_FLOWS = ("shipments", "confirmations", "cancellations", "sweep")

# Every endpoint the flows call, as (method, path glob); each gets its own fault rate.
CENTRA_ENDPOINTS = (
    ("GET", "/api/*/shipments"),
    ("PUT", "/api/*/shipments/*"),
    ("PUT", "/api/*/shipment"),
    ("PUT", "/api/*/capture"),
    ("GET", "/api/*/orders"),
    ("POST", "/api/*/return"),
    ("GET", "/api/*/returns"),
    ("GET", "/api/*/products"),
    ("GET", "/api/*/stock"),
    ("POST", "/api/*/stock"),
    ("GET", "/api/*/supplier-orders*"),
    ("GET", "/api/*/supplier-deliveries*"),
    ("POST", "/api/*/supplier-deliveries/*"),
)
ONGOING_ENDPOINTS = (
    ("PUT", "/*/api/v1/articles"),
    ("GET", "/*/api/v1/articles*"),
    ("PUT", "/*/api/v1/orders"),
    ("GET", "/*/api/v1/orders*"),
    ("DELETE", "/*/api/v1/orders/*"),
    ("PATCH", "/*/api/v1/orders/*"),
    ("PUT", "/*/api/v1/purchaseOrders"),
    ("GET", "/*/api/v1/purchaseOrders*"),
    ("PATCH", "/*/api/v1/purchaseOrders/*"),
    ("GET", "/*/api/v1/warehouses"),
)
EMULATED_KINDS = (
    FaultKind.RATE_LIMIT,
    FaultKind.SERVER_ERROR,
    FaultKind.MALFORMED,
    FaultKind.TRUNCATED,
    FaultKind.DROP,
)

Wrapper = Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport]

# Warehouse steps between two passes: the floor moves on while the engine works.
STEPS_PER_PASS = 40

# How old the seeded data is: a shop's catalogue and orders exist long before a sync, so
# the flows' delta reads (changed within the last few minutes) do not see all of it.
SEEDED_AGO = timedelta(hours=1)


class ShiftedClock:
    """The Centra emulator's clock: real time plus ``shift``, which a test may move."""

    def __init__(self, shift: timedelta = timedelta(0)) -> None:
        self.shift = shift

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.shift


class TimeoutTransport(httpx.AsyncBaseTransport):
    """Reads that time out: the emulator applies the request, the answer never arrives.

    Which requests time out is decided by ``plan`` (its rules' kind is ignored), so the
    timeouts are per endpoint and seeded like the emulators' own faults.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, plan: FaultPlan) -> None:
        self._inner = inner
        self.plan = plan

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        rule = self.plan.choose(request.method, request.url.path)
        response = await self._inner.handle_async_request(request)
        if rule is None:
            return response
        await response.aread()
        await response.aclose()
        raise httpx.ReadTimeout("timed out waiting for the answer", request=request)


class RewriteTransport(httpx.AsyncBaseTransport):
    """Between the engine and an emulator: ``edit`` rewrites the JSON answers to one endpoint.

    The emulators only ever answer well-formed records; this is how a record the real
    system might send (a quantity in words, a lone surrogate) reaches the engine. The
    body is re-encoded with ASCII escapes, as PHP's ``json_encode`` writes it.
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        method: str,
        path: str,
        edit: Callable[[Any], None],
    ) -> None:
        self._inner = inner
        self._method = method
        self._path = path
        self._edit = edit

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if request.method != self._method or not fnmatch.fnmatchcase(request.url.path, self._path):
            return response
        body = json.loads(await response.aread())
        self._edit(body)
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        return httpx.Response(
            response.status_code, headers=headers, content=json.dumps(body).encode()
        )


class Fanout:
    """Flow events to the test's :class:`Tally` and to the app's ``/metrics`` alike."""

    def __init__(self, *targets: FlowEvents) -> None:
        self._targets = targets

    def processed(self, store: str, flow: str) -> None:
        for target in self._targets:
            target.processed(store, flow)

    def failed(self, store: str, flow: str) -> None:
        for target in self._targets:
            target.failed(store, flow)

    def parked(self, store: str, flow: str, reason: str) -> None:
        for target in self._targets:
            target.parked(store, flow, reason)

    def recovered(self, store: str, flow: str) -> None:
        for target in self._targets:
            target.recovered(store, flow)

    def lag(self, store: str, flow: str, seconds: float) -> None:
        for target in self._targets:
            target.lag(store, flow, seconds)


def fault_rates(seed: int) -> dict[tuple[str, str, str], float]:
    """The failure rate of every endpoint of both systems under ``seed``: 10 to 30 %.

    Keyed by (system, method, path glob).
    """
    chooser = random.Random(seed)
    rates: dict[tuple[str, str, str], float] = {}
    for system, endpoints in (("centra", CENTRA_ENDPOINTS), ("ongoing", ONGOING_ENDPOINTS)):
        for method, path in endpoints:
            rates[system, method, path] = chooser.uniform(0.10, 0.30)
    return rates


@dataclass
class Rig:
    """The two emulators, the engine with its webhook app, and the state store under them."""

    centra: CentraEmulator
    ongoing: OngoingEmulator
    state: StateStore
    engine: Engine
    app: FastAPI
    tally: Tally
    timeouts: FaultPlan
    control: httpx.AsyncClient
    centra_clock: ShiftedClock

    @property
    def worker(self) -> StoreWorker:
        return self.engine.workers[0]

    async def run_pass(self) -> None:
        """Deliver pending webhooks into the inbox, then one pass of every scheduled flow."""
        await self.centra.webhooks.drain()
        await self.engine.run_once()
        await self.worker.run_side_flows()

    async def operate(self, steps: int) -> bool:
        """Up to ``steps`` steps of warehouse work; False if the floor had nothing to do."""
        worked = False
        for _ in range(steps):
            if await self.ongoing.state.operator_step() is None:
                break
            worked = True
        return worked

    def inject_faults(self, seed: int) -> None:
        """Fail every endpoint of both systems at its rate, spread over every fault kind.

        Each endpoint's rate is shared out evenly between the five emulated kinds and the
        read timeout (rules are tried one after another, so each gets the share that makes
        the whole add up to the rate).
        """
        rates = fault_rates(seed)
        share = len(EMULATED_KINDS) + 1
        for (system, method, path), rate in rates.items():
            each = 1.0 - (1.0 - rate) ** (1.0 / share)
            plan = self.centra.plan if system == "centra" else self.ongoing.plan
            for kind in EMULATED_KINDS:
                plan.add(FaultRule(kind=kind, method=method, path=path, rate=each, retry_after="0"))
            self.timeouts.add(
                FaultRule(kind=FaultKind.LATENCY, method=method, path=path, rate=each)
            )

    def injected(self) -> dict[str, int]:
        """How many faults of each kind were injected so far, both systems together."""
        total: dict[str, int] = {}
        for plan in (self.centra.plan, self.ongoing.plan):
            for kind, count in plan.injected.items():
                total[kind] = total.get(kind, 0) + count
        total["timeout"] = sum(self.timeouts.injected.values())
        return total

    def hook_webhooks(self, **switches: Any) -> None:
        """Point Centra's webhook plugin at the engine, with the sender's unreliability."""
        self.centra.webhooks.configure(
            WebhookSettings(
                url=f"http://engine.test/webhooks/centra/{STORE}",
                secret=WEBHOOK_SECRET,
                store=URI,
                **switches,
            )
        )

    async def new_shipments(self, count: int, *, ean_offset: int = 0) -> list[str]:
        """Place ``count`` orders through Centra's control API, each with one Good-to-Go
        shipment of two units of a size with free stock; returns the shipment numbers."""
        world = self.centra.world
        store = world.store(URI)
        sizes = sorted(world.sizes.values(), key=lambda ref: ref.size.id)
        eans = [
            ref.size.ean
            for ref in sizes
            if ref.size.ean
            and not ref.product.is_bundle
            and world.store_stock(store, ref.size.id)[0] - world.store_stock(store, ref.size.id)[1]
            >= 10
        ][ean_offset : ean_offset + count]
        assert len(eans) == count, f"only {len(eans)} sizes with free stock"
        numbers = []
        for ean in eans:
            placed = await self.control.post(
                "/_emulator/orders",
                json={
                    "store": URI,
                    "lines": [{"ean": ean, "qty": 2}],
                    "billing": {
                        "name": "Anna Berg",
                        "address": "Storgatan 1",
                        "zipcode": "111 22",
                        "city": "Stockholm",
                        "country": "SE",
                        "email": "anna@example.com",
                    },
                },
            )
            assert placed.status_code == 200, placed.text
            shipped = await self.control.post(
                f"/_emulator/orders/{placed.json()['number']}/shipments",
                json={"gtg": True, "capture": False},
            )
            assert shipped.status_code == 200, shipped.text
            numbers.append(str(shipped.json()["number"]))
        return numbers

    async def ledger(self, kind: RecordKind) -> dict[str, str]:
        records = await self.state.list_records(STORE, kind=kind, limit=100_000)
        return {record.ref.key: record.state for record in records}

    async def dead(self) -> dict[str, str]:
        """Open dead letters: ``"<kind>/<key>"`` → reason."""
        return {
            f"{d.record.kind.value}/{d.record.key}": d.reason
            for d in await self.state.list_dead(STORE)
        }


def settings_for(database_url: str, flows: tuple[str, ...], options: Mapping[str, Any]) -> Settings:
    """Store ``se`` with only ``flows`` scheduled (a pass runs whenever the test says)."""
    unknown = set(flows) - set(FLOWS)
    assert not unknown, f"no such flows: {sorted(unknown)}"
    store = {
        "centra": {"host": "http://centra.test", "uri": URI, "timezone": "Europe/Stockholm"},
        "wms": {"base_url": WMS_URL, "user": WMS_USER, "goods_owner_id": 1},
        "schedule": {flow: 60.0 if flow in flows else 0 for flow in FLOWS},
        **options,
    }
    env = {
        "CENTRASYNC_SE_CENTRA_SECRET": CENTRA_SECRET,
        "CENTRASYNC_SE_WMS_PASSWORD": WMS_PASSWORD,
        "CENTRASYNC_SE_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    document = {
        "engine": {"database_url": database_url, "centra_rate": 10_000.0},
        "stores": {STORE: store},
    }
    return parse_settings(document, env)


@asynccontextmanager
async def open_rig(
    tmp_path: Path,
    *,
    flows: tuple[str, ...],
    options: Mapping[str, Any] | None = None,
    catalogue: CatalogueSpec | None = None,
    fault_seed: int | None = None,
    webhooks_since: datetime | None = None,
    wrap_centra: Wrapper | None = None,
    wrap_wms: Wrapper | None = None,
) -> AsyncIterator[Rig]:
    """A rig on a fresh SQLite state store; the demo seed unless ``catalogue`` is given.

    The seed is made an hour ago on Centra's clock, which then runs on real time
    (``rig.centra_clock``).

    ``wrap_centra`` / ``wrap_wms`` put a transport of the test's between the engine and an
    emulator (outside the timeouts), to rewrite answers or swap credentials.
    """
    tmp_path.mkdir(parents=True, exist_ok=True)
    url = f"sqlite+aiosqlite:///{tmp_path / 'state.sqlite'}"
    state = await open_store(url)
    settings = settings_for(url, flows, options or {})
    app = create_app(settings, state)
    centra_clock = ShiftedClock(-SEEDED_AGO)
    centra = CentraEmulator(
        seed=None if catalogue is not None else "demo",
        clock=centra_clock,
        fault_seed=fault_seed,
        webhook_transport=EmulatorTransport(app),
    )
    if catalogue is not None:
        centra.load_catalogue(catalogue)
    centra_clock.shift = timedelta(0)
    ongoing = OngoingEmulator(password=WMS_PASSWORD, fault_seed=fault_seed)
    timeouts = FaultPlan(fault_seed)
    centra_transport: httpx.AsyncBaseTransport = TimeoutTransport(
        EmulatorTransport(centra.app), timeouts
    )
    wms_transport: httpx.AsyncBaseTransport = TimeoutTransport(
        EmulatorTransport(ongoing.app), timeouts
    )
    if wrap_centra is not None:
        centra_transport = wrap_centra(centra_transport)
    if wrap_wms is not None:
        wms_transport = wrap_wms(wms_transport)
    tally = Tally()
    engine = Engine(
        settings,
        state,
        events=Fanout(tally, app.state.metrics.flows),
        owner="hostile",
        connections={STORE: Connections(centra=centra_transport, wms=wms_transport)},
        webhooks_since=webhooks_since,
        retry=QUICK_RETRY,
    )
    app.state.metrics.engine = engine
    control = httpx.AsyncClient(transport=EmulatorTransport(centra.app), base_url="http://c.test")
    try:
        async with engine, control:
            yield Rig(
                centra,
                ongoing,
                state,
                engine,
                app,
                tally,
                timeouts,
                control,
                centra_clock,
            )
    finally:
        await centra.aclose()
        await state.close()


async def settle(
    rig: Rig,
    settled: Callable[[], Awaitable[bool]],
    *,
    act: Callable[[], Awaitable[None]] | None = None,
    limit: int = 60,
    describe: Callable[[], Awaitable[str]] | None = None,
) -> int:
    """Pass after pass (``act`` first, the floor after) until ``settled``; returns passes.

    ``settled`` is asked only when the floor had nothing left to do. Fails the test after
    ``limit`` passes, naming the faults injected so far and what ``describe`` says.
    """
    for passes in range(1, limit + 1):
        if act is not None:
            await act()
        await rig.run_pass()
        busy = await rig.operate(STEPS_PER_PASS)
        if not busy and await settled():
            return passes
    details = await describe() if describe is not None else ""
    pytest.fail(f"not settled after {limit} passes; faults injected: {rig.injected()}\n{details}")
