"""The emulated Centra installation's records: plain mutable state, no rules and no HTTP.

Times are aware UTC everywhere in here; the Order API converts them to the store's naive
merchant-local strings at the edge. Identifiers keep Centra's separate ID spaces apart: an
order has a *number*, a shipment has an internal int ``id`` and a human ``number``
(``"<order>-<n>"``), order lines and shipment lines have their own ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Any, Literal
from zoneinfo import ZoneInfo

__all__ = [
    "Address",
    "AllocationPolicy",
    "AllocationRequest",
    "AllocationRequestStatus",
    "BundleMode",
    "Charges",
    "CheckFirstOffer",
    "Event",
    "Order",
    "OrderLine",
    "OrderStatus",
    "Product",
    "ReturnLine",
    "ReturnRecord",
    "Shipment",
    "ShipmentLine",
    "Size",
    "SizeRef",
    "StockChange",
    "StockChangeLine",
    "StockLevel",
    "Store",
    "SupplierDelivery",
    "SupplierOrder",
    "SupplierOrderLine",
    "Terms",
    "Variant",
    "Warehouse",
    "WriteRecord",
]


BundleMode = Literal["only_items", "items_in_bundles", "only_bundles", "bundles_and_items"]
"""The plugin's four bundle settings: "Only containing items", "Containing items in bundles",
"Only bundles" and "Bundles and containing items"."""


class OrderStatus(IntEnum):
    """Centra's numbered order statuses; hold and waiting-for-payment are flags, not statuses."""

    INCOMPLETE = 0
    PENDING = 1
    CONFIRMED = 2
    PROCESSING = 3
    COMPLETED = 4
    ARCHIVED = 5
    CANCELLED = 6


@dataclass
class Store:
    """One Order API plugin instance: its own URI, secret, zone and settings."""

    uri: str
    secret: str = field(repr=False)
    timezone: str
    name: str
    primary_warehouse_id: int
    supplier_delivery_warehouse_id: int | None
    currency: str = "SEK"
    pricelist_id: int = 1
    market_id: int = 1
    # None = every endpoint is allowed (the plugin's default).
    allowed_endpoints: frozenset[str] | None = None
    # "Get Orders with Status": Ongoing's connector asks for Cancelled to be included.
    order_statuses: frozenset[int] = frozenset(
        {
            OrderStatus.PENDING,
            OrderStatus.CONFIRMED,
            OrderStatus.PROCESSING,
            OrderStatus.COMPLETED,
            OrderStatus.CANCELLED,
        }
    )
    return_stock_default: bool = False
    # "Bundles in shipments" / "Bundles in orders": how products[] shows bundles.
    bundles_in_shipments: BundleMode = "only_items"
    bundles_in_orders: BundleMode = "only_items"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


AllocationPolicy = Literal["direct", "check_first", "direct_then_confirm"]
"""A warehouse's allocation policy: allocate at once; "Check first, then allocate" (the
store must accept an order before stock is allocated); "Direct, then confirm" (allocated at
once, the store must confirm the allocation request)."""


@dataclass
class Warehouse:
    id: int
    name: str
    allocation_policy: AllocationPolicy = "direct"


@dataclass
class Size:
    """A stock item (Centra's ``stockItemId``): the unit stock and order lines refer to."""

    id: int
    name: str
    sku: str
    ean: str
    upc: str = ""


@dataclass
class Variant:
    id: int
    name: str
    sku: str
    sizes: list[Size] = field(default_factory=list)


@dataclass
class Product:
    id: int
    sku: str
    name: str
    brand: str
    collection: str
    folder: str
    categories: list[str]
    weight: float
    weight_unit: str
    harm_code: str
    harm_description: str
    country_of_origin: str
    prices: dict[str, float]
    created_at: datetime
    modified_at: datetime
    active: bool = True
    is_bundle: bool = False
    description: str = ""
    variants: list[Variant] = field(default_factory=list)
    # Custom attributes (config.php): attribute type name to its text value.
    attributes: dict[str, str] = field(default_factory=dict)
    # A bundle's items: (size id, units per bundle). The bundle itself holds no stock.
    bundle_items: list[tuple[int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class SizeRef:
    """A size together with its variant and product, as every wire row needs all three."""

    product: Product
    variant: Variant
    size: Size

    @property
    def physical_sku(self) -> str:
        return f"{self.product.sku}{self.variant.sku}{self.size.sku}"


@dataclass
class StockLevel:
    """Stock of one size in one warehouse; physical = allocated + free to allocate."""

    physical: int = 0
    allocated: int = 0
    modified_at: datetime | None = None
    # The unit cost the last stock write gave (``POST /stock`` costPrice), if any.
    cost_price: float | None = None
    cost_currency: str | None = None


@dataclass(frozen=True)
class Address:
    name: str = ""
    company: str = ""
    address: str = ""
    coaddress: str = ""
    city: str = ""
    state: str = ""
    zipcode: str = ""
    country: str = ""
    email: str = ""
    tele: str = ""
    cell: str = ""


@dataclass(frozen=True)
class Terms:
    """Wholesale shipping or payment terms, as ``shippingTerms`` / ``paymentTerms`` show them."""

    id: int
    name: str
    description: str = ""


@dataclass
class OrderLine:
    id: int
    size_id: int
    qty: int
    price: float
    original_price: float
    warehouse_id: int
    tax_percent: float = 25.0
    comment: str = ""
    cancelled_qty: int = 0
    # A bundle's line stands for its items, which are lines of their own pointing back at
    # it; only those are allocated, shipped and returned.
    is_bundle: bool = False
    bundle_line_id: int | None = None


@dataclass
class Order:
    number: int
    store_uri: str
    selection_id: str
    created_at: datetime
    modified_at: datetime
    customer_id: int
    account_id: int
    account_name: str
    currency: str
    billing: Address
    delivery: Address
    lines: list[OrderLine]
    status: OrderStatus = OrderStatus.CONFIRMED
    shipping_list: str = "standard"
    shipping_value: float = 0.0
    handling_value: float = 0.0
    voucher_value: float = 0.0
    payment_plugin: str = "adyen_drop_in"
    payment_type: str = "cc"
    # The PSP's reference and provider name ("klarna" for klarna_checkout_v1).
    payment_reference: str = ""
    payment_method: str = ""
    other_comment: str = ""
    internal_comment: str = ""
    po_number: str = ""
    shipping_terms: Terms | None = None
    payment_terms: Terms | None = None
    shipwallet: dict[str, str] = field(default_factory=dict)
    capture_declines: bool = False
    hold: bool = False
    # Shipment numbers count every shipment ever made, so a deleted "N-1" is never reused.
    shipments_created: int = 0
    # False while no warehouse holds the goods: a createOnly order not yet completed, or
    # one waiting for a check-first warehouse to accept it.
    allocated: bool = True
    internal: bool = False
    # Paid and captured outside Centra (POST /order with a successful capture): its
    # shipments are paid when created.
    paid_elsewhere: bool = False
    delivery_date: datetime | None = None
    cancel_date: datetime | None = None
    extra_attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class ShipmentLine:
    id: int
    order_line_id: int
    qty: int
    serial_numbers: list[str] = field(default_factory=list)


@dataclass
class Shipment:
    id: int
    number: str
    order_number: int
    created_at: datetime
    lines: list[ShipmentLine]
    gtg: bool = False
    paid: bool = False
    captured: bool = False
    shipped: bool = False
    cancelled: bool = False
    capture_declines: bool = False
    shipped_at: datetime | None = None
    carrier: str = ""
    service: str = ""
    packages: int = 0
    tracking: str = ""
    tracking_url: str = ""
    return_slip_tracking: str = ""
    send_email: bool | None = None
    internal_comment: str = ""
    additional_message: str = ""
    paid_at: datetime | None = None
    captured_at: datetime | None = None
    # The last change Centra announced for the shipment (set when one is emitted).
    modified_at: datetime | None = None

    @property
    def should_capture(self) -> bool:
        return not self.paid


@dataclass(frozen=True)
class Charges:
    """What a shipment carries besides its lines: shipping, handling and a voucher."""

    shipping: float = 0.0
    handling: float = 0.0
    voucher: float = 0.0


@dataclass
class ReturnLine:
    id: int
    shipment_line_id: int
    order_line_id: int
    qty: int
    price: float


@dataclass
class ReturnRecord:
    id: int
    shipment_id: int
    created_at: datetime
    lines: list[ReturnLine]
    return_stock: bool
    comment: str | None
    completed: bool = False
    refunded: bool = False
    return_cost: float = 0.0
    shipping_cost: float = 0.0
    handling_cost: float = 0.0
    voucher_value: float = 0.0
    # The stock change that put the returned goods back, if any.
    stock_change_id: int | None = None


@dataclass
class StockChangeLine:
    """One size's movement: ``delivered`` units into (or, negative, out of) the warehouse."""

    id: int
    size_id: int
    delivered: int
    unit_cost: float | None = None
    cost_currency: str | None = None
    # A return's line comes from the shipment line whose goods came back.
    shipment_line_id: int | None = None


@dataclass
class StockChange:
    """A stock movement in one warehouse, as Centra lists them (the old "warehouse delivery").

    ``kind`` is the Integration API's ``StockChangeType``: ``MANUAL`` for stock set or
    changed by hand or by an API, ``TRANSFER``, ``SUPPLIER_DELIVERY``, ``RETURN`` [I].
    """

    id: int
    warehouse_id: int
    created_at: datetime
    comment: str
    kind: str
    lines: list[StockChangeLine]


@dataclass
class SupplierOrderLine:
    size_id: int
    qty: int
    cost: float
    currency: str


@dataclass
class SupplierOrder:
    id: int
    supplier_name: str
    supplier_country: str
    warehouse_id: int
    created_at: datetime
    etd: datetime | None
    eta: datetime | None
    lines: list[SupplierOrderLine]
    message: str = ""
    confirmed: bool = True
    deliveries: int = 0


@dataclass
class SupplierDelivery:
    id: int
    number: str
    order_id: int
    created_at: datetime
    eta: datetime | None
    etd: datetime | None
    quantities: dict[int, int]
    accepted_at: datetime | None = None
    accepted: dict[int, int] = field(default_factory=dict)
    stock_change_id: int | None = None


@dataclass
class CheckFirstOffer:
    """An order offered to a check-first warehouse, which accepts or rejects it in time."""

    order_number: int
    warehouse_id: int
    expires_at: datetime
    status: Literal["pending", "accepted", "rejected", "timeout"] = "pending"


AllocationRequestStatus = Literal[
    "allocated", "sent", "failed", "confirmed", "rejected", "timed-out", "outdated"
]


@dataclass
class AllocationRequest:
    """A "Direct, then confirm" warehouse's request to confirm (or reject) an order.

    ``lines`` is a snapshot taken when the request was made: (lineId, quantity, stockItemId).
    """

    id: int
    order_number: int
    warehouse_id: int
    created_at: datetime
    expires_at: datetime
    lines: list[tuple[int, int, int]]
    status: AllocationRequestStatus


@dataclass(frozen=True)
class Event:
    """A change an Integration-API webhook reports: object type, action, id and data.

    ``data`` is what check-first and allocation-request events carry beside the id;
    ``change`` is the events queue's ``EventChangeType`` for the same change (a completion
    is a webhook ``update`` but a queue ``COMPLETED``). Stock changes and purchasing belong
    to no store (``store_uri`` None).
    """

    type: str
    action: str
    id: int
    at: datetime
    store_uri: str | None
    data: dict[str, Any] | None = None
    change: str = "UPDATED"


@dataclass(frozen=True)
class WriteRecord:
    """One thing an integration wrote, kept for tests to read back."""

    kind: str
    at: datetime
    store_uri: str
    data: dict[str, Any]
