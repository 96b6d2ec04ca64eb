"""``centrasync demo``: the main job on embedded defaults, start to finish in one process.

One asyncio loop runs the seeded Centra emulator, the Ongoing emulator with its
auto-operator and the engine (webhook receiver and workers) on a fresh SQLite file. Each
web app is a real uvicorn server on a free local port, so the engine speaks HTTP exactly as
it would in production. A live view follows the ledger and the warehouse; the run ends
when every seeded shipment has reached the end state the seed intends for it, or at the
timeout.

Like ``cli``, this is wiring: it builds concrete classes, and it judges the outcome by
reading the emulators' in-memory state, which only a demo or a test may do.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn
from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from centrasync.config import Settings, parse_settings
from centrasync.emulators.centra import CentraEmulator, WebhookSettings
from centrasync.emulators.ongoing import OngoingEmulator
from centrasync.emulators.ongoing.floor import AutoOperatorSettings
from centrasync.emulators.ongoing.model import Order, OrderStatus
from centrasync.errors import ConfigError
from centrasync.logs import register_secret
from centrasync.server import create_app
from centrasync.server.runtime import Engine
from centrasync.store import RecordKind, StateStore, open_store
from centrasync.sync.shipments import PARKED_STATES, ShipmentState

__all__ = ["DemoResult", "StoreSummary", "print_result", "run_demo"]

# The demo seed's Order API secret and the Ongoing emulator's password: public demo values.
CENTRA_SECRET = "s3cret"
WMS_PASSWORD = "secret"
WMS_WAREHOUSE = "demo"
# 50 orders take three warehouse steps each: at this pace the floor is done in ~8 s.
OPERATOR_INTERVAL = 0.05
REFRESH_SECONDS = 0.25

# Ledger states shown live, with short labels that keep the table within 80 columns.
_LEDGER_COLUMNS = (
    (ShipmentState.NEW, "new"),
    (ShipmentState.CAPTURED, "captured"),
    (ShipmentState.SENT, "sent"),
    (ShipmentState.QUANTITIES_UPDATED, "lowered"),
    (ShipmentState.COMPLETED, "completed"),
    (ShipmentState.CANCELLED, "cancelled"),
)
_WMS_STAGES = ("open", "allocated", "picked", "shipped", "cancelled")


@dataclass(frozen=True)
class StoreSummary:
    """One store's row of the final table; ``shipped`` is what the WMS shipped."""

    store: str
    taken: int
    sent: int
    captured: int
    shipped: int
    completed: int
    cancelled: int
    parked: int


@dataclass(frozen=True)
class DemoResult:
    """The outcome; ``missing`` names each shipment that did not reach its end state."""

    stores: tuple[StoreSummary, ...]
    missing: tuple[str, ...]
    database: Path
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class _Plan:
    """What the demo seed intends: each shipment's store and its three special cases."""

    store_of: dict[str, str]
    declined: str
    cancelled: str
    short: str

    @classmethod
    def of(cls, centra: CentraEmulator) -> _Plan:
        world, summary = centra.world, centra.seed_summary
        return cls(
            store_of={
                s.number: world.orders[s.order_number].store_uri for s in world.shipments.values()
            },
            declined=summary["capture_declines"]["shipment"],
            cancelled=summary["to_cancel"]["shipment"],
            short=summary["short_pick"]["shipment"],
        )

    @property
    def stores(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.store_of.values())))

    def shipments(self, store: str) -> list[str]:
        return sorted(number for number, owner in self.store_of.items() if owner == store)


@dataclass(frozen=True)
class _Snapshot:
    """Ledger state per store and shipment, and each WMS order's stage, at one moment."""

    ledger: dict[str, dict[str, str]]
    wms: dict[str, str]


def _settings(
    plan: _Plan,
    centra: CentraEmulator,
    *,
    centra_url: str,
    wms_url: str,
    engine_port: int,
    database: Path,
    webhook_secret: str,
    hooked_store: str,
) -> Settings:
    """Both seeded Centra stores, each feeding the one Ongoing warehouse.

    Only ``hooked_store`` gets a webhook secret: the others receive no webhooks.
    """
    stores: dict[str, Any] = {}
    for uri in plan.stores:
        # With on_import, Centra would refuse to lower the short-picked shipment's
        # quantities (a captured shipment cannot be updated), so the store holding the
        # short pick captures on completion; the other shows capture on import.
        policy = "on_complete" if uri == plan.store_of[plan.short] else "on_import"
        centra_table = {
            "host": centra_url,
            "uri": uri,
            "timezone": centra.world.stores[uri].timezone,
            "secret_env": "DEMO_CENTRA_SECRET",
        }
        if uri == hooked_store:
            centra_table["webhook_secret_env"] = "DEMO_WEBHOOK_SECRET"
        stores[uri] = {
            "centra": centra_table,
            "wms": {
                "base_url": wms_url,
                "user": "centrasync",
                "password_env": "DEMO_WMS_PASSWORD",
                "goods_owner_id": 1,
            },
            "capture_policy": policy,
            # The demo tells the shipment story; the catalogue, in-delivery and returns
            # flows are off here until the demo shows them too (issue #5).
            "schedule": {
                "shipments": 0.5,
                "confirmations": 0.5,
                "cancellations": 1.0,
                "sweep": 5.0,
                "articles": 0,
                "in_deliveries": 0,
                "returns": 0,
                "stock": 0,
                "stock_full": 0,
            },
        }
    env = {
        "DEMO_CENTRA_SECRET": CENTRA_SECRET,
        "DEMO_WEBHOOK_SECRET": webhook_secret,
        "DEMO_WMS_PASSWORD": WMS_PASSWORD,
    }
    engine = {
        "database_url": f"sqlite+aiosqlite:///{database}",
        "listen_port": engine_port,
        # The emulator has no rate limit, and the demo polls every half second: the
        # default budget, sized for real Centra's shared bucket, would make it wait on itself.
        "centra_rate": 50.0,
    }
    return parse_settings({"engine": engine, "stores": stores}, env)


class _LocalServer(uvicorn.Server):
    """A uvicorn server that leaves Ctrl-C alone.

    Each ``serve()`` would install its own SIGINT handler and raise the signal again on
    exit, so three servers in one loop would stop one another in turn. The loop gets
    Ctrl-C as a cancellation instead, and the demo shuts everything down in order.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _listen() -> socket.socket:
    """A socket on a free local port, bound now so every URL is known before apps are built."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


@contextlib.asynccontextmanager
async def _serving(app: Any, sock: socket.socket) -> AsyncIterator[None]:
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=5)
    server = _LocalServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await task


async def _stop(stop: asyncio.Event, workers: asyncio.Task[None]) -> None:
    stop.set()
    await workers


class _Demo:
    """Follows one run: takes snapshots, plays the customer who cancels, judges the outcome."""

    def __init__(
        self, plan: _Plan, centra: CentraEmulator, ongoing: OngoingEmulator, state: StateStore
    ) -> None:
        self.plan = plan
        self.centra = centra
        self.ongoing = ongoing
        self.state = state
        self.cancel_sent = False

    async def snapshot(self) -> _Snapshot:
        ledger = {}
        for store in self.plan.stores:
            records = await self.state.list_records(store, kind=RecordKind.SHIPMENT, limit=1000)
            ledger[store] = {record.ref.key: record.state for record in records}
        wms = {order.number: _stage(order) for order in self.ongoing.state.orders.values()}
        return _Snapshot(ledger, wms)

    def cancel_when_in_wms(self, snap: _Snapshot, console: Console) -> None:
        """Cancel the seed's to-cancel shipment in Centra once the WMS has its order.

        The auto-operator holds that order, so the warehouse cannot start picking it
        before the engine passes the cancellation on.
        """
        number = self.plan.cancelled
        in_wms = snap.ledger[self.plan.store_of[number]].get(number) == ShipmentState.SENT
        if self.cancel_sent or not in_wms:
            return
        self.centra.world.cancel_shipment(number)
        self.cancel_sent = True
        console.print(f"{number}: cancelled in Centra while the warehouse holds its order")

    def missing(self, snap: _Snapshot) -> list[str]:
        """One line per shipment not yet at its intended end state; empty when all are."""
        lines = []
        for number, store in sorted(self.plan.store_of.items()):
            state = snap.ledger[store].get(number, "not seen")
            wms = snap.wms.get(number, "no order")
            centra = self._centra_view(number)
            if number == self.plan.declined:
                expected = "parked capture_declined, never completed in Centra"
                done = state == ShipmentState.CAPTURE_DECLINED and centra == "not completed"
            elif number == self.plan.cancelled:
                expected = "cancelled in the ledger and in the WMS"
                done = state == ShipmentState.CANCELLED and wms == "cancelled"
            elif number == self.plan.short:
                expected = "quantities lowered in Centra, then completed with tracking"
                done = (
                    state == ShipmentState.COMPLETED
                    and centra.startswith("completed, tracking")
                    and self._lowered_before_completion(number)
                )
            else:
                expected = "completed in Centra with tracking"
                done = state == ShipmentState.COMPLETED and centra.startswith("completed, tracking")
            if not done:
                lines.append(
                    f"{number} ({store}): expected {expected}; "
                    f"ledger {state}, WMS {wms}, Centra {centra}"
                )
        return lines

    def summary(self, snap: _Snapshot) -> tuple[StoreSummary, ...]:
        captures = Counter(
            write.store_uri
            for write in self.centra.world.written("captures")
            if write.data.get("outcome") == "captured"
        )
        rows = []
        for store in self.plan.stores:
            states = Counter(snap.ledger[store].values())
            stages = Counter(snap.wms[n] for n in self.plan.shipments(store) if n in snap.wms)
            rows.append(
                StoreSummary(
                    store=store,
                    taken=len(snap.ledger[store]),
                    sent=sum(stages.values()),
                    captured=captures[store],
                    shipped=stages["shipped"],
                    completed=states[ShipmentState.COMPLETED],
                    cancelled=states[ShipmentState.CANCELLED],
                    parked=sum(states[parked] for parked in PARKED_STATES),
                )
            )
        return tuple(rows)

    def progress(self, snap: _Snapshot, seconds: float, left: int) -> Group:
        ledger = Table(title="Engine ledger: shipments by state", title_justify="left")
        ledger.add_column("store")
        for _, label in _LEDGER_COLUMNS:
            ledger.add_column(label, justify="right")
        ledger.add_column("parked", justify="right")
        wms = Table(title="Warehouse (Ongoing emulator): orders by stage", title_justify="left")
        wms.add_column("store")
        for stage in _WMS_STAGES:
            wms.add_column(stage, justify="right")
        for store in self.plan.stores:
            states = Counter(snap.ledger[store].values())
            parked = sum(states[state] for state in PARKED_STATES)
            ledger.add_row(
                store, *(str(states[column]) for column, _ in _LEDGER_COLUMNS), str(parked)
            )
            stages = Counter(snap.wms[n] for n in self.plan.shipments(store) if n in snap.wms)
            wms.add_row(store, *(str(stages[stage]) for stage in _WMS_STAGES))
        footer = f"{seconds:.1f} s; {left} of {len(self.plan.store_of)} shipments still on the way"
        return Group(ledger, wms, footer)

    def _centra_view(self, number: str) -> str:
        shipment = self.centra.world.shipment(number)
        if not shipment.shipped:
            return "not completed"
        return f"completed, tracking {shipment.tracking}" if shipment.tracking else "completed"

    def _lowered_before_completion(self, number: str) -> bool:
        """Centra's write log shows a quantity update of the shipment before its completion."""
        kinds = []
        for write in self.centra.world.writes:
            if write.data.get("shipment") != number:
                continue
            products = write.data.get("products") or {}
            if write.kind == "shipment_updates" and any(
                line.get("qty") is not None for line in products.values()
            ):
                kinds.append("lowered")
            elif write.kind == "completions":
                kinds.append("completed")
        return "completed" in kinds and "lowered" in kinds[: kinds.index("completed")]


def _stage(order: Order) -> str:
    if order.status == OrderStatus.CANCELLED:
        return "cancelled"
    if order.shipped_time is not None:
        return "shipped"
    if order.status >= OrderStatus.PICKED:
        return "picked"
    if order.status >= OrderStatus.ALLOCATED:
        return "allocated"
    return "open"


async def run_demo(database: Path, console: Console, *, timeout: float = 120.0) -> DemoResult:
    """Run the demo until every seeded shipment is where the seed intends, or ``timeout``.

    ``database`` must not exist yet: the demo's verdict only means something on an empty
    state store.
    """
    if database.exists():
        raise ConfigError(
            f"--database: {database} already exists; the demo needs a new state store "
            "(choose another path or remove the file)"
        )
    began = time.monotonic()
    centra = CentraEmulator(seed="demo", secret=CENTRA_SECRET)
    plan = _Plan.of(centra)
    ongoing = OngoingEmulator(warehouse=WMS_WAREHOUSE, password=WMS_PASSWORD)
    ongoing.state.auto_operator = AutoOperatorSettings(
        OPERATOR_INTERVAL,
        short_pick_order_numbers=frozenset({plan.short}),
        held_order_numbers=frozenset({plan.cancelled}),
    )
    # One webhook plugin, as the emulator has one sender: it serves the store that holds
    # the cancellation; the other store shows the polling sweep doing the work alone.
    hooked_store = plan.store_of[plan.cancelled]
    webhook_secret = secrets.token_urlsafe(24)
    register_secret(webhook_secret)
    async with contextlib.AsyncExitStack() as stack:
        centra_sock, wms_sock, engine_sock = (stack.enter_context(_listen()) for _ in range(3))
        settings = _settings(
            plan,
            centra,
            centra_url=_url(centra_sock),
            wms_url=f"{_url(wms_sock)}/{WMS_WAREHOUSE}/api/v1/",
            engine_port=engine_sock.getsockname()[1],
            database=database,
            webhook_secret=webhook_secret,
            hooked_store=hooked_store,
        )
        await stack.enter_async_context(_serving(ongoing.app, wms_sock))
        await stack.enter_async_context(_serving(centra.app, centra_sock))
        state = await open_store(settings.engine.database_url)
        stack.push_async_callback(state.close)
        app = create_app(settings, state)
        engine = Engine(
            settings,
            state,
            events=app.state.metrics.flows,
            owner="demo",
            webhooks_since=datetime.now(UTC),
        )
        app.state.metrics.engine = engine
        await stack.enter_async_context(_serving(app, engine_sock))
        await stack.enter_async_context(engine)
        centra.webhooks.configure(
            WebhookSettings(
                url=f"{_url(engine_sock)}/webhooks/centra/{hooked_store}",
                secret=webhook_secret,
                store=hooked_store,
            )
        )
        stack.push_async_callback(centra.aclose)
        stop = asyncio.Event()
        workers = asyncio.create_task(engine.run(stop))
        stack.push_async_callback(_stop, stop, workers)
        _print_start(console, plan, _url(centra_sock), _url(wms_sock), _url(engine_sock))
        demo = _Demo(plan, centra, ongoing, state)
        await _follow(demo, console, workers, deadline=began + timeout)
        await _stop(stop, workers)
        final = await demo.snapshot()
        result = DemoResult(
            stores=demo.summary(final),
            missing=tuple(demo.missing(final)),
            database=database,
            seconds=time.monotonic() - began,
        )
    return result


async def _follow(
    demo: _Demo, console: Console, workers: asyncio.Task[None], *, deadline: float
) -> None:
    """Refresh the live view until nothing is missing or the deadline passes."""
    began = time.monotonic()
    snap = await demo.snapshot()
    with Live(demo.progress(snap, 0.0, len(demo.plan.store_of)), console=console) as live:
        while True:
            if workers.done():
                workers.result()  # the engine stopped on its own: show why
            demo.cancel_when_in_wms(snap, console)
            left = len(demo.missing(snap))
            live.update(demo.progress(snap, time.monotonic() - began, left))
            if left == 0 or time.monotonic() >= deadline:
                return
            await asyncio.sleep(REFRESH_SECONDS)
            snap = await demo.snapshot()


def _print_start(console: Console, plan: _Plan, centra: str, wms: str, engine: str) -> None:
    console.print(
        "[bold]centrasync demo[/]: both emulators and the engine in one process\n"
        f"  Centra emulator  {centra}  stores {', '.join(plan.stores)}; /_emulator/, /docs\n"
        f"  Ongoing WMS      {wms}/{WMS_WAREHOUSE}/api/v1/  control API /_emulator/\n"
        f"  Engine           {engine}  /metrics; Centra webhooks for "
        f"{plan.store_of[plan.cancelled]}\n"
        f"Unhappy paths in the seed: {plan.declined} capture declined, {plan.cancelled} "
        f"cancelled in Centra after it reached the WMS, {plan.short} short-picked",
        highlight=False,
        soft_wrap=True,
    )


def print_result(console: Console, result: DemoResult) -> None:
    """The summary table per store, the verdict and where the state store is."""
    console.line()
    table = Table(title="Summary per store", title_justify="left")
    for column in ("store", "taken", "sent", "captured", "shipped", "completed"):
        table.add_column(column, justify="left" if column == "store" else "right")
    table.add_column("cancelled", justify="right")
    table.add_column("parked", justify="right")
    for row in result.stores:
        table.add_row(
            row.store,
            *(
                str(value)
                for value in (
                    row.taken,
                    row.sent,
                    row.captured,
                    row.shipped,
                    row.completed,
                    row.cancelled,
                    row.parked,
                )
            ),
        )
    console.print(table)
    console.print("shipped = what the warehouse shipped; parked = waiting for a person")
    if result.ok:
        console.print(
            f"[green]OK[/]: every seeded shipment reached its intended end state "
            f"in {result.seconds:.1f} s"
        )
    else:
        console.print(
            f"[red]FAILED[/]: {len(result.missing)} shipment(s) did not reach their end "
            f"state within {result.seconds:.1f} s:"
        )
        for line in result.missing:
            console.print(f"  {escape(line)}", highlight=False, soft_wrap=True)
    url = f"sqlite+aiosqlite:///{result.database}"
    console.print(
        f"State database: {escape(str(result.database))}\n"
        f"Look inside:    centrasync records --database {escape(url)}\n"
        f"Parked records: centrasync dead --database {escape(url)}",
        highlight=False,
        soft_wrap=True,
    )
