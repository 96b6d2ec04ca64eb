"""The ``centrasync`` command: thin wiring of concrete classes, nothing else.

With ``server/``, this is the only place that builds concrete clients and emulators.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING

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
    from centrasync.centra import Shipment
    from centrasync.config import StoreSettings


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
) -> None:
    """Serve the Centra emulator (Order API, webhook sender, control API under /_emulator/)."""
    import uvicorn

    from centrasync.emulators.centra import CentraEmulator

    emulator = CentraEmulator(uri=uri, secret=secret, seed=seed, timezone=timezone)
    console.print(
        f"[bold]Centra emulator[/] on http://{host}:{port}\n"
        f"  Order API:   http://{host}:{port}/api/{uri}/  (header API-Authorization: <secret>)\n"
        f"  Control API: http://{host}:{port}/_emulator/  (OpenAPI at /docs)"
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


async def _find_shipment(store: StoreSettings, number: str) -> Shipment:
    """Look for the shipment in every state, Good-to-Go first, as the pick flow would."""
    from centrasync.centra import OrderApiClient
    from centrasync.errors import NotFoundError

    order = number.split("-", 1)[0] if "-" in number else None
    async with OrderApiClient(
        store.centra.base_url, store.centra_secret.reveal(), store.centra.timezone
    ) as client:
        for status in ("goodtogo", "inprogress", "completed"):
            page = await client.list_shipments(status, order=order)
            for shipment in page:
                if shipment.shipment_id == number:
                    return shipment
            for rejected in page.rejected:
                if rejected.record == f"shipment {number}":
                    raise rejected
    raise NotFoundError(
        f"shipment {number!r} not found in store {store.name!r} "
        "(looked in good-to-go, in progress and completed)"
    )


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
    from centrasync.sync import (
        mapped_order_to_json,
        shipment_passes_filters,
        shipment_to_outbound_order,
    )

    try:
        settings = load_settings(config).store(store)
        shipment = asyncio.run(_find_shipment(settings, shipment_number))
        mapped = shipment_to_outbound_order(shipment, settings)
        passes = shipment_passes_filters(shipment, settings.shipment_filters)
    except CentrasyncError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    view = {**mapped_order_to_json(mapped), "passes_filters": passes}
    Console(soft_wrap=True).print_json(json.dumps(view))


@app.command("serve")
def serve(
    config: Path = typer.Option(Path("centrasync.toml"), help="The configuration file."),
    worker_id: str = typer.Option(
        "",
        help="This process's name in the store leases; default: host name and config path, "
        "so a restarted process takes its leases back at once.",
    ),
) -> None:
    """Run the engine: webhook receivers, /healthz, /metrics, the scheduler and workers."""
    import socket
    from datetime import UTC, datetime

    import uvicorn

    from centrasync.config import load_settings
    from centrasync.errors import CentrasyncError
    from centrasync.server import create_app
    from centrasync.server.runtime import Engine
    from centrasync.store import open_store

    try:
        settings = load_settings(config)
    except CentrasyncError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    engine_settings = settings.engine
    owner = worker_id or f"{socket.gethostname()}:{config.resolve()}"

    async def run() -> None:
        # The store's connections belong to the loop that serves requests, so all share one.
        state = await open_store(engine_settings.database_url)
        app_ = create_app(settings, state)
        engine = Engine(
            settings,
            state,
            events=app_.state.metrics.flows,
            owner=owner,
            webhooks_since=datetime.now(UTC),
        )
        app_.state.metrics.engine = engine
        server = uvicorn.Server(
            uvicorn.Config(
                app_,
                host=engine_settings.listen_host,
                port=engine_settings.listen_port,
                log_level="warning",
            )
        )
        stop = asyncio.Event()
        try:
            async with engine:
                workers = asyncio.create_task(engine.run(stop))
                try:
                    await server.serve()
                finally:
                    stop.set()
                    await workers
        finally:
            await state.close()

    console.print(
        f"[bold]centrasync[/] on http://{engine_settings.listen_host}:{engine_settings.listen_port}"
        f"  webhooks: /webhooks/centra/<store> for {', '.join(s.name for s in settings.stores)}"
    )
    try:
        asyncio.run(run())
    except CentrasyncError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def main() -> None:
    app()
