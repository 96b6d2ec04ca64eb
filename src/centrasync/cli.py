"""The ``centrasync`` command: thin wiring of concrete classes, nothing else.

With ``server/``, this is the only place that builds concrete clients and emulators.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

import typer
from rich.console import Console

app = typer.Typer(help="Keeps Centra and warehouse systems in step.", no_args_is_help=True)
emulate_app = typer.Typer(
    help="Run a faithful local emulator of an external system.", no_args_is_help=True
)
app.add_typer(emulate_app, name="emulate")
preview_app = typer.Typer(
    help="Show what the engine would send to the warehouse, without sending it.",
    no_args_is_help=True,
)
app.add_typer(preview_app, name="preview")
console = Console(stderr=True)

if TYPE_CHECKING:
    from centrasync.config import Settings
    from centrasync.demo import DemoResult
    from centrasync.errors import CentrasyncError
    from centrasync.runtime import Engine
    from centrasync.store import StateStore


@emulate_app.command("centra")
def emulate_centra(
    port: int = typer.Option(7801, help="TCP port to listen on."),
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    uri: str = typer.Option("wms", help="The Order API plugin URI: the API lives at /api/<uri>/."),
    secret: str = typer.Option(
        ...,
        help="The Order API secret clients send as API-Authorization.",
        envvar="CENTRA_EMULATOR_SECRET",
    ),
    seed: str | None = typer.Option(None, help="Load a data set at start-up: 'demo'."),
    timezone: str = typer.Option("Europe/Stockholm", help="The merchant's IANA time zone."),
    graphql_token: str | None = typer.Option(
        None,
        help="An Integration API token with every permission (more: POST /_emulator/tokens).",
        envvar="CENTRA_EMULATOR_GRAPHQL_TOKEN",
    ),
) -> None:
    """Serve the Centra emulator (Order API, Integration API at /graphql, webhook sender,
    control API under /_emulator/)."""
    import uvicorn

    from centrasync.emulators.centra import CentraEmulator

    emulator = CentraEmulator(
        uri=uri, secret=secret, seed=seed, timezone=timezone, graphql_token=graphql_token
    )
    console.print(
        f"[bold]Centra emulator[/] on http://{host}:{port}\n"
        f"  Order API:       http://{host}:{port}/api/{uri}/  (API-Authorization: <secret>)\n"
        f"  Integration API: http://{host}:{port}/graphql  (Authorization: Bearer <token>)\n"
        f"  Control API:     http://{host}:{port}/_emulator/  (OpenAPI at /docs)"
    )
    uvicorn.run(emulator.app, host=host, port=port, log_level="warning")


@emulate_app.command("ongoing")
def emulate_ongoing(
    port: int = typer.Option(7802, help="TCP port to listen on."),
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    warehouse: str = typer.Option(
        "demo", help="The warehouse name in the URL: /{warehouse}/api/v1/."
    ),
    user: str = typer.Option("centrasync", help="HTTP Basic user name."),
    password: str = typer.Option(
        "secret", help="HTTP Basic password.", envvar="ONGOING_EMULATOR_PASSWORD"
    ),
    goods_owner_id: int = typer.Option(1, help="The goods owner the emulator serves."),
    auto_operator: float | None = typer.Option(
        None, help="Work through open orders and in-orders, one step every N seconds."
    ),
) -> None:
    """Serve the Ongoing WMS emulator (REST API, warehouse-operator control API)."""
    import uvicorn

    from centrasync.emulators.ongoing import OngoingEmulator

    emulator = OngoingEmulator(
        warehouse=warehouse,
        user=user,
        password=password,
        goods_owner_id=goods_owner_id,
        auto_operator_interval=auto_operator,
    )
    console.print(
        f"[bold]Ongoing WMS emulator[/] on http://{host}:{port}\n"
        f"  REST API:    http://{host}:{port}/{warehouse}/api/v1/"
        f"  (HTTP Basic, goodsOwnerId={goods_owner_id})\n"
        f"  Control API: http://{host}:{port}/_emulator/  (OpenAPI at /docs)"
    )
    uvicorn.run(emulator.app, host=host, port=port, log_level="warning")


@emulate_app.command("files-wms")
def emulate_files_wms(
    port: int = typer.Option(7803, help="TCP port of the control API (HTTP)."),
    sftp_port: int = typer.Option(7822, help="TCP port of the SFTP server."),
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    root: Path | None = typer.Option(
        None, help="The folder the SFTP account sees. Default: a new temporary directory."
    ),
    user: str = typer.Option("centrasync", help="SFTP user name."),
    password: str = typer.Option(
        "secret", help="SFTP password.", envvar="FILES_WMS_EMULATOR_PASSWORD"
    ),
    authorized_key: list[str] = typer.Option(
        [], help="An OpenSSH public key line allowed to log in (repeatable)."
    ),
    file_format: str = typer.Option("csv", "--format", help="csv or xml."),
    delimiter: str = typer.Option(";", help="CSV delimiter."),
    encoding: str = typer.Option("utf-8", help="File encoding."),
    decimal_separator: str = typer.Option(".", help="'.' or ','."),
    stock_reports: str = typer.Option("delta", help="delta or full."),
    auto_operator: float | None = typer.Option(
        None, help="Work through open orders and in-orders, one step every N seconds."
    ),
) -> None:
    """Serve the file-exchange WMS emulator: SFTP over a folder, plus the
    warehouse-operator control API under /_emulator/ (the Ongoing emulator's routes,
    plus /_emulator/files for listings and file faults)."""
    import tempfile

    import uvicorn

    from centrasync.emulators.files import FilesWmsEmulator
    from centrasync.wms.files import Codec, Format

    folder = root or Path(tempfile.mkdtemp(prefix="files-wms-"))
    folder.mkdir(parents=True, exist_ok=True)
    codec = Codec(Format(file_format), delimiter, encoding, decimal_separator)
    emulator = FilesWmsEmulator(
        folder,
        user=user,
        password=password,
        authorized_keys=authorized_key or None,
        codec=codec,
        stock_reports=stock_reports,
        auto_operator_interval=auto_operator,
    )

    async def serve() -> None:
        async with emulator.running(host, sftp_port):
            console.print(
                f"[bold]File-exchange WMS emulator[/]\n"
                f"  SFTP:        sftp://{user}@{host}:{emulator.port}  (root {folder})\n"
                f"  known_hosts: {emulator.known_hosts_line(host).strip()}\n"
                f"  Control API: http://{host}:{port}/_emulator/  (OpenAPI at /docs)",
                soft_wrap=True,
            )
            config = uvicorn.Config(emulator.app, host=host, port=port, log_level="warning")
            await uvicorn.Server(config).serve()

    asyncio.run(serve())


@preview_app.command("shipment")
def preview_shipment(
    store: str = typer.Argument(..., help="The store name from the configuration file."),
    shipment_number: str = typer.Argument(..., help="Centra's shipment number, e.g. 1001-1."),
    config: Path = typer.Option(Path("centrasync.toml"), help="The configuration file."),
) -> None:
    """Print the warehouse order one Centra shipment maps to, as JSON.

    ``passes_filters`` says whether the store's ``shipment_filters`` would let it through.
    """
    from centrasync.config import load_settings
    from centrasync.errors import CentrasyncError
    from centrasync.ops.preview import preview_shipment

    try:
        settings = load_settings(config).store(store)
        view = asyncio.run(preview_shipment(settings, shipment_number))
    except CentrasyncError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    Console(soft_wrap=True).print_json(json.dumps(view))


class Role(StrEnum):
    ALL = "all"
    WEB = "web"
    WORKER = "worker"


async def _work_until_signalled(engine: Engine, stop: asyncio.Event) -> None:
    """The worker role: run the flows until SIGINT or SIGTERM."""
    import signal

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await engine.run(stop)


@app.command("serve")
def serve(
    config: Path = typer.Option(Path("centrasync.toml"), help="The configuration file."),
    worker_id: str = typer.Option(
        "",
        help="This process's name in the store leases; default: host name and config path, "
        "so a restarted process takes its leases back at once.",
    ),
    role: Role = typer.Option(
        Role.ALL,
        help="all: web and workers in one process; web: only the webhook receivers, /healthz, "
        "/metrics and the operator's console; worker: only the flows. Web and worker "
        "processes share work through the state store (use PostgreSQL for several hosts).",
    ),
) -> None:
    """Run the engine: webhook receivers, /healthz, /metrics, the console, the workers."""
    import socket
    from datetime import UTC, datetime

    import uvicorn

    from centrasync.errors import CentrasyncError
    from centrasync.runtime import Engine, open_state
    from centrasync.server import create_app

    try:
        settings = _load_checked_settings(config)
    except CentrasyncError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    engine_settings = settings.engine
    owner = worker_id or f"{socket.gethostname()}:{config.resolve()}"

    async def run() -> None:
        # The store's connections belong to the loop that serves requests, so all share one.
        state = await open_state(engine_settings.database_url, engine_settings)
        app_ = create_app(settings, state)
        if role is not Role.WORKER and settings.console.enabled:
            from centrasync.console import create_console

            app_.mount("/", create_console(settings, state, metrics=app_.state.metrics))
        server = uvicorn.Server(
            uvicorn.Config(
                app_,
                host=engine_settings.listen_host,
                port=engine_settings.listen_port,
                log_level="warning",
            )
        )
        try:
            if role is Role.WEB:
                # Receivers, health and metrics only: no clients, flows or leases.
                await server.serve()
                return
            engine = Engine(
                settings,
                state,
                events=app_.state.metrics.flows,
                owner=owner,
                webhooks_since=datetime.now(UTC),
                analytics_base=config.resolve().parent,
            )
            app_.state.metrics.engine = engine
            stop = asyncio.Event()
            async with engine:
                if role is Role.WORKER:
                    await _work_until_signalled(engine, stop)
                    return
                workers = asyncio.create_task(engine.run(stop))
                try:
                    await server.serve()
                finally:
                    stop.set()
                    await workers
        finally:
            await state.close()

    stores = ", ".join(s.name for s in settings.stores)
    if role is Role.WORKER:
        console.print(f"[bold]centrasync[/] worker {owner} for {stores}")
    else:
        url = f"http://{engine_settings.listen_host}:{engine_settings.listen_port}"
        console.print(
            f"[bold]centrasync[/] {role.value} on {url}"
            f"  webhooks: /webhooks/centra/<store> for {stores}"
        )
        if settings.console.enabled:
            console.print(f"  console: {url}/ (log in as an operator of [console.users])")
        else:
            console.print(
                "  console: off (no operators: add one with `centrasync user add NAME`, "
                "or set CENTRASYNC_CONSOLE_TOKEN)"
            )
    try:
        asyncio.run(run())
    except CentrasyncError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


user_app = typer.Typer(help="The console's operators.", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("add")
def user_add(
    name: str = typer.Argument(..., help="The operator's login name."),
    config: Path = typer.Option(Path("centrasync.toml"), help="The configuration file."),
    password: str = typer.Option(
        ...,
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        envvar="CENTRASYNC_NEW_PASSWORD",
        help="Asked for when not given (never pass it on a shared machine's command line).",
    ),
) -> None:
    """Add an operator of the console: an argon2id hash of the password goes into
    [console.users] of the configuration file; the password itself is kept nowhere."""
    from centrasync.console.users import add_user
    from centrasync.errors import CentrasyncError

    try:
        add_user(config, name, password)
    except CentrasyncError as exc:
        _fail(exc)
    Console().print(f"operator {name!r} added to {config}; serve reads it at start-up")


# -- logging and operations: check, records, dead, retry -----------------------------------

T = TypeVar("T")
_CONFIG_OPTION = typer.Option(Path("centrasync.toml"), "--config", help="The configuration file.")
_DATABASE_OPTION = typer.Option(
    None,
    "--database",
    help="The state store to use instead of the configuration file's database_url: a URL, "
    "or the path of a SQLite file (e.g. the one centrasync demo prints).",
)


def _show_version(value: bool) -> None:
    if value:
        from centrasync import __version__

        typer.echo(f"centrasync {__version__}")
        raise typer.Exit()


@app.callback()
def _logging_options(
    version: bool = typer.Option(
        False,
        "--version",
        is_eager=True,
        callback=_show_version,
        help="Print the version and exit.",
    ),
    log_level: str = typer.Option(
        "info", envvar="CENTRASYNC_LOG_LEVEL", help="debug, info, warning, error or critical."
    ),
    json_logs: bool | None = typer.Option(
        None,
        "--json-logs/--console-logs",
        help="Log format; default: JSON lines unless stderr is a terminal.",
        show_default=False,
    ),
) -> None:
    from centrasync.logs import configure_logging

    try:
        configure_logging(json_output=json_logs, level=log_level)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--log-level") from None


def _load_checked_settings(config: Path) -> Settings:
    """Load and fully validate the settings, and keep their secrets out of every log line."""
    from centrasync.config import load_settings
    from centrasync.logs import register_secret
    from centrasync.ops import validate_store_rules

    settings = load_settings(config)
    for store in settings.stores:
        for secret in (
            store.centra_secret,
            store.webhook_secret,
            store.integration_api_token,
            store.wms_password,
        ):
            if secret is not None:
                register_secret(secret.get_secret_value())
    validate_store_rules(settings)
    return settings


def _fail(exc: CentrasyncError) -> NoReturn:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(1) from None


def _with_store(
    config: Path, database: str | None, work: Callable[[StateStore], Awaitable[T]]
) -> T:
    """Run ``work`` on the state store named by ``--database`` or the configuration file."""
    from centrasync.errors import CentrasyncError
    from centrasync.ops import database_url_from_config, open_existing_store, store_url

    async def run() -> T:
        url = store_url(database) if database else database_url_from_config(config)
        state = await open_existing_store(url)
        try:
            return await work(state)
        finally:
            await state.close()

    try:
        return asyncio.run(run())
    except CentrasyncError as exc:
        _fail(exc)


def _self_command() -> str:
    """This centrasync as the user can type it again: ``./dev demo`` runs .venv/bin/centrasync,
    which is not on the PATH, so the next step it tells must name it."""
    import shutil
    import sys

    argv0 = Path(sys.argv[0])
    if argv0.name == "__main__.py":
        return f"{sys.executable} -m centrasync"
    if argv0.name != "centrasync":
        return "centrasync"
    found = shutil.which("centrasync")
    if found is not None and Path(found).resolve() == argv0.resolve():
        return "centrasync"
    return str(argv0)


def _prompt(label: str, default: str | None, secret: bool) -> str:
    answer: str = typer.prompt(label, default=default, hide_input=secret, show_default=not secret)
    return answer


@app.command("init")
def init(
    config: Path = _CONFIG_OPTION,
    store: str | None = typer.Option(
        None, help="The store's name (lower case, digits, - and _): its table [stores.<name>]."
    ),
    centra_url: str | None = typer.Option(
        None,
        help="The Centra Base URL, or the Order API plugin's whole URL "
        "(https://shop.centra.com/api/wms).",
    ),
    centra_uri: str | None = typer.Option(
        None, help="The Order API plugin's URI, when --centra-url is the bare host."
    ),
    timezone: str | None = typer.Option(
        None, help="The merchant's timezone as set in Centra (IANA name, e.g. Europe/Stockholm)."
    ),
    centra_secret: str | None = typer.Option(
        None,
        envvar="CENTRASYNC_INIT_CENTRA_SECRET",
        help="The Order API plugin's Secret API key (or CENTRASYNC_INIT_CENTRA_SECRET).",
        show_default=False,
    ),
    webhook_secret: str | None = typer.Option(
        None,
        envvar="CENTRASYNC_INIT_WEBHOOK_SECRET",
        help="The Centra Webhook plugin's endpoint secret; optional (polling only without).",
        show_default=False,
    ),
    integration_api_url: str | None = typer.Option(
        None,
        help="Centra's Integration API endpoint (https://shop.centra.com/graphql); optional.",
    ),
    integration_api_token: str | None = typer.Option(
        None,
        envvar="CENTRASYNC_INIT_INTEGRATION_API_TOKEN",
        help="The Integration API token (or CENTRASYNC_INIT_INTEGRATION_API_TOKEN).",
        show_default=False,
    ),
    wms_kind: str | None = typer.Option(
        None, help="The warehouse: ongoing (REST API, the default) or files (SFTP)."
    ),
    ongoing_url: str | None = typer.Option(
        None, help="Ongoing's REST API URL (an emulator or test system); or --ongoing-warehouse."
    ),
    ongoing_warehouse: str | None = typer.Option(
        None, help="The warehouse name in Ongoing's hosted API address."
    ),
    wms_user: str | None = typer.Option(None, help="The Ongoing API user, or the SFTP user."),
    wms_password: str | None = typer.Option(
        None,
        envvar="CENTRASYNC_INIT_WMS_PASSWORD",
        help="The Ongoing API user's or SFTP user's password (or CENTRASYNC_INIT_WMS_PASSWORD).",
        show_default=False,
    ),
    goods_owner_id: int | None = typer.Option(None, help="The merchant's goods owner id."),
    sftp_host: str | None = typer.Option(None, help="Files: the SFTP server."),
    sftp_port: int | None = typer.Option(None, help="Files: the SFTP port (22)."),
    sftp_key: str | None = typer.Option(
        None, help="Files: a private key file to log in with, instead of --wms-password."
    ),
    known_hosts: str | None = typer.Option(
        None, help="Files: the known_hosts file for the server's host key (~/.ssh/known_hosts)."
    ),
    sftp_root: str | None = typer.Option(
        None, help="Files: the folder on the server the exchange folders are in (.)."
    ),
    trust_host_key: bool = typer.Option(
        False,
        "--trust-host-key",
        help="Files: add the server's host key to known_hosts if it is not there (checked "
        "with the warehouse first); without it init shows the key and asks.",
    ),
    flows: str | None = typer.Option(
        None,
        help="Flows to switch on, comma-separated: shipments, articles, in_deliveries, "
        "returns, stock. Default: all.",
    ),
    capture_policy: str | None = typer.Option(
        None, help="When to capture shipments: never, on_import or on_complete. Default: never."
    ),
    article_number: str | None = typer.Option(
        None,
        help="The article number: ean, sku, sku_variant or sku_variant_size (the default).",
    ),
    no_input: bool = typer.Option(
        False, "--no-input", help="Never prompt: take every answer from the options."
    ),
    probe: bool = typer.Option(
        True,
        "--check/--no-check",
        help="Try Centra and the warehouse with the answers as they come (as check does).",
    ),
) -> None:
    """Connect a store: ask for Centra, the warehouse and the flows, then write the files.

    Writes a commented centrasync.toml (added to, if it exists) and the secrets to the .env
    file beside it (mode 0600), never into the TOML. Each answer is tried against the live
    system first, with the probes of `centrasync check`.
    """
    from centrasync.errors import CentrasyncError
    from centrasync.ops.init_prompts import Answers, ask_store

    given = Answers(
        store=store,
        centra_url=centra_url,
        centra_uri=centra_uri,
        timezone=timezone,
        centra_secret=centra_secret,
        webhook_secret=webhook_secret,
        integration_api_url=integration_api_url,
        integration_api_token=integration_api_token,
        wms_kind=wms_kind,
        sftp_host=sftp_host,
        sftp_port=sftp_port,
        sftp_key=sftp_key,
        known_hosts=known_hosts,
        sftp_root=sftp_root,
        trust_host_key=trust_host_key,
        ongoing_url=ongoing_url,
        ongoing_warehouse=ongoing_warehouse,
        wms_user=wms_user,
        wms_password=wms_password,
        goods_owner_id=goods_owner_id,
        flows=flows,
        capture_policy=capture_policy,
        article_number=article_number,
    )
    out = Console()
    try:
        written = ask_store(config, given, out, prompt=None if no_input else _prompt, probe=probe)
    except CentrasyncError as exc:
        _fail(exc)
    out.print(
        f"Wrote store [bold]{written.store}[/] to {config} and its secrets to {written.env_file} "
        "(readable by you only)."
    )
    out.print(f"Next: [bold]{_self_command()} check --config {config}[/]", soft_wrap=True)


@app.command("check")
def check(config: Path = _CONFIG_OPTION) -> None:
    """Validate the configuration and reach every configured system, changing nothing.

    Exits 0 only when every check is OK (WARN lines do not fail it). A SQLite state store
    that does not exist yet is reported, not created: serve creates it on first start.
    """
    from centrasync.errors import CentrasyncError
    from centrasync.ops import Outcome, print_checks, run_checks

    try:
        settings = _load_checked_settings(config)
    except CentrasyncError as exc:
        _fail(exc)
    results = asyncio.run(run_checks(settings))
    out = Console()
    print_checks(out, results)
    if any(result.outcome is Outcome.FAIL for result in results):
        raise typer.Exit(1)
    out.print(
        f"Everything answered. Next: [bold]{_self_command()} serve --config {config}[/]",
        soft_wrap=True,
    )


records_app = typer.Typer(
    help="List ledger records (the default), or show one with its history and payloads."
)
app.add_typer(records_app, name="records")


@records_app.callback(invoke_without_command=True)
def records_list(
    ctx: typer.Context,
    store: str | None = typer.Option(None, help="Only this store; default: every store."),
    kind: str | None = typer.Option(None, help="Only this kind, e.g. shipment."),
    state: str | None = typer.Option(None, help="Only records in this state, e.g. failed."),
    limit: int = typer.Option(50, min=1, help="At most this many, most recently changed first."),
    config: Path = _CONFIG_OPTION,
    database: str | None = _DATABASE_OPTION,
) -> None:
    """List ledger records, most recently changed first."""
    from centrasync.store import LedgerRecord, RecordKind

    if ctx.invoked_subcommand is not None:
        return
    try:
        wanted = None if kind is None else RecordKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in RecordKind)
        raise typer.BadParameter(
            f"unknown kind {kind!r} (one of {known})", param_hint="--kind"
        ) from None

    async def work(state_store: StateStore) -> list[LedgerRecord]:
        found: list[LedgerRecord] = []
        for name in [store] if store else await state_store.store_names():
            found.extend(
                await state_store.list_records(name, kind=wanted, state=state, limit=limit)
            )
        found.sort(key=lambda record: record.updated_at, reverse=True)
        return found[:limit]

    from centrasync.ops import print_records

    print_records(Console(), _with_store(config, database, work))


@records_app.command("show")
def records_show(
    ref: str = typer.Argument(..., help="The record as store/kind/key, e.g. se/shipment/1001-1."),
    config: Path = _CONFIG_OPTION,
    database: str | None = _DATABASE_OPTION,
) -> None:
    """Show one record: its fields, full history, last payloads and open dead letters."""
    from centrasync.errors import CentrasyncError
    from centrasync.ops import RecordView, parse_ref, print_record, view_record

    try:
        parsed = parse_ref(ref)
    except CentrasyncError as exc:
        _fail(exc)

    async def work(state_store: StateStore) -> RecordView:
        return await view_record(state_store, parsed)

    print_record(Console(), _with_store(config, database, work))


@app.command("dead")
def dead(
    store: str | None = typer.Option(None, help="Only this store; default: every store."),
    all_: bool = typer.Option(False, "--all", help="Include resolved dead letters."),
    limit: int = typer.Option(100, min=1, help="At most this many per store, newest first."),
    config: Path = _CONFIG_OPTION,
    database: str | None = _DATABASE_OPTION,
) -> None:
    """List dead letters: records the engine gave up on until a person looks."""
    from centrasync.ops import list_dead_letters, print_dead_letters
    from centrasync.store import DeadLetter

    async def work(state_store: StateStore) -> list[DeadLetter]:
        stores = [store] if store else await state_store.store_names()
        return await list_dead_letters(state_store, stores, include_resolved=all_, limit=limit)

    print_dead_letters(Console(), _with_store(config, database, work))


@app.command("retry")
def retry(
    ref: str | None = typer.Argument(
        None, help="The record as store/kind/key, e.g. se/shipment/1001-1."
    ),
    dead_letters: bool = typer.Option(
        False, "--dead", help="Retry every record with an open dead letter."
    ),
    store: str | None = typer.Option(None, help="With --dead: only this store."),
    config: Path = _CONFIG_OPTION,
    database: str | None = _DATABASE_OPTION,
) -> None:
    """Resolve a record's open dead letters and hand it back to the engine in state retry.

    The running engine re-drives it; recorded effects keep finished steps from repeating.
    With --dead, exits 1 if any dead-lettered record could not be retried (it is listed).
    """
    from centrasync.errors import CentrasyncError
    from centrasync.ops import (
        RetryDone,
        Skipped,
        cli_operator,
        parse_ref,
        retry_dead,
        retry_record,
    )

    if (ref is None) == (not dead_letters):
        raise typer.BadParameter("give either a record (store/kind/key) or --dead")
    if store is not None and not dead_letters:
        raise typer.BadParameter("--store only goes with --dead", param_hint="--store")
    out = Console()

    def report(done: RetryDone) -> None:
        resolved = ", ".join(str(i) for i in done.resolved) or "none"
        if done.already_waiting:
            out.print(f"{done.ref}: already waiting for retry (dead letters resolved: {resolved})")
        else:
            out.print(f"{done.ref}: {done.from_state} → retry (dead letters resolved: {resolved})")

    if ref is not None:
        try:
            parsed = parse_ref(ref)
        except CentrasyncError as exc:
            _fail(exc)

        async def one(state_store: StateStore) -> RetryDone:
            return await retry_record(state_store, parsed, by=cli_operator())

        report(_with_store(config, database, one))
        return

    async def every(state_store: StateStore) -> tuple[list[RetryDone], list[Skipped]]:
        stores = [store] if store else await state_store.store_names()
        return await retry_dead(state_store, stores, by=cli_operator())

    done, skipped = _with_store(config, database, every)
    for entry in done:
        report(entry)
    for left in skipped:
        out.print(f"[yellow]skipped[/] {left.reason}")
    if not done and not skipped:
        out.print("no open dead letters")
    if skipped:
        raise typer.Exit(1)


@app.command("sync")
def sync(
    flow: str = typer.Argument(
        ..., help="The flow: articles, stock, in-deliveries, returns or shipments."
    ),
    store: str = typer.Argument(..., help="The store name from the configuration file."),
    full: bool = typer.Option(
        False,
        "--full",
        help="articles: read the whole catalogue; stock: compare every SKU once the WMS "
        "stock has been still for stock_quiet_window seconds.",
    ),
    config: Path = _CONFIG_OPTION,
) -> None:
    """Run one pass of one flow for one store now, against the configured systems.

    The pass first takes the lease the engine's own loop for that flow holds, so it never
    runs beside a running serve; it refuses, naming the holder, while one holds it.
    shipments is one round of the shipment worker: webhook inbox, records in retry, poll,
    cancellations, confirmations and sweep. Exits 1 when the pass failed, was postponed, or
    left failed attempts for the next pass.
    """
    from centrasync.errors import CentrasyncError
    from centrasync.ops.sync import (
        FULL_FLOWS,
        SyncFlow,
        manual_owner,
        pass_display,
        print_pass,
        run_pass,
        shortfall,
    )

    try:
        chosen = SyncFlow(flow)
    except ValueError:
        known = ", ".join(f.value for f in SyncFlow)
        raise typer.BadParameter(
            f"unknown flow {flow!r} (one of {known})", param_hint="FLOW"
        ) from None
    if full and chosen not in FULL_FLOWS:
        with_full = " and ".join(sorted(FULL_FLOWS))
        raise typer.BadParameter(f"only {with_full} have a full pass", param_hint="--full")
    try:
        settings = _load_checked_settings(config)
    except CentrasyncError as exc:
        _fail(exc)
    names = [configured.name for configured in settings.stores]
    if store not in names:
        raise typer.BadParameter(
            f"unknown store {store!r} (one of {', '.join(names)})", param_hint="STORE"
        )
    try:
        with pass_display(console, chosen, store) as progress:
            result = asyncio.run(
                run_pass(
                    settings, store, chosen, full=full, owner=manual_owner(), progress=progress
                )
            )
    except CentrasyncError as exc:
        _fail(exc)
    print_pass(Console(), result)
    problem = shortfall(result)
    if problem is not None:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(1)


analytics_app = typer.Typer(
    help="Centra's orders, returns, stock and in-deliveries in DuckDB or PostgreSQL.",
    no_args_is_help=True,
)
app.add_typer(analytics_app, name="analytics")


@analytics_app.command("sync")
def analytics_sync(
    store: str = typer.Argument(..., help="The store name from the configuration file."),
    full: bool = typer.Option(
        False, "--full", help="Forget the cursors and read everything again (merged, not doubled)."
    ),
    config: Path = _CONFIG_OPTION,
) -> None:
    """Load one store's analytics tables once: a progress line per resource, then the
    rows per table. Exits 1 with the reason when Centra refuses (e.g. an expired token)."""
    from centrasync.errors import CentrasyncError
    from centrasync.ops.analytics import print_result, run_analytics_sync

    try:
        settings = _load_checked_settings(config)
        result = asyncio.run(
            run_analytics_sync(
                settings, store, base=config.resolve().parent, full=full, console=console
            )
        )
    except CentrasyncError as exc:
        _fail(exc)
    print_result(Console(), result)


@analytics_app.command("events")
def analytics_events(
    store: str = typer.Argument(..., help="The store name from the configuration file."),
    config: Path = _CONFIG_OPTION,
) -> None:
    """Drain the store's Integration API events queue once: re-read the orders, shipments,
    returns and in-deliveries the events name, merge them, then confirm every event read.
    The token needs an integration name (the queue is per integration)."""
    from centrasync.errors import CentrasyncError
    from centrasync.ops.analytics import run_analytics_events

    try:
        settings = _load_checked_settings(config)
        done = asyncio.run(run_analytics_events(settings, store, base=config.resolve().parent))
    except CentrasyncError as exc:
        _fail(exc)
    loaded = ", ".join(f"{name} {rows}" for name, rows in sorted(done.loaded.items()) if rows)
    typer.echo(
        f"events read {done.read}, confirmed {done.confirmed}; rows re-read: {loaded or 'none'}"
    )


@analytics_app.command("reconcile")
def analytics_reconcile(
    store: str = typer.Argument(..., help="The store name from the configuration file."),
    config: Path = _CONFIG_OPTION,
) -> None:
    """Run one reconciliation pass (serve runs them every reconcile_interval): read the
    orders and shipments changed within the overlap window, returns, in-deliveries and
    stock, merge them, and show how many rows neither trigger had loaded."""
    from centrasync.errors import CentrasyncError
    from centrasync.ops.analytics import print_reconciliation, run_analytics_reconcile

    try:
        settings = _load_checked_settings(config)
        done = asyncio.run(run_analytics_reconcile(settings, store, base=config.resolve().parent))
    except CentrasyncError as exc:
        _fail(exc)
    print_reconciliation(Console(), done)


@analytics_app.command("parked")
def analytics_parked(
    store: str | None = typer.Argument(None, help="Only this store; default: every store."),
    config: Path = _CONFIG_OPTION,
    database: str | None = _DATABASE_OPTION,
) -> None:
    """List the objects analytics parked because their data could not be loaded: the
    object, when, and the error naming the field (the payload is kept in the state store).
    """
    from rich.table import Table

    from centrasync.store import ParkedObject

    async def work(state_store: StateStore) -> list[ParkedObject]:
        found: list[ParkedObject] = []
        for name in [store] if store else await state_store.store_names():
            found.extend(await state_store.parked_analytics(name))
        return found

    parked = _with_store(config, database, work)
    if not parked:
        typer.echo("no parked analytics objects")
        return
    table = Table("store", "object", "parked at", "error", title="parked analytics objects")
    for entry in parked:
        table.add_row(
            entry.store,
            f"{entry.resource} {entry.object_id}",
            entry.parked_at.isoformat(timespec="seconds"),
            entry.error,
        )
    Console().print(table)


@analytics_app.command("retry")
def analytics_retry(
    store: str = typer.Argument(..., help="The store name from the configuration file."),
    objects: list[str] = typer.Argument(
        None, help="resource/id pairs, e.g. returns/7 or orders/1001; default: every parked one."
    ),
    config: Path = _CONFIG_OPTION,
    database: str | None = _DATABASE_OPTION,
) -> None:
    """Put parked analytics objects back in line: the running engine re-reads them."""
    chosen: list[tuple[str, int]] = []
    for text in objects or []:
        resource, _, number = text.partition("/")
        if not resource or not number.isdigit():
            raise typer.BadParameter(f"{text!r} is not resource/id (e.g. returns/7)")
        chosen.append((resource, int(number)))

    async def work(state_store: StateStore) -> int:
        return await state_store.retry_analytics(store, chosen or None)

    done = _with_store(config, database, work)
    typer.echo(f"{done} parked analytics object(s) of store {store!r} back in line")


@analytics_app.command("report")
def analytics_report(
    output: Path = typer.Option(Path("report.html"), "--output", help="The HTML file to write."),
    config: Path = _CONFIG_OPTION,
) -> None:
    """Write one self-contained HTML report (inline SVG charts, opens offline) from the
    DuckDB file of the stores with analytics."""
    from centrasync.analytics.report import render_report
    from centrasync.errors import CentrasyncError, ConfigError

    try:
        settings = _load_checked_settings(config)
    except CentrasyncError as exc:
        _fail(exc)
    by_file: dict[Path, list[str]] = {}
    for store in settings.stores:
        chosen = store.analytics
        if chosen is None or not chosen.enabled or "://" in chosen.destination:
            continue
        path = Path(chosen.destination)
        path = path if path.is_absolute() else config.resolve().parent / path
        by_file.setdefault(path, []).append(store.name)
    if not by_file:
        _fail(ConfigError("no store has [stores.<name>.analytics] with a DuckDB destination"))
    for database, stores in by_file.items():
        if not database.exists():
            typer.echo(f"error: {database} does not exist: run centrasync analytics sync", err=True)
            raise typer.Exit(1)
        target = output if len(by_file) == 1 else output.with_stem(f"{output.stem}-{database.stem}")
        zones = {store.name: store.centra.timezone for store in settings.stores}
        render_report(database, stores, target, zones)
        typer.echo(f"report for {', '.join(stores)}: {target}")


@app.command("demo")
def demo(
    database: Path | None = typer.Option(
        None,
        help="The SQLite file for the engine's state; must not exist yet. "
        "Default: a new file in a new temporary directory, kept after the run.",
    ),
    timeout: float = typer.Option(
        120.0, min=1.0, help="Seconds before giving up on shipments and flows still on the way."
    ),
    log_level: str = typer.Option(
        "warning",
        help="Engine log threshold for the demo (warnings and alerts only by default, so "
        "the live view stays readable; 'info' shows every shipment's steps).",
    ),
    dashboard: bool = typer.Option(
        False,
        "--dashboard",
        help="After the verdict, keep the engine and the operator's console running and "
        "print the console's URL and a login made for this run; Ctrl-C stops them.",
    ),
    wms: str = typer.Option(
        "ongoing",
        help="The warehouse: 'ongoing' (REST emulator) or 'files' (file exchange over SFTP).",
    ),
) -> None:
    """Run the main job on embedded defaults: both emulators and the engine, on SQLite.

    The seeded Centra emulator, the Ongoing emulator in auto-operator mode and the engine
    run in this process on free local ports until every seeded shipment has reached its
    intended end state (one declined capture, one cancellation, one short pick, the rest
    completed with tracking) and every other flow has done what the demo set up: the
    catalogue written as WMS articles, the supplier delivery received in two parts and
    accepted twice, the returns registered in the WMS created once in Centra, and the
    stock-takes written to Centra's stock. Exits 0 only then; 1 at the timeout, listing
    what is missing. Engine logs go to stderr.
    """
    import tempfile

    from centrasync.demo import Dashboard, print_result, run_demo
    from centrasync.errors import CentrasyncError
    from centrasync.logs import configure_logging

    try:
        configure_logging(level=log_level)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--log-level") from None

    path = database or Path(tempfile.mkdtemp(prefix="centrasync-demo-")) / "state.sqlite"
    out = Console()
    board: Dashboard | None = None

    async def run() -> DemoResult:
        nonlocal board
        if dashboard:
            board = Dashboard()
        return await run_demo(path, out, timeout=timeout, dashboard=board, wms=wms)

    if wms not in ("ongoing", "files"):
        raise typer.BadParameter("choose 'ongoing' or 'files'", param_hint="--wms")
    try:
        result = asyncio.run(run())
    except CentrasyncError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        # Ctrl-C is how a dashboard run ends: the verdict was printed when it came.
        if board is None or board.result is None:
            raise
        result = board.result
    else:
        if board is None:
            print_result(out, result, command=_self_command())
    if not result.ok:
        raise typer.Exit(1)


def main() -> None:
    app()
