"""Typed results of the Integration API operations, written by hand for their selections.

Each model holds exactly what its operation's ``.graphql`` file selects (``extra="forbid"``:
a field selected but not modelled, or modelled but not selected, fails the contract suite
against the emulator, which serves the same SDL). Python names are snake_case, the wire's
camelCase are aliases. Every ``DateTimeTz`` carries the merchant zone's offset on the wire
and is an aware UTC datetime here (:data:`UtcDateTime`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = [
    "AppliedDiscount",
    "Attribute",
    "AttributeElement",
    "CatalogueProduct",
    "CatalogueVariant",
    "Connection",
    "Counters",
    "Currency",
    "DeliveryLine",
    "Edge",
    "Event",
    "EventListener",
    "IdConversion",
    "Market",
    "Money",
    "MutationResult",
    "Notice",
    "Order",
    "OrderHistory",
    "OrderLine",
    "OrderTotals",
    "PageInfo",
    "PostalAddress",
    "Product",
    "ProductSize",
    "ProductSizeStock",
    "ProductVariant",
    "PurchaseOrder",
    "PurchaseOrderDelivery",
    "PurchaseOrderDeliveryRef",
    "PurchaseOrderLine",
    "RateLimit",
    "Return",
    "ReturnLine",
    "Shipment",
    "ShipmentLine",
    "SizeRef",
    "StockChange",
    "StockChangeLine",
    "StockTotals",
    "Store",
    "UtcDateTime",
    "Warehouse",
    "WarehouseStock",
    "to_utc",
]

T = TypeVar("T")


def to_utc(value: datetime) -> datetime:
    """The same instant in UTC; a ``DateTimeTz`` without an offset is not Centra's."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a DateTimeTz must carry an offset")
    return value.astimezone(UTC)


UtcDateTime = Annotated[datetime, AfterValidator(to_utc)]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True
    )


class Notice(_Model):
    """A ``userError`` or ``userWarning``: its message and the input path it is about."""

    message: str
    path: tuple[str, ...] | None = None

    @property
    def where(self) -> str:
        return ".".join(self.path) if self.path else "(input)"


class MutationResult(_Model, Generic[T]):
    """What a mutation returned, with the warnings Centra asks integrations to report."""

    value: T
    warnings: tuple[Notice, ...] = ()


class Code(_Model):
    code: str


class Money(_Model):
    value: Decimal
    currency: Code


class Ref(_Model):
    id: int


class NamedRef(_Model):
    id: int
    name: str


class SizeRef(_Model):
    id: int
    sku: str = Field(alias="SKU")
    ean: str | None = Field(alias="EAN")


class PostalAddress(_Model):
    first_name: str | None
    last_name: str | None
    company_name: str | None
    address1: str | None
    address2: str | None
    city: str | None
    zip_code: str | None
    state_or_province: str | None
    country: Code | None
    email: str | None
    phone_number: str | None
    cell_phone_number: str | None


# -- orders --------------------------------------------------------------------------------


class OrderLine(_Model):
    """``id`` is the Order API's ``lineId``."""

    id: int
    product_number: str
    size: str
    product_name: str | None
    product_variant_name: str | None
    quantity: int
    cancelled_quantity: int
    returned_quantity: int
    unit_price: Money
    product_size: SizeRef | None


class Order(_Model):
    typename: Literal["DirectToConsumerOrder", "WholesaleOrder"] = Field(alias="__typename")
    id: str
    number: int
    status: str
    order_date: UtcDateTime
    created_at: UtcDateTime
    updated_at: UtcDateTime
    is_on_hold: bool
    other_comment: str
    currency: Code
    grand_total: Money
    lines: tuple[OrderLine, ...]


class AttributeName(_Model):
    name: str


class AttributeElement(_Model):
    """One element of a custom attribute; only text elements carry a ``value``."""

    typename: str = Field(alias="__typename")
    key: str
    value: str | None = None


class Attribute(_Model):
    type: AttributeName
    elements: tuple[AttributeElement, ...]

    @property
    def text(self) -> str | None:
        """The attribute's value: its one text element's, or its elements' joined by
        ``key=value`` when it has several."""
        texts = [e for e in self.elements if e.value is not None]
        if len(texts) == 1:
            return texts[0].value
        return "; ".join(f"{e.key}={e.value}" for e in texts) or None


class DiscountName(_Model):
    name: str
    code: str | None


class AppliedDiscount(_Model):
    typename: str = Field(alias="__typename")
    value: Money
    date: UtcDateTime
    discount: DiscountName | None = None


class OrderTotals(_Model):
    items_total: Money
    shipping: Money
    handling: Money
    tax_included: Money
    quantity: int


class OrderHistory(Order):
    """An order as analytics reads it (``order_history.graphql``)."""

    currency_base_rate: float
    totals: OrderTotals
    store: NamedRef
    market: NamedRef | None
    billing_address: PostalAddress | None
    shipping_address: PostalAddress | None
    # Left out of the read (``@include``) when the store's mapping loads neither.
    discounts_applied: tuple[AppliedDiscount, ...] = ()
    attributes: tuple[Attribute, ...] = ()


# -- shipments -----------------------------------------------------------------------------


class Carrier(_Model):
    carrier_name: str | None
    service_name: str | None


class OrderRef(_Model):
    id: str
    number: int


class ShipmentOrderLine(_Model):
    id: int
    product_number: str
    size: str
    product_size: SizeRef | None


class ShipmentLine(_Model):
    id: int
    quantity: int
    returned_quantity: int
    order_line: ShipmentOrderLine


class Shipment(_Model):
    """``number`` is the Order API's ``shipmentId`` ("<order number>-<n>")."""

    typename: Literal["DirectToConsumerShipment", "WholesaleShipment"] = Field(alias="__typename")
    id: int
    number: str
    created_at: UtcDateTime
    updated_at: UtcDateTime
    is_good_to_go: bool
    is_shipped: bool
    is_paid: bool
    paid_at: UtcDateTime | None
    is_captured: bool
    captured_at: UtcDateTime | None
    shipped_at: UtcDateTime | None
    tracking_number: str | None
    return_tracking_number: str | None
    number_of_packages: int
    additional_message: str | None
    carrier_information: Carrier | None
    shipping_address: PostalAddress | None
    order: OrderRef
    lines: tuple[ShipmentLine, ...]


# -- returns -------------------------------------------------------------------------------


class ShipmentRef(_Model):
    id: int
    number: str


class ReturnOrderLine(_Model):
    id: int
    product_size: SizeRef | None


class ReturnLine(_Model):
    id: int
    quantity: int
    shipment_line: Ref
    order_line: ReturnOrderLine


class Return(_Model):
    typename: Literal["DirectToConsumerReturn", "WholesaleReturn"] = Field(alias="__typename")
    id: int
    status: str
    created_at: UtcDateTime
    total_quantity: int
    returned_to_stock: bool
    external_id: str | None
    shipment: ShipmentRef
    lines: tuple[ReturnLine, ...]


# -- catalogue and stock -------------------------------------------------------------------


class ProductSize(_Model):
    id: int
    sku: str = Field(alias="SKU")
    ean: str | None = Field(alias="EAN")
    upc: str | None = Field(alias="UPC")
    size_number: str | None
    is_active: bool
    size: NamedRef


class ProductVariant(_Model):
    id: int
    name: str
    variant_number: str
    status: str
    product_sizes: tuple[ProductSize, ...]


class Product(_Model):
    id: int
    name: str
    product_number: str
    status: str
    is_bundle: bool
    brand_name: str | None
    created_at: UtcDateTime
    updated_at: UtcDateTime
    variants: tuple[ProductVariant, ...]


class CatalogueVariant(ProductVariant):
    attributes: tuple[Attribute, ...] = ()


class CatalogueProduct(Product):
    """A product as analytics reads it (``catalogue.graphql``): custom attributes too."""

    attributes: tuple[Attribute, ...] = ()
    variants: tuple[CatalogueVariant, ...]


class WarehouseStock(_Model):
    warehouse: Ref
    free_to_allocate_quantity: int
    physical_quantity: int
    incoming_quantity: int


class StockTotals(_Model):
    free_to_allocate_quantity: int
    physical_quantity: int
    allocated_quantity: int
    available_quantity: int
    incoming_quantity: int


class ProductSizeStock(_Model):
    id: int
    sku: str = Field(alias="SKU")
    ean: str | None = Field(alias="EAN")
    stock: tuple[WarehouseStock, ...]
    stock_totals: StockTotals


class Warehouse(_Model):
    id: int
    name: str
    status: str
    stock_ownership: str
    allocation_policy: str
    stock_master: str
    threshold: int | None


class StockChangeLine(_Model):
    id: int
    delivered_quantity: int
    free_to_allocate_quantity: int
    product_size: SizeRef | None


class StockChange(_Model):
    id: int
    created_at: UtcDateTime
    comment: str
    type: str
    warehouse: NamedRef | None
    lines: tuple[StockChangeLine, ...]


# -- purchasing ----------------------------------------------------------------------------


class PurchaseOrderLine(_Model):
    quantity: int
    delivered_quantity: int
    product_size: SizeRef


class PurchaseOrderDeliveryRef(_Model):
    id: int
    number: str
    status: str
    eta: UtcDateTime | None = Field(alias="ETA")
    accepted_at: UtcDateTime | None
    is_accepted: bool


class PurchaseOrder(_Model):
    id: int
    status: str
    created_at: UtcDateTime
    updated_at: UtcDateTime
    eta: UtcDateTime | None = Field(alias="ETA")
    quantity: int
    currency: Code
    total: Money
    supplier: NamedRef
    preferred_warehouse: NamedRef | None
    lines: tuple[PurchaseOrderLine, ...]
    deliveries: tuple[PurchaseOrderDeliveryRef, ...]


class DeliveryLine(_Model):
    quantity: int
    delivered_quantity: int
    product_size: SizeRef


class PurchaseOrderDelivery(_Model):
    id: int
    number: str
    status: str
    created_at: UtcDateTime
    eta: UtcDateTime | None = Field(alias="ETA")
    accepted_at: UtcDateTime | None
    is_accepted: bool
    supplier: NamedRef
    purchase_order: Ref
    warehouse: NamedRef | None
    lines: tuple[DeliveryLine, ...]


# -- paging, counters, rate limits, events, ID conversion ----------------------------------


class PageInfo(_Model):
    has_next_page: bool
    end_cursor: str | None


class Edge(_Model, Generic[T]):
    cursor: str
    node: T


class Connection(_Model, Generic[T]):
    """One page of a Relay connection."""

    total_count: int
    page_info: PageInfo
    edges: tuple[Edge[T], ...]

    @property
    def nodes(self) -> tuple[T, ...]:
        return tuple(edge.node for edge in self.edges)


class Store(_Model):
    id: int
    name: str
    type: str


class Market(_Model):
    id: int
    name: str


class Currency(_Model):
    id: int
    code: str
    name: str
    is_base: bool


class Counters(_Model):
    orders: int
    shipments: int
    returns: int
    products: int


class RateLimit(_Model):
    """One of the six buckets; ``seconds`` is the window as a number."""

    type: Literal["REQUEST_COUNT", "QUERY_COMPLEXITY", "MUTATION_COUNT"]
    interval_seconds: Literal["TEN_SECONDS", "ONE_HOUR"]
    quota: int
    used_quota: int
    remaining_quota: int

    @property
    def seconds(self) -> int:
        return 10 if self.interval_seconds == "TEN_SECONDS" else 3600


class EventObject(_Model):
    typename: str = Field(alias="__typename")


class Event(_Model):
    """``object_reference`` is the order number for orders, the object's id otherwise;
    ``object`` is None after a delete (and names only the type: read the object itself)."""

    id: int
    object_type: str
    change_type: str
    object_reference: int
    created_at: UtcDateTime
    object: EventObject | None


class EventListener(_Model):
    integration_name: str
    object_type: str
    change_types: tuple[str, ...]
    created_at: UtcDateTime
    updated_at: UtcDateTime


class IdConversion(_Model):
    id: int
    internal_id: int
    external_id: str
    object_type: str
    integration_name: str
