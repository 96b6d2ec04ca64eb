"""The stock flow of one store: WMS stock to Centra, and Centra's available stock back.

**What Centra gets.** Centra wants the physical count and works out what is sellable
itself (centra-api.md §2.6.3). Per SKU the flow sends the figure Ongoing's own Centra
connector sends (seed 002): ``numberOfItems - numberOfLockedItems + allocatedNumberOfItems``,
plus ``pickedToBeCollectedNumberOfItems`` when the store reports picked goods as in stock.
Ongoing documents ``numberOfItems`` as everything physically in the warehouse and counts
allocated items among the locked ones (developer.ongoingwarehouse.com/Inventory), so the
formula means "physical minus what is truly locked". Picked goods waiting for collection
must sit in the locked count too, or the connector's option would count them twice; that
part is inferred [I], and the Ongoing emulator follows it (docs/ongoing-emulator.md).

**Only what differs, in batches.** A pass reads the WMS (everything, or what changed since
the cursor minus an overlap) and compares each SKU with Centra's physical stock as the
:class:`~centrasync.sync.stock_mirror.CentraStockMirror` knows it. Only SKUs whose figure
differs are written, ``batch_size`` per ``POST /stock``; a figure Centra raises to its
allocated stock counts as written once Centra holds that.

**Exactly once, by construction.** Each batch is an effect keyed by the store, the pass's
*generation* (the cursor value it started from, which only moves after a clean pass) and a
digest of its ``SKU=value`` pairs, and each SKU in it is marked ``sending`` first. Stock
writes are absolute, so repeating one is harmless: a pass killed between a batch call and
its confirmation is simply run again. If the call landed, Centra now shows those values:
the SKUs no longer differ, nothing is sent twice, and their ``sending`` rows are confirmed
from what Centra shows. If it did not, the same SKUs form the same batch under the same
key, found in doubt, and are sent again. No ``look`` is needed for an idempotent call.

**Import.** With ``import_available_stock`` Centra's ``availableStock`` is written to the
WMS article's external number of items wherever the WMS shows another value.

**Full sync.** :meth:`StockFlow.run_full` first waits until the WMS stock has been still for
``stock_quiet_window`` seconds (Centra warns that a full sync while stock moves re-adds units
sold a moment earlier), then compares every SKU and reports the drift it found.

Ledger: one ``RecordKind.STOCK`` row per SKU written or imported, its last request holding
the value; SKUs Centra does not know, bundles, unusable WMS figures and refused writes are
parked with the reason and skipped until a person retries them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence, Set
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Literal

import structlog

from centrasync.centra.results import StockUpdate
from centrasync.config import ArticleNumberStrategy
from centrasync.errors import (
    ConfigError,
    DataError,
    GiveUpError,
    RecordValidationError,
    RetryLaterError,
)
from centrasync.store.base import (
    EffectStatus,
    Json,
    Move,
    NewRecord,
    RecordKind,
    RecordRef,
    Step,
    records_in,
)
from centrasync.wms.models import StockLevel

from .flow import RecordFlow
from .policy import Park, ParkedStates
from .stock_figures import (
    PARKED_STOCK_STATES,
    StockDrift,
    StockReport,
    StockState,
    batch_digest,
    centra_physical,
)
from .stock_mirror import AMBIGUOUS, CentraStock, CentraStockMirror, InCentra

__all__ = [
    "PARKED_STOCK_STATES",
    "STOCK",
    "STOCK_FULL",
    "CentraStock",
    "StockDrift",
    "StockFlow",
    "StockReport",
    "StockState",
    "batch_digest",
    "centra_physical",
]

STOCK = "stock"
STOCK_FULL = "stock_full"
_PARKED = ParkedStates(
    invalid=StockState.INVALID, refused=StockState.REFUSED, failed=StockState.FAILED
)

_log = structlog.get_logger(__name__)

# Up to this many SKUs the import reads WMS articles by number; beyond that, all of them.
_TARGETED_READ_LIMIT = 500
# Article-number strategies whose number is also a product key of POST /stock (an EAN,
# or sku + variantSku + sizeSku), so a SKU Centra did not list can still be tried.
_KEYED_STRATEGIES = frozenset({ArticleNumberStrategy.EAN, ArticleNumberStrategy.SKU_VARIANT_SIZE})
# The two directions: the effect-key prefix and the request field holding the value.
_TO_CENTRA = ("stock", "physical")
_TO_WMS = ("wms-external", "external")


@dataclass(frozen=True, slots=True)
class _Figures:
    """What a pass keeps of one WMS stock level: Centra's figure for it and the external one.

    A pass over the whole catalogue holds one per SKU, so it keeps these two figures rather
    than the level. ``physical`` is the error when the level cannot be a Centra quantity;
    ``level`` then holds its figures for the dead letter.
    """

    physical: int | RecordValidationError
    external: Decimal | None
    level: Json = None

    @classmethod
    def of(cls, level: StockLevel, *, picked_as_in_stock: bool) -> _Figures:
        try:
            return cls(
                centra_physical(level, picked_as_in_stock=picked_as_in_stock), level.external
            )
        except RecordValidationError as exc:
            return cls(exc, level.external, _level_json(level))


@dataclass(frozen=True)
class _Change:
    """A SKU whose Centra figure differs: its product key, the WMS value, what Centra had."""

    key: str
    value: int
    before: int | None


@dataclass
class StockFlow(RecordFlow[CentraStock]):
    """Physical stock to Centra and, optionally, Centra's available stock to the WMS.

    ``now`` and ``sleep`` are injectable for the quiet-window wait; ``batch_size`` rows
    go in one ``POST /stock`` and ``page_size`` rows come per ``GET /stock`` page.
    """

    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    batch_size: int = 100
    page_size: int = 100
    overlap: timedelta = timedelta(minutes=2)
    quiet_max_wait: float = 900.0
    mirror: CentraStockMirror = field(init=False, repr=False)

    def __post_init__(self) -> None:
        targets = set(self.settings.warehouse_map.values())
        if len(targets) > 1:
            raise ConfigError(
                f"stores.{self.store_name}.warehouse_map: an Order API plugin writes only its "
                f"primary warehouse, so every WMS warehouse must map to the same Centra "
                f"warehouse (got {', '.join(sorted(targets))})"
            )
        if self.batch_size < 1 or self.page_size < 1:
            raise ConfigError("stock flow: batch_size and page_size must be at least 1")
        self.mirror = CentraStockMirror(self.centra, self.settings, self.page_size, self.overlap)

    FLOW = STOCK
    KIND = RecordKind.STOCK
    PARKED = _PARKED

    @property
    def centra_warehouse(self) -> str | None:
        """The Centra warehouse the map names; None means the plugin's primary, unnamed."""
        return next(iter(self.settings.warehouse_map.values()), None)

    # -- the two passes ------------------------------------------------------------------

    async def run(self) -> int:
        """One incremental pass; returns how many SKUs it wrote (either direction)."""
        return (await self.run_incremental()).moved

    async def run_incremental(self) -> StockReport:
        """Sync the SKUs the WMS changed since the last clean pass (all of them the first time)."""
        if not (self.settings.sync_stock or self.settings.import_available_stock):
            return StockReport("incremental")
        return await self._counted(self._pass(full=False))

    async def run_full_pass(self) -> int:
        """One full pass; returns how many SKUs it wrote (either direction)."""
        return (await self.run_full()).moved

    async def run_full(self) -> StockReport:
        """Compare every SKU once the stock is quiet; returns the drift found per SKU."""
        if not (self.settings.sync_stock or self.settings.import_available_stock):
            return StockReport("full")
        waited = await self._wait_quiet()
        if waited is None:
            _log.warning(
                "full stock sync postponed: stock kept changing",
                store=self.store_name,
                waited=self.quiet_max_wait,
            )
            return StockReport("full", waited=self.quiet_max_wait, postponed=True)
        return await self._counted(self._pass(full=True, waited=waited))

    async def _counted(self, work: Awaitable[StockReport]) -> StockReport:
        """Run a pass; a retryable failure is counted, then raised for the worker's back-off."""
        try:
            return await work
        except RetryLaterError:
            self.events.failed(self.store_name, STOCK)
            raise

    async def _wait_quiet(self) -> float | None:
        """Seconds waited until no WMS stock changed for the quiet window; None: gave up."""
        window = self.settings.stock_quiet_window
        began = self.now()
        while True:
            waited = (self.now() - began).total_seconds()
            if window <= 0 or not await self.wms.read_stock(self.now() - timedelta(seconds=window)):
                return waited
            if waited >= self.quiet_max_wait:
                return None
            await self.sleep(min(window, 60.0, self.quiet_max_wait - waited))

    async def _pass(self, *, full: bool, waited: float = 0.0) -> StockReport:
        mode: Literal["incremental", "full"] = "full" if full else "incremental"
        flow = STOCK_FULL if full else STOCK
        cursor = await self.state.get_cursor(self.store_name, flow)
        generation = cursor.value.isoformat() if cursor is not None else "first"
        started = self.now()
        since = None if full or cursor is None else cursor.value - self.overlap
        warehouses = sorted(self.settings.warehouse_map) or None
        skip = await self._parked()
        retrying = await self._keys_in({StockState.RETRY})
        figures, seen = await self._read_wms(since, warehouses=warehouses, skip=skip)
        unread = sorted(retrying - figures.keys())
        if unread:
            more, counted = await self._read_wms(
                None, skus=unread, warehouses=warehouses, skip=skip
            )
            figures.update(more)
            seen += counted
        refreshed = await self.mirror.refresh(self.now(), full=since is None)
        await self._confirm_sent(figures)
        drift: list[StockDrift] = []
        written: set[str] = set()
        batches = parked = imported = 0
        if self.settings.sync_stock:
            changes, parked = await self._differing(figures, retrying)
            written, batches, refused = await self._write_centra(changes, generation)
            parked += refused
            drift.extend(
                StockDrift(sku, change.before, change.value, written=sku in written)
                for sku, change in sorted(changes.items())
                if change.before != change.value
            )
            if full:
                drift.extend(
                    StockDrift(sku, row.physical, None, written=False)
                    for sku, row in self.mirror.sizes()
                    if sku not in figures and sku not in skip
                )
        if self.settings.import_available_stock:
            candidates = {sku for sku, _ in self.mirror.sizes()} if since is None else refreshed
            imported, refused = await self._import(
                figures,
                (candidates | retrying) - skip,
                retrying,
                complete=since is None,
                generation=generation,
            )
            parked += refused
        await self.state.advance_cursor(self.store_name, flow, started)
        if full:
            await self.state.advance_cursor(self.store_name, STOCK, started)
        await self._abandon_generation(generation)
        report = StockReport(
            mode,
            seen=seen,
            written=len(written),
            imported=imported,
            parked=parked,
            batches=batches,
            waited=waited,
            drift=tuple(drift),
        )
        _log.info(
            "stock pass done",
            store=self.store_name,
            mode=mode,
            seen=report.seen,
            written=report.written,
            imported=imported,
            parked=parked,
            batches=batches,
        )
        return report

    # -- WMS figures to Centra -------------------------------------------------------------

    async def _differing(
        self, figures: Mapping[str, _Figures], again: set[str]
    ) -> tuple[dict[str, _Change], int]:
        """The SKUs whose Centra figure differs from the WMS's, and how many were parked.

        SKUs in ``again`` (a person asked for a retry) are sent even if Centra agrees, so
        their rows move on; an absolute write changes nothing there.
        """
        changes: dict[str, _Change] = {}
        parked = 0
        for sku in sorted(figures):
            read = figures[sku]
            if isinstance(read.physical, RecordValidationError):
                await self._park(sku, StockState.INVALID, str(read.physical), read.level)
                parked += 1
                continue
            value = read.physical
            known = self.mirror.get(sku)
            if isinstance(known, InCentra):
                if known.physical != known.after_write(value) or sku in again:
                    changes[sku] = _Change(known.key, value, known.physical)
            elif known is AMBIGUOUS:
                reason = (
                    f"several Centra sizes have the article number {sku!r} under the "
                    f"{self.settings.article_number.value} strategy, but stock is per size"
                )
                await self._park(sku, StockState.INVALID, reason, None)
                parked += 1
            elif self.settings.article_number in _KEYED_STRATEGIES:
                # Not listed, but the number is a product key: Centra has the last word.
                changes[sku] = _Change(sku, value, None)
            else:
                reason = (
                    f"Centra lists no size with the article number {sku!r}, and under the "
                    f"{self.settings.article_number.value} strategy it is no product key"
                )
                await self._park(sku, StockState.NOT_FOUND, reason, None)
                parked += 1
        return changes, parked

    async def _write_centra(
        self, changes: Mapping[str, _Change], generation: str
    ) -> tuple[set[str], int, int]:
        """Write the differing SKUs in batches; returns (SKUs written, batches, parked)."""
        written: set[str] = set()
        batches = parked = 0
        values = {sku: change.value for sku, change in changes.items()}
        keys = {sku: change.key for sku, change in changes.items()}
        call = partial(self._post_stock, changes)
        async with aclosing(self._batches(_TO_CENTRA, values, generation, call, keys)) as sent:
            async for batch, outcome, refused in sent:
                parked += refused
                if outcome is not None:
                    batches += 1
                    done, refused = await self._settle_centra(batch, outcome, changes)
                    written.update(done)
                    parked += refused
        return written, batches, parked

    async def _settle_centra(
        self, batch: Mapping[str, int], outcome: Json, changes: Mapping[str, _Change]
    ) -> tuple[list[str], int]:
        """Confirm a batch Centra took; park what it reported unknown or a bundle."""
        not_found = set(_texts(outcome, "not_found"))
        bundles = set(_texts(outcome, "bundles"))
        done = [sku for sku in batch if changes[sku].key not in not_found | bundles]
        await self.state.transition_records(
            [
                Step(
                    self.ref(sku),
                    StockState.WRITTEN,
                    note=f"physical stock {_shown(changes[sku].before)} -> {changes[sku].value}",
                    request=self._request(_TO_CENTRA, changes[sku].value),
                    response={"centra_before": changes[sku].before},
                )
                for sku in done
            ]
        )
        for sku in done:
            self.mirror.written(sku, changes[sku].key, changes[sku].value)
            self.events.processed(self.store_name, STOCK)
        parked = 0
        for sku in batch:
            key = changes[sku].key
            if key in not_found:
                reason = f"Centra has no product {key!r} (productsNotFound)"
                await self._park(sku, StockState.NOT_FOUND, reason, {"physical": batch[sku]})
                parked += 1
            elif key in bundles:
                reason = f"{key!r} is a bundle; Centra derives its stock (productsAreBundles)"
                await self._park(sku, StockState.BUNDLE, reason, {"physical": batch[sku]})
                parked += 1
        return done, parked

    async def _post_stock(self, changes: Mapping[str, _Change], batch: Mapping[str, int]) -> Json:
        result = await self.centra.update_stock(
            [StockUpdate(changes[sku].key, value) for sku, value in batch.items()],
            batch_size=self.batch_size,
        )
        return {
            "sent": result.sent,
            "not_found": list(result.products_not_found),
            "bundles": list(result.products_are_bundles),
        }

    # -- Centra's available stock to the WMS -----------------------------------------------

    async def _import(
        self,
        figures: Mapping[str, _Figures],
        candidates: set[str],
        again: set[str],
        *,
        complete: bool,
        generation: str,
    ) -> tuple[int, int]:
        """Write Centra's available stock where the WMS shows another external figure.

        SKUs in ``again`` are written even where the figures agree, like a retried write
        to Centra.
        """
        known = dict(figures)
        missing = sorted(sku for sku in candidates if sku not in known)
        if missing and not complete:
            targeted = missing if len(missing) <= _TARGETED_READ_LIMIT else None
            reread, _ = await self._read_wms(None, skus=targeted, skip=frozenset())
            known.update(reread)
        changes: dict[str, int] = {}
        for sku in sorted(candidates):
            read = known.get(sku)
            in_centra = self.mirror.get(sku)
            if read is None or not isinstance(in_centra, InCentra):
                continue
            if in_centra.available is not None and (
                read.external != in_centra.available or sku in again
            ):
                changes[sku] = in_centra.available
        imported = parked = 0
        async with aclosing(
            self._batches(_TO_WMS, changes, generation, self._set_external)
        ) as sent:
            async for batch, outcome, refused in sent:
                parked += refused
                if outcome is not None:
                    done, refused = await self._settle_wms(batch, outcome)
                    imported += done
                    parked += refused
        return imported, parked

    async def _settle_wms(self, batch: Mapping[str, int], outcome: Json) -> tuple[int, int]:
        """Confirm a batch the WMS took; park the articles it refused."""
        failed = outcome.get("failed") if isinstance(outcome, dict) else None
        refusals = failed if isinstance(failed, dict) else {}
        done = [sku for sku in batch if sku not in refusals]
        await self.state.transition_records(
            [
                Step(
                    self.ref(sku),
                    StockState.IMPORTED,
                    note=f"external number of items set to Centra's available {batch[sku]}",
                    request=self._request(_TO_WMS, batch[sku]),
                )
                for sku in done
            ]
        )
        for _ in done:
            self.events.processed(self.store_name, STOCK)
        for sku, reason in refusals.items():
            why = f"the WMS refused the external figure: {reason}"
            await self._park(str(sku), StockState.REFUSED, why, {"external": batch[sku]})
        return len(done), len(refusals)

    async def _set_external(self, batch: Mapping[str, int]) -> Json:
        result = await self.wms.set_external_stock(
            {sku: Decimal(value) for sku, value in batch.items()}
        )
        return {
            "upserted": list(result.upserted),
            "failed": {failure.key: failure.reason for failure in result.failed},
        }

    # -- shared steps ------------------------------------------------------------------

    def _request(self, direction: tuple[str, str], value: int) -> Json:
        if direction is _TO_CENTRA:
            return {"physical": value, "warehouse": self.centra_warehouse}
        return {"external": value}

    async def _batches(
        self,
        direction: tuple[str, str],
        values: Mapping[str, int],
        generation: str,
        call: Callable[[Mapping[str, int]], Awaitable[Json]],
        centra_ids: Mapping[str, str] | None = None,
    ) -> AsyncGenerator[tuple[dict[str, int], Json | None, int]]:
        """Send ``values`` in batches, each an effect; yields (batch, outcome, parked).

        Every SKU of a batch is marked ``sending`` with its value before the call (with
        its Centra product key as ``centra_id`` when given), so the confirmation only
        moves the row on. A batch refused for good, or given up after ``max_attempts``, is
        parked SKU by SKU and yielded with no outcome; a retryable error ends the pass, to
        be resumed by the next one.
        """
        prefix, name = direction
        skus = sorted(values)
        for start in range(0, len(skus), self.batch_size):
            batch = {sku: values[sku] for sku in skus[start : start + self.batch_size]}
            digest = batch_digest(batch)
            sending: list[Move] = []
            for sku, value in batch.items():
                centra_id = None if centra_ids is None else centra_ids[sku]
                sending.append(NewRecord(self.ref(sku), centra_id=centra_id))
                sending.append(
                    Step(
                        self.ref(sku),
                        StockState.SENDING,
                        note=f"{name} {value} on its way",
                        request=self._request(direction, value),
                    )
                )
            try:
                outcome = await self._effect(
                    f"{prefix}/{self.store_name}/{generation}/{digest}",
                    RecordRef(self.store_name, RecordKind.STOCK, f"{prefix}-batch/{digest}"),
                    {name: dict(batch)},
                    partial(call, batch),
                    sending,
                )
            except (GiveUpError, DataError) as exc:
                outcome = Park(StockState.REFUSED, str(exc))
            if isinstance(outcome, Park):
                for sku, value in batch.items():
                    await self._park(sku, outcome.to, outcome.reason, {name: value})
                yield batch, None, len(batch)
                continue
            yield batch, outcome, 0

    async def _effect(
        self,
        base: str,
        ref: RecordRef,
        intent: Json,
        call: Callable[[], Awaitable[Json]],
        sending: Sequence[Move],
    ) -> Json | Park:
        """Apply ``call`` once per key; absolute writes need no look before a repeat.

        ``sending`` marks the batch's SKUs and commits with the batch's intent.

        The same values may need sending again within one generation when Centra moved
        away from them after a confirmed write (a shipment completed, a person edited the
        stock): the mirror says they differ, so a confirmed key gets a fresh ``#n`` suffix.
        A pending key is reused as it is, which is what makes a killed pass safe to rerun.
        """
        key, number = base, 1
        while (found := await self.state.get_effect(key)) is not None and (
            found.status is EffectStatus.SUCCEEDED
        ):
            number += 1
            key = f"{base}#{number}"
        return await self.policy.effect(key, ref, intent, call, before=sending)

    async def _read_wms(
        self,
        since: datetime | None,
        *,
        skus: Sequence[str] | None = None,
        warehouses: Sequence[str] | None = None,
        skip: Set[str],
    ) -> tuple[dict[str, _Figures], int]:
        """The WMS's figures per SKU outside ``skip``, page by page; and how many levels came.

        Only :class:`_Figures` are kept of each page, so reading 100,000 SKUs holds that
        many small values, never that many levels or the rows they were read from.
        """
        picked = self.settings.picked_not_collected_as_in_stock
        figures: dict[str, _Figures] = {}
        seen = 0
        pages = self.wms.iter_stock(since, skus=skus, warehouses=warehouses)
        async with aclosing(pages):
            async for page in pages:
                seen += len(page)
                for level in page:
                    if level.sku not in skip:
                        figures[level.sku] = _Figures.of(level, picked_as_in_stock=picked)
        return figures, seen

    async def _confirm_sent(self, figures: Mapping[str, _Figures]) -> None:
        """Settle ``sending`` rows of a killed pass from what the other side shows now.

        A SKU whose value arrived is confirmed; one whose value did not stays ``sending``
        and is sent again if it still differs.
        """
        sending = records_in(self.state, self.store_name, RecordKind.STOCK, {StockState.SENDING})
        landed: list[Step] = []
        async for record in sending:
            sku, request = record.ref.key, record.last_request
            if not isinstance(request, dict):
                continue
            known, read = self.mirror.get(sku), figures.get(sku)
            physical, external = request.get("physical"), request.get("external")
            if (
                isinstance(physical, int)
                and isinstance(known, InCentra)
                and known.physical == known.after_write(physical)
            ):
                to, note = StockState.WRITTEN, f"Centra shows {physical}: the write landed"
            elif isinstance(external, int) and read is not None and read.external == external:
                to, note = StockState.IMPORTED, f"the WMS shows {external}: the write landed"
            else:
                continue
            landed.append(Step(record.ref, to, note=note, request=request))
        await self.state.transition_records(landed)

    async def _parked(self) -> set[str]:
        return await self._keys_in(PARKED_STOCK_STATES)

    async def _keys_in(self, states: Set[str]) -> set[str]:
        found = records_in(self.state, self.store_name, RecordKind.STOCK, states)
        return {record.ref.key async for record in found}

    async def _abandon_generation(self, generation: str) -> None:
        """A clean pass ends its generation: a batch of it still pending was cut off and
        its SKUs were settled from what the other side shows (or sent again in another
        batch), so nothing will ever confirm it."""
        for prefix, _ in (_TO_CENTRA, _TO_WMS):
            await self.state.abandon_effects(
                self.store_name,
                RecordKind.STOCK,
                f"{prefix}/{self.store_name}/{generation}/",
                "superseded: a later pass settled its SKUs",
            )

    async def _park(self, sku: str, to: str, reason: str, payload: Json) -> None:
        await self.policy.park(self.ref(sku), Park(to, reason, payload))


def _texts(outcome: Json, name: str) -> list[str]:
    values = outcome.get(name) if isinstance(outcome, dict) else None
    return [str(value) for value in values] if isinstance(values, list) else []


def _shown(value: int | None) -> str:
    return "unknown" if value is None else str(value)


def _level_json(level: StockLevel) -> Json:
    return {
        "sku": level.sku,
        "numberOfItems": str(level.on_hand),
        "numberOfLockedItems": str(level.locked),
        "allocatedNumberOfItems": str(level.allocated),
        "pickedToBeCollectedNumberOfItems": (
            None if level.picked_not_collected is None else str(level.picked_not_collected)
        ),
    }
