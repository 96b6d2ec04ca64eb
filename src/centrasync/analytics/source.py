"""The dlt source for one store, and one load of it (:func:`sync_store`).

dlt runs a pipeline synchronously; the Integration API client is asynchronous and bound to
the caller's event loop. :func:`sync_store` therefore runs the pipeline in a worker thread
and each resource pulls its pages back through :class:`_Bridge`, which awaits the client's
paging helpers on the caller's loop: the client, its quota budget and its connections stay
where they were made, and pages stream into dlt one at a time.

Orders and shipments are incremental on ``updatedAt`` (UTC) with ``overlap`` seconds of
``lag``: each run asks Centra for rows updated since the last value seen minus the overlap,
sorted ascending, and merges them on their key, so an edited order is updated, never
doubled. Pages are read by key set, not by offset: each page asks again from the last
``updatedAt`` seen, so an order edited during the read (it moves to the end) shifts no
later page and none is skipped. A back-fill is cut into loads of :attr:`Backfill.pages`
pages; the cursor lives in dlt's state and is committed with each load's rows, so a run
killed at any moment starts again from the last committed load, and the loads after the
first of one sync continue from the cursor without re-reading the overlap. Returns have no
``updatedAt`` (a return changes status), in-deliveries neither, and stock is a level:
these are read whole, once per sync, and merged. With :class:`Targets` (what the events
queue names) only those objects are read, by number or id, and no cursor moves.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import (
    AsyncIterator,
    Callable,
    Coroutine,
    Hashable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

import dlt
import structlog
from dlt.common.pipeline import LoadInfo
from dlt.extract.source import DltSource

from centrasync.centra.integration.client import IntegrationApiClient
from centrasync.centra.integration.models import Order, Shipment
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

__all__ = [
    "RESOURCES",
    "Backfill",
    "SyncResult",
    "Targets",
    "centra_source",
    "dataset_name",
    "sync_store",
]

T = TypeVar("T")
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
PAGE = 200
_log = structlog.get_logger(__name__)
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


class _Dated(Protocol):
    @property
    def updated_at(self) -> datetime: ...


D = TypeVar("D", bound=_Dated)
Fetch = Callable[[Mapping[str, Any], int], Coroutine[Any, Any, Sequence[D]]]


def pages_since(
    fetch: Callable[[Mapping[str, Any], int], Sequence[D]],
    key: Callable[[D], Hashable],
    since: datetime,
    pages: int | None,
    unfinished: Callable[[], None],
    limit: int = PAGE,
) -> Iterator[Sequence[D]]:
    """Rows updated at or after ``since``, oldest first, in at most ``pages`` pages (None:
    all); calls ``unfinished`` when the page budget ran out before the rows did.
    ``fetch(where, page)`` is one page of ``limit`` rows sorted by ``updatedAt`` ascending.

    Each page asks again from the last ``updatedAt`` seen (the filter's bounds are
    inclusive [I]) and drops the rows of that moment it already yielded; only a whole page
    of one moment is walked by page number, and such a walk is never cut by ``pages``: the
    next load starts at the last moment read, and would meet the same pages again.
    """
    page, read = 1, 0
    seen: set[tuple[Hashable, datetime]] = set()
    while True:
        rows = fetch({"updatedAt": {"from": since}}, page)
        read += 1
        fresh = [row for row in rows if (key(row), row.updated_at) not in seen]
        if fresh:
            yield fresh
        if len(rows) < limit:
            return
        last = rows[-1].updated_at
        if last == since:
            page += 1
        else:
            since, page, seen = last, 1, set()
        seen.update((key(row), row.updated_at) for row in rows if row.updated_at == since)
        if page == 1 and pages is not None and read >= pages:
            unfinished()
            return


@dataclass
class Backfill:
    """How a sync cuts a long read into committed loads of at most ``pages`` pages per
    incremental resource. ``resume``: an earlier load of this sync committed the cursor,
    so the next one starts there, without the overlap. The resources add their name to
    ``unfinished`` when their pages ran out before their rows did."""

    pages: int | None
    resume: bool = False
    unfinished: set[str] = field(default_factory=set)


def _number(order: Order) -> int:
    return order.number


def _id(shipment: Shipment) -> int:
    return shipment.id


def dataset_name(store: str) -> str:
    """One dataset (a DuckDB / PostgreSQL schema) per store: stores may share a database."""
    return f"centra_{store}".lower().replace("-", "_")


@dataclass(frozen=True)
class Targets:
    """Only these objects, by resource (orders by number, the others by id): what the
    events queue names. A targeted load moves no cursor, so a change the incremental read
    has not loaded yet is still read next time."""

    by_resource: Mapping[str, frozenset[int]]

    def of(self, resource: str) -> list[int]:
        return sorted(self.by_resource.get(resource, ()))


_ORDERS: dict[str, Any] = {
    "primary_key": "order_number",
    "write_disposition": "merge",
    "nested_hints": {"lines": {"columns": _texts("sku", "product_name", "product_variant_name")}},
}
_SHIPMENTS: dict[str, Any] = {
    "primary_key": "shipment_id",
    "write_disposition": "merge",
    "columns": {
        **_times("shipped_at", "paid_at", "captured_at"),
        **_texts(
            "carrier", "tracking_number", "shipping_country", "shipping_zip_code", "shipping_city"
        ),
    },
}
_RETURNS: dict[str, Any] = {
    "primary_key": "return_id",
    "write_disposition": "merge",
    "nested_hints": {"lines": {"columns": _texts("sku")}},
}
_DELIVERIES: dict[str, Any] = {
    "primary_key": "delivery_id",
    "write_disposition": "merge",
    "columns": {
        **_times("eta", "accepted_at"),
        "warehouse_id": {"name": "warehouse_id", "data_type": "bigint"},
    },
}


def centra_source(
    store: str,
    client: IntegrationApiClient,
    settings: AnalyticsSettings,
    bridge: _Bridge,
    progress: Callable[[str, int], None] = lambda resource, rows: None,
    targets: Targets | None = None,
    backfill: Backfill | None = None,
) -> DltSource:
    """The store's resources, each mapped by ``settings`` and counted into ``progress``;
    with ``targets``, only the resources and objects named there. ``backfill`` bounds the
    incremental reads (default: read everything in one load)."""
    chunk = backfill or Backfill(pages=None)

    def mapped(resource: str, rows: Sequence[Row]) -> list[Row]:
        progress(resource, len(rows))
        return [apply_mapping(row, settings) for row in rows]

    lag = settings.overlap

    def read_orders(where: Mapping[str, Any], sort: str) -> Iterator[list[Row]]:
        for page in bridge.pages(client.all_order_history(where, sort=[sort], limit=PAGE)):
            yield mapped("orders", [order_row(store, order) for order in page])

    def read_shipments(where: Mapping[str, Any], sort: str) -> Iterator[list[Row]]:
        for page in bridge.pages(client.all_shipments(where, sort=[sort], limit=PAGE)):
            yield mapped("shipments", [shipment_row(store, s) for s in page])

    def read_returns(where: Mapping[str, Any] | None) -> Iterator[list[Row]]:
        for page in bridge.pages(client.all_returns(where, sort=["id_ASC"], limit=PAGE)):
            yield mapped("returns", [return_row(store, ret) for ret in page])

    def read_deliveries(where: Mapping[str, Any] | None) -> Iterator[list[Row]]:
        for connection in bridge.pages(
            client.purchase_order_delivery_pages(where, sort=["id_ASC"], first=PAGE)
        ):
            yield mapped("in_deliveries", [delivery_row(store, d) for d in connection.nodes])

    def incremental() -> dlt.sources.incremental[datetime]:
        return dlt.sources.incremental("updated_at", initial_value=EPOCH, lag=lag)

    def since(cursor: dlt.sources.incremental[datetime]) -> datetime:
        """The lagged start, or where the previous load of this sync stopped."""
        committed = cursor.get_state().get("last_value") if chunk.resume else None
        start: datetime = committed or cursor.start_value or EPOCH
        _log.info(
            "analytics read", store=store, resource=cursor.resource_name, since=start.isoformat()
        )
        return start

    def read_since(
        resource: str,
        fetch: Fetch[D],
        key: Callable[[D], Hashable],
        row: Callable[[str, D], Row],
        cursor: dlt.sources.incremental[datetime],
    ) -> Iterator[list[Row]]:
        pages = pages_since(
            lambda where, page: bridge.call(fetch(where, page)),
            key,
            since(cursor),
            chunk.pages,
            lambda: chunk.unfinished.add(resource),
        )
        for page in pages:
            yield mapped(resource, [row(store, item) for item in page])

    def order_page(where: Mapping[str, Any], page: int) -> Coroutine[Any, Any, list[Order]]:
        return client.order_history(where, sort=["updatedAt_ASC"], limit=PAGE, page=page)

    def shipment_page(where: Mapping[str, Any], page: int) -> Coroutine[Any, Any, list[Shipment]]:
        return client.shipments(where, sort=["updatedAt_ASC"], limit=PAGE, page=page)

    def all_orders(updated_at: dlt.sources.incremental[datetime] = incremental()) -> Any:
        yield from read_since("orders", order_page, _number, order_row, updated_at)

    def all_shipments(updated_at: dlt.sources.incremental[datetime] = incremental()) -> Any:
        yield from read_since("shipments", shipment_page, _id, shipment_row, updated_at)

    def stock() -> Iterator[list[Row]]:
        for page in bridge.pages(client.all_product_sizes_stock(limit=PAGE)):
            yield mapped("stock", stock_rows(store, page))

    def warehouses() -> Iterator[list[Row]]:
        found = bridge.call(client.warehouses(limit=PAGE))
        yield mapped("warehouses", [warehouse_row(store, w) for w in found])

    @dlt.source(name="centra", max_table_nesting=1)
    def source() -> Any:
        if targets is None:
            return (
                dlt.resource(all_orders, name="orders", **_ORDERS),
                dlt.resource(all_shipments, name="shipments", **_SHIPMENTS),
                dlt.resource(read_returns(None), name="returns", **_RETURNS),
                dlt.resource(
                    stock,
                    name="stock",
                    primary_key=("product_size_id", "warehouse_id"),
                    write_disposition="merge",
                ),
                dlt.resource(read_deliveries(None), name="in_deliveries", **_DELIVERIES),
                dlt.resource(
                    warehouses,
                    name="warehouses",
                    primary_key="warehouse_id",
                    write_disposition="merge",
                ),
            )
        chosen: list[Any] = []
        if numbers := targets.of("orders"):
            where = {"number": numbers}
            chosen.append(dlt.resource(read_orders(where, "id_ASC"), name="orders", **_ORDERS))
        if ids := targets.of("shipments"):
            reads = read_shipments({"id": ids}, "id_ASC")
            chosen.append(dlt.resource(reads, name="shipments", **_SHIPMENTS))
        if ids := targets.of("returns"):
            chosen.append(dlt.resource(read_returns({"id": ids}), name="returns", **_RETURNS))
        if ids := targets.of("in_deliveries"):
            reads = read_deliveries({"id": ids})
            chosen.append(dlt.resource(reads, name="in_deliveries", **_DELIVERIES))
        return chosen

    return source()


PASSWORD_ENV = "DESTINATION__POSTGRES__CREDENTIALS__PASSWORD"


def _is_postgres(settings: AnalyticsSettings) -> bool:
    return settings.destination.startswith(("postgresql://", "postgres://"))


def _destination(settings: AnalyticsSettings, base: Path) -> Any:
    """DuckDB at a path (relative to ``base``), or PostgreSQL with its password from the
    environment (the file never holds it; dlt insists on one, even for trust auth)."""
    if _is_postgres(settings):
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
    targets: Targets | None = None,
) -> SyncResult:
    """Load the store's resources; ``full`` drops the cursors and reads everything.

    ``base`` is where a relative DuckDB path and dlt's working folder (its state between
    runs) live. Orders and shipments come in loads of ``settings.backfill_pages`` pages,
    one after the other until both are read: each load commits its rows and its cursor
    together, so a kill loses at most one load's pages. A load a killed run left
    extracted but not loaded is loaded first. Errors from the client (a revoked token:
    ``TokenInvalidError``) come out as they are, not wrapped in dlt's pipeline errors.
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
    backfill = Backfill(pages=settings.backfill_pages)
    # DuckDB reads JSON lines itself; dlt's default, one INSERT statement per file, costs
    # it several times the CPU and memory (docs/analytics.md, "Back-fill").
    file_format: Literal["insert_values", "jsonl"] = (
        "insert_values" if _is_postgres(settings) else "jsonl"
    )

    def run() -> LoadInfo:
        if pipeline.has_pending_data:
            pipeline.run()
        source = centra_source(store, client, settings, bridge, count, targets, backfill)
        if full:
            loaded = pipeline.run(source, refresh="drop_sources", loader_file_format=file_format)
        else:
            loaded = pipeline.run(source, loader_file_format=file_format)
        while targets is None and backfill.unfinished:
            _log.info(
                "analytics load committed", store=store, resources=sorted(backfill.unfinished)
            )
            chosen = sorted(backfill.unfinished)
            backfill.resume, backfill.unfinished = True, set()
            source = centra_source(store, client, settings, bridge, count, None, backfill)
            loaded = pipeline.run(source.with_resources(*chosen), loader_file_format=file_format)
        return loaded

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
