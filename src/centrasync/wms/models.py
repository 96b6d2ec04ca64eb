"""What the engine tells a warehouse and what it reads back, in our terms, not a vendor's.

Every connector translates these value objects to and from its own wire format, so the
sync flows never see an Ongoing field name. Quantities are :class:`~decimal.Decimal`
because warehouses send floats (``2.0``) and deltas computed from floats drift; times are
aware UTC. Lines are keyed by ``line_key``, our own line identity (Centra's ``lineId``),
because the same SKU may sit on two lines of one order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from centrasync.errors import RecordValidationError

__all__ = [
    "Address",
    "Article",
    "CancelOutcome",
    "InOrder",
    "InOrderLine",
    "Listing",
    "OrderRef",
    "OutboundOrder",
    "OutboundOrderLine",
    "Parcel",
    "ReceivedInOrder",
    "ReceivedLine",
    "RecordFailure",
    "ReturnedLine",
    "ReturnedOrder",
    "ShippedLine",
    "ShippedOrder",
    "StockLevel",
    "Unreadable",
    "UpsertResult",
    "is_http_url",
]

ZERO = Decimal(0)
T = TypeVar("T")


def _require_text(value: str, record: str, field_name: str) -> None:
    if not value or not value.strip():
        raise RecordValidationError("must not be empty", record=record, field=field_name)


def _require_quantity(value: Decimal, record: str, field_name: str) -> None:
    if not value.is_finite() or value < 0:
        raise RecordValidationError(
            f"must be a finite quantity >= 0, got {value}", record=record, field=field_name
        )


def _require_optional_text(value: str | None, record: str, field_name: str) -> None:
    if value is not None:
        _require_text(value, record, field_name)


def _require_money(value: Decimal | None, record: str, field_name: str) -> None:
    if value is not None and (not value.is_finite() or value < 0):
        raise RecordValidationError(
            f"must be a finite amount >= 0, got {value}", record=record, field=field_name
        )


def is_http_url(value: str) -> bool:
    """Whether ``value`` is an absolute http(s) URL a warehouse can fetch a document from."""
    parts = urlsplit(value.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _require_url(value: str | None, record: str, field_name: str) -> None:
    # The value stays out of the message: document links may carry access tokens.
    if value is not None and not is_http_url(value):
        raise RecordValidationError(
            "must be an absolute http(s) URL", record=record, field=field_name
        )


def _require_aware(value: datetime | None, record: str, field_name: str) -> None:
    if value is not None and value.utcoffset() is None:
        raise RecordValidationError("must be timezone-aware", record=record, field=field_name)


def _require_unique_keys(keys: Sequence[str], record: str, field_name: str) -> None:
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise RecordValidationError(
                f"line key {key!r} appears twice", record=record, field=field_name
            )
        seen.add(key)


@dataclass(frozen=True, slots=True)
class Article:
    """One stock-keeping unit as the warehouse should know it; always sent in full."""

    sku: str
    name: str
    barcode: str | None = None
    product_code: str | None = None
    weight_kg: Decimal | None = None
    country_of_origin: str | None = None
    hs_code: str | None = None
    customs_description: str | None = None
    unit_price: Decimal | None = None
    is_active: bool = True

    def __post_init__(self) -> None:
        _require_text(self.sku, f"article {self.sku!r}", "sku")


@dataclass(frozen=True)
class RecordFailure:
    """A record the warehouse refused; the others in the batch went through."""

    key: str
    reason: str


@dataclass(frozen=True)
class UpsertResult:
    """Outcome of a batch upsert: which keys are now in the warehouse, which were refused."""

    upserted: tuple[str, ...] = ()
    failed: tuple[RecordFailure, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass(frozen=True)
class Address:
    """Where an order goes; ``country_code`` is ISO 3166-1 alpha-2."""

    name: str
    address1: str
    postcode: str
    city: str
    country_code: str
    address2: str | None = None
    address3: str | None = None
    state: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class OutboundOrderLine:
    line_key: str
    sku: str
    quantity: Decimal
    unit_price: Decimal | None = None
    currency: str | None = None


# Optional document fields that, when given, must say something: a blank would be sent
# and shown to warehouse staff as if it were a value.
_OPTIONAL_TEXT_FIELDS = (
    "order_type",
    "invoice_number",
    "delivery_note",
    "marketplace",
    "marketplace_order_number",
    "notification_mobile",
    "notification_email",
    "telephone",
    "mobile",
)


@dataclass(frozen=True)
class OutboundOrder:
    """A shipment the warehouse must pick and send; ``order_number`` is the idempotency key.

    ``order_number`` is Centra's shipment number (one WMS order per shipment) and
    ``reference`` the Centra order number it belongs to.

    The document fields follow the shipment mapping of Ongoing's own Centra connector, so
    a warehouse gets what its staff expect to see: ``customer_price`` is the value of the
    shipment (Centra's grand total), ``order_type`` tells wholesale (``"B2B"``) from
    consumer (``"B2C"``) orders, ``invoice_number`` / ``invoice_url`` / ``delivery_note``
    point at Centra's documents, and ``marketplace`` / ``marketplace_order_number`` name
    the sales channel an order came through.

    Contact details come twice on purpose: ``telephone`` and ``mobile`` are the
    customer's numbers as the shop has them (the telephone may be a landline), while
    ``notification_mobile`` and ``notification_email`` are where the warehouse or its
    carrier should send delivery notices, so the mobile one must take text messages.
    """

    order_number: str
    ship_to: Address
    lines: tuple[OutboundOrderLine, ...]
    customer_number: str | None = None
    reference: str | None = None
    delivery_date: date | None = None
    carrier: str | None = None
    service: str | None = None
    service_point: str | None = None
    remark: str | None = None
    currency: str | None = None
    order_type: str | None = None
    customer_price: Decimal | None = None
    invoice_number: str | None = None
    invoice_url: str | None = None
    delivery_note: str | None = None
    marketplace: str | None = None
    marketplace_order_number: str | None = None
    notification_mobile: str | None = None
    notification_email: str | None = None
    telephone: str | None = None
    mobile: str | None = None

    def __post_init__(self) -> None:
        record = f"order {self.order_number!r}"
        _require_text(self.order_number, record, "order_number")
        _require_unique_keys([line.line_key for line in self.lines], record, "lines")
        for index, line in enumerate(self.lines):
            _require_text(line.line_key, record, f"lines[{index}].line_key")
            _require_text(line.sku, record, f"lines[{index}].sku")
            _require_quantity(line.quantity, record, f"lines[{index}].quantity")
        _require_money(self.customer_price, record, "customer_price")
        _require_url(self.invoice_url, record, "invoice_url")
        for field_name in _OPTIONAL_TEXT_FIELDS:
            _require_optional_text(getattr(self, field_name), record, field_name)


@dataclass(frozen=True)
class OrderRef:
    """Our number for a document plus the warehouse's own id for it."""

    number: str
    wms_id: str


class CancelOutcome(StrEnum):
    """What a cancel request achieved; TOO_LATE means a person has to intervene."""

    CANCELLED = "cancelled"
    TOO_LATE = "too_late"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Parcel:
    """One package that left the warehouse, with whatever tracking the carrier gave."""

    parcel_number: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None


@dataclass(frozen=True)
class ShippedLine:
    """Cumulative figures of one order line; ``unreported`` is what Centra has not heard."""

    line_key: str
    sku: str
    ordered: Decimal
    picked: Decimal
    reported: Decimal
    serial_numbers: tuple[str, ...] = ()
    wms_line_id: str | None = None

    @property
    def unreported(self) -> Decimal:
        return self.picked - self.reported


@dataclass(frozen=True)
class ShippedOrder:
    """An order picked from, with at least one line whose picks are not yet reported.

    ``shipped`` is False while the goods are picked but not yet handed to the carrier: a
    partial pick is reportable on its own, but tracking only counts once shipped.
    """

    order_number: str
    wms_id: str
    lines: tuple[ShippedLine, ...]
    shipped: bool
    parcels: tuple[Parcel, ...] = ()
    carrier: str | None = None
    service: str | None = None
    shipped_at: datetime | None = None

    def __post_init__(self) -> None:
        _require_aware(self.shipped_at, f"shipped order {self.order_number!r}", "shipped_at")

    @property
    def tracking_numbers(self) -> tuple[str, ...]:
        return tuple(p.tracking_number for p in self.parcels if p.tracking_number)


@dataclass(frozen=True)
class InOrderLine:
    """One announced article; ``unit_cost`` is the purchase price of one item."""

    line_key: str
    sku: str
    quantity: Decimal
    unit_cost: Decimal | None = None
    currency: str | None = None


@dataclass(frozen=True)
class InOrder:
    """Goods announced to the warehouse (a Centra supplier delivery).

    ``reference`` and ``reference_number`` are the goods owner's two references on the
    document; for Centra they carry the delivery number and the supplier order number.
    """

    in_order_number: str
    lines: tuple[InOrderLine, ...]
    expected_date: date | None = None
    supplier_number: str | None = None
    supplier_name: str | None = None
    reference: str | None = None
    reference_number: str | None = None

    def __post_init__(self) -> None:
        record = f"in-order {self.in_order_number!r}"
        _require_text(self.in_order_number, record, "in_order_number")
        _require_unique_keys([line.line_key for line in self.lines], record, "lines")
        for index, line in enumerate(self.lines):
            _require_text(line.line_key, record, f"lines[{index}].line_key")
            _require_text(line.sku, record, f"lines[{index}].sku")
            _require_quantity(line.quantity, record, f"lines[{index}].quantity")
            _require_money(line.unit_cost, record, f"lines[{index}].unit_cost")


@dataclass(frozen=True)
class ReceivedLine:
    line_key: str
    sku: str
    advised: Decimal
    received: Decimal
    reported: Decimal
    wms_line_id: str | None = None

    @property
    def unreported(self) -> Decimal:
        return self.received - self.reported


@dataclass(frozen=True)
class ReceivedInOrder:
    """An in-order with goods received but not yet reported."""

    in_order_number: str
    wms_id: str
    lines: tuple[ReceivedLine, ...]


@dataclass(frozen=True)
class ReturnedLine:
    line_key: str
    sku: str
    returned: Decimal
    reported: Decimal
    causes: tuple[str, ...] = ()
    wms_line_id: str | None = None

    @property
    def unreported(self) -> Decimal:
        return self.returned - self.reported


@dataclass(frozen=True)
class ReturnedOrder:
    """Goods returned on an outbound order: on its own lines, or on a WMS return order.

    ``order_number`` is the outbound order's number either way. ``return_order`` is the
    return order's number when the goods came back on one; ``wms_id`` is then the return
    order's id. Ongoing keeps no reported figure on return order lines, so their
    ``reported`` is zero as read, and the flow keeps what it reported itself.
    """

    order_number: str
    wms_id: str
    lines: tuple[ReturnedLine, ...]
    return_order: str | None = None


@dataclass(frozen=True)
class StockLevel:
    """Stock of one SKU; ``available`` is sellable (may go negative), ``on_hand`` physical.

    ``picked_not_collected`` is None where the warehouse does not show that figure;
    ``external`` is the shop's available stock as last recorded in the WMS (None if never).
    """

    sku: str
    on_hand: Decimal
    available: Decimal
    allocated: Decimal = ZERO
    locked: Decimal = ZERO
    booked: Decimal = ZERO
    to_receive: Decimal = ZERO
    picked_not_collected: Decimal | None = None
    external: Decimal | None = None


@dataclass(frozen=True)
class Unreadable:
    """A document the warehouse listed that could not be read; the rest of the read was.

    ``number`` is our number for it (order or in-order number) where that much could be
    read, so a flow can park the record it belongs to; ``error`` names the document and
    the field; ``document`` is what the warehouse sent, for the person who fixes it.
    """

    number: str | None
    error: RecordValidationError
    document: Any


@dataclass(frozen=True)
class Listing(Generic[T]):
    """The documents of one read, plus the ones that could not be read.

    One odd document must not hide the others (a bad order would otherwise stop every
    confirmation), so reads return what was read and the rest as :class:`Unreadable`.
    """

    items: tuple[T, ...] = ()
    rejected: tuple[Unreadable, ...] = ()

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)
