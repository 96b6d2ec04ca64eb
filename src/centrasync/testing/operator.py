"""The warehouse floor, as the contract suite drives it: what a person in the warehouse does.

Each emulator or sandbox exposes its own way to allocate, pick, ship, receive, take back
returns and count stock; an implementation of :class:`WarehouseOperator` hides that, so
the same contract tests run against any connector. Documents are addressed by *our*
numbers and SKUs, which is all a test knows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from centrasync.wms.models import Parcel

__all__ = ["PickLine", "ReceiptLine", "ReturnLine", "WarehouseOperator"]


@dataclass(frozen=True)
class PickLine:
    """Pick ``quantity`` of ``sku``; fewer than ordered is a short pick."""

    sku: str
    quantity: Decimal
    serial_numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReceiptLine:
    sku: str
    quantity: Decimal


@dataclass(frozen=True)
class ReturnLine:
    sku: str
    quantity: Decimal
    cause: str | None = None


class WarehouseOperator(Protocol):
    """Hands-on actions in the warehouse, outside the connector under test."""

    async def allocate(self, order_number: str) -> None:
        """Reserve stock for the order (the step before picking)."""
        ...

    async def pick(self, order_number: str, lines: Sequence[PickLine] | None = None) -> None:
        """Pick the given quantities, or everything still to pick when ``lines`` is None."""
        ...

    async def ship(
        self,
        order_number: str,
        parcels: Sequence[Parcel],
        carrier: str | None = None,
        service: str | None = None,
    ) -> None:
        """Hand the picked goods to the carrier in these parcels."""
        ...

    async def receive(
        self, in_order_number: str, lines: Sequence[ReceiptLine] | None = None
    ) -> None:
        """Receive goods against an in-order, or everything outstanding when ``lines`` is None."""
        ...

    async def take_return(self, order_number: str, lines: Sequence[ReturnLine]) -> None:
        """Register goods that came back on a shipped order."""
        ...

    async def take_return_order(self, order_number: str, lines: Sequence[ReturnLine]) -> None:
        """Register goods that came back on a shipped order as a return order of it, the
        way many warehouses do, instead of on the order's own lines."""
        ...

    async def count_stock(self, sku: str, on_hand: Decimal) -> None:
        """A stock-take: the physical count of ``sku`` is now ``on_hand``."""
        ...
