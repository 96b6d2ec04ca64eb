"""What the stock flow knows of Centra's stock list, kept between passes.

Comparing a handful of changed SKUs with Centra must not cost a read of the whole
catalogue every few minutes, so the flow keeps Centra's ``GET /stock`` rows in memory,
keyed by WMS article number: read in full the first time and by every full sync, and
brought up to date in between with the rows whose stock changed (``stock_modified``) or
that were created since the last read, minus an overlap for clock skew. Nothing here is
durable: after a restart the first pass reads the list in full again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from centrasync.centra.models import StockRow
from centrasync.centra.results import Page, StockUpdate, StockUpdateResult
from centrasync.centra.types import Moment
from centrasync.config import StoreSettings
from centrasync.errors import DataError, redact

from .mapping import article_number

__all__ = ["AMBIGUOUS", "CentraStock", "CentraStockMirror", "InCentra"]

_log = structlog.get_logger(__name__)


class CentraStock(Protocol):
    """The Order API calls the stock flow makes."""

    def iter_stock(
        self,
        *,
        modified_since: Moment | None = None,
        stock_modified_since: Moment | None = None,
        created_since: Moment | None = None,
        limit: int = 100,
        sku: str | None = None,
        ean: str | None = None,
    ) -> AsyncIterator[Page[StockRow]]: ...

    async def update_stock(
        self, items: Iterable[StockUpdate], *, batch_size: int = 100
    ) -> StockUpdateResult: ...


@dataclass(frozen=True, slots=True)
class InCentra:
    """One size as Centra lists it: the key ``POST /stock`` takes, and its figures."""

    key: str
    physical: int | None
    available: int | None
    allocated: int | None

    def after_write(self, value: int) -> int:
        """What Centra holds after being sent ``value``: never less than allocated [C]."""
        return value if self.allocated is None else max(value, self.allocated)

    def written(self, value: int) -> InCentra:
        """This size once Centra has taken ``value``."""
        physical = self.after_write(value)
        available = None if self.allocated is None else physical - self.allocated
        return InCentra(self.key, physical, available, self.allocated)


class _Ambiguous:
    """Several Centra sizes share one article number: stock cannot be told apart."""

    def __repr__(self) -> str:
        return "AMBIGUOUS"


AMBIGUOUS = _Ambiguous()


@dataclass
class CentraStockMirror:
    """Centra's stock rows by WMS article number, refreshed in full or by delta."""

    centra: CentraStock
    settings: StoreSettings
    page_size: int = 100
    overlap: timedelta = timedelta(minutes=2)
    as_of: datetime | None = None
    _rows: dict[str, InCentra | _Ambiguous] = field(default_factory=dict)

    def get(self, sku: str) -> InCentra | _Ambiguous | None:
        return self._rows.get(sku)

    def __contains__(self, sku: object) -> bool:
        return sku in self._rows

    def sizes(self) -> Iterator[tuple[str, InCentra]]:
        """Every SKU that stands for exactly one Centra size, in SKU order."""
        for sku in sorted(self._rows):
            row = self._rows[sku]
            if isinstance(row, InCentra):
                yield sku, row

    def written(self, sku: str, key: str, value: int) -> None:
        """Remember a confirmed write, so the next pass does not send it again."""
        row = self._rows.get(sku)
        known = row if isinstance(row, InCentra) else InCentra(key, None, None, None)
        self._rows[sku] = known.written(value)

    async def refresh(self, now: datetime, *, full: bool) -> set[str]:
        """Read Centra's list (all of it, or the delta since the last read); returns the SKUs read.

        ``now`` is when the read starts: the next delta begins there, minus the overlap.
        """
        if full or self.as_of is None:
            readers = [self.centra.iter_stock(limit=self.page_size)]
            rows: dict[str, InCentra | _Ambiguous] = {}
        else:
            since = self.as_of - self.overlap
            readers = [
                self.centra.iter_stock(stock_modified_since=since, limit=self.page_size),
                self.centra.iter_stock(created_since=since, limit=self.page_size),
            ]
            rows = self._rows
        # Per SKU read, the key it must keep: the one it had before this read, else the
        # first one read. Kept for the SKUs read only, so a delta costs what it reads.
        keys: dict[str, str] = {}
        for reader in readers:
            async for page in reader:
                for rejected in page.rejected:
                    _log.warning(
                        "unreadable Centra stock row skipped",
                        store=self.settings.name,
                        error=redact(str(rejected)),
                    )
                for stock_row in page:
                    sku = self._article_number(stock_row)
                    if sku is None:
                        continue
                    key = stock_row.physical_sku or stock_row.ean
                    if sku not in keys:
                        before = rows.get(sku)
                        keys[sku] = before.key if isinstance(before, InCentra) else key
                    if keys[sku] != key:
                        rows[sku] = AMBIGUOUS
                    else:
                        rows[sku] = InCentra(
                            key,
                            stock_row.physical_stock,
                            stock_row.available_stock,
                            stock_row.allocated_stock,
                        )
        self._rows = rows
        self.as_of = now
        return set(keys)

    def _article_number(self, row: StockRow) -> str | None:
        """The row's WMS article number; None when a part the strategy needs is empty.

        Such a size cannot be in the WMS under that number, so it is left out (the
        articles flow reports it); parking it here would repeat on every read.
        """
        try:
            return article_number(
                row,
                self.settings.article_number,
                self.settings.article_number_fields,
                record=f"stock row {row.physical_sku or row.ean}",
            )
        except DataError:
            return None
