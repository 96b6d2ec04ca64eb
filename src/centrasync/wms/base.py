"""The port every warehouse connector implements, in the engine's terms.

The sync flows depend on this protocol only. Reporting follows one pattern for picks,
receipts and returns: ``list_*_unreported`` returns documents whose cumulative figure on
some line is ahead of what was reported, the flow tells Centra, and only after Centra
accepted does it call ``mark_*_reported`` with the **cumulative** quantity it reported per
line. Passing the exact value (rather than "set reported to picked") means a pick that
happened in between stays visible as a new delta instead of being swallowed.

Paging is the connector's business: every ``list_*``/``read_*`` returns everything, and
``iter_stock`` and ``iter_shipped_unreported`` yield the same reads page by page. The
``*_unreported`` reads return a :class:`~.models.Listing`: a document the connector cannot
read is listed apart, named with its field, and the others are read, so a flow parks that
one record and carries on.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from .models import (
    Article,
    CancelOutcome,
    InOrder,
    Listing,
    OrderRef,
    OutboundOrder,
    ReceivedInOrder,
    ReturnedOrder,
    ShippedOrder,
    StockLevel,
    UpsertResult,
)

__all__ = ["Warehouse"]


@runtime_checkable
class Warehouse(Protocol):
    """A warehouse management system seen from the engine."""

    async def upsert_articles(self, articles: Sequence[Article]) -> UpsertResult:
        """Create or fully replace each article; refusals are per article, not per batch."""
        ...

    async def upsert_outbound_order(self, order: OutboundOrder) -> OrderRef:
        """Create or replace the order with this number; a re-push never duplicates it."""
        ...

    async def find_outbound_order(self, order_number: str) -> OrderRef | None:
        """The order with this number, in any status, or None if the WMS has none."""
        ...

    async def cancel_outbound_order(self, order_number: str) -> CancelOutcome:
        """Cancel unless picking started; an already cancelled order counts as CANCELLED."""
        ...

    async def list_shipped_unreported(self) -> Listing[ShippedOrder]:
        """Orders picked from with a line whose picked quantity is ahead of the reported one.

        Orders picked but not yet shipped come with ``shipped`` False and no parcels.
        """
        ...

    def iter_shipped_unreported(self) -> AsyncGenerator[Listing[ShippedOrder]]:
        """The orders :meth:`list_shipped_unreported` returns, one page at a time.

        So confirmation can start on the first orders while the WMS pages out the rest.
        """
        ...

    async def mark_lines_reported(
        self, order: ShippedOrder, reported: Mapping[str, Decimal]
    ) -> None:
        """Record, per ``line_key``, the cumulative picked quantity Centra now knows."""
        ...

    async def upsert_in_order(self, in_order: InOrder) -> OrderRef:
        """Create or replace the announced delivery with this number."""
        ...

    async def list_received_unreported(self) -> Listing[ReceivedInOrder]:
        """In-orders with a line whose received quantity is ahead of the reported one."""
        ...

    async def mark_receipts_reported(
        self, in_order: ReceivedInOrder, reported: Mapping[str, Decimal]
    ) -> None:
        """Record, per ``line_key``, the cumulative received quantity Centra now knows."""
        ...

    async def list_returns_unreported(self) -> Listing[ReturnedOrder]:
        """Orders with a line whose returned quantity is ahead of the reported one."""
        ...

    async def mark_returns_reported(
        self, order: ReturnedOrder, reported: Mapping[str, Decimal]
    ) -> None:
        """Record, per ``line_key``, the cumulative returned quantity Centra now knows.

        Only for returns on the order's own lines (``return_order`` None): the WMS keeps
        no reported figure for return orders.
        """
        ...

    async def list_return_orders(
        self, returned_since: datetime | None = None
    ) -> Listing[ReturnedOrder]:
        """Goods returned on WMS return orders, one :class:`ReturnedOrder` per return order
        with ``return_order`` set and every line's ``reported`` zero.

        With ``returned_since`` (aware), only return orders something came back on since
        then (a superset is allowed); each line's ``returned`` is still cumulative.
        """
        ...

    async def read_stock(
        self,
        changed_since: datetime | None = None,
        *,
        skus: Sequence[str] | None = None,
        warehouses: Sequence[str] | None = None,
    ) -> list[StockLevel]:
        """Every SKU's stock, or those changed since an aware time (a superset is allowed).

        ``skus`` narrows the read to those SKUs, e.g. to re-check a few after a drift alert.
        ``warehouses`` (the WMS's warehouse codes) counts only goods stored there, for a
        store whose shop sells from some of the goods owner's warehouses; None counts all.
        """
        ...

    def iter_stock(
        self,
        changed_since: datetime | None = None,
        *,
        skus: Sequence[str] | None = None,
        warehouses: Sequence[str] | None = None,
    ) -> AsyncGenerator[list[StockLevel]]:
        """The levels :meth:`read_stock` returns, one page at a time.

        For a flow reading the whole catalogue: it keeps what it needs of each page
        instead of holding every level at once.
        """
        ...

    async def set_external_stock(self, levels: Mapping[str, Decimal]) -> UpsertResult:
        """Record, per SKU, the stock the shop reports as available, for warehouse staff.

        Absolute values, so repeating a call is harmless; unknown SKUs are refused per SKU.
        """
        ...
