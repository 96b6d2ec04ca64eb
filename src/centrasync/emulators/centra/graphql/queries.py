"""The Query type: list queries, Relay connections, counters, events, ID conversion, limits.

Filters follow Centra's filter inputs (lists mean "any of", ranges are inclusive [I], a
``StringMatch`` takes exactly one of equals / contains / startsWith / endsWith). A token
restricted to a store sees only that store's orders, shipments, returns and events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

from ariadne import ObjectType, QueryType
from graphql import GraphQLError

from centrasync.emulators.centra.model import (
    Order,
    OrderStatus,
    Product,
    ReturnRecord,
    Shipment,
    SizeRef,
    StockChange,
    SupplierDelivery,
    SupplierOrder,
)

from .context import Context, Info, context_of
from .events import QueuedEvent
from .nodes import (
    CURRENCIES,
    CountryNode,
    CurrencyNode,
    MarketNode,
    OrderNode,
    ProductNode,
    ProductSizeNode,
    PurchaseOrderDeliveryNode,
    PurchaseOrderNode,
    ReturnNode,
    ShipmentNode,
    StockChangeNode,
    StoreNode,
    WarehouseNode,
    order_status,
    supplier_ids,
)
from .paging import Connection, Sorter, descending, page_of

__all__ = [
    "EventNode",
    "bindables",
    "delivery_rows",
    "find_order",
    "integration_of",
    "stock_change_rows",
    "visible_shipment",
]

T = TypeVar("T")
Where = dict[str, Any]

query = QueryType()
counters = ObjectType("Counters")


# -- filter helpers --------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _one_of(spec: Where, name: str) -> tuple[str, Any]:
    given = [(key, value) for key, value in spec.items() if value is not None]
    if len(given) != 1:
        raise GraphQLError(
            f"Exactly one input field should be provided in {name}",
            extensions={"category": "user"},
        )
    return given[0]


def _text_matches(text: str | None, spec: Where | None, name: str) -> bool:
    if spec is None:
        return True
    how, wanted = _one_of(spec, name)
    value = (text or "").lower()
    wanted = str(wanted).lower()
    return {
        "equals": value == wanted,
        "contains": wanted in value,
        "starts_with": value.startswith(wanted),
        "ends_with": value.endswith(wanted),
    }[how]


def _within(ctx: Context, moment: datetime | None, spec: Where | None) -> bool:
    """[I] Both bounds inclusive; a missing moment is outside every range."""
    if spec is None:
        return True
    if moment is None:
        return False
    low, high = spec.get("from"), spec.get("to")
    return (low is None or moment >= ctx.moment(low)) and (
        high is None or moment <= ctx.moment(high)
    )


def _any_of(value: Any, allowed: Iterable[Any] | None) -> bool:
    return allowed is None or value in allowed


def _flag(value: bool, wanted: bool | None) -> bool:
    return wanted is None or value == wanted


def _store_type(account_id: int) -> str:
    return "WHOLESALE" if account_id else "DIRECT_TO_CONSUMER"


def _filtered(items: Iterable[T], keep: Callable[[T], bool]) -> list[T]:
    return [item for item in items if keep(item)]


# -- orders ----------------------------------------------------------------------------------

ORDER_SORTER: Sorter[Order] = Sorter(
    keys={
        "id": lambda o: o.number,
        "number": lambda o: o.number,
        "orderDate": lambda o: _iso(o.created_at),
        "createdAt": lambda o: _iso(o.created_at),
        "updatedAt": lambda o: _iso(o.modified_at),
    },
    identity="number",
    ordering={
        "orderDate": lambda o: o.created_at,
        "createdAt": lambda o: o.created_at,
        "updatedAt": lambda o: o.modified_at,
    },
)


def visible_orders(ctx: Context) -> list[Order]:
    """Orders the token sees; a prepared (Incomplete) order is not one yet [I]."""
    return [
        o
        for o in ctx.world.orders.values()
        if o.status is not OrderStatus.INCOMPLETE and ctx.sees(o.store_uri)
    ]


def find_order(ctx: Context, number: int | None, order_id: str | None) -> Order | None:
    for order in visible_orders(ctx):
        if order.number == number or order.selection_id == order_id:
            return order
    return None


def _order_filter(ctx: Context, where: Where) -> Callable[[Order], bool]:
    """The ``OrderFilter`` as one test per field given: a back-fill's every page filters
    the whole history, so absent fields cost nothing and dates are read once."""
    stores = ctx.world.stores
    checks: list[Callable[[Order], bool]] = []

    def given(name: str, check: Callable[[Order], bool]) -> None:
        if where.get(name) is not None:
            checks.append(check)

    def dated(name: str, moment: Callable[[Order], datetime]) -> None:
        spec = where.get(name)
        if spec is not None:
            low = None if spec.get("from") is None else ctx.moment(spec["from"])
            high = None if spec.get("to") is None else ctx.moment(spec["to"])
            checks.append(lambda o: _between(moment(o), low, high))

    given("id", lambda o: o.selection_id in where["id"])
    given("number", lambda o: o.number in where["number"])
    given("status", lambda o: order_status(o) in where["status"])
    dated("created_at", lambda o: o.created_at)
    dated("updated_at", lambda o: o.modified_at)
    dated("order_date", lambda o: o.created_at)
    given("store_id", lambda o: stores[o.store_uri].market_id in where["store_id"])
    given("store_type", lambda o: _store_type(o.account_id) == where["store_type"])
    given("market_id", lambda o: stores[o.store_uri].market_id in where["market_id"])
    given("account_id", lambda o: o.account_id in where["account_id"])
    given("customer_id", lambda o: o.customer_id in where["customer_id"])
    given("is_on_hold", lambda o: o.hold == where["is_on_hold"])
    given(
        "purchase_order_number",
        lambda o: _text_matches(o.po_number, where["purchase_order_number"], "StringMatch"),
    )
    given(
        "other_comment",
        lambda o: _text_matches(o.other_comment, where["other_comment"], "StringMatch"),
    )
    return lambda order: all(check(order) for check in checks)


def _between(moment: datetime, low: datetime | None, high: datetime | None) -> bool:
    """[I] Both bounds inclusive, as :func:`_within`."""
    return (low is None or moment >= low) and (high is None or moment <= high)


def _listed(value: Any) -> list[Any] | None:
    return None if value is None else [value]


def orders_of(ctx: Context, where: Where | None) -> list[Order]:
    return _filtered(visible_orders(ctx), _order_filter(ctx, where or {}))


@query.field("orders")
def resolve_orders(
    _: Any,
    info: Info,
    where: Where | None = None,
    sort: list[str] | None = None,
    limit: int | None = None,
    page: int | None = None,
) -> list[OrderNode]:
    ctx = context_of(info)
    ordered, _field, _desc = ORDER_SORTER.order(orders_of(ctx, where), sort)
    return [OrderNode(ctx, o) for o in page_of(ordered, limit, page)]


def _connection(
    ctx: Context,
    sorter: Sorter[T],
    items: list[T],
    node: Callable[[T], Any],
    arguments: dict[str, Any],
) -> dict[str, Any]:
    built = Connection.build(
        sorter,
        items,
        arguments.get("sort"),
        arguments.get("first"),
        arguments.get("after"),
        arguments.get("last"),
        arguments.get("before"),
    )
    return {
        "total_count": built.total_count,
        "edges": [{"cursor": cursor, "node": node(item)} for cursor, item in built.rows],
        "page_info": built.page_info,
    }


@query.field("orderConnection")
def resolve_order_connection(
    _: Any, info: Info, where: Where | None = None, **arguments: Any
) -> dict[str, Any]:
    ctx = context_of(info)
    return _connection(
        ctx, ORDER_SORTER, orders_of(ctx, where), lambda o: OrderNode(ctx, o), arguments
    )


# -- shipments -------------------------------------------------------------------------------

SHIPMENT_SORTER: Sorter[Shipment] = Sorter(
    keys={
        "id": lambda s: s.id,
        "number": lambda s: f"{s.order_number:012d}-{int(s.number.rsplit('-', 1)[1]):06d}",
        "createdAt": lambda s: _iso(s.created_at),
        "updatedAt": lambda s: _iso(s.modified_at or s.created_at),
        "shippedAt": lambda s: _iso(s.shipped_at),
    },
    identity="id",
)


def visible_shipment(ctx: Context, shipment_id: int) -> Shipment | None:
    shipment = ctx.world.shipments.get(shipment_id)
    if shipment is None or shipment.cancelled:
        return None
    order = ctx.world.orders[shipment.order_number]
    return shipment if ctx.sees(order.store_uri) else None


def _shipment_matches(ctx: Context, shipment: Shipment, where: Where) -> bool:
    order = ctx.world.orders[shipment.order_number]
    store = ctx.world.stores[order.store_uri]
    return (
        _any_of(shipment.id, where.get("id"))
        and _any_of(shipment.number, where.get("number"))
        and _within(ctx, shipment.created_at, where.get("created_at"))
        and _within(ctx, shipment.modified_at or shipment.created_at, where.get("updated_at"))
        and _flag(shipment.gtg, where.get("is_good_to_go"))
        and _flag(shipment.shipped, where.get("is_shipped"))
        and _within(ctx, shipment.shipped_at, where.get("shipped_at"))
        and _flag(shipment.paid, where.get("is_paid"))
        and _within(ctx, shipment.paid_at, where.get("paid_at"))
        and _flag(shipment.captured, where.get("is_captured"))
        and _within(ctx, shipment.captured_at, where.get("captured_at"))
        and _any_of(shipment.tracking, where.get("tracking_number"))
        and _any_of(order.customer_id, where.get("customer_id"))
        and _any_of(order.selection_id, where.get("order_id"))
        and _any_of(store.market_id, where.get("store_id"))
        and _any_of(_store_type(order.account_id), _listed(where.get("store_type")))
    )


def shipments_of(ctx: Context, where: Where | None) -> list[Shipment]:
    return [
        s
        for s in ctx.world.shipments.values()
        if visible_shipment(ctx, s.id) is not None and _shipment_matches(ctx, s, where or {})
    ]


@query.field("shipments")
def resolve_shipments(
    _: Any,
    info: Info,
    where: Where | None = None,
    sort: list[str] | None = None,
    limit: int | None = None,
    page: int | None = None,
) -> list[ShipmentNode]:
    ctx = context_of(info)
    ordered, _field, _desc = SHIPMENT_SORTER.order(shipments_of(ctx, where), sort)
    return [ShipmentNode(ctx, s) for s in page_of(ordered, limit, page)]


@query.field("shipmentConnection")
def resolve_shipment_connection(
    _: Any, info: Info, where: Where | None = None, **arguments: Any
) -> dict[str, Any]:
    ctx = context_of(info)
    return _connection(
        ctx, SHIPMENT_SORTER, shipments_of(ctx, where), lambda s: ShipmentNode(ctx, s), arguments
    )


# -- returns ---------------------------------------------------------------------------------

RETURN_SORTER: Sorter[ReturnRecord] = Sorter(
    keys={"id": lambda r: r.id, "createdAt": lambda r: _iso(r.created_at)}, identity="id"
)


def returns_of(ctx: Context, where: Where | None) -> list[ReturnRecord]:
    where = where or {}
    found = []
    for record in ctx.world.returns.values():
        order = ctx.world.orders[ctx.world.shipments[record.shipment_id].order_number]
        store = ctx.world.stores[order.store_uri]
        if (
            ctx.sees(order.store_uri)
            and _any_of(record.id, where.get("id"))
            and _within(ctx, record.created_at, where.get("created_at"))
            and _any_of("COMPLETED" if record.completed else "IN_PROGRESS", where.get("status"))
            and _any_of(order.customer_id, where.get("customer_id"))
            and _any_of(store.market_id, where.get("store_id"))
            and _any_of(_store_type(order.account_id), _listed(where.get("store_type")))
        ):
            found.append(record)
    return found


@query.field("returns")
def resolve_returns(
    _: Any,
    info: Info,
    where: Where | None = None,
    sort: list[str] | None = None,
    limit: int | None = None,
    page: int | None = None,
) -> list[ReturnNode]:
    ctx = context_of(info)
    ordered, _field, _desc = RETURN_SORTER.order(returns_of(ctx, where), sort)
    return [ReturnNode(ctx, r) for r in page_of(ordered, limit, page)]


# -- catalogue -------------------------------------------------------------------------------

PRODUCT_SORTER: Sorter[Product] = Sorter(
    keys={
        "id": lambda p: p.id,
        "name": lambda p: p.name.lower(),
        "createdAt": lambda p: _iso(p.created_at),
        "updatedAt": lambda p: _iso(p.modified_at),
    },
    identity="id",
)


def products_of(ctx: Context, where: Where | None) -> list[Product]:
    where = where or {}
    return [
        p
        for p in ctx.world.products.values()
        if _any_of(p.id, where.get("id"))
        and _any_of("ACTIVE" if p.active else "INACTIVE", where.get("status"))
        and _text_matches(p.name, where.get("name"), "StringMatch")
        and _text_matches(p.sku, where.get("product_number"), "StringMatch")
        and _within(ctx, p.created_at, where.get("created_at"))
        and _within(ctx, p.modified_at, where.get("updated_at"))
    ]


@query.field("products")
def resolve_products(
    _: Any,
    info: Info,
    where: Where | None = None,
    sort: list[str] | None = None,
    limit: int | None = None,
    page: int | None = None,
) -> list[ProductNode]:
    ctx = context_of(info)
    ordered, _field, _desc = PRODUCT_SORTER.order(products_of(ctx, where), sort)
    return [ProductNode(ctx, p.id) for p in page_of(ordered, limit, page)]


SIZE_SORTER: Sorter[SizeRef] = Sorter(keys={"id": lambda r: r.size.id}, identity="id")


@query.field("productSizes")
def resolve_product_sizes(
    _: Any,
    info: Info,
    where: Where | None = None,
    sort: list[str] | None = None,
    limit: int | None = None,
    page: int | None = None,
) -> list[ProductSizeNode]:
    ctx = context_of(info)
    where = where or {}
    found = [
        ref
        for ref in ctx.world.sizes.values()
        if _any_of(ref.size.id, where.get("id"))
        and _text_matches(ref.size.ean, where.get("ean"), "EAN")
        and _text_matches(ref.size.upc, where.get("upc"), "UPC")
        and _text_matches(ref.physical_sku, where.get("sku"), "SKU")
        and _text_matches(ref.size.sku, where.get("size_number"), "sizeNumber")
        and _flag(ref.product.active, where.get("is_active"))
    ]
    ordered, _field, _desc = SIZE_SORTER.order(found, sort)
    return [ProductSizeNode(ctx, ref) for ref in page_of(ordered, limit, page)]


@query.field("warehouses")
def resolve_warehouses(
    _: Any,
    info: Info,
    where: Where | None = None,
    sort: list[str] | None = None,
    limit: int | None = None,
    page: int | None = None,
) -> list[WarehouseNode]:
    ctx = context_of(info)
    where = where or {}
    sorter: Sorter[int] = Sorter(
        keys={"id": lambda w: w, "name": lambda w: ctx.world.warehouses[w].name.lower()},
        identity="id",
    )
    found = [
        w.id
        for w in ctx.world.warehouses.values()
        if _any_of(w.id, where.get("id"))
        and _text_matches(w.name, where.get("name"), "StringMatch")
        and _any_of("ACTIVE", where.get("status"))
    ]
    ordered, _field, _desc = sorter.order(found, sort)
    return [WarehouseNode(ctx, w) for w in page_of(ordered, limit, page)]


# -- stock changes ---------------------------------------------------------------------------

STOCK_CHANGE_SORTER: Sorter[StockChange] = Sorter(
    keys={"id": lambda c: c.id, "createdAt": lambda c: _iso(c.created_at)}, identity="id"
)


def stock_changes_of(ctx: Context, where: Where | None) -> list[StockChange]:
    where = where or {}
    return [
        c
        for c in ctx.world.stock_changes.values()
        if _any_of(c.id, where.get("id"))
        and _within(ctx, c.created_at, where.get("created_at"))
        and _any_of(c.kind, where.get("type"))
        and _any_of(c.warehouse_id, where.get("warehouse_id"))
    ]


def stock_change_rows(
    ctx: Context, where: Where, sort: list[str] | None, limit: int | None, page: int | None
) -> list[StockChangeNode]:
    ordered, _field, _desc = STOCK_CHANGE_SORTER.order(stock_changes_of(ctx, where), sort)
    return [StockChangeNode(ctx, c) for c in page_of(ordered, limit, page)]


@query.field("stockChanges")
def resolve_stock_changes(
    _: Any,
    info: Info,
    where: Where | None = None,
    sort: list[str] | None = None,
    limit: int | None = None,
    page: int | None = None,
) -> list[StockChangeNode]:
    return stock_change_rows(context_of(info), where or {}, sort, limit, page)


@query.field("stockChangeConnection")
def resolve_stock_change_connection(
    _: Any, info: Info, where: Where | None = None, **arguments: Any
) -> dict[str, Any]:
    ctx = context_of(info)
    changes = stock_changes_of(ctx, where)
    return _connection(
        ctx, STOCK_CHANGE_SORTER, changes, lambda c: StockChangeNode(ctx, c), arguments
    )


# -- purchasing ------------------------------------------------------------------------------

PURCHASE_ORDER_SORTER: Sorter[SupplierOrder] = Sorter(keys={"id": lambda o: o.id}, identity="id")
DELIVERY_SORTER: Sorter[SupplierDelivery] = Sorter(keys={"id": lambda d: d.id}, identity="id")


@query.field("purchaseOrders")
def resolve_purchase_orders(
    _: Any,
    info: Info,
    where: Where | None = None,
    sort: list[str] | None = None,
    limit: int | None = None,
    page: int | None = None,
) -> list[PurchaseOrderNode]:
    ctx = context_of(info)
    where = where or {}
    suppliers = supplier_ids(ctx)
    found = [
        o
        for o in ctx.world.supplier_orders.values()
        if _any_of(o.id, where.get("id"))
        and _any_of(PurchaseOrderNode(ctx, o).status, where.get("status"))
        and _within(ctx, o.created_at, where.get("created_at"))
        and _any_of(suppliers[o.supplier_name], where.get("supplier_id"))
        and _any_of(o.warehouse_id, where.get("warehouse_id"))
    ]
    ordered, _field, _desc = PURCHASE_ORDER_SORTER.order(found, sort)
    return [PurchaseOrderNode(ctx, o) for o in page_of(ordered, limit, page)]


def deliveries_of(
    ctx: Context, where: Where | None, *, order_id: int | None = None
) -> list[SupplierDelivery]:
    where = where or {}
    suppliers = supplier_ids(ctx)
    found = []
    for delivery in ctx.world.supplier_deliveries.values():
        order = ctx.world.supplier_orders[delivery.order_id]
        if (
            _any_of(delivery.order_id, None if order_id is None else [order_id])
            and _any_of(delivery.id, where.get("id"))
            and _any_of(delivery.number, where.get("number"))
            and _any_of(
                "ACCEPTED" if delivery.accepted_at else "PENDING", _listed(where.get("status"))
            )
            and _within(ctx, delivery.created_at, where.get("created_at"))
            and _within(ctx, delivery.eta, where.get("eta"))
            and (
                where.get("product_size_id") is None
                or any(size in delivery.quantities for size in where["product_size_id"])
            )
            and _any_of(suppliers[order.supplier_name], where.get("supplier_id"))
            and _any_of(order.warehouse_id, where.get("warehouse_id"))
        ):
            found.append(delivery)
    return found


def delivery_rows(
    ctx: Context,
    where: Where,
    sort: list[str] | None,
    limit: int | None,
    page: int | None,
    *,
    order_id: int | None = None,
) -> list[PurchaseOrderDeliveryNode]:
    found = deliveries_of(ctx, where, order_id=order_id)
    ordered, _field, _desc = DELIVERY_SORTER.order(found, sort)
    return [PurchaseOrderDeliveryNode(ctx, d) for d in page_of(ordered, limit, page)]


@query.field("purchaseOrderDeliveries")
def resolve_deliveries(
    _: Any,
    info: Info,
    where: Where | None = None,
    sort: list[str] | None = None,
    limit: int | None = None,
    page: int | None = None,
) -> list[PurchaseOrderDeliveryNode]:
    return delivery_rows(context_of(info), where or {}, sort, limit, page)


@query.field("purchaseOrderDeliveryConnection")
def resolve_delivery_connection(
    _: Any, info: Info, where: Where | None = None, **arguments: Any
) -> dict[str, Any]:
    ctx = context_of(info)
    found = deliveries_of(ctx, where)
    return _connection(
        ctx, DELIVERY_SORTER, found, lambda d: PurchaseOrderDeliveryNode(ctx, d), arguments
    )


@query.field("suppliers")
def resolve_suppliers(
    _: Any,
    info: Info,
    where: Where | None = None,
    sort: list[str] | None = None,
    limit: int | None = None,
    page: int | None = None,
) -> list[dict[str, Any]]:
    ctx = context_of(info)
    where = where or {}
    countries = {o.supplier_name: o.supplier_country for o in ctx.world.supplier_orders.values()}
    found = sorted(
        (
            (supplier_id, name)
            for name, supplier_id in supplier_ids(ctx).items()
            if _any_of(supplier_id, where.get("id"))
            and _text_matches(name, where.get("name"), "StringMatch")
        ),
        reverse=descending(sort),
    )
    rows = [
        {
            "id": supplier_id,
            "name": name,
            "country": CountryNode(countries[name]) if countries[name] else None,
        }
        for supplier_id, name in found
    ]
    return page_of(rows, limit, page)


# -- stores and markets ----------------------------------------------------------------------


@query.field("stores")
def resolve_stores(
    _: Any,
    info: Info,
    where: Where | None = None,
    limit: int | None = None,
    page: int | None = None,
) -> list[StoreNode]:
    ctx = context_of(info)
    where = where or {}
    rows = [
        StoreNode(s)
        for s in ctx.stores()
        if _any_of(s.market_id, where.get("id"))
        and _any_of("DIRECT_TO_CONSUMER", _listed(where.get("type")))
    ]
    return page_of(rows, limit, page)


@query.field("markets")
def resolve_markets(
    _: Any,
    info: Info,
    where: Where | None = None,
    limit: int | None = None,
    page: int | None = None,
) -> list[MarketNode]:
    ctx = context_of(info)
    where = where or {}
    rows = [MarketNode(s) for s in ctx.stores() if _any_of(s.market_id, where.get("id"))]
    return page_of(rows, limit, page)


@query.field("currencies")
def resolve_currencies(
    _: Any,
    info: Info,
    where: Where | None = None,
    limit: int | None = None,
    page: int | None = None,
) -> list[CurrencyNode]:
    """The currencies the emulator knows; ``isBase`` picks the base currency."""
    where = where or {}
    rows = [
        node
        for node in (CurrencyNode(code) for code in CURRENCIES)
        if _any_of(node.id, where.get("id"))
        and (where.get("is_base") is None or node.is_base is where["is_base"])
    ]
    return page_of(rows, limit, page)


# -- events ----------------------------------------------------------------------------------


def integration_of(ctx: Context) -> str:
    """The token's integration name, which the events queue and ID conversion need."""
    name = ctx.token.integration_name
    if name is None:
        raise GraphQLError(
            "The access token has no integration name",  # [I] message
            extensions={"category": "user"},
        )
    return name


class EventNode:
    def __init__(self, ctx: Context, event: QueuedEvent) -> None:
        self.ctx, self.event = ctx, event

    @property
    def id(self) -> int:
        return self.event.id

    @property
    def object_type(self) -> str:
        return self.event.object_type

    @property
    def change_type(self) -> str:
        return self.event.change_type

    @property
    def object_reference(self) -> int:
        return self.event.reference

    @property
    def created_at(self) -> datetime:
        return self.event.at

    @property
    def store(self) -> StoreNode | None:
        store = self.ctx.world.stores.get(self.event.store_uri or "")
        return None if store is None else StoreNode(store)

    @property
    def market(self) -> MarketNode | None:
        store = self.ctx.world.stores.get(self.event.store_uri or "")
        return None if store is None else MarketNode(store)

    @property
    def object(self) -> Any:
        """The object as it is now; None once it is deleted."""
        if self.event.change_type == "DELETED":
            return None
        ctx, ref, world = self.ctx, self.event.reference, self.ctx.world
        match self.event.object_type:
            case "Order":
                order = world.orders.get(ref)
                return None if order is None else OrderNode(ctx, order)
            case "Shipment":
                shipment = world.shipments.get(ref)
                return None if shipment is None else ShipmentNode(ctx, shipment)
            case "Return":
                record = world.returns.get(ref)
                return None if record is None else ReturnNode(ctx, record)
            case "PurchaseOrder":
                order_ = world.supplier_orders.get(ref)
                return None if order_ is None else PurchaseOrderNode(ctx, order_)
            case "PurchaseOrderDelivery":
                delivery = world.supplier_deliveries.get(ref)
                return None if delivery is None else PurchaseOrderDeliveryNode(ctx, delivery)
            case "StockChange":
                change = world.stock_changes.get(ref)
                return None if change is None else StockChangeNode(ctx, change)
        return None


@query.field("events")
def resolve_events(
    _: Any, info: Info, where: Where | None = None, limit: int | None = None
) -> list[EventNode]:
    ctx = context_of(info)
    integration = integration_of(ctx)
    where = where or {}
    store_ids = {s.uri: s.market_id for s in ctx.world.stores.values()}
    found = [
        e
        for e in ctx.events.pending(integration)
        if ctx.sees(e.store_uri)
        and _any_of(e.object_type, where.get("object_type"))
        and _any_of(e.change_type, where.get("change_type"))
        and _any_of(store_ids.get(e.store_uri or ""), where.get("store_id"))
        and _any_of(store_ids.get(e.store_uri or ""), where.get("market_id"))
    ]
    return [EventNode(ctx, e) for e in page_of(found, 100 if limit is None else limit, 1)]


def listener_view(listener: Any) -> dict[str, Any]:
    order = ("CREATED", "UPDATED", "DELETED", "COMPLETED", "DEPENDENT_DATA_CHANGED")
    types = order if listener.change_types is None else listener.change_types
    return {
        "integration_name": listener.integration_name,
        "object_type": listener.object_type,
        "change_types": [t for t in order if t in types],
        "created_at": listener.created_at,
        "updated_at": listener.updated_at,
    }


@query.field("eventListeners")
def resolve_event_listeners(_: Any, info: Info) -> list[dict[str, Any]]:
    ctx = context_of(info)
    return [listener_view(lst) for lst in ctx.events.listeners(integration_of(ctx))]


# -- ID conversion, counters, rate limits ----------------------------------------------------


def conversion_view(entry: Any) -> dict[str, Any]:
    return {
        "id": entry.id,
        "internal_id": entry.internal_id,
        "external_id": entry.external_id,
        "object_type": entry.object_type,
        "integration_name": entry.integration_name,
    }


@query.field("idConversions")
def resolve_id_conversions(
    _: Any,
    info: Info,
    where: Where | None = None,
    limit: int | None = None,
    page: int | None = None,
) -> list[dict[str, Any]]:
    ctx = context_of(info)
    where = where or {}
    rows = [
        conversion_view(e)
        for e in ctx.conversions.of(integration_of(ctx))
        if _any_of(e.object_type, _listed(where.get("object_type")))
        and _any_of(e.internal_id, where.get("internal_id"))
        and _text_matches(e.external_id, where.get("external_id"), "StringMatch")
    ]
    return page_of(rows, limit, page)


@query.field("counters")
def resolve_counters(_: Any, info: Info) -> Context:
    return context_of(info)


@counters.field("orders")
def count_orders(ctx: Context, _: Info, where: Where | None = None) -> int:
    return len(orders_of(ctx, where))


@counters.field("shipments")
def count_shipments(ctx: Context, _: Info, where: Where | None = None) -> int:
    return len(shipments_of(ctx, where))


@counters.field("returns")
def count_returns(ctx: Context, _: Info, where: Where | None = None) -> int:
    return len(returns_of(ctx, where))


@counters.field("products")
def count_products(ctx: Context, _: Info, where: Where | None = None) -> int:
    return len(products_of(ctx, where))


@counters.field("stockChanges")
def count_stock_changes(ctx: Context, _: Info, where: Where | None = None) -> int:
    return len(stock_changes_of(ctx, where))


@counters.field("purchaseOrderDeliveries")
def count_deliveries(ctx: Context, _: Info, where: Where | None = None) -> int:
    return len(deliveries_of(ctx, where))


@query.field("rateLimits")
def resolve_rate_limits(_: Any, info: Info) -> list[dict[str, Any]]:
    return [
        {
            "type": bucket.type,
            "interval_seconds": bucket.interval,
            "quota": bucket.quota,
            "used_quota": bucket.used,
            "remaining_quota": bucket.quota - bucket.used,
        }
        for bucket in context_of(info).limiter.buckets
    ]


bindables = [query, counters]
