"""The dlt source for one store, and one load of it (:func:`sync_store`).

dlt runs a pipeline synchronously; the Integration API client is asynchronous and bound to
the caller's event loop. :func:`sync_store` therefore runs the pipeline in a worker thread
and each resource pulls its pages back through :class:`_Bridge`, which awaits the client's
paging helpers on the caller's loop: the client, its quota budget and its connections stay
where they were made, and pages stream into dlt one at a time.

Orders, shipments and products are incremental on ``updatedAt`` (UTC) with ``overlap``
seconds of ``lag``: each run asks Centra for rows updated since the last value seen minus
the overlap, sorted ascending, and merges them on their key, so an edited order is
updated, never doubled. Orders and shipments are read by key set, not by offset: each page
asks again from the last ``updatedAt`` seen, so an order edited during the read (it moves
to the end) shifts no later page and none is skipped; a back-fill of them is cut into
loads of :attr:`Backfill.pages` pages, the cursor committed in dlt's state with each
load's rows, so a run killed at any moment starts again from the last committed load, and
the loads after the first of one sync continue from the cursor without re-reading the
overlap. One catalogue read fills ``products``, ``product_variants`` and ``product_sizes``
(dlt table variants, each with its own key): variants and sizes have no ``updatedAt`` and
come with their product. Returns have no ``updatedAt`` (a return changes status), purchase
orders and in-deliveries neither, stock is a level, and warehouses, stores, markets and
currencies are short lists: these are read whole, once per sync, and merged. With
:class:`Targets` (what the events
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
from dlt.common.destination.exceptions import DestinationException
from dlt.common.pipeline import LoadInfo
from dlt.extract.source import DltSource
from dlt.pipeline.exceptions import PipelineStepFailed

from centrasync.centra.integration.client import IntegrationApiClient
from centrasync.centra.integration.models import Order, OrderHistory, Shipment
from centrasync.config import AnalyticsSettings
from centrasync.errors import CentrasyncError, DestinationError, redact

from .rows import (
    CURRENCIES,
    DELIVERIES,
    MARKETS,
    ORDERS,
    PRODUCT_SIZES,
    PRODUCT_VARIANTS,
    PRODUCTS,
    PURCHASE_ORDERS,
    RETURNS,
    SHIPMENTS,
    STOCK,
    STORES,
    WAREHOUSES,
    Row,
    Table,
    apply_mapping,
    catalogue_rows,
    stock_rows,
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
RESOURCES = (
    "orders",
    "shipments",
    "returns",
    "stock",
    "products",
    "purchase_orders",
    "in_deliveries",
    "warehouses",
    "stores",
    "markets",
    "currencies",
)


def _times(*names: str) -> dict[str, Any]:
    """Hints for columns that may be null in every row of a first load: dlt would leave
    them out of the table until a value arrived."""
    return {name: {"name": name, "data_type": "timestamp", "nullable": True} for name in names}


def _texts(*names: str) -> dict[str, Any]:
    return {name: {"name": name, "data_type": "text", "nullable": True} for name in names}


_SIDES, _PLACE = ("billing", "shipping"), ("country", "zip_code", "city")
_JSON = {"attributes": {"name": "attributes", "data_type": "json", "nullable": True}}


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
    # Objects Centra deleted (a ``DELETED`` event): their rows are removed in the same load.
    gone: Mapping[str, frozenset[int]] = field(default_factory=dict)

    def of(self, resource: str) -> list[int]:
        return sorted(self.by_resource.get(resource, ()))

    def gone_of(self, resource: str) -> list[int]:
        return sorted(self.gone.get(resource, ()))


# dlt's ``hard_delete`` column: a row carrying it true removes the row of that key (and
# its child rows) instead of being merged. Only the rows of deleted objects have it.
DELETED = "deleted_in_centra"
_DELETED_HINT = {DELETED: {"name": DELETED, "data_type": "bool", "hard_delete": True}}


def _mapped_hints(columns: Mapping[str, Any], settings: AnalyticsSettings) -> dict[str, Any]:
    """Column hints under the names the mapping gives: an excluded field gets none (a hint
    would make an empty column of it), a renamed one its new name."""
    renamed = {source: column for column, source in settings.columns.items()}
    kept: dict[str, Any] = {}
    for name, hint in columns.items():
        if name in settings.exclude:
            continue
        target = renamed.get(name, name)
        kept[target] = {**hint, "name": target}
    return kept


def _hints(table: Table, settings: AnalyticsSettings, **extra: Any) -> dict[str, Any]:
    """dlt's hints for ``table``: its key, merge, the typed columns that may be null in
    every row of a first load, and the named attribute columns."""
    columns = dict(extra.pop("columns", {}))
    if table.attributes is not None:
        columns.update(_JSON)
    columns = _mapped_hints(columns, settings)
    if table.attributes is not None:
        columns.update(_texts(*settings.attributes_of(table.attributes)))
    nested = {
        child: {"columns": _mapped_hints(hint["columns"], settings)}
        for child, hint in extra.pop("nested_hints", {}).items()
    }
    key = table.key[0] if len(table.key) == 1 else table.key
    hints = {"primary_key": key, "write_disposition": "merge", "columns": columns, **extra}
    return {**hints, "nested_hints": nested} if nested else hints


def _orders(settings: AnalyticsSettings) -> dict[str, Any]:
    return _hints(
        ORDERS,
        settings,
        columns={
            **_texts("market_name", *(f"{side}_{part}" for side in _SIDES for part in _PLACE)),
            "market_id": {"name": "market_id", "data_type": "bigint"},
        },
        nested_hints={
            "lines": {"columns": _texts("sku", "product_name", "product_variant_name")},
        },
    )


def _shipments(settings: AnalyticsSettings) -> dict[str, Any]:
    return _hints(
        SHIPMENTS,
        settings,
        columns={
            **_times("shipped_at", "paid_at", "captured_at"),
            **_texts(
                "carrier",
                "carrier_service",
                "tracking_number",
                "shipping_country",
                "shipping_zip_code",
                "shipping_city",
            ),
        },
        nested_hints={"lines": {"columns": _texts("sku")}},
    )


def _returns(settings: AnalyticsSettings) -> dict[str, Any]:
    return _hints(RETURNS, settings, nested_hints={"lines": {"columns": _texts("sku")}})


def _deliveries(settings: AnalyticsSettings) -> dict[str, Any]:
    return _hints(
        DELIVERIES,
        settings,
        columns={
            **_times("eta", "accepted_at"),
            "warehouse_id": {"name": "warehouse_id", "data_type": "bigint"},
        },
    )


def _purchase_orders(settings: AnalyticsSettings) -> dict[str, Any]:
    return _hints(
        PURCHASE_ORDERS,
        settings,
        columns={
            **_times("eta"),
            "preferred_warehouse_id": {"name": "preferred_warehouse_id", "data_type": "bigint"},
        },
    )


def centra_source(
    store: str,
    client: IntegrationApiClient,
    settings: AnalyticsSettings,
    bridge: _Bridge,
    progress: Callable[[str, int], None] = lambda resource, rows: None,
    targets: Targets | None = None,
    observe: Callable[[str, Sequence[Row]], None] = lambda resource, rows: None,
    backfill: Backfill | None = None,
) -> DltSource:
    """The store's resources, each mapped by ``settings`` and counted into ``progress``;
    with ``targets``, only the resources and objects named there. ``observe`` sees each
    page of mapped rows as it goes to dlt. ``backfill`` bounds the incremental reads
    (default: read everything in one load)."""
    chunk = backfill or Backfill(pages=None)

    def mapped(resource: str, table: Table, rows: Sequence[Row], count: bool = True) -> list[Row]:
        if count:
            progress(resource, len(rows))
        page = [apply_mapping(row, settings, table) for row in rows]
        observe(resource, page)
        return page

    lag = settings.overlap

    order_reads = {
        "attributes": settings.loads_attributes("order"),
        "discounts": "discounts" not in settings.exclude,
    }

    def read_orders(where: Mapping[str, Any], sort: str) -> Iterator[list[Row]]:
        pages = client.all_order_history(where, sort=[sort], limit=PAGE, **order_reads)
        for page in bridge.pages(pages):
            yield mapped("orders", ORDERS, ORDERS.rows(store, page))

    def read_shipments(where: Mapping[str, Any], sort: str) -> Iterator[list[Row]]:
        for page in bridge.pages(client.all_shipments(where, sort=[sort], limit=PAGE)):
            yield mapped("shipments", SHIPMENTS, SHIPMENTS.rows(store, page))

    def read_returns(where: Mapping[str, Any] | None) -> Iterator[list[Row]]:
        for page in bridge.pages(client.all_returns(where, sort=["id_ASC"], limit=PAGE)):
            yield mapped("returns", RETURNS, RETURNS.rows(store, page))

    def read_deliveries(where: Mapping[str, Any] | None) -> Iterator[list[Row]]:
        for connection in bridge.pages(
            client.purchase_order_delivery_pages(where, sort=["id_ASC"], first=PAGE)
        ):
            yield mapped("in_deliveries", DELIVERIES, DELIVERIES.rows(store, connection.nodes))

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
        table: Table,
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
            yield mapped(resource, table, table.rows(store, page))

    def order_page(where: Mapping[str, Any], page: int) -> Coroutine[Any, Any, list[OrderHistory]]:
        return client.order_history(
            where, sort=["updatedAt_ASC"], limit=PAGE, page=page, **order_reads
        )

    def shipment_page(where: Mapping[str, Any], page: int) -> Coroutine[Any, Any, list[Shipment]]:
        return client.shipments(where, sort=["updatedAt_ASC"], limit=PAGE, page=page)

    def all_orders(updated_at: dlt.sources.incremental[datetime] = incremental()) -> Any:
        yield from read_since("orders", order_page, _number, ORDERS, updated_at)

    def all_shipments(updated_at: dlt.sources.incremental[datetime] = incremental()) -> Any:
        yield from read_since("shipments", shipment_page, _id, SHIPMENTS, updated_at)

    def stock() -> Iterator[list[Row]]:
        for page in bridge.pages(client.all_product_sizes_stock(limit=PAGE)):
            rows = stock_rows(store, page)
            progress("stock", len(rows))
            yield [apply_mapping(row, settings) for row in rows]

    variant_hints = dlt.mark.make_hints(
        table_name=PRODUCT_VARIANTS.name, **_hints(PRODUCT_VARIANTS, settings)
    )
    size_hints = dlt.mark.make_hints(
        table_name=PRODUCT_SIZES.name,
        **_hints(PRODUCT_SIZES, settings, columns=_texts("ean", "upc", "size_number")),
    )

    def read_catalogue(where: Mapping[str, Any], sort: str) -> Iterator[Any]:
        """One read of the catalogue fills three tables: variants and sizes carry no
        ``updatedAt`` of their own and come with their product."""
        with_attributes = settings.loads_attributes("product")
        pages = client.all_catalogue(where, sort=[sort], limit=PAGE, attributes=with_attributes)
        for page in bridge.pages(pages):
            found, variants, sizes = catalogue_rows(store, page)
            yield mapped("products", PRODUCTS, found)
            if variants:
                rows = mapped("products", PRODUCT_VARIANTS, variants, count=False)
                yield dlt.mark.with_hints(rows, variant_hints, create_table_variant=True)
            if sizes:
                rows = mapped("products", PRODUCT_SIZES, sizes, count=False)
                yield dlt.mark.with_hints(rows, size_hints, create_table_variant=True)

    def products(
        updated_at: dlt.sources.incremental[datetime] = dlt.sources.incremental(
            "updated_at", initial_value=EPOCH, lag=lag, on_cursor_value_missing="include"
        ),
    ) -> Any:
        where = {"updatedAt": {"from": updated_at.start_value}}
        yield from read_catalogue(where, "updatedAt_ASC")

    def read_purchase_orders(where: Mapping[str, Any] | None) -> Iterator[list[Row]]:
        page = 1
        while True:
            found = bridge.call(
                client.purchase_orders(where, sort=["id_ASC"], limit=PAGE, page=page)
            )
            yield mapped("purchase_orders", PURCHASE_ORDERS, PURCHASE_ORDERS.rows(store, found))
            if len(found) < PAGE:
                return
            page += 1

    def listed(resource: str, table: Table, read: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        def rows() -> Iterator[list[Row]]:
            yield mapped(resource, table, table.rows(store, bridge.call(read())))

        return dlt.resource(rows, name=resource, **_hints(table, settings))

    orders_hints, shipment_hints = _orders(settings), _shipments(settings)
    return_hints, delivery_hints = _returns(settings), _deliveries(settings)

    @dlt.source(name="centra", max_table_nesting=1)
    def source() -> Any:
        if targets is None:
            return (
                dlt.resource(all_orders, name="orders", **orders_hints),
                dlt.resource(all_shipments, name="shipments", **shipment_hints),
                dlt.resource(read_returns(None), name="returns", **return_hints),
                dlt.resource(stock, name="stock", **_hints(STOCK, settings)),
                dlt.resource(products, name="products", **_hints(PRODUCTS, settings)),
                dlt.resource(
                    read_purchase_orders(None),
                    name="purchase_orders",
                    **_purchase_orders(settings),
                ),
                dlt.resource(read_deliveries(None), name="in_deliveries", **delivery_hints),
                listed("warehouses", WAREHOUSES, lambda: client.warehouses(limit=PAGE)),
                listed("stores", STORES, client.stores),
                listed("markets", MARKETS, client.markets),
                listed("currencies", CURRENCIES, client.currencies),
            )
        reads: dict[str, tuple[Callable[[list[int]], Iterator[Any]], dict[str, Any], Table]] = {
            "orders": (lambda ids: read_orders({"number": ids}, "id_ASC"), orders_hints, ORDERS),
            "shipments": (
                lambda ids: read_shipments({"id": ids}, "id_ASC"),
                shipment_hints,
                SHIPMENTS,
            ),
            "returns": (lambda ids: read_returns({"id": ids}), return_hints, RETURNS),
            "in_deliveries": (lambda ids: read_deliveries({"id": ids}), delivery_hints, DELIVERIES),
            "purchase_orders": (
                lambda ids: read_purchase_orders({"id": ids}),
                _purchase_orders(settings),
                PURCHASE_ORDERS,
            ),
            "products": (
                lambda ids: read_catalogue({"id": ids}, "id_ASC"),
                _hints(PRODUCTS, settings),
                PRODUCTS,
            ),
        }
        chosen: list[Any] = []
        for name, (read, hints, table) in reads.items():
            ids, gone = targets.of(name), targets.gone_of(name)
            if not ids and not gone:
                continue
            if gone:
                columns = {**hints.get("columns", {}), **_DELETED_HINT}
                hints = {**hints, "columns": columns}
            chosen.append(dlt.resource(_chained(read, ids, table, gone, store), name=name, **hints))
        return chosen

    return source()


def _chained(
    read: Callable[[list[int]], Iterator[Any]],
    ids: list[int],
    table: Table,
    gone: list[int],
    store: str,
) -> Iterator[Any]:
    """The re-read objects' rows, then a row per deleted object flagged for deletion."""
    if ids:
        yield from read(ids)
    if gone:
        yield [{"store": store, table.key[0]: key, DELETED: True} for key in gone]


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
    observe: Callable[[str, Sequence[Row]], None] = lambda resource, rows: None,
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
        source = centra_source(
            store, client, settings, bridge, count, targets, observe=observe, backfill=backfill
        )
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
            source = centra_source(
                store, client, settings, bridge, count, None, observe=observe, backfill=backfill
            )
            loaded = pipeline.run(source.with_resources(*chosen), loader_file_format=file_format)
        return loaded

    try:
        result.load = await asyncio.to_thread(run)
        with pipeline.sql_client() as sql:
            for table in pipeline.default_schema.data_table_names():
                name = sql.make_qualified_table_name(table)
                rows = sql.execute_sql(f"SELECT count(*) FROM {name}")
                result.tables[table] = int(rows[0][0]) if rows else 0
    except Exception as error:
        raise _cause(error, settings.destination) from None
    return result


def _cause(error: BaseException, destination: str) -> BaseException:
    """The client's own error inside dlt's ``PipelineStepFailed`` / extraction wrappers;
    a failure to reach or write the destination as :class:`DestinationError`, one line
    naming the destination as configured (which holds no password) and the driver's
    reason with the password taken out; anything else as it is (a bug shows its trace)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, CentrasyncError):
            return seen
        seen = seen.__cause__ or seen.__context__
    if not _at_destination(error):
        return error
    innermost = error
    while (inner := innermost.__cause__ or innermost.__context__) is not None:
        innermost = inner
    reason = str(innermost).strip().splitlines()[0] if str(innermost).strip() else ""
    password = os.environ.get(PASSWORD_ENV)
    if password:
        reason = reason.replace(password, "***").replace(quote(password, safe=""), "***")
    return DestinationError(
        f"analytics destination {destination} failed: {type(innermost).__name__}: "
        f"{redact(reason)}".rstrip(": ")
    )


def _at_destination(error: BaseException) -> bool:
    """dlt failed while talking to the destination (its sync or load step, or a
    destination exception anywhere in the chain)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, PipelineStepFailed) and seen.step in ("sync", "load"):
            return True
        if isinstance(seen, DestinationException | OSError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
