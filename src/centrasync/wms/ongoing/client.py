"""``OngoingWarehouse``: the :class:`~centrasync.wms.Warehouse` port over Ongoing's REST API.

Reporting uses Ongoing's reported-number fields (reference §6): the "to report" filters
find documents with a delta, and marks are per-line PATCHes of the exact cumulative value
the engine reported, never the "set reported to picked" shortcut that would swallow a
pick made in between.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from contextlib import aclosing
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, RootModel
from pydantic.alias_generators import to_camel

from centrasync.errors import (
    ConfigError,
    NotFoundError,
    RecordValidationError,
    RemoteRefusedError,
)
from centrasync.http import AsyncClosing, RetryPolicy
from centrasync.http.transports import ResilientTransport
from centrasync.wms.models import (
    Article,
    CancelOutcome,
    InOrder,
    Listing,
    OrderRef,
    OutboundOrder,
    ReceivedInOrder,
    RecordFailure,
    ReturnedOrder,
    ShippedOrder,
    StockLevel,
    UpsertResult,
)

from . import mapping
from .api import Identity, OngoingApi, QueryParams, joined, listed, write_lane
from .mapping import OngoingStatusCodes
from .models import (
    GetArticleModel,
    GetInventoryPerWarehouseModel,
    GetOrderModel,
    GetPurchaseOrderModel,
    GetReturnOrderModel,
    PostArticleResponse,
    PostOrderResponse,
    PostPurchaseOrderResponse,
    ReportedNumberOfItems,
    ReportedReturnedNumberOfItems,
    WarehouseRead,
    WarehouseStock,
)

__all__ = ["OngoingWarehouse"]

# The live API refuses stockInfoChangedFrom older than 24 h (reference §11); a margin
# keeps clock skew between us and Ongoing from tripping it.
_STOCK_DELTA_WINDOW = timedelta(hours=23, minutes=50)
# Article numbers per stock read, to keep the query string well under common URL limits [I].
_SKUS_PER_READ = 50
_ORDER = Identity("order", ("orderInfo", "orderId"), ("orderInfo", "orderNumber"))
_RETURN_ORDER = Identity(
    "return order",
    ("returnOrderInfo", "returnOrderId"),
    ("customerOrderInfo", "orderNumber"),
)
_PURCHASE_ORDER = Identity(
    "purchase order",
    ("purchaseOrderInfo", "purchaseOrderId"),
    ("purchaseOrderInfo", "purchaseOrderNumber"),
)


class _AnyRows(RootModel[list[dict[str, Any]]]):
    """A page read only to prove access; its rows are not looked at."""


class _Warehouses(RootModel[list[WarehouseRead]]):
    """``GET /warehouses``."""


_KEEP_ALL = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow", frozen=True)


class _ArticlePut(BaseModel):
    """``PUT /articles`` with every field of the document as read, ours set on top."""

    model_config = _KEEP_ALL

    goods_owner_id: int
    article_number: str
    external_number_of_items: float


class _ArticleDocument(BaseModel):
    """An article as read, every field kept, so it can be put back with one field changed."""

    model_config = _KEEP_ALL

    article_system_id: int
    article_number: str

    def with_external(self, goods_owner_id: int, external: Decimal) -> _ArticlePut:
        """The PUT body: the document as read, without read-only parts, with the new figure."""
        document = {
            key: value
            for key, value in self.model_dump(by_alias=True).items()
            if key not in _READ_ONLY_ARTICLE_FIELDS
        }
        document["goodsOwnerId"] = goods_owner_id
        document["externalNumberOfItems"] = float(external)
        return _ArticlePut.model_validate(document)


# Fields of an article read that are not part of the document a PUT sends.
_READ_ONLY_ARTICLE_FIELDS = frozenset(
    {"articleSystemId", "goodsOwner", "inventoryInfo", "articleDataLastUpdated"}
)


def _chunks(skus: Sequence[str] | None) -> list[list[str]]:
    """SKU chunks per read; one empty chunk means "no SKU filter"."""
    if skus is None:
        return [[]]
    unique = list(dict.fromkeys(skus))
    return [unique[i : i + _SKUS_PER_READ] for i in range(0, len(unique), _SKUS_PER_READ)]


def _format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class OngoingWarehouse(AsyncClosing):
    """One Ongoing goods owner (our merchant) behind the ``Warehouse`` protocol.

    ``base_url`` is the API root, e.g. ``https://api.ongoingsystems.se/{warehouse}/api/v1/``.
    ``transport`` is the injected I/O seam; it is wrapped in a
    :class:`~centrasync.http.ResilientTransport` applying ``retry`` and ``sleep``.
    """

    def __init__(
        self,
        base_url: str,
        user: str,
        password: str,
        goods_owner_id: int,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        page_size: int = 100,
        statuses: OngoingStatusCodes | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ConfigError(f"Ongoing base URL must be http(s)://host/…, got {base_url!r}")
        if page_size < 1:
            raise ConfigError(f"page_size must be at least 1, got {page_size}")
        self.base_url = str(url).rstrip("/") + "/"
        self.goods_owner_id = goods_owner_id
        self.statuses = statuses or OngoingStatusCodes()
        self._clock = clock
        self.transport = ResilientTransport(
            transport or httpx.AsyncHTTPTransport(), policy=retry or RetryPolicy(), sleep=sleep
        )
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            auth=httpx.BasicAuth(user, password),
            transport=self.transport,
            timeout=timeout,
            headers={"Accept": "application/json"},
        )
        self._api = OngoingApi(
            self._client,
            goods_owner_id,
            transport=self.transport,
            lane=lambda: write_lane(self.base_url, goods_owner_id),
            page_size=page_size,
            secrets=(password,),
        )

    def __repr__(self) -> str:
        return f"OngoingWarehouse({self.base_url!r}, goods_owner_id={self.goods_owner_id})"

    async def aclose(self) -> None:
        await self._client.aclose()

    async def ping(self) -> None:
        """One cheap read proving the URL, the credentials and the goods owner; writes nothing.

        At most one article is fetched: article reads are scoped to ``goodsOwnerId``, which
        the status lists are not, so a wrong goods owner fails here too.
        """
        await self._api.get("articles", _AnyRows, [("maxArticlesToGet", 1)])

    # -- articles and stock ---------------------------------------------------------------

    async def upsert_articles(self, articles: Sequence[Article]) -> UpsertResult:
        """PUT each article in full; one refused article does not stop the batch."""
        upserted: list[str] = []
        failed: list[RecordFailure] = []
        for article in articles:
            body = mapping.to_post_article(article, self.goods_owner_id)
            try:
                await self._api.put("articles", body, PostArticleResponse)
            except RemoteRefusedError as exc:
                failed.append(RecordFailure(article.sku, str(exc)))
                continue
            upserted.append(article.sku)
        return UpsertResult(tuple(upserted), tuple(failed))

    async def read_stock(
        self,
        changed_since: datetime | None = None,
        *,
        skus: Sequence[str] | None = None,
        warehouses: Sequence[str] | None = None,
    ) -> list[StockLevel]:
        """Every level :meth:`iter_stock` yields, in one list."""
        return await joined(self.iter_stock(changed_since, skus=skus, warehouses=warehouses))

    async def iter_stock(
        self,
        changed_since: datetime | None = None,
        *,
        skus: Sequence[str] | None = None,
        warehouses: Sequence[str] | None = None,
    ) -> AsyncGenerator[list[StockLevel]]:
        """All articles' stock, or those changed since ``changed_since``, or only ``skus``.

        Yielded per page of articles, so a read of the whole catalogue never holds more
        than one page of Ongoing's article rows. Ongoing only answers stock deltas within
        24 hours; for an older time this reads everything instead, which is the superset
        the protocol allows. SKUs go out as repeated ``articleNumbers`` keys (a
        comma-joined value matches nothing, §11), in chunks so the URL stays short.
        ``warehouses`` (codes or ids from ``GET /warehouses``) adds a read of
        ``inventoryPerWarehouse`` and counts only the goods stored there.
        """
        params: list[tuple[str, str | int | float | bool | None]] = []
        if changed_since is not None:
            if changed_since.utcoffset() is None:
                raise ValueError("read_stock: changed_since must be timezone-aware")
            if changed_since > self._clock() - _STOCK_DELTA_WINDOW:
                params.append(("stockInfoChangedFrom", _format_time(changed_since)))
        ids = None if warehouses is None else await self._warehouse_ids(warehouses)
        for chunk in _chunks(skus):
            chunk_params = [*params, *(("articleNumbers", sku) for sku in chunk)]
            parts = None if ids is None else await self._stored_in(ids, chunk_params)
            pages = self._api.pages(
                "articles",
                GetArticleModel,
                row_id=lambda row: row.article_system_id,
                cursor_param="articleSystemIdFrom",
                size_param="maxArticlesToGet",
                params=chunk_params,
            )
            async with aclosing(pages):
                async for rows in pages:
                    if parts is None:
                        yield [mapping.stock_level(row) for row in rows]
                    else:
                        yield [
                            mapping.stock_level_in(row, parts.get(row.article_number, []))
                            for row in rows
                        ]

    async def _stored_in(
        self, ids: frozenset[int], params: QueryParams
    ) -> dict[str, list[WarehouseStock]]:
        """Per article number, its inventory in the warehouses ``ids``, and no others."""
        parts: dict[str, list[WarehouseStock]] = {}
        pages = self._api.pages(
            "articles/inventoryPerWarehouse",
            GetInventoryPerWarehouseModel,
            row_id=lambda row: row.article_system_id,
            cursor_param="articleSystemIdFrom",
            size_param="maxArticlesToGet",
            params=[*params, *(("warehouseIds", ident) for ident in ids)],
        )
        async with aclosing(pages):
            async for rows in pages:
                for row in rows:
                    parts[row.article_number] = [
                        part for part in row.inventory_per_warehouse if part.warehouse_id in ids
                    ]
        return parts

    async def _warehouse_ids(self, warehouses: Sequence[str]) -> frozenset[int]:
        """Ongoing's ids of the named warehouses; a name Ongoing does not know is a setup error."""
        known = await self._api.get("warehouses", _Warehouses)
        by_name: dict[str, int] = {}
        for row in known.root:
            for name in (str(row.id), row.code, row.name):
                if name:
                    by_name.setdefault(name, row.id)
        missing = [name for name in warehouses if name not in by_name]
        if missing:
            raise ConfigError(
                f"warehouse_map: Ongoing has no warehouse {', '.join(map(repr, missing))} "
                f"(known: {', '.join(sorted(by_name))})"
            )
        return frozenset(by_name[name] for name in warehouses)

    async def set_external_stock(self, levels: Mapping[str, Decimal]) -> UpsertResult:
        """Write ``externalNumberOfItems`` per article, re-sending each article in full.

        Ongoing has no partial article update and a PUT replaces the document, so each
        article is read and put back with only this field changed [I: the read and the
        write model share their field names]. An article the WMS does not have is refused.
        """
        upserted: list[str] = []
        failed: list[RecordFailure] = []
        for chunk in _chunks(list(levels)):
            rows = await self._api.get_all(
                "articles",
                _ArticleDocument,
                row_id=lambda row: row.article_system_id,
                cursor_param="articleSystemIdFrom",
                size_param="maxArticlesToGet",
                params=[("articleNumbers", sku) for sku in chunk],
            )
            found = {row.article_number: row for row in rows}
            for sku in chunk:
                row = found.get(sku)
                if row is None:
                    failed.append(RecordFailure(sku, f"article {sku!r} does not exist in Ongoing"))
                    continue
                body = row.with_external(self.goods_owner_id, levels[sku])
                try:
                    await self._api.put("articles", body, PostArticleResponse)
                except RemoteRefusedError as exc:
                    failed.append(RecordFailure(sku, str(exc)))
                    continue
                upserted.append(sku)
        return UpsertResult(tuple(upserted), tuple(failed))

    # -- outbound orders --------------------------------------------------------------------

    async def upsert_outbound_order(self, order: OutboundOrder) -> OrderRef:
        body = mapping.to_post_order(order, self.goods_owner_id, self._clock().date())
        answer = await self._api.put("orders", body, PostOrderResponse)
        return OrderRef(order.order_number, str(answer.order_id))

    async def find_outbound_order(self, order_number: str) -> OrderRef | None:
        order = await self._order_by_number(order_number)
        return None if order is None else OrderRef(order_number, str(order.order_info.order_id))

    def _order_pages(self, params: QueryParams) -> AsyncGenerator[Listing[GetOrderModel]]:
        return self._api.pages(
            "orders",
            GetOrderModel,
            row_id=lambda row: row.order_info.order_id,
            cursor_param="orderIdFrom",
            size_param="maxOrdersToGet",
            params=params,
            identity=_ORDER,
        )

    async def _order_by_number(self, order_number: str) -> GetOrderModel | None:
        """The order with this number; one Ongoing lists but that cannot be read raises
        its :class:`RecordValidationError`, naming the field, for the flow to park."""
        rows = await listed(self._order_pages([("orderNumber", order_number)]))
        for unreadable in rows.rejected:
            if unreadable.number == order_number:
                raise unreadable.error
        matches = [row for row in rows if row.order_info.order_number == order_number]
        return matches[0] if matches else None

    async def cancel_outbound_order(self, order_number: str) -> CancelOutcome:
        """Check the status first, then DELETE; never report CANCELLED unless Ongoing agrees.

        A refusal of the DELETE is re-read: a concurrent cancel makes it CANCELLED, anything
        else means the warehouse got there first (reference §7).
        """
        order = await self._order_by_number(order_number)
        if order is None:
            return CancelOutcome.NOT_FOUND
        outcome = self._cancel_state(order)
        if outcome is not None:
            return outcome
        try:
            await self._api.write("DELETE", f"orders/{order.order_info.order_id}")
        except NotFoundError:
            return CancelOutcome.NOT_FOUND
        except RemoteRefusedError:
            reread = await self._order_by_number(order_number)
            if reread is None:
                return CancelOutcome.NOT_FOUND
            return self._cancel_state(reread) or CancelOutcome.TOO_LATE
        return CancelOutcome.CANCELLED

    def _cancel_state(self, order: GetOrderModel) -> CancelOutcome | None:
        status = order.order_info.order_status.number
        if status in self.statuses.cancelled:
            return CancelOutcome.CANCELLED
        picked = any(line.picked_number_of_items > 0 for line in order.order_lines)
        if status in self.statuses.started or picked:
            return CancelOutcome.TOO_LATE
        return None

    async def list_shipped_unreported(self) -> Listing[ShippedOrder]:
        return await listed(self.iter_shipped_unreported())

    async def iter_shipped_unreported(self) -> AsyncGenerator[Listing[ShippedOrder]]:
        pages = self._order_pages([("onlyOrdersWithOrderLinesToReport", True)])
        async with aclosing(pages):
            async for rows in pages:
                page = []
                for row in rows:
                    if row.order_info.order_status.number not in self.statuses.reportable:
                        continue
                    order = mapping.shipped_order(row, self.statuses)
                    if any(line.unreported > 0 for line in order.lines):
                        page.append(order)
                yield Listing(tuple(page), rows.rejected)

    async def mark_lines_reported(
        self, order: ShippedOrder, reported: Mapping[str, Decimal]
    ) -> None:
        lines = {line.line_key: (line.wms_line_id, line.picked) for line in order.lines}
        await self._patch_lines(
            f"order {order.order_number!r}",
            f"orders/{order.wms_id}/lines/{{}}/reportedNumberOfItems",
            lines,
            reported,
            lambda value: ReportedNumberOfItems(reported_number_of_items=value),
        )

    async def list_returns_unreported(self) -> Listing[ReturnedOrder]:
        rows = await listed(self._order_pages([("onlyOrdersWithOrderLinesToReportReturned", True)]))
        orders = [mapping.returned_order(row) for row in rows]
        unreported = (o for o in orders if any(line.unreported > 0 for line in o.lines))
        return Listing(tuple(unreported), rows.rejected)

    async def mark_returns_reported(
        self, order: ReturnedOrder, reported: Mapping[str, Decimal]
    ) -> None:
        lines = {line.line_key: (line.wms_line_id, line.returned) for line in order.lines}
        await self._patch_lines(
            f"returned order {order.order_number!r}",
            f"orders/{order.wms_id}/lines/{{}}/reportedReturnedNumberOfItems",
            lines,
            reported,
            lambda value: ReportedReturnedNumberOfItems(reported_returned_number_of_items=value),
        )

    async def list_return_orders(
        self, returned_since: datetime | None = None
    ) -> Listing[ReturnedOrder]:
        """Return orders with goods back on them; ``GET /returnOrders`` has no paging, so
        ``returned_since`` (``goodsReturnedFromDate``) keeps the read small."""
        params: list[tuple[str, str | int | float | bool | None]] = []
        if returned_since is not None:
            if returned_since.utcoffset() is None:
                raise ValueError("list_return_orders: returned_since must be timezone-aware")
            params.append(("goodsReturnedFromDate", _format_time(returned_since)))
        rows = await self._api.listing("returnOrders", GetReturnOrderModel, _RETURN_ORDER, params)
        orders = [mapping.return_order_returns(row) for row in rows]
        returned = (o for o in orders if any(line.returned > 0 for line in o.lines))
        return Listing(tuple(returned), rows.rejected)

    # -- in-orders ------------------------------------------------------------------------------

    async def upsert_in_order(self, in_order: InOrder) -> OrderRef:
        body = mapping.to_post_purchase_order(in_order, self.goods_owner_id)
        answer = await self._api.put("purchaseOrders", body, PostPurchaseOrderResponse)
        return OrderRef(in_order.in_order_number, str(answer.purchase_order_id))

    async def list_received_unreported(self) -> Listing[ReceivedInOrder]:
        rows = await listed(
            self._api.pages(
                "purchaseOrders",
                GetPurchaseOrderModel,
                row_id=lambda row: row.purchase_order_info.purchase_order_id,
                cursor_param="purchaseOrderIdFrom",
                size_param="maxPurchaseOrdersToGet",
                params=[("onlyPurchaseOrdersWithOrderLinesToReport", True)],
                identity=_PURCHASE_ORDER,
            )
        )
        in_orders = [mapping.received_in_order(row) for row in rows]
        unreported = (o for o in in_orders if any(line.unreported > 0 for line in o.lines))
        return Listing(tuple(unreported), rows.rejected)

    async def mark_receipts_reported(
        self, in_order: ReceivedInOrder, reported: Mapping[str, Decimal]
    ) -> None:
        lines = {line.line_key: (line.wms_line_id, line.received) for line in in_order.lines}
        await self._patch_lines(
            f"in-order {in_order.in_order_number!r}",
            f"purchaseOrders/{in_order.wms_id}/lines/{{}}/reportedNumberOfItems",
            lines,
            reported,
            lambda value: ReportedNumberOfItems(reported_number_of_items=value),
        )

    async def _patch_lines(
        self,
        record: str,
        path_template: str,
        lines: Mapping[str, tuple[str | None, Decimal]],
        reported: Mapping[str, Decimal],
        body: Callable[[float], ReportedNumberOfItems | ReportedReturnedNumberOfItems],
    ) -> None:
        """Validate every mark before sending any, then PATCH each line's cumulative value."""
        targets: list[tuple[str, float]] = []
        for key, value in reported.items():
            if key not in lines:
                raise RecordValidationError(
                    f"no line with this key (known: {sorted(lines)})", record=record, field=key
                )
            line_id, ceiling = lines[key]
            if line_id is None:
                raise RecordValidationError("line has no warehouse id", record=record, field=key)
            if not value.is_finite() or value < 0 or value > ceiling:
                raise RecordValidationError(
                    f"cumulative reported quantity {value} is outside 0..{ceiling}",
                    record=record,
                    field=key,
                )
            targets.append((path_template.format(line_id), float(value)))
        for path, amount in targets:
            await self._api.write("PATCH", path, body(amount))
