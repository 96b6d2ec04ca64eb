"""What the stock flow computes and reports, free of I/O.

Centra's physical figure for a WMS SKU (the reasoning is in :mod:`centrasync.sync.stock`),
the name of a write batch, the ledger states of a SKU and the report of one pass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from centrasync.errors import RecordValidationError
from centrasync.wms.models import StockLevel

__all__ = [
    "PARKED_STOCK_STATES",
    "StockDrift",
    "StockReport",
    "StockState",
    "batch_digest",
    "centra_physical",
]


class StockState(StrEnum):
    """Where one SKU's stock stands in the engine's ledger."""

    SENDING = "sending"
    """A write with the value in the request went out; not yet confirmed."""
    RETRY = "retry"
    """A person asked for another try (``centrasync retry``): re-read and sent again."""
    WRITTEN = "written"
    """Centra's physical stock was set to the WMS figure (the value is the last request)."""
    IMPORTED = "imported"
    """The WMS's external number of items was set to Centra's available stock."""
    NOT_FOUND = "not_found"
    """Parked: Centra has no product with this key (``productsNotFound``)."""
    BUNDLE = "bundle"
    """Parked: the product is a bundle, whose stock Centra derives (``productsAreBundles``)."""
    INVALID = "invalid"
    """Parked: the figures cannot become a stock quantity (names the field)."""
    REFUSED = "refused"
    """Parked: Centra or the WMS refused the write for a reason retrying will not change."""
    FAILED = "failed"
    """Parked: the write kept failing with retryable errors until the attempt limit."""


PARKED_STOCK_STATES = frozenset(
    {
        StockState.NOT_FOUND,
        StockState.BUNDLE,
        StockState.INVALID,
        StockState.REFUSED,
        StockState.FAILED,
    }
)


def centra_physical(level: StockLevel, *, picked_as_in_stock: bool) -> int:
    """The physical stock Centra should hold for one WMS SKU (reasons: :mod:`.stock`).

    Raises :class:`RecordValidationError` naming the SKU and the field when the figures
    cannot be a Centra quantity: a fraction (Centra counts whole items) or below zero.
    """
    record = f"stock {level.sku}"
    figures = {
        "numberOfItems": level.on_hand,
        "numberOfLockedItems": level.locked,
        "allocatedNumberOfItems": level.allocated,
        "pickedToBeCollectedNumberOfItems": level.picked_not_collected,
    }
    for name, figure in figures.items():
        if figure is not None and not figure.is_finite():
            raise RecordValidationError("must be a finite number", record=record, field=name)
    if level.on_hand < 0:
        raise RecordValidationError(
            f"must not be negative, got {level.on_hand}", record=record, field="numberOfItems"
        )
    value = level.on_hand - level.locked + level.allocated
    if picked_as_in_stock and level.picked_not_collected is not None:
        value += level.picked_not_collected
    if value != value.to_integral_value():
        raise RecordValidationError(
            f"physical stock {value} is not a whole number of items",
            record=record,
            field="numberOfItems",
        )
    if value < 0:
        raise RecordValidationError(
            f"physical stock would be {value}: more items locked than in the warehouse",
            record=record,
            field="numberOfLockedItems",
        )
    return int(value)


def batch_digest(items: Mapping[str, int]) -> str:
    """A short, order-independent name for a batch's ``SKU=value`` pairs."""
    text = "\n".join(f"{sku}={items[sku]}" for sku in sorted(items))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


@dataclass(frozen=True)
class StockDrift:
    """One SKU whose figures disagreed: Centra had ``centra``, the WMS says ``wms``.

    None means the side does not have the SKU; ``written`` says whether Centra was set.
    """

    sku: str
    centra: int | None
    wms: int | None
    written: bool


@dataclass(frozen=True)
class StockReport:
    """What one pass saw and did."""

    mode: Literal["incremental", "full"]
    seen: int = 0
    """WMS SKUs read."""
    written: int = 0
    """SKUs whose physical stock was set in Centra."""
    imported: int = 0
    """SKUs whose external number of items was set in the WMS."""
    parked: int = 0
    batches: int = 0
    """Batches Centra confirmed (one ``POST /stock`` each)."""
    waited: float = 0.0
    """Seconds the full sync waited for the quiet window."""
    postponed: bool = False
    """The stock never stood still within the wait limit; nothing was compared."""
    drift: tuple[StockDrift, ...] = ()

    @property
    def moved(self) -> int:
        return self.written + self.imported
