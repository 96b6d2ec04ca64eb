"""The dlt source for one store, and one load of it (:func:`sync_store`).

dlt runs a pipeline synchronously; the Integration API client is asynchronous and bound to
the caller's event loop. :func:`sync_store` therefore runs the pipeline in a worker thread
and each resource pulls its pages back through :class:`_Bridge`, which awaits the client's
paging helpers on the caller's loop: the client, its quota budget and its connections stay
where they were made, and pages stream into dlt one at a time.

Orders and shipments are incremental on ``updatedAt`` (UTC) with ``overlap`` seconds of
``lag``: each run asks Centra for rows updated since the last value seen minus the overlap,
sorted ascending, and merges them on their key, so an edited order is updated, never
doubled. The cursor lives in dlt's state and is committed with the load, so a run killed
during a back-fill starts again from the last completed load. Returns have no
``updatedAt`` (a return changes status), in-deliveries neither, and stock is a level:
these are read whole and merged.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

import dlt
from dlt.common.pipeline import LoadInfo
from dlt.extract.source import DltSource

from centrasync.centra.integration.client import IntegrationApiClient
from centrasync.config import AnalyticsSettings
from centrasync.errors import CentrasyncError

from .rows import (
    Row,
    apply_mapping,
    delivery_row,
    order_row,
    return_row,
    shipment_row,
    stock_rows,
    warehouse_row,
)

__all__ = ["RESOURCES", "SyncResult", "centra_source", "dataset_name", "sync_store"]

T = TypeVar("T")
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
PAGE = 200
RESOURCES = ("orders", "shipments", "returns", "stock", "in_deliveries", "warehouses")


def _times(*names: str) -> dict[str, Any]:
    """Hints for columns that may be null in every row of a first load: dlt would leave
    them out of the table until a value arrived."""
    return {name: {"name": name, "data_type": "timestamp", "nullable": True} for name in names}


def _texts(*names: str) -> dict[str, Any]:
    return {name: {"name": name, "data_type": "text", "nullable": True} for name in names}


class _Bridge:
    """Runs the client's coroutines on its own loop from dlt's worker thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def pages(self, pages: AsyncIterator[T]) -> Iterator[T]:
        async def step() -> tuple[bool, T | None]:
            try:
                return True, await anext(pages)
            except StopAsyncIteration:
                return False, None

        while True:
            more, page = self.call(step())
            if not more:
                return
            yield page  # type: ignore[misc]


def dataset_name(store: str) -> str:
    """One dataset (a DuckDB / PostgreSQL schema) per store: stores may share a database."""
    return f"centra_{store}".lower().replace("-", "_")


def centra_source(
    store: str,
    client: IntegrationApiClient,
    settings: AnalyticsSettings,
    bridge: _Bridge,
    progress: Callable[[str, int], None] = lambda resource, rows: None,
) -> DltSource:
    """The store's resources, each mapped by ``settings`` and counted into ``progress``."""

    def mapped(resource: str, rows: Sequence[Row]) -> list[Row]:
        progress(resource, len(rows))
        return [apply_mapping(row, settings) for row in rows]

    lag = settings.overlap

    @dlt.source(name="centra", max_table_nesting=1)
    def source() -> Any:
        @dlt.resource(
            name="orders",
            primary_key="order_number",
            write_disposition="merge",
            nested_hints={
                "lines": {"columns": _texts("sku", "product_name", "product_variant_name")}
            },
        )
        def orders(
            updated_at: dlt.sources.incremental[datetime] = dlt.sources.incremental(
                "updated_at", initial_value=EPOCH, lag=lag
            ),
        ) -> Iterator[list[Row]]:
            where = {"updatedAt": {"from": updated_at.start_value}}
            for page in bridge.pages(
                client.all_order_history(where, sort=["updatedAt_ASC"], limit=PAGE)
            ):
                yield mapped("orders", [order_row(store, order) for order in page])

        @dlt.resource(
            name="shipments",
            primary_key="shipment_id",
            write_disposition="merge",
            columns={
                **_times("shipped_at", "paid_at", "captured_at"),
                **_texts(
                    "carrier",
                    "tracking_number",
                    "shipping_country",
                    "shipping_zip_code",
                    "shipping_city",
                ),
            },
        )
        def shipments(
            updated_at: dlt.sources.incremental[datetime] = dlt.sources.incremental(
                "updated_at", initial_value=EPOCH, lag=lag
            ),
        ) -> Iterator[list[Row]]:
            where = {"updatedAt": {"from": updated_at.start_value}}
            for page in bridge.pages(
                client.all_shipments(where, sort=["updatedAt_ASC"], limit=PAGE)
            ):
                yield mapped("shipments", [shipment_row(store, s) for s in page])

        @dlt.resource(
            name="returns",
            primary_key="return_id",
            write_disposition="merge",
            nested_hints={"lines": {"columns": _texts("sku")}},
        )
        def returns() -> Iterator[list[Row]]:
            for page in bridge.pages(client.all_returns(sort=["id_ASC"], limit=PAGE)):
                yield mapped("returns", [return_row(store, ret) for ret in page])

        @dlt.resource(
            name="stock",
            primary_key=("product_size_id", "warehouse_id"),
            write_disposition="merge",
        )
        def stock() -> Iterator[list[Row]]:
            for page in bridge.pages(client.all_product_sizes_stock(limit=PAGE)):
                yield mapped("stock", stock_rows(store, page))

        @dlt.resource(
            name="in_deliveries",
            primary_key="delivery_id",
            write_disposition="merge",
            columns={
                **_times("eta", "accepted_at"),
                "warehouse_id": {"name": "warehouse_id", "data_type": "bigint"},
            },
        )
        def in_deliveries() -> Iterator[list[Row]]:
            for connection in bridge.pages(
                client.purchase_order_delivery_pages(sort=["id_ASC"], first=PAGE)
            ):
                yield mapped("in_deliveries", [delivery_row(store, d) for d in connection.nodes])

        @dlt.resource(name="warehouses", primary_key="warehouse_id", write_disposition="merge")
        def warehouses() -> Iterator[list[Row]]:
            found = bridge.call(client.warehouses(limit=PAGE))
            yield mapped("warehouses", [warehouse_row(store, w) for w in found])

        return orders, shipments, returns, stock, in_deliveries, warehouses

    return source()


PASSWORD_ENV = "DESTINATION__POSTGRES__CREDENTIALS__PASSWORD"


def _destination(settings: AnalyticsSettings, base: Path) -> Any:
    """DuckDB at a path (relative to ``base``), or PostgreSQL with its password from the
    environment (the file never holds it; dlt insists on one, even for trust auth)."""
    if settings.destination.startswith(("postgresql://", "postgres://")):
        url = urlsplit(settings.destination)
        password = quote(os.environ.get(PASSWORD_ENV, ""), safe="")
        netloc = f"{url.username or ''}:{password}@{url.hostname}"
        netloc += f":{url.port}" if url.port else ""
        return dlt.destinations.postgres(urlunsplit(url._replace(netloc=netloc)))
    path = Path(settings.destination)
    return dlt.destinations.duckdb(str(path if path.is_absolute() else base / path))


@dataclass
class SyncResult:
    """What one load did: rows read per resource, rows now in each table."""

    store: str
    read: dict[str, int] = field(default_factory=dict)
    tables: dict[str, int] = field(default_factory=dict)
    load: LoadInfo | None = None


async def sync_store(
    store: str,
    client: IntegrationApiClient,
    settings: AnalyticsSettings,
    *,
    base: Path,
    full: bool = False,
    progress: Callable[[str, int], None] = lambda resource, rows: None,
) -> SyncResult:
    """Load the store's resources once; ``full`` drops the cursors and reads everything.

    ``base`` is where a relative DuckDB path and dlt's working folder (its state between
    runs) live. Errors from the client (a revoked token: ``TokenInvalidError``) come out
    as they are, not wrapped in dlt's pipeline errors.
    """
    result = SyncResult(store, read=dict.fromkeys(RESOURCES, 0))

    def count(resource: str, rows: int) -> None:
        result.read[resource] = result.read.get(resource, 0) + rows
        progress(resource, rows)

    # dlt sends anonymous usage telemetry to dltHub unless told not to: a self-hosted
    # engine makes no call its operator did not configure. Read when dlt first starts.
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    bridge = _Bridge(asyncio.get_running_loop())
    pipeline = dlt.pipeline(
        pipeline_name=f"centrasync_{dataset_name(store)}",
        pipelines_dir=str(base / ".centrasync-dlt"),
        destination=_destination(settings, base),
        dataset_name=dataset_name(store),
    )

    def run() -> LoadInfo:
        source = centra_source(store, client, settings, bridge, count)
        if full:
            return pipeline.run(source, refresh="drop_sources")
        return pipeline.run(source)

    try:
        result.load = await asyncio.to_thread(run)
    except Exception as error:
        raise _cause(error) from None
    with pipeline.sql_client() as sql:
        for table in pipeline.default_schema.data_table_names():
            rows = sql.execute_sql(f"SELECT count(*) FROM {sql.make_qualified_table_name(table)}")
            result.tables[table] = int(rows[0][0]) if rows else 0
    return result


def _cause(error: BaseException) -> BaseException:
    """The client's own error inside dlt's ``PipelineStepFailed`` / extraction wrappers."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, CentrasyncError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return error
