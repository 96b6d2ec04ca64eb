"""``centrasync analytics sync``: one load of a store's analytics, with a Rich display.

The store's Integration API client is built as the runtime builds it (same quota budget
per endpoint); relative DuckDB paths and dlt's working folder live beside the
configuration file, so every command run from anywhere finds the same store.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from centrasync.analytics.events import EventsPass, events_pass, listen
from centrasync.analytics.source import RESOURCES, SyncResult, sync_store
from centrasync.config import AnalyticsSettings, Settings
from centrasync.errors import ConfigError
from centrasync.http.quota import QuotaBudget
from centrasync.runtime import integration_client

__all__ = ["print_result", "run_analytics_events", "run_analytics_sync"]


def _analytics_of(settings: Settings, store: str) -> AnalyticsSettings:
    analytics = settings.store(store).analytics
    if analytics is None or not analytics.enabled:
        raise ConfigError(f"store {store!r} has no enabled [stores.{store}.analytics] table")
    if settings.store(store).integration_api_token is None:
        raise ConfigError(f"store {store!r} has no Integration API token")
    return analytics


async def run_analytics_events(settings: Settings, store: str, *, base: Path) -> EventsPass:
    """Listen (idempotent), then drain the store's events queue once."""
    analytics = _analytics_of(settings, store)
    client = integration_client(settings.store(store), budget=QuotaBudget())
    assert client is not None  # _analytics_of saw the token
    async with client:
        await listen(client)
        return await events_pass(store, client, analytics, base=base)


async def run_analytics_sync(
    settings: Settings, store: str, *, base: Path, full: bool, console: Console
) -> SyncResult:
    """Load ``store`` once with a progress bar per resource (rows read so far).

    With ``--full`` every order, shipment, return and product is read, so Centra's
    ``counters`` give those bars their end; otherwise a bar pulses until the load is done
    (an incremental read cannot know how many rows changed).
    """
    analytics = _analytics_of(settings, store)
    client = integration_client(settings.store(store), budget=QuotaBudget())
    assert client is not None  # _analytics_of saw the token
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description:<18}"),
        BarColumn(),
        TextColumn("{task.completed:>10,.0f} rows"),
        TimeElapsedColumn(),
    )
    async with client:
        totals: dict[str, int] = {}
        if full:
            counted = await client.counters()
            totals = {
                "orders": counted.orders,
                "shipments": counted.shipments,
                "returns": counted.returns,
                "products": counted.products,
            }
        with Progress(*columns, console=console) as bar:
            tasks = {name: bar.add_task(name, total=totals.get(name)) for name in RESOURCES}

            def show(resource: str, rows: int) -> None:
                bar.advance(tasks[resource], rows)

            result = await sync_store(store, client, analytics, base=base, full=full, progress=show)
            for task in tasks.values():
                # A full bar, even for a resource with no rows (a zero total would divide).
                done = max(bar.tasks[task].completed, 1e-9)
                bar.update(task, total=done, completed=done)
    return result


def print_result(console: Console, result: SyncResult) -> None:
    """Rows read per resource this run, and rows now in each table."""
    table = Table(title=f"analytics for store {result.store}")
    table.add_column("table")
    table.add_column("rows read now", justify="right")
    table.add_column("rows in table", justify="right")
    for name in sorted(result.tables):
        read = result.read.get(name)
        table.add_row(name, "" if read is None else f"{read:,}", f"{result.tables[name]:,}")
    console.print(table)
