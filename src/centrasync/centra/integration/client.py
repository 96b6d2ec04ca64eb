"""Typed async calls for Centra's Integration API (GraphQL), on the Order API's HTTP seam.

Three layers, as for the Order API (style.md §1): :class:`~centrasync.http.ResilientTransport`
retries (honouring ``Retry-After``) around :class:`~centrasync.http.quota.PacedTransport`,
which holds each attempt back until the environment's quota can pay for it;
:class:`~.requestor.IntegrationApiRequestor` speaks GraphQL over HTTP and maps errors; and
:class:`IntegrationApiClient` turns the operations in ``operations/*.graphql`` into typed
calls returning the models of :mod:`.models`.

The quota: Centra's limits are per environment and shared by every integration, so one
:class:`~centrasync.http.quota.QuotaBudget` serves every client on the same endpoint and
paces requests so its buckets are never overdrawn. It assumes the Growth plan until the
client has read ``rateLimits``: before its first call (the other callers wait for that
read), again every ``quota_refresh`` seconds (what other integrations spent shows up there)
and after a 429. Each answer's ``extensions.complexity`` is settled against what the
request reserved.

Mutations: ``userErrors`` raise :class:`~centrasync.errors.MutationRefusedError` naming the
mutation and each error's input path; ``userWarnings`` come back in
:class:`~.models.MutationResult` and are logged.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import httpx
import structlog
from pydantic import SecretStr, TypeAdapter, ValidationError

from centrasync.errors import MalformedResponseError, MutationRefusedError, RecordValidationError
from centrasync.http import AsyncClosing, Priority, RetryPolicy
from centrasync.http.quota import PacedTransport, QuotaBudget
from centrasync.http.transports import ResilientTransport

from .models import (
    CatalogueProduct,
    Connection,
    Counters,
    Currency,
    Event,
    EventListener,
    IdConversion,
    Market,
    MutationResult,
    Notice,
    Order,
    OrderHistory,
    Product,
    ProductSizeStock,
    PurchaseOrder,
    PurchaseOrderDelivery,
    RateLimit,
    Return,
    Shipment,
    StockChange,
    Store,
    Warehouse,
)
from .operations import operation
from .paging import connection_pages, list_pages
from .requestor import SYSTEM, Answer, IntegrationApiRequestor, dump_variables

__all__ = ["GROWTH", "IntegrationApiClient", "ShipmentInfo", "StockAction", "assume_plan"]

T = TypeVar("T")
Where = Mapping[str, Any]
SizeKey = Literal["SKU", "EAN", "UPC", "any"]

_FLOW = Priority.ORDER_FLOW
_CATALOGUE = Priority.CATALOGUE
_RATE_LIMITS = "rate_limits"
_log = structlog.get_logger(__name__)

GROWTH: dict[tuple[str, float], float] = {
    ("requests", 10): 60,
    ("requests", 3600): 5_000,
    ("complexity", 10): 250_000,
    ("complexity", 3600): 30_000_000,
    ("mutations", 10): 20,
    ("mutations", 3600): 1_800,
}
"""Centra's default plan (centra.dev, "Rate limits"): quota per (bucket kind, window)."""


def assume_plan(budget: QuotaBudget, plan: Mapping[tuple[str, float], float]) -> None:
    """Start ``budget`` with full buckets of ``plan`` until ``rateLimits`` says otherwise;
    a client with a new budget assumes :data:`GROWTH`, the plan most environments have."""
    at = budget.now()
    for (kind, seconds), quota in plan.items():
        budget.sync(kind, seconds, quota, quota, at)


@dataclass(frozen=True)
class ShipmentInfo:
    """``ShipmentInfoInput``: carrier, service, packages and tracking of a shipment."""

    carrier: str | None = None
    service: str | None = None
    packages: int | None = None
    tracking_number: str | None = None
    return_tracking_number: str | None = None

    def as_input(self) -> dict[str, Any]:
        return {
            "carrier": self.carrier,
            "service": self.service,
            "packagesNumber": self.packages,
            "trackingNumber": self.tracking_number,
            "returnTrackingNumber": self.return_tracking_number,
        }


StockAction = Literal["release", "remove"] | int
"""What a return does with its goods: back to their warehouse, out of stock, or into the
warehouse with this id."""


def _stock_policy(action: StockAction) -> dict[str, Any]:
    if action == "release":
        return {"releaseItemsBackToWarehouse": True}
    if action == "remove":
        return {"removeItemsFromStock": True}
    return {"sendItemsToDifferentWarehouse": {"id": action}}


def _order_input(order: int | str) -> dict[str, Any]:
    """An order number (digits) or the 32-hex order id."""
    text = str(order).strip()
    return {"number": int(text)} if text.isdigit() else {"id": text}


@functools.cache
def _adapter(kind: Any) -> TypeAdapter[Any]:
    """One validator per result type: building one costs far more than using it."""
    return TypeAdapter(kind)


class IntegrationApiClient(AsyncClosing):
    """One Integration API endpoint (``https://<env>.centra.com/graphql``) and its token.

    An async context manager owning the ``httpx.AsyncClient`` it builds around ``transport``
    (default: the network). ``budget`` is shared by every client of the environment (None:
    no pacing, a 429 is still honoured); ``sleep`` is what retries wait with and ``now``
    what a ``Retry-After`` time is read against.
    """

    def __init__(
        self,
        url: str,
        token: SecretStr,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        budget: QuotaBudget | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        quota_refresh: float = 60.0,
    ) -> None:
        self.url = url
        self.budget = budget
        self.quota_refresh = quota_refresh
        inner = transport or httpx.AsyncHTTPTransport()
        if budget is not None:
            if not budget.known:
                assume_plan(budget, GROWTH)
            inner = PacedTransport(inner, budget, now=now)
        self.transport = ResilientTransport(inner, policy=retry, sleep=sleep, now=now)
        secret = token.get_secret_value()
        # Not a base_url: httpx would add a slash to it, and /graphql/ is another path.
        self._http = httpx.AsyncClient(
            transport=self.transport,
            timeout=httpx.Timeout(timeout),
            headers={"Authorization": f"Bearer {secret}", "Accept": "application/json"},
        )
        self._api = IntegrationApiRequestor(
            self._http, url, secret, self.transport, budget, now=now
        )

    def __repr__(self) -> str:
        return f"IntegrationApiClient(url={self.url!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- plumbing ------------------------------------------------------------------------

    async def execute(
        self,
        name: str,
        variables: Mapping[str, Any] | None = None,
        *,
        priority: Priority = _FLOW,
        raise_errors: bool = True,
    ) -> Answer:
        """Run the operation in ``operations/<name>.graphql``; the raw checked answer.

        ``raise_errors=False`` hands a 200's field errors back in the answer.
        """
        if name != _RATE_LIMITS:
            await self._refresh_quota()
        return await self._api.execute(
            operation(name),
            dump_variables(dict(variables or {})),
            priority=priority,
            raise_errors=raise_errors,
        )

    def _quota_known(self, budget: QuotaBudget) -> bool:
        synced = budget.synced_at
        fresh = synced is not None and budget.now() - synced < self.quota_refresh
        return fresh and not budget.stale

    async def _refresh_quota(self) -> None:
        """Read ``rateLimits`` when the budget's figures are old or stale; one caller reads
        while the others sharing the budget wait for its figures instead of sending blind."""
        budget = self.budget
        if budget is None or self._quota_known(budget):
            return
        async with budget.refreshing:
            if not self._quota_known(budget):
                await self.rate_limits()

    def _parse(self, kind: Any, value: Any, record: str, endpoint: str) -> Any:
        try:
            return _adapter(kind).validate_python(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "(record)"
            raise RecordValidationError(
                first["msg"],
                record=record,
                field=field,
                system=SYSTEM,
                endpoint=endpoint,
                details={"payload": value},
            ) from exc

    async def _list(
        self, name: str, field: str, kind: type[T], variables: Mapping[str, Any], priority: Priority
    ) -> list[T]:
        answer = await self.execute(name, variables, priority=priority)
        rows = answer.data.get(field)
        endpoint = f"query {operation(name).name}"
        if not isinstance(rows, list):
            raise MalformedResponseError(f"{field} is not a list", system=SYSTEM, endpoint=endpoint)
        return [self._parse(kind, row, f"{field}[{i}]", endpoint) for i, row in enumerate(rows)]

    async def _connection(
        self, name: str, field: str, kind: type[T], variables: Mapping[str, Any], priority: Priority
    ) -> Connection[T]:
        answer = await self.execute(name, variables, priority=priority)
        endpoint = f"query {operation(name).name}"
        page: Connection[T] = self._parse(Connection[kind], answer.data.get(field), field, endpoint)  # type: ignore[valid-type]
        return page

    async def _mutate(
        self, name: str, variables: Mapping[str, Any]
    ) -> tuple[dict[str, Any], tuple[Notice, ...]]:
        op = operation(name)
        answer = await self.execute(name, variables, priority=_FLOW)
        field = next(iter(answer.data), None)
        payload = answer.data.get(field) if field else None
        endpoint = f"mutation {op.name}"
        if field is None or not isinstance(payload, dict):
            raise MalformedResponseError("no mutation payload", system=SYSTEM, endpoint=endpoint)
        errors = self._parse(tuple[Notice, ...], payload.get("userErrors"), field, endpoint)
        warnings = self._parse(tuple[Notice, ...], payload.get("userWarnings"), field, endpoint)
        if errors:
            listed = "; ".join(f"{e.message} (at {e.where})" for e in errors)
            raise MutationRefusedError(
                f"{field} refused: {listed}",
                mutation=field,
                user_errors=tuple((e.message, e.where) for e in errors),
                remote_message=listed,
                system=SYSTEM,
                endpoint=endpoint,
            )
        for warning in warnings:
            _log.warning(
                "integration api warning",
                mutation=field,
                message=warning.message,
                path=warning.where,
            )
        return payload, warnings

    def _result(
        self, name: str, kind: Any, value: Any, warnings: tuple[Notice, ...]
    ) -> MutationResult[Any]:
        parsed = self._parse(kind, value, name, f"mutation {operation(name).name}")
        return MutationResult[Any](value=parsed, warnings=warnings)

    @staticmethod
    def _list_vars(
        where: Where | None, sort: Sequence[str] | None, limit: int, page: int
    ) -> dict[str, Any]:
        if not 1 <= limit <= 200:
            raise ValueError(f"limit must be between 1 and 200, got {limit}")
        if page < 1:
            raise ValueError(f"page counts from 1, got {page}")
        return {"where": where, "sort": list(sort) if sort else None, "limit": limit, "page": page}

    @staticmethod
    def _connection_vars(
        where: Where | None, sort: Sequence[str] | None, first: int, after: str | None
    ) -> dict[str, Any]:
        if not 1 <= first <= 200:
            raise ValueError(f"first must be between 1 and 200, got {first}")
        return {
            "where": where,
            "sort": list(sort) if sort else None,
            "first": first,
            "after": after,
        }

    # -- orders --------------------------------------------------------------------------

    async def orders(
        self,
        where: Where | None = None,
        *,
        sort: Sequence[str] | None = None,
        limit: int = 20,
        page: int = 1,
    ) -> list[Order]:
        """One page of ``orders``; ``where`` is an ``OrderFilter`` (aware datetimes allowed)."""
        return await self._list(
            "orders", "orders", Order, self._list_vars(where, sort, limit, page), _FLOW
        )

    def all_orders(
        self, where: Where | None = None, *, sort: Sequence[str] | None = None, limit: int = 200
    ) -> AsyncIterator[Sequence[Order]]:
        """Every page of ``orders``; stops on a short page, raises on a repeated one."""
        return list_pages(
            lambda page: self.orders(where, sort=sort, limit=limit, page=page),
            limit=limit,
            key=lambda order: order.id,
            what="orders",
        )

    async def order_history(
        self,
        where: Where | None = None,
        *,
        sort: Sequence[str] | None = None,
        limit: int = 20,
        page: int = 1,
        attributes: bool = True,
        discounts: bool = True,
    ) -> list[OrderHistory]:
        """One page of ``orders`` as analytics reads them: fully cancelled lines too,
        totals, store, market, addresses, and (unless asked not to) discounts and custom
        attributes."""
        variables = {
            **self._list_vars(where, sort, limit, page),
            "attributes": attributes,
            "discounts": discounts,
        }
        return await self._list("order_history", "orders", OrderHistory, variables, _CATALOGUE)

    def all_order_history(
        self,
        where: Where | None = None,
        *,
        sort: Sequence[str] | None = None,
        limit: int = 200,
        attributes: bool = True,
        discounts: bool = True,
    ) -> AsyncIterator[Sequence[OrderHistory]]:
        """Every page of :meth:`order_history`."""
        return list_pages(
            lambda page: self.order_history(
                where,
                sort=sort,
                limit=limit,
                page=page,
                attributes=attributes,
                discounts=discounts,
            ),
            limit=limit,
            key=lambda order: order.id,
            what="orders",
        )

    async def order_connection(
        self,
        where: Where | None = None,
        *,
        sort: Sequence[str] | None = None,
        first: int = 100,
        after: str | None = None,
    ) -> Connection[Order]:
        variables = self._connection_vars(where, sort, first, after)
        return await self._connection(
            "order_connection", "orderConnection", Order, variables, _FLOW
        )

    def order_pages(
        self,
        where: Where | None = None,
        *,
        sort: Sequence[str] | None = None,
        first: int = 100,
        after: str | None = None,
    ) -> AsyncIterator[Connection[Order]]:
        """``orderConnection`` from ``after`` on; raises when a cursor does not advance."""
        return connection_pages(
            lambda cursor: self.order_connection(where, sort=sort, first=first, after=cursor),
            what="orderConnection",
            after=after,
        )

    async def confirm_order(self, order: int | str) -> MutationResult[Order]:
        """Pending to confirmed; an already confirmed order is a warning, not an error."""
        payload, warnings = await self._mutate(
            "confirm_order", {"input": {"order": _order_input(order)}}
        )
        return self._result("confirm_order", Order, payload.get("order"), warnings)

    # -- shipments -----------------------------------------------------------------------

    async def shipments(
        self,
        where: Where | None = None,
        *,
        sort: Sequence[str] | None = None,
        limit: int = 20,
        page: int = 1,
    ) -> list[Shipment]:
        """One page of ``shipments``; the pick list is
        ``{"isGoodToGo": True, "isShipped": False}``."""
        return await self._list(
            "shipments", "shipments", Shipment, self._list_vars(where, sort, limit, page), _FLOW
        )

    def all_shipments(
        self, where: Where | None = None, *, sort: Sequence[str] | None = None, limit: int = 200
    ) -> AsyncIterator[Sequence[Shipment]]:
        return list_pages(
            lambda page: self.shipments(where, sort=sort, limit=limit, page=page),
            limit=limit,
            key=lambda shipment: shipment.id,
            what="shipments",
        )

    async def shipment_connection(
        self,
        where: Where | None = None,
        *,
        sort: Sequence[str] | None = None,
        first: int = 100,
        after: str | None = None,
    ) -> Connection[Shipment]:
        variables = self._connection_vars(where, sort, first, after)
        return await self._connection(
            "shipment_connection", "shipmentConnection", Shipment, variables, _FLOW
        )

    def shipment_pages(
        self,
        where: Where | None = None,
        *,
        sort: Sequence[str] | None = None,
        first: int = 100,
        after: str | None = None,
    ) -> AsyncIterator[Connection[Shipment]]:
        return connection_pages(
            lambda cursor: self.shipment_connection(where, sort=sort, first=first, after=cursor),
            what="shipmentConnection",
            after=after,
        )

    async def create_shipment(
        self,
        order: int | str,
        lines: Mapping[int, int] | None = None,
        *,
        good_to_go: bool | None = None,
        capture: bool | None = None,
        paid: bool | None = None,
        shipped_at: datetime | None = None,
        info: ShipmentInfo | None = None,
        send_email: bool | None = None,
        message: str | None = None,
        external_id: str | None = None,
    ) -> MutationResult[Shipment]:
        """A shipment of ``{orderLine id: quantity}`` (default: all not yet shipped).

        A declined capture is a warning with ``is_captured`` False, not an error. Not
        retried after an ambiguous failure: it could make a second shipment.
        """
        shipment_input = {
            "order": _order_input(order),
            "lines": None
            if lines is None
            else [{"orderLine": {"id": line}, "quantity": qty} for line, qty in lines.items()],
            "isGoodToGo": good_to_go,
            "capture": capture,
            "isPaid": paid,
            "shippedAt": shipped_at,
            "shipmentInfo": info.as_input() if info else None,
            "sendEmail": send_email,
            "additionalMessage": message,
            "externalId": external_id,
        }
        payload, warnings = await self._mutate("create_shipment", {"input": shipment_input})
        return self._result("create_shipment", Shipment, payload.get("shipment"), warnings)

    async def update_shipment(
        self,
        shipment_id: int,
        *,
        info: ShipmentInfo | None = None,
        message: str | None = None,
        good_to_go: bool | None = None,
        paid: bool | None = None,
        external_id: str | None = None,
    ) -> MutationResult[Shipment]:
        update = {
            "shipmentInfo": info.as_input() if info else None,
            "additionalMessage": message,
            "isGoodToGo": good_to_go,
            "isPaid": paid,
            "externalId": external_id,
        }
        payload, warnings = await self._mutate(
            "update_shipment", {"id": shipment_id, "input": update}
        )
        return self._result("update_shipment", Shipment, payload.get("shipment"), warnings)

    async def capture_shipment(self, shipment_id: int) -> MutationResult[Shipment]:
        """Capture now; a declined capture raises :class:`MutationRefusedError`."""
        payload, warnings = await self._mutate("capture_shipment", {"id": shipment_id})
        return self._result("capture_shipment", Shipment, payload.get("shipment"), warnings)

    async def complete_shipment(
        self,
        shipment_id: int,
        *,
        shipped_at: datetime | None = None,
        info: ShipmentInfo | None = None,
        send_email: bool | None = None,
        message: str | None = None,
    ) -> MutationResult[Shipment]:
        """Mark a paid, Good-to-Go shipment sent, with carrier and tracking."""
        complete = {
            "shippedAt": shipped_at,
            "shipmentInfo": info.as_input() if info else None,
            "sendEmail": send_email,
            "additionalMessage": message,
        }
        payload, warnings = await self._mutate(
            "complete_shipment", {"id": shipment_id, "input": complete}
        )
        return self._result("complete_shipment", Shipment, payload.get("shipment"), warnings)

    # -- returns -------------------------------------------------------------------------

    async def returns(
        self,
        where: Where | None = None,
        *,
        sort: Sequence[str] | None = None,
        limit: int = 20,
        page: int = 1,
    ) -> list[Return]:
        return await self._list(
            "returns", "returns", Return, self._list_vars(where, sort, limit, page), _FLOW
        )

    def all_returns(
        self, where: Where | None = None, *, sort: Sequence[str] | None = None, limit: int = 200
    ) -> AsyncIterator[Sequence[Return]]:
        return list_pages(
            lambda page: self.returns(where, sort=sort, limit=limit, page=page),
            limit=limit,
            key=lambda ret: ret.id,
            what="returns",
        )

    async def create_return(
        self,
        shipment_id: int,
        lines: Mapping[int, int],
        *,
        stock: StockAction = "release",
        comment: str | None = None,
        external_id: str | None = None,
        created_at: datetime | None = None,
    ) -> MutationResult[Return]:
        """A return of ``{shipment line id: quantity}``; lines that cannot be returned are
        warnings. Not retried after an ambiguous failure: it could return twice."""
        return_input = {
            "shipment": {"id": shipment_id},
            "lines": [
                {"shipmentLine": {"id": line}, "quantity": qty} for line, qty in lines.items()
            ],
            "returnStockActionPolicy": _stock_policy(stock),
            "comment": comment,
            "externalId": external_id,
            "createdAt": created_at,
        }
        payload, warnings = await self._mutate("create_return", {"input": return_input})
        return self._result("create_return", Return, payload.get("return"), warnings)

    # -- catalogue, warehouses and stock ---------------------------------------------------

    async def products(
        self,
        where: Where | None = None,
        *,
        sort: Sequence[str] | None = None,
        limit: int = 20,
        page: int = 1,
    ) -> list[Product]:
        """Products with their variants and sizes."""
        return await self._list(
            "products", "products", Product, self._list_vars(where, sort, limit, page), _CATALOGUE
        )

    def all_products(
        self, where: Where | None = None, *, sort: Sequence[str] | None = None, limit: int = 200
    ) -> AsyncIterator[Sequence[Product]]:
        return list_pages(
            lambda page: self.products(where, sort=sort, limit=limit, page=page),
            limit=limit,
            key=lambda product: product.id,
            what="products",
        )

    async def catalogue(
        self,
        where: Where | None = None,
        *,
        sort: Sequence[str] | None = None,
        limit: int = 20,
        page: int = 1,
        attributes: bool = True,
    ) -> list[CatalogueProduct]:
        """Products, variants and sizes with (unless asked not to) their custom
        attributes (analytics)."""
        variables = {**self._list_vars(where, sort, limit, page), "attributes": attributes}
        return await self._list("catalogue", "products", CatalogueProduct, variables, _CATALOGUE)

    def all_catalogue(
        self,
        where: Where | None = None,
        *,
        sort: Sequence[str] | None = None,
        limit: int = 200,
        attributes: bool = True,
    ) -> AsyncIterator[Sequence[CatalogueProduct]]:
        return list_pages(
            lambda page: self.catalogue(
                where, sort=sort, limit=limit, page=page, attributes=attributes
            ),
            limit=limit,
            key=lambda product: product.id,
            what="products",
        )

    async def stores(self, *, limit: int = 200, page: int = 1) -> list[Store]:
        variables = {"limit": limit, "page": page}
        return await self._list("stores", "stores", Store, variables, _CATALOGUE)

    async def markets(self, *, limit: int = 200, page: int = 1) -> list[Market]:
        variables = {"limit": limit, "page": page}
        return await self._list("markets", "markets", Market, variables, _CATALOGUE)

    async def currencies(
        self, where: Where | None = None, *, limit: int = 200, page: int = 1
    ) -> list[Currency]:
        """``currencies``; ``{"isBase": True}`` is the base one, as Centra reads it."""
        variables = {"where": where, "limit": limit, "page": page}
        return await self._list("currencies", "currencies", Currency, variables, _CATALOGUE)

    async def product_sizes_stock(
        self,
        where: Where | None = None,
        *,
        warehouses: Sequence[int] | None = None,
        sort: Sequence[str] | None = None,
        limit: int = 20,
        page: int = 1,
    ) -> list[ProductSizeStock]:
        """Sizes with stock per warehouse (``warehouses``: all when None) and in total."""
        variables = {**self._list_vars(where, sort, limit, page), "warehouses": warehouses}
        return await self._list(
            "product_sizes_stock", "productSizes", ProductSizeStock, variables, _CATALOGUE
        )

    def all_product_sizes_stock(
        self,
        where: Where | None = None,
        *,
        warehouses: Sequence[int] | None = None,
        limit: int = 200,
    ) -> AsyncIterator[Sequence[ProductSizeStock]]:
        return list_pages(
            lambda page: self.product_sizes_stock(
                where, warehouses=warehouses, limit=limit, page=page
            ),
            limit=limit,
            key=lambda size: size.id,
            what="productSizes",
        )

    async def warehouses(
        self,
        where: Where | None = None,
        *,
        sort: Sequence[str] | None = None,
        limit: int = 20,
        page: int = 1,
    ) -> list[Warehouse]:
        return await self._list(
            "warehouses",
            "warehouses",
            Warehouse,
            self._list_vars(where, sort, limit, page),
            _CATALOGUE,
        )

    async def stock_changes(
        self,
        where: Where | None = None,
        *,
        sort: Sequence[str] | None = None,
        limit: int = 20,
        page: int = 1,
    ) -> list[StockChange]:
        return await self._list(
            "stock_changes",
            "stockChanges",
            StockChange,
            self._list_vars(where, sort, limit, page),
            _CATALOGUE,
        )

    async def stock_change_connection(
        self,
        where: Where | None = None,
        *,
        sort: Sequence[str] | None = None,
        first: int = 100,
        after: str | None = None,
    ) -> Connection[StockChange]:
        variables = self._connection_vars(where, sort, first, after)
        return await self._connection(
            "stock_change_connection", "stockChangeConnection", StockChange, variables, _CATALOGUE
        )

    def stock_change_pages(
        self,
        where: Where | None = None,
        *,
        sort: Sequence[str] | None = None,
        first: int = 100,
        after: str | None = None,
    ) -> AsyncIterator[Connection[StockChange]]:
        return connection_pages(
            lambda cursor: self.stock_change_connection(
                where, sort=sort, first=first, after=cursor
            ),
            what="stockChangeConnection",
            after=after,
        )

    async def set_stock(
        self,
        warehouse_id: int,
        quantities: Mapping[str, int],
        *,
        description: str,
        by: SizeKey = "SKU",
        quantity_type: Literal["PHYSICAL", "FREE_TO_ALLOCATE"] = "PHYSICAL",
    ) -> MutationResult[tuple[StockChange, ...]]:
        """Absolute levels in one warehouse, ``{size key: quantity}`` (keys are ``by``).

        Absolute, so a repeat after an ambiguous failure changes nothing more.
        """
        stock_input = {
            "warehouse": {"id": warehouse_id},
            "description": description,
            "stockQuantityType": quantity_type,
            "productSizes": [
                {"productSize": {by: key}, "quantity": qty} for key, qty in quantities.items()
            ],
        }
        payload, warnings = await self._mutate("set_stock", {"input": stock_input})
        return self._result(
            "set_stock", tuple[StockChange, ...], payload.get("stockChanges"), warnings
        )

    async def change_stock(
        self,
        deltas: Mapping[str, int],
        *,
        description: str,
        into: int | None = None,
        out_of: int | None = None,
        by: SizeKey = "SKU",
    ) -> MutationResult[StockChange | None]:
        """Units into warehouse ``into``, out of ``out_of``, or from one to the other.

        Relative, so never repeated after an ambiguous failure.
        """
        if into is None and out_of is None:
            raise ValueError("name the warehouse to change: into, out_of or both")
        change_input = {
            "intoWarehouse": None if into is None else {"id": into},
            "outFromWarehouse": None if out_of is None else {"id": out_of},
            "description": description,
            "productSizes": [
                {"productSize": {by: key}, "deliveredQuantity": qty} for key, qty in deltas.items()
            ],
        }
        payload, warnings = await self._mutate("change_stock", {"input": change_input})
        return self._result(
            "change_stock", StockChange | None, payload.get("stockChange"), warnings
        )

    # -- purchasing ----------------------------------------------------------------------

    async def purchase_orders(
        self,
        where: Where | None = None,
        *,
        sort: Sequence[str] | None = None,
        limit: int = 20,
        page: int = 1,
    ) -> list[PurchaseOrder]:
        return await self._list(
            "purchase_orders",
            "purchaseOrders",
            PurchaseOrder,
            self._list_vars(where, sort, limit, page),
            _CATALOGUE,
        )

    async def purchase_order_deliveries(
        self,
        where: Where | None = None,
        *,
        sort: Sequence[str] | None = None,
        limit: int = 20,
        page: int = 1,
    ) -> list[PurchaseOrderDelivery]:
        return await self._list(
            "purchase_order_deliveries",
            "purchaseOrderDeliveries",
            PurchaseOrderDelivery,
            self._list_vars(where, sort, limit, page),
            _CATALOGUE,
        )

    async def purchase_order_delivery_connection(
        self,
        where: Where | None = None,
        *,
        sort: Sequence[str] | None = None,
        first: int = 100,
        after: str | None = None,
    ) -> Connection[PurchaseOrderDelivery]:
        variables = self._connection_vars(where, sort, first, after)
        return await self._connection(
            "purchase_order_delivery_connection",
            "purchaseOrderDeliveryConnection",
            PurchaseOrderDelivery,
            variables,
            _CATALOGUE,
        )

    def purchase_order_delivery_pages(
        self,
        where: Where | None = None,
        *,
        sort: Sequence[str] | None = None,
        first: int = 100,
        after: str | None = None,
    ) -> AsyncIterator[Connection[PurchaseOrderDelivery]]:
        return connection_pages(
            lambda cursor: self.purchase_order_delivery_connection(
                where, sort=sort, first=first, after=cursor
            ),
            what="purchaseOrderDeliveryConnection",
            after=after,
        )

    # -- counters, rate limits -----------------------------------------------------------

    async def counters(
        self,
        *,
        orders: Where | None = None,
        shipments: Where | None = None,
        returns: Where | None = None,
        products: Where | None = None,
    ) -> Counters:
        """Counts of what the list queries would return under these filters."""
        variables = {
            "orders": orders,
            "shipments": shipments,
            "returns": returns,
            "products": products,
        }
        answer = await self.execute("counters", variables)
        parsed: Counters = self._parse(
            Counters, answer.data.get("counters"), "counters", "query Counters"
        )
        return parsed

    async def rate_limits(self) -> list[RateLimit]:
        """The environment's six buckets; the shared budget is brought in line with them."""
        answer = await self.execute(_RATE_LIMITS)
        limits: list[RateLimit] = self._parse(
            list[RateLimit], answer.data.get("rateLimits"), "rateLimits", "query RateLimits"
        )
        budget = self.budget
        if budget is not None and answer.answered_at is not None:
            replace, budget.stale = budget.stale, False
            kinds = {
                "REQUEST_COUNT": "requests",
                "QUERY_COMPLEXITY": "complexity",
                "MUTATION_COUNT": "mutations",
            }
            for limit in limits:
                budget.sync(
                    kinds[limit.type],
                    limit.seconds,
                    limit.quota,
                    limit.remaining_quota,
                    answer.answered_at,
                    replace=replace,
                )
            budget.synced_at = answer.answered_at
        return limits

    # -- events and ID conversion --------------------------------------------------------

    async def events(self, where: Where | None = None, *, limit: int = 100) -> list[Event]:
        """The oldest unconfirmed events: the same ones until :meth:`confirm_events`."""
        if not 1 <= limit <= 200:
            raise ValueError(f"limit must be between 1 and 200, got {limit}")
        return await self._list("events", "events", Event, {"where": where, "limit": limit}, _FLOW)

    async def event_listeners(self) -> list[EventListener]:
        return await self._list("event_listeners", "eventListeners", EventListener, {}, _FLOW)

    async def set_event_listeners(
        self, listeners: Mapping[str, Sequence[str] | None]
    ) -> MutationResult[tuple[EventListener, ...]]:
        """``{object type: change types or None for all}``; merges with existing ones."""
        payload, warnings = await self._mutate(
            "set_event_listeners", {"input": _listener_input(listeners)}
        )
        return self._result(
            "set_event_listeners",
            tuple[EventListener, ...],
            payload.get("eventListeners"),
            warnings,
        )

    async def unset_event_listeners(
        self, listeners: Mapping[str, Sequence[str] | None]
    ) -> MutationResult[tuple[EventListener, ...]]:
        """Removes listeners (or some change types) and deletes their queued events."""
        payload, warnings = await self._mutate(
            "unset_event_listeners", {"input": _listener_input(listeners)}
        )
        return self._result(
            "unset_event_listeners",
            tuple[EventListener, ...],
            payload.get("eventListeners"),
            warnings,
        )

    async def confirm_events(self, ids: Sequence[int]) -> MutationResult[tuple[int, ...]]:
        """Confirms events (even ignored ones must be); the ids confirmed by this call."""
        payload, warnings = await self._mutate(
            "confirm_events", {"input": {"eventsIds": list(ids)}}
        )
        events = payload.get("events")
        confirmed = [e.get("id") for e in events] if isinstance(events, list) else events
        return self._result("confirm_events", tuple[int, ...], confirmed, warnings)

    async def id_conversions(
        self, where: Where | None = None, *, limit: int = 20, page: int = 1
    ) -> list[IdConversion]:
        variables = {"where": where, "limit": limit, "page": page}
        return await self._list("id_conversions", "idConversions", IdConversion, variables, _FLOW)

    async def set_id_conversions(
        self, entries: Sequence[tuple[str, int, str]]
    ) -> MutationResult[tuple[IdConversion, ...]]:
        """``(object type, internal id, external id)`` each; a collision overwrites."""
        conversions = [
            {"objectType": kind, "internalId": internal, "externalId": external}
            for kind, internal, external in entries
        ]
        payload, warnings = await self._mutate("set_id_conversions", {"input": conversions})
        return self._result(
            "set_id_conversions",
            tuple[IdConversion, ...],
            payload.get("idConversions"),
            warnings,
        )


def _listener_input(listeners: Mapping[str, Sequence[str] | None]) -> list[dict[str, Any]]:
    return [
        {"objectType": kind, "changeTypes": None if changes is None else list(changes)}
        for kind, changes in listeners.items()
    ]
