"""Value objects the Order API client takes and returns besides the record models."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, TypeVar

from centrasync.errors import RecordValidationError

from .models import SupplierDelivery

__all__ = [
    "DeliveryAccepted",
    "Page",
    "ReturnCreated",
    "SerialNumber",
    "ShipmentCreated",
    "ShipmentRef",
    "StockUpdate",
    "StockUpdateResult",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """The valid records of one response, plus the ones that failed validation.

    A bad record must not hide the good ones (one odd shipment would otherwise stop the
    whole pick flow), so list calls return what parsed and the errors for the rest; each
    error names the record and the field. ``next`` is Centra's raw follow-up query string
    on paged catalogue endpoints, None on the last page.
    """

    items: tuple[T, ...]
    rejected: tuple[RecordValidationError, ...] = ()
    next: str | None = None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class ShipmentRef:
    """Which shipment a write touched: Centra echoes the order number and shipment number."""

    order: str | None
    shipment: str


@dataclass(frozen=True)
class ShipmentCreated:
    order: str
    shipment: str
    delivery_note: str = ""
    proforma: str = ""
    invoice: str = ""


@dataclass(frozen=True)
class SerialNumber:
    """A serial number reported for a serializable line, with the quantity it covers."""

    serial_number: str
    qty: int


@dataclass(frozen=True)
class StockUpdate:
    """Absolute physical stock for one item in the plugin's primary warehouse.

    ``product`` is an EAN, a UPC, or the concatenated ``sku + variantSku + sizeSku``.
    """

    product: str
    quantity: int
    cost_price: Decimal | None = None
    cost_price_currency: str | None = None


@dataclass(frozen=True)
class StockUpdateResult:
    """What a (batched) stock update achieved.

    Centra reports unknown items and bundles instead of failing the batch; both lists are
    failures a person has to look at, so :attr:`ok` is False when either is non-empty.
    Values below ``allocatedStock`` are clamped by Centra without any report.
    """

    sent: int
    batches: int
    products_not_found: tuple[str, ...] = ()
    products_are_bundles: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.products_not_found and not self.products_are_bundles


@dataclass(frozen=True)
class ReturnCreated:
    return_id: str
    completed: bool
    returned_items: tuple[str, ...]
    refund_ok: bool | None = None


@dataclass(frozen=True)
class DeliveryAccepted:
    """An accepted supplier delivery; an under-delivery leaves an additional delivery."""

    delivery: str
    additional_delivery: SupplierDelivery | None = None
