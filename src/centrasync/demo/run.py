"""Wiring of one demo run: servers on free ports, the settings, the engine, the loop.

Like ``cli``, this builds concrete classes. Each web app is a real uvicorn server on a
free local port in this process's one event loop, so the engine speaks HTTP exactly as it
would in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from rich.console import Console, Group
from rich.live import Live

from centrasync.analytics.report import render_report
from centrasync.config import Settings, parse_settings
from centrasync.console import create_console, hash_password
from centrasync.emulators.centra import CentraEmulator, WebhookPluginSettings
from centrasync.emulators.centra.graphql import TokenSpec
from centrasync.emulators.centra.graphql.ratelimits import PLANS
from centrasync.emulators.centra.graphql.schema import permissions
from centrasync.emulators.files import FilesWmsEmulator
from centrasync.emulators.ongoing import OngoingEmulator
from centrasync.emulators.ongoing.floor import AutoOperatorSettings
from centrasync.errors import ConfigError
from centrasync.logs import register_secret
from centrasync.runtime import Engine, open_state
from centrasync.server import create_app
from centrasync.store import StateStore

from .judge import FlowSummary, Judge, Snapshot, StoreSummary
from .plan import Plan
from .story import Story
from .view import print_outcome, progress

__all__ = ["AnalyticsOutcome", "Dashboard", "DemoResult", "print_result", "run_demo"]

# The demo seed's Order API secret and the Ongoing emulator's password: public demo values.
CENTRA_SECRET = "s3cret"
# The Centra emulator's start-up Integration API token (every permission, every store).
GRAPHQL_TOKEN = "demo-graphql-token"
WMS_PASSWORD = "secret"
WMS_WAREHOUSE = "demo"
# 50 orders take three warehouse steps each: at this pace the floor is done in ~8 s.
OPERATOR_INTERVAL = 0.05
REFRESH_SECONDS = 0.5
# Reconciliation re-reads the catalogue's stock (4,800 rows a store): every 30 s leaves
# the flows the CPU; the demo's last changes come in by the closing pass.
RECONCILE_SECONDS = 30.0
DEMO_PLAN = "enterprise"


DASHBOARD_OPERATOR = "demo"


@dataclass
class Dashboard:
    """``centrasync demo --dashboard``: keep the engine and the console running after the
    demo's verdict, until ``stop`` is set (Ctrl-C cancels the run instead).

    The console's login is made for this run only: ``password`` is random, and its hash
    lives in the run's settings, so it stops working when the demo ends. ``ready`` is set
    once the verdict is in and the console serves at ``url``; ``result`` holds the verdict.
    """

    stop: asyncio.Event = field(default_factory=asyncio.Event)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    url: str = ""
    result: DemoResult | None = None

    @property
    def operator(self) -> str:
        return DASHBOARD_OPERATOR


@dataclass(frozen=True)
class DemoResult:
    """The outcome; ``missing`` names each shipment or flow outcome not at its end state."""

    stores: tuple[StoreSummary, ...]
    flows: tuple[FlowSummary, ...]
    missing: tuple[str, ...]
    database: Path
    seconds: float
    analytics: AnalyticsOutcome | None = None

    @property
    def ok(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class AnalyticsOutcome:
    """Where the demo's analytics went: the DuckDB file, the report, rows per table, and
    what the closing reconciliation found that no webhook had brought (stock and
    in-deliveries have none, so their last changes are among those)."""

    database: Path
    report: Path
    tables: dict[str, int]
    missed: int


def _store_token(centra: CentraEmulator, uri: str) -> str:
    """An Integration API token that sees one store, as Centra's token form restricts one
    to chosen markets and stores: every permission, its own integration (events queue)."""
    made = centra.integration_api.create_token(
        TokenSpec(
            name=f"demo {uri}",
            permissions=sorted(permissions()),
            integration_name=f"centrasync-demo-{uri}",
            store=uri,
        )
    )
    return made.token


def _settings(
    plan: Plan,
    centra: CentraEmulator,
    *,
    centra_url: str,
    wms_url: str,
    engine_port: int,
    database: Path,
    webhook_secrets: dict[str, str],
    graphql_tokens: dict[str, str],
    operators: dict[str, str] | None = None,
    files_wms: dict[str, Any] | None = None,
    analytics: Path | None = None,
) -> Settings:
    """Both seeded Centra stores, each feeding the one warehouse: Ongoing, or with
    ``files_wms`` (a ``wms`` table) the file-exchange warehouse.

    Each store receives webhooks from its own plugin, signed with its own secret, and
    reads the Integration API with its own token, restricted to its store (``graphql_tokens``):
    an environment's token sees every store's orders, and each store's analytics dataset
    would hold the other's too. Both
    stores share the one goods owner, so the main store alone keeps its article registry
    and its stock; the other would only write the same articles twice and compare the
    warehouse with a Centra warehouse whose figures it never held.

    With ``analytics`` (a DuckDB file), both stores' analytics load into it: orders,
    shipments and returns through their webhooks, the rest by reconciliation (stock and
    in-deliveries have no webhook).
    """
    stores: dict[str, Any] = {}
    env = {
        "DEMO_CENTRA_SECRET": CENTRA_SECRET,
        "DEMO_WMS_PASSWORD": WMS_PASSWORD,
    }
    for index, uri in enumerate(plan.stores):
        main = uri == plan.main
        # With on_import, Centra would refuse to lower the short-picked shipment's
        # quantities (a captured shipment cannot be updated), so the store holding the
        # short pick captures on completion; the other shows capture on import.
        policy = "on_complete" if uri == plan.store_of[plan.short] else "on_import"
        centra_table = {
            "host": centra_url,
            "uri": uri,
            "timezone": centra.world.stores[uri].timezone,
            "secret_env": "DEMO_CENTRA_SECRET",
            "webhook_secret_env": f"DEMO_WEBHOOK_SECRET_{index}",
        }
        env[f"DEMO_WEBHOOK_SECRET_{index}"] = webhook_secrets[uri]
        env[f"DEMO_INTEGRATION_API_TOKEN_{index}"] = graphql_tokens[uri]
        stores[uri] = {
            "centra": centra_table,
            "integration_api": {
                "url": f"{centra_url}/graphql",
                "token_env": f"DEMO_INTEGRATION_API_TOKEN_{index}",
            },
            "wms": (
                dict(files_wms)
                if files_wms is not None
                else {
                    "base_url": wms_url,
                    "user": "centrasync",
                    "password_env": "DEMO_WMS_PASSWORD",
                    "goods_owner_id": 1,
                }
            ),
            **(
                {
                    "analytics": {
                        "destination": str(analytics),
                        "reconcile_interval": RECONCILE_SECONDS,
                    }
                }
                if analytics is not None
                else {}
            ),
            "capture_policy": policy,
            "sync_stock": main,
            # Picked goods stay in Centra's physical stock until the shipment completes,
            # so counting them keeps the two sides level while the floor is busy.
            "picked_not_collected_as_in_stock": main,
            # The emulated Centra sells nothing behind the engine's back, so a full stock
            # sync need not wait for a quiet floor.
            "stock_quiet_window": 0,
            "return_stock": main,
            "include_return_comment": main,
            "schedule": {
                "shipments": 0.5,
                "confirmations": 0.5,
                "cancellations": 1.0,
                "sweep": 5.0,
                # The first pass imports the whole catalogue and takes the longest; a
                # second would find nothing changed.
                "articles": 30.0 if main else 0,
                "in_deliveries": 1.0,
                "returns": 1.0,
                "stock": 2.0 if main else 0,
                "stock_full": 20.0 if main else 0,
            },
        }
    engine = {
        "database_url": f"sqlite+aiosqlite:///{database}",
        "listen_port": engine_port,
        # The emulator has no rate limit, and the demo polls every half second: the
        # default budget, sized for real Centra's shared bucket, would make it wait on itself.
        "centra_rate": 50.0,
    }
    document: dict[str, Any] = {"engine": engine, "stores": stores}
    if operators:
        document["console"] = {"users": operators}
    return parse_settings(document, env)


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
    """A socket on a free local port, bound now so every URL is known before apps are built.

    It names TCP as its protocol: asyncio turns Nagle's algorithm off only on sockets that
    say so, and with it on every response waits ~40 ms for the client's delayed ACK.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
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


async def run_demo(
    database: Path,
    console: Console,
    *,
    timeout: float = 120.0,
    dashboard: Dashboard | None = None,
    wms: str = "ongoing",
    centra: CentraEmulator | None = None,
) -> DemoResult:
    """Run the demo until every shipment and flow is where the plan intends, or ``timeout``.

    ``database`` must not exist yet: the demo's verdict only means something on an empty
    state store. With ``dashboard``, the engine and the operator's console go on after the
    verdict (printed then) until ``dashboard.stop`` is set. ``wms="files"`` puts the
    file-exchange WMS emulator (SFTP, in a folder beside the database) where the Ongoing
    emulator would be. Analytics loads both stores into a DuckDB file beside the database
    while the flows run; the demo ends with one reconciliation and writes the report
    there. ``centra`` is the seeded Centra emulator to run against (a new one by default),
    so a caller can read its world afterwards.
    """
    if database.exists():
        raise ConfigError(
            f"--database: {database} already exists; the demo needs a new state store "
            "(choose another path or remove the file)"
        )
    began = time.monotonic()
    if centra is None:
        centra = CentraEmulator(seed="demo", secret=CENTRA_SECRET, graphql_token=GRAPHQL_TOKEN)
    # Both stores' analytics back-fill the catalogue's stock at the start, beside the
    # flows' own Integration API reads: on the default plan's query complexity per 10 s
    # that alone would take most of a minute.
    centra.integration_api.limiter.configure(PLANS[DEMO_PLAN])
    analytics = database.with_name(f"{database.stem}-analytics.duckdb")
    plan = Plan.of(centra)
    ongoing: OngoingEmulator | FilesWmsEmulator
    if wms == "files":
        ongoing = FilesWmsEmulator(database.parent / "files-wms", password=WMS_PASSWORD)
    else:
        ongoing = OngoingEmulator(warehouse=WMS_WAREHOUSE, password=WMS_PASSWORD)
    ongoing.state.auto_operator = AutoOperatorSettings(
        OPERATOR_INTERVAL,
        short_pick_order_numbers=frozenset({plan.short}),
        held_order_numbers=frozenset({plan.cancelled}),
        held_purchase_order_numbers=frozenset({plan.in_delivery.in_order}),
    )
    # One webhook plugin per store, each with its own secret, as Centra has them.
    webhook_secrets = {uri: secrets.token_urlsafe(24) for uri in plan.stores}
    graphql_tokens = {uri: _store_token(centra, uri) for uri in plan.stores}
    for secret in webhook_secrets.values():
        register_secret(secret)
    async with contextlib.AsyncExitStack() as stack:
        centra_sock, wms_sock, engine_sock = (stack.enter_context(_listen()) for _ in range(3))
        files_wms = None
        if isinstance(ongoing, FilesWmsEmulator):
            await stack.enter_async_context(ongoing.running())
            known_hosts = database.parent / "files-wms.known_hosts"
            known_hosts.write_text(ongoing.known_hosts_line(), encoding="utf-8")
            files_wms = {
                "kind": "files",
                "host": "127.0.0.1",
                "port": ongoing.port,
                "user": ongoing.user,
                "password_env": "DEMO_WMS_PASSWORD",
                "known_hosts": str(known_hosts),
                "poll_interval": 0.05,
            }
        settings = _settings(
            plan,
            centra,
            centra_url=_url(centra_sock),
            wms_url=f"{_url(wms_sock)}/{WMS_WAREHOUSE}/api/v1/",
            engine_port=engine_sock.getsockname()[1],
            database=database,
            webhook_secrets=webhook_secrets,
            graphql_tokens=graphql_tokens,
            operators=(
                {DASHBOARD_OPERATOR: hash_password(dashboard.password)} if dashboard else None
            ),
            files_wms=files_wms,
            analytics=analytics,
        )
        if dashboard is not None:
            register_secret(dashboard.password)
        await stack.enter_async_context(_serving(ongoing.app, wms_sock))
        await stack.enter_async_context(_serving(centra.app, centra_sock))
        control = await stack.enter_async_context(httpx.AsyncClient(base_url=_url(wms_sock)))
        story = Story(plan, centra, ongoing, control, console)
        wms_line = f"{_url(wms_sock)}/{WMS_WAREHOUSE}/api/v1/"
        if isinstance(ongoing, FilesWmsEmulator):
            wms_line = f"sftp://{ongoing.user}@127.0.0.1:{ongoing.port} (files in {ongoing.root})"
        _print_start(console, plan, _url(centra_sock), wms_line, _url(wms_sock), _url(engine_sock))
        await story.stock_the_shelves()
        state = await open_state(settings.engine.database_url, settings.engine)
        stack.push_async_callback(state.close)
        app = create_app(settings, state)
        engine = Engine(
            settings,
            state,
            events=app.state.metrics.flows,
            owner="demo",
            webhooks_since=datetime.now(UTC),
            analytics_base=database.parent,
        )
        app.state.metrics.engine = engine
        if dashboard is not None:
            app.mount("/", create_console(settings, state, metrics=app.state.metrics))
        await stack.enter_async_context(_serving(app, engine_sock))
        await stack.enter_async_context(engine)
        for uri, secret in webhook_secrets.items():
            centra.webhooks.add_plugin(
                uri,
                WebhookPluginSettings(
                    url=f"{_url(engine_sock)}/webhooks/centra/{uri}",
                    secret=secret,
                    triggers=["order", "shipment", "return"],
                ),
            )
        stack.push_async_callback(centra.aclose)
        stop = asyncio.Event()
        workers = asyncio.create_task(engine.run(stop))
        stack.push_async_callback(_stop, stop, workers)
        judge = Judge(plan, settings, centra, ongoing)
        await _follow(judge, story, state, console, workers, deadline=began + timeout)
        if dashboard is None:
            await _stop(stop, workers)
        final = await Snapshot.take(state, plan.stores, ongoing)
        result = DemoResult(
            stores=judge.summary(final),
            flows=judge.flows(final),
            missing=(*judge.shipments_missing(final), *judge.flows_missing(final)),
            database=database,
            seconds=time.monotonic() - began,
            analytics=await _close_analytics(engine, analytics),
        )
        if dashboard is not None:
            await _keep_serving(dashboard, result, console, _url(engine_sock), plan.declined)
            await _stop(stop, workers)
    return result


async def _close_analytics(engine: Engine, database: Path) -> AnalyticsOutcome:
    """One last reconciliation per store (stock and in-deliveries have no webhook), then
    the report beside the DuckDB file."""
    missed = 0
    tables: dict[str, int] = {}
    for running in engine.analytics.values():
        # The loop has stopped and given its lease back: these passes write unfenced.
        live = replace(running, state=engine.state)
        while await live.webhook_pass():
            pass  # what the last webhooks named, as the loop would have
        done = await live.reconciliation()
        missed += done.total_missed
        for table, rows in done.tables.items():
            tables[table] = tables.get(table, 0) + rows
    report = database.with_suffix(".html")
    await asyncio.to_thread(render_report, database, list(engine.analytics), report)
    return AnalyticsOutcome(database, report, tables, missed)


async def _keep_serving(
    dashboard: Dashboard, result: DemoResult, console: Console, url: str, declined: str
) -> None:
    """Print the verdict and the console's login, then serve until told to stop."""
    print_result(console, result)
    dashboard.url = url
    dashboard.result = result
    console.print(
        f"\n[bold]Operator's console[/]: {url}/\n"
        f"  log in as [bold]{dashboard.operator}[/] with password [bold]{dashboard.password}[/]"
        " (made for this run; it ends with it)\n"
        f"  The declined capture ({declined}) is under the overview's alerts. "
        "The engine keeps running; Ctrl-C stops both.",
        highlight=False,
        soft_wrap=True,
    )
    dashboard.ready.set()
    await dashboard.stop.wait()


async def _follow(
    judge: Judge,
    story: Story,
    state: StateStore,
    console: Console,
    workers: asyncio.Task[None],
    *,
    deadline: float,
) -> None:
    """Play the story and refresh the live view until nothing is missing or the deadline."""
    plan = judge.plan
    began = time.monotonic()

    def view(snap: Snapshot) -> Group:
        return progress(
            plan,
            snap,
            judge.flows(snap),
            seconds=time.monotonic() - began,
            shipments_left=len(judge.shipments_missing(snap)),
            flows_left=len(judge.flows_missing(snap)),
        )

    snap = await Snapshot.take(state, plan.stores, judge.ongoing)
    with Live(view(snap), console=console) as live:
        while True:
            if workers.done():
                workers.result()  # the engine stopped on its own: show why
            await story.act(snap)
            live.update(view(snap))
            done = not judge.shipments_missing(snap) and not judge.flows_missing(snap)
            if done or time.monotonic() >= deadline:
                return
            await asyncio.sleep(REFRESH_SECONDS)
            snap = await Snapshot.take(state, plan.stores, judge.ongoing)


def _print_start(
    console: Console, plan: Plan, centra: str, wms: str, control: str, engine: str
) -> None:
    returns = ", ".join(f"{r.shipment} ({r.store})" for r in plan.returns)
    others = ", ".join(store for store in plan.stores if store != plan.main)
    console.print(
        "[bold]centrasync demo[/]: both emulators and the engine in one process\n"
        f"  Centra emulator  {centra}  stores {', '.join(plan.stores)}; /_emulator/, /docs\n"
        f"  WMS              {wms}  control API {control}/_emulator/\n"
        f"  Engine           {engine}  /metrics; Centra webhooks for "
        f"{', '.join(plan.stores)}, each its own plugin and secret\n"
        f"Unhappy paths in the seed: {plan.declined} capture declined, {plan.cancelled} "
        f"cancelled in Centra after it reached the WMS, {plan.short} short-picked\n"
        f"In {plan.main}: {len(plan.articles)} of {plan.rows} catalogue rows become WMS "
        f"articles, supplier delivery {plan.in_delivery.delivery} is received in two parts, "
        f"and {len(plan.stock_changes)} stock-takes reach Centra's stock; {others} shares "
        f"the warehouse's goods owner and leaves articles and stock to {plan.main}\n"
        f"Returns registered in the WMS once shipped: {returns}",
        highlight=False,
        soft_wrap=True,
    )


def print_result(console: Console, result: DemoResult, *, command: str = "centrasync") -> None:
    """The summary tables per store, the verdict, where the state store is, what next."""
    print_outcome(
        console,
        stores=result.stores,
        flows=result.flows,
        missing=result.missing,
        seconds=result.seconds,
        database=result.database,
        command=command,
    )
    if result.analytics is not None:
        done = result.analytics
        rows = ", ".join(
            f"{table} {count:,}"
            for table, count in sorted(done.tables.items())
            if table in ("orders", "returns", "stock", "in_deliveries", "shipments")
        )
        console.print(
            f"Analytics: both stores in DuckDB at {done.database} ({rows}); the closing "
            f"reconciliation found {done.missed} row(s) no webhook had brought\n"
            f"Report: {done.report} (one self-contained HTML file; open it in a browser)",
            highlight=False,
            soft_wrap=True,
        )
