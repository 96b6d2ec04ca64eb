"""The emulated warehouse's records, status tables and time formats, in plain Python.

Entities are mutable dataclasses because the warehouse changes them in place (a pick
updates a line, a receipt a purchase-order line); the status table and the figures derived
for an article are frozen value objects.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from centrasync.emulators.ongoing.payloads import (
        ArticleIn,
        OrderIn,
        OrderLineIn,
        PurchaseOrderIn,
        PurchaseOrderLineIn,
        ReturnOrderIn,
    )

__all__ = [
    "DEFAULT_RETURN_CAUSES",
    "DEFAULT_STATUSES",
    "STOCK_INFO_WINDOW",
    "Article",
    "Inventory",
    "OngoingApiError",
    "Order",
    "OrderLine",
    "OrderStatus",
    "Parcel",
    "PickedItem",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "PurchaseOrderStatus",
    "ReceivedItem",
    "ReturnCause",
    "ReturnOrder",
    "ReturnOrderLine",
    "ReturnOrderStatus",
    "ReturnedArticleItem",
    "Site",
    "StatusTable",
    "format_time",
    "parse_time",
    "read_time",
]


class OngoingApiError(Exception):
    """A refusal the emulator answers with ``status_code`` and ``{"message": ...}``.

    Ongoing's error bodies are not shown in the reference; an ASP.NET-style ``message``
    object is the most likely form [I].
    """

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


class OrderStatus:
    """Order status codes of the vendor example tenant (reference §5)."""

    ERROR = 150
    OPEN = 200
    RELEASED = 300
    ALLOCATED = 320
    PICKED = 400
    SENT = 450
    COLLECTED = 500
    CANCELLED = 1000


class PurchaseOrderStatus:
    """Purchase-order status codes of the vendor example tenant (reference §5)."""

    NOTIFIED = 100
    ARRIVAL_SPACE = 200
    INBOUND = 300
    DEFLECTION = 400
    RECEIVED = 500
    CANCELLED = 900


class ReturnOrderStatus:
    """Return-order status codes [I: neither the examples nor the generated clients list
    them; the purchase order's numbering, as a return is goods coming in]."""

    NOTIFIED = 100
    PARTLY_RETURNED = 400
    RETURNED = 500


@dataclass(frozen=True)
class StatusTable:
    """Codes, texts and the "started" sets; tenants localise texts, so all are settable.

    An order or purchase order whose status is in the started set can no longer be
    updated or cancelled (reference §2, §7); a return order cannot be updated once goods
    came back on it [I].
    """

    order: Mapping[int, str]
    purchase_order: Mapping[int, str]
    return_order: Mapping[int, str]
    order_started: frozenset[int]
    purchase_order_started: frozenset[int]
    return_order_started: frozenset[int]

    def order_text(self, number: int) -> str:
        return self.order.get(number, str(number))

    def purchase_order_text(self, number: int) -> str:
        return self.purchase_order.get(number, str(number))

    def return_order_text(self, number: int) -> str:
        return self.return_order.get(number, str(number))


DEFAULT_STATUSES = StatusTable(
    order={
        150: "Error",
        200: "Open",
        300: "Released",
        320: "Allocated",
        400: "Picked",
        450: "Sent",
        500: "Collected",
        1000: "Cancelled",
    },
    purchase_order={
        100: "Notified",
        200: "Arrival space",
        300: "Inbound",
        400: "Deflection",
        500: "Received",
        900: "Cancelled",
    },
    return_order={100: "Notified", 400: "Partly returned", 500: "Returned"},
    # Released (300) means handed to the floor for picking: from then on the warehouse
    # has started, so only Error and Open can still change [I].
    order_started=frozenset({300, 320, 400, 450, 500}),
    purchase_order_started=frozenset({200, 300, 400, 500}),
    return_order_started=frozenset({400, 500}),
)


@dataclass(frozen=True)
class ReturnCause:
    """Why goods came back, as the warehouse registers it (GetReturnCauseModel)."""

    cause_id: int
    code: str
    name: str


# A small built-in table [I: each tenant sets up its own]; causes the warehouse uses that
# are not in it are added as they come.
DEFAULT_RETURN_CAUSES = (
    ReturnCause(1, "DAMAGED", "Damaged"),
    ReturnCause(2, "WRONG_SIZE", "Wrong size"),
    ReturnCause(3, "REGRET", "Changed mind"),
)

# The vendor recommends explicit offsets; a time without one is read as the warehouse's
# wall-clock time, which is how a Swedish-hosted service most likely treats it [I].
_WAREHOUSE_ZONE = ZoneInfo("Europe/Stockholm")
_PLAIN_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def format_time(moment: datetime) -> str:
    """UTC with a variable number of fraction digits (``.437Z``, ``.57Z``), as the live API."""
    utc = moment.astimezone(UTC)
    millis = utc.microsecond // 1000
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if millis:
        text += f".{millis:03d}".rstrip("0")
    return text + "Z"


def read_time(value: str) -> datetime:
    """An ISO 8601 date-time in UTC; ``ValueError`` if it is none.

    A date alone is that day's start in UTC, so the day reads back unchanged; a time
    without an offset is the warehouse's wall-clock time [I].
    """
    if _PLAIN_DATE.fullmatch(value):
        return datetime.combine(date.fromisoformat(value), time(), UTC)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_WAREHOUSE_ZONE)
    return parsed.astimezone(UTC)


def parse_time(value: str, parameter: str) -> datetime:
    """Parse a query time; unparseable input (e.g. an unencoded ``+``) is a 400."""
    try:
        return read_time(value)
    except ValueError as exc:
        raise OngoingApiError(
            400, f"The value '{value}' is not valid for {parameter}: expected an ISO 8601 time"
        ) from exc


STOCK_INFO_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Site:
    """Where the emulated records live: one warehouse, one goods owner.

    The warehouse's code is the URL segment; its id, name and address are built in [I].
    """

    warehouse_code: str
    goods_owner_id: int
    goods_owner_name: str
    warehouse_id: int = 1


@dataclass(frozen=True)
class Inventory:
    """Stock figures of one article, derived from stock, orders and purchase orders.

    ``number_of_items`` is what is physically in the warehouse (vendor spec text), so
    allocated and picked-but-not-collected goods stay in it until the order ships;
    ``sellable`` = physical - locked - booked and may go negative (reference §4.4).

    ``locked`` is what the operator locked (a stock-take, damaged goods). The vendor's
    ``numberOfLockedItems`` also counts allocated article items (developer.ongoingwarehouse.com
    /Inventory) and, by inference [I], picked goods waiting for collection: only then do
    Ongoing's own Centra connector's physical figure (items - locked + allocated) and its
    option "report picked, not yet collected, as in stock" both make sense.
    """

    number_of_items: float
    locked: float
    booked: float
    allocated: float
    picked_to_be_collected: float
    to_receive: float

    @property
    def sellable(self) -> float:
        return self.number_of_items - self.locked - self.booked

    @property
    def number_of_locked_items(self) -> float:
        """The vendor's locked count: operator locks plus goods bound to orders."""
        return self.locked + self.allocated + self.picked_to_be_collected

    @property
    def free_to_allocate(self) -> float:
        return max(
            0.0, self.number_of_items - self.locked - self.allocated - self.picked_to_be_collected
        )


@dataclass
class Article:
    """An article and its stock; ``last_in_date`` is when goods of it last came in.

    Every lot has an in-date (the spec types a picked item's ``inDate`` as a date-time, not
    nullable): goods arrive by a receipt, an opening balance or a stock-take that finds
    more, and each sets it. A pick from an article no goods were ever recorded for takes the
    article's creation as the in-date of what it picked [I].
    """

    system_id: int
    document: ArticleIn
    created: datetime
    data_updated: datetime
    stock_changed: datetime
    number_of_items: float = 0.0
    locked: float = 0.0
    last_in_date: datetime | None = None

    @property
    def lot_in_date(self) -> datetime:
        """The in-date of goods picked now: the last goods in, or the article's creation."""
        return self.last_in_date or self.created

    @property
    def number(self) -> str:
        return self.document.article_number


@dataclass
class PickedItem:
    item_id: int
    number_of_items: float
    serial: str
    picked_time: datetime
    in_date: datetime
    location: str
    returned: bool = False
    return_date: datetime | None = None
    return_cause: ReturnCause | None = None


@dataclass
class OrderLine:
    line_id: int
    row: OrderLineIn
    article: Article
    allocated: float = 0.0
    picked: float = 0.0
    reported: float | None = None
    returned: float = 0.0
    reported_returned: float | None = None
    picked_items: list[PickedItem] = field(default_factory=list)

    @property
    def ordered(self) -> float:
        return self.row.number_of_items


@dataclass
class Parcel:
    parcel_id: int
    parcel_number: str
    tracking_number: str
    tracking_url: str | None
    weight: float | None
    created: datetime
    is_return: bool = False


@dataclass
class Order:
    order_id: int
    document: OrderIn
    lines: list[OrderLine]
    status: int
    created: datetime
    updated: datetime
    status_changed: datetime
    consignee_id: int
    shipped_time: datetime | None = None
    last_picked: datetime | None = None
    last_returned: datetime | None = None
    shipment_id: int | None = None
    transporter_code: str | None = None
    service_code: str | None = None
    parcels: list[Parcel] = field(default_factory=list)

    @property
    def number(self) -> str:
        return self.document.order_number

    @property
    def is_active(self) -> bool:
        """Still holds stock: not cancelled and not yet gone out of the door."""
        return self.status != OrderStatus.CANCELLED and self.shipped_time is None


@dataclass
class ReceivedItem:
    item_id: int
    number_of_items: float
    in_date: datetime
    location: str


@dataclass
class PurchaseOrderLine:
    line_id: int
    row: PurchaseOrderLineIn
    article: Article
    received: float = 0.0
    reported: float | None = None
    items: list[ReceivedItem] = field(default_factory=list)

    @property
    def advised(self) -> float:
        return self.row.number_of_items


@dataclass
class PurchaseOrder:
    purchase_order_id: int
    document: PurchaseOrderIn
    lines: list[PurchaseOrderLine]
    status: int
    created: datetime
    status_changed: datetime
    last_receive_time: datetime | None = None

    @property
    def number(self) -> str:
        return self.document.purchase_order_number

    @property
    def expects_goods(self) -> bool:
        return self.status not in (PurchaseOrderStatus.CANCELLED, PurchaseOrderStatus.RECEIVED)


@dataclass
class ReturnedArticleItem:
    """Goods that came back on a return order line (GetReturnedArticleItem)."""

    number_of_items: float
    return_time: datetime
    cause: ReturnCause | None
    serial: str = ""


@dataclass
class ReturnOrderLine:
    line_id: int
    row_number: str
    order_line: OrderLine
    to_be_returned: float
    cause: ReturnCause | None
    returned: float = 0.0
    items: list[ReturnedArticleItem] = field(default_factory=list)


@dataclass
class ReturnOrder:
    """A return order on a shipped customer order; what came back on it is booked here,
    not on the customer order's lines [I]: tenants that work with return orders register
    returns there, and a client reading only the order lines misses them."""

    return_order_id: int
    document: ReturnOrderIn
    order: Order
    lines: list[ReturnOrderLine]
    status: int
    created: datetime
    status_changed: datetime
    last_returned: datetime | None = None

    @property
    def number(self) -> str:
        return self.document.return_order_number
