"""The shipment flows of one store: outbound, confirmation and cancellation, exactly once.

Every remote write is an *effect* keyed by the store and the Centra shipment number and
recorded in the state store before the call and confirmed after it. The engine may be
killed between any two lines here; on restart the same key finds the effect in one of
three states and acts accordingly:

* confirmed: skip the call (a WMS order is never created twice, a shipment never
  completed twice);
* failed for certain: call again;
* pending, i.e. the outcome is unknown: for idempotent calls (Centra capture, absolute
  quantity updates) call again; where a repeat can fail or do harm, look first: the WMS
  refuses to replace an order it has started on, and completing a shipment emails the
  customer.

The ledger row of each shipment tells an operator where it stands (see
:class:`ShipmentState`); a record that needs a person is parked with the reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack, aclosing, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import partial
from typing import Any, NoReturn

import structlog

from centrasync.centra.models import Shipment
from centrasync.centra.results import Page, SerialNumber
from centrasync.config import CapturePolicy, StoreSettings
from centrasync.errors import (
    CaptureDeclinedError,
    DataError,
    GiveUpError,
    RecordValidationError,
    RetryLaterError,
    redact,
)
from centrasync.store.base import (
    BeginOutcome,
    Json,
    LedgerRecord,
    Move,
    NewRecord,
    RecordKind,
    RecordRef,
    StateStore,
    Step,
)
from centrasync.wms.base import Warehouse
from centrasync.wms.models import CancelOutcome, ShippedOrder, Unreadable

from .effects import EffectGaveUp, apply_once
from .lanes import for_each
from .mapping import mapped_order_to_json, shipment_passes_filters, shipment_to_outbound_order
from .ports import CentraShipments, FlowEvents, NullEvents

__all__ = [
    "CANCELLATION",
    "CONFIRMATION",
    "OUTBOUND",
    "PARKED_STATES",
    "ShipmentFlows",
    "ShipmentState",
    "flow_backlog",
]

OUTBOUND = "outbound"
CONFIRMATION = "confirmation"
CANCELLATION = "cancellation"

_log = structlog.get_logger(__name__)


class ShipmentState(StrEnum):
    """Where a Centra shipment stands in the engine's ledger."""

    NEW = "new"
    """Seen in Centra, nothing done yet."""
    RETRY = "retry"
    """A person asked for another try (``centrasync retry``); effects decide what is left."""
    FILTERED = "filtered"
    """Left out by the store's shipment filters."""
    CAPTURED = "captured"
    """Payment captured on import; the WMS order comes next."""
    SENT = "sent"
    """The WMS has the order."""
    QUANTITIES_UPDATED = "quantities_updated"
    """Short pick: Centra's shipment was lowered to what was picked; completion next."""
    COMPLETED = "completed"
    """Centra knows the shipment left, with carrier and tracking."""
    CANCELLED = "cancelled"
    """Cancelled in Centra, and in the WMS if it had the order."""
    CAPTURE_DECLINED = "capture_declined"
    """Parked: the payment provider refused the capture (possible fraud)."""
    INVALID = "invalid"
    """Parked: the shipment cannot become a valid WMS order (names the field)."""
    REFUSED = "refused"
    """Parked: Centra or the WMS refused a write for a reason retrying will not change."""
    CANCEL_TOO_LATE = "cancel_too_late"
    """Parked: cancelled in Centra after picking began; a person must stop the parcel."""
    FAILED = "failed"
    """Parked: kept failing with retryable errors until the attempt limit."""


PARKED_STATES = frozenset(
    {
        ShipmentState.CAPTURE_DECLINED,
        ShipmentState.INVALID,
        ShipmentState.REFUSED,
        ShipmentState.CANCEL_TOO_LATE,
        ShipmentState.FAILED,
    }
)
_TAKEABLE = frozenset({ShipmentState.NEW, ShipmentState.RETRY, ShipmentState.CAPTURED})
_CONFIRMABLE = frozenset(
    {ShipmentState.SENT, ShipmentState.QUANTITIES_UPDATED, ShipmentState.RETRY}
)
# States in which a cancellation in Centra still concerns us.
_OPEN = _TAKEABLE | _CONFIRMABLE | {ShipmentState.CAPTURE_DECLINED}

CAPTURE_DECLINED_REASON = "capture declined: possible fraud"
SHIPMENTS_CURSOR = "shipments"
_LISTING_LIMIT = 100_000
# New ledger rows opened per batch while a listing is taken: a batch is a few store calls,
# and one lane opens the next batch while the others work on what they hold.
FIRST_SIGHT_CHUNK = 50


class _Parked(Exception):
    """Internal: the record was parked; stop working on it."""


@dataclass
class ShipmentFlows:
    """Outbound, confirmation and cancellation for one store.

    ``webhooks_since``: when set, a shipment first found by a sweep and created after this
    moment (plus ``webhook_grace``) is counted as one a webhook should have announced.
    ``concurrency``: how many shipments a pass works on at once (see :mod:`.lanes`).
    """

    settings: StoreSettings
    state: StateStore
    centra: CentraShipments
    wms: Warehouse
    events: FlowEvents = field(default_factory=NullEvents)
    max_attempts: int = 8
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    webhooks_since: datetime | None = None
    webhook_grace: timedelta = timedelta(seconds=30)
    poll_overlap: timedelta = timedelta(minutes=10)
    concurrency: int = 1
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict, init=False, repr=False)

    @property
    def store_name(self) -> str:
        return self.settings.name

    def ref(self, shipment_number: str) -> RecordRef:
        return RecordRef(self.store_name, RecordKind.SHIPMENT, shipment_number)

    # -- outbound ----------------------------------------------------------------------

    async def poll_outbound(self) -> int:
        """Take Good-to-Go shipments created since the last poll; returns how many moved.

        Incremental on the shipments' creation time: the cursor re-reads an overlap
        window (Centra filters on naive merchant times, and a shipment can become
        Good-to-Go some time after it was created) and the ledger drops repeats. A
        shipment flagged Good-to-Go long after its creation is the sweep's to find.
        """
        cursor = await self.state.get_cursor(self.store_name, SHIPMENTS_CURSOR)
        newer = cursor.value - self.poll_overlap if cursor is not None else None
        page = await self.centra.list_shipments("goodtogo", newer_than=newer)
        taken = await self._take_page(page, source="poll")
        await self._advance(page)
        return taken

    async def sweep(self) -> int:
        """Re-read the whole Good-to-Go list: take what was missed, check what vanished.

        A cancelled shipment simply stops being listed, so open shipments missing from
        the list go to the cancellation check.
        """
        page = await self.centra.list_shipments("goodtogo")
        taken = await self._take_page(page, source="sweep")
        listed = {s.shipment_id for s in page} | {_key(r) for r in page.rejected}
        await self.reconcile_cancellations(exclude=listed)
        return taken

    async def _take_page(self, page: Page[Shipment], *, source: str) -> int:
        """Take a listing's shipments; one read of their records sorts out the rest.

        Most of a Good-to-Go listing is already in the WMS (the sweep re-reads all of
        it), so only the shipments with no record or a takeable one go on to
        :meth:`take`, which reads the record again under the shipment's lock.
        """
        known = await self.state.get_records(
            [self.ref(_key(rejected)) for rejected in page.rejected]
            + [self.ref(shipment.shipment_id) for shipment in page]
        )
        for rejected in page.rejected:
            found = known.get(self.ref(_key(rejected)))
            if found is None or found.state != ShipmentState.INVALID:
                await self._park_quietly(
                    self.ref(_key(rejected)), OUTBOUND, ShipmentState.INVALID, rejected
                )
        takeable = [
            shipment
            for shipment in page
            if (record := known.get(self.ref(shipment.shipment_id))) is None
            or record.state in _TAKEABLE
        ]
        opened = self._opened_in_turn(takeable, known, source)
        return await for_each(opened, partial(self.take, source=source), limit=self.concurrency)

    async def _opened_in_turn(
        self,
        takeable: Sequence[Shipment],
        known: Mapping[RecordRef, LedgerRecord],
        source: str,
    ) -> AsyncGenerator[Shipment]:
        """The shipments to take, their new ledger rows opened ``FIRST_SIGHT_CHUNK`` at a time.

        Opening the rows of a whole listing first kept the lanes idle: 5,000 new shipments
        took 20 s on PostgreSQL (a round trip per statement) before the first was sent.
        A shipment whose row is not opened yet when the engine dies is simply new on the
        next pass (the poll cursor stays behind it until it is taken).
        """
        for start in range(0, len(takeable), FIRST_SIGHT_CHUNK):
            chunk = takeable[start : start + FIRST_SIGHT_CHUNK]
            await self._first_sight(
                [s for s in chunk if self.ref(s.shipment_id) not in known], source
            )
            for shipment in chunk:
                yield shipment

    async def _advance(self, page: Page[Shipment]) -> None:
        """Move the poll cursor up to, not past, the oldest shipment still waiting."""
        dated = [s for s in page if s.shipment_date is not None]
        if not dated:
            return
        records = await self.state.get_records(self.ref(s.shipment_id) for s in dated)
        waiting = []
        for shipment in dated:
            record = records.get(self.ref(shipment.shipment_id))
            if record is None or record.state in _TAKEABLE:
                waiting.append(shipment)
        if waiting:
            value = min(_created(s) for s in waiting)
            await self.state.advance_cursor(self.store_name, SHIPMENTS_CURSOR, value)
            return
        value = max(_created(s) for s in dated)
        boundary = [s.shipment_id for s in dated if _created(s) == value]
        await self.state.advance_cursor(self.store_name, SHIPMENTS_CURSOR, value, boundary)

    async def on_order_event(self, order_number: str) -> None:
        """A webhook said the order changed: fetch its shipments at once."""
        page = await self.centra.list_shipments("goodtogo", order=order_number)
        await self._take_page(page, source="webhook")
        listed = {s.shipment_id for s in page}
        prefix = f"{order_number}-"
        await self.reconcile_cancellations(exclude=listed, key_prefix=prefix)

    async def take(self, shipment: Shipment, *, source: str) -> bool:
        """Bring one Good-to-Go shipment into the WMS; True if this call moved it on."""
        ref = self.ref(shipment.shipment_id)
        async with self._lock(ref):
            record = await self.state.get_record(ref)
            if record is not None and record.state not in _TAKEABLE:
                return False
            if record is None:
                await self._open_records([shipment], source)
            return await self._guarded(ref, OUTBOUND, lambda: self._send(ref, shipment))

    async def _first_sight(self, shipments: Sequence[Shipment], source: str) -> None:
        """Open the ledger rows of a page's new shipments in three store calls, not two each.

        Under the shipments' locks (taken in key order, so two pages never wait on each
        other), and read again under them: two webhooks for one order are handled side by
        side, and a row the other opened and moved on meanwhile must not go back to new.
        """
        unique = {s.shipment_id: s for s in shipments}
        if not unique:
            return
        async with AsyncExitStack() as held:
            for key in sorted(unique):
                await held.enter_async_context(self._lock(self.ref(key)))
            existing = await self.state.get_records(self.ref(key) for key in unique)
            await self._open_records(
                [s for key, s in unique.items() if self.ref(key) not in existing], source
            )

    async def _open_records(self, shipments: Sequence[Shipment], source: str) -> None:
        """Ledger rows in state new for shipments that have none; the caller holds locks."""
        if not shipments:
            return
        refs = [self.ref(shipment.shipment_id) for shipment in shipments]
        await self.state.upsert_records([NewRecord(ref, centra_id=ref.key) for ref in refs])
        await self.state.transition_records(
            [
                Step(ref, ShipmentState.NEW, note=f"seen by {source}", response=_shipment_json(s))
                for ref, s in zip(refs, shipments, strict=True)
            ]
        )
        for ref, shipment in zip(refs, shipments, strict=True):
            created = shipment.shipment_date
            if (
                source != "webhook"
                and self.webhooks_since is not None
                and created is not None
                and created > self.webhooks_since
                and self.now() - created > self.webhook_grace
            ):
                self.events.recovered(self.store_name, OUTBOUND)
                _log.warning(
                    "webhook missed", store=self.store_name, shipment=ref.key, found_by=source
                )

    async def _send(self, ref: RecordRef, shipment: Shipment) -> None:
        if not shipment_passes_filters(shipment, self.settings.shipment_filters):
            await self.state.transition(ref, ShipmentState.FILTERED, note="left out by filters")
            return
        try:
            mapped = shipment_to_outbound_order(shipment, self.settings)
        except DataError as exc:
            await self._park(
                ref, OUTBOUND, ShipmentState.INVALID, str(exc), _shipment_json(shipment)
            )
        if self.settings.capture_policy is CapturePolicy.ON_IMPORT and not shipment.paid:
            captured = Step(ref, ShipmentState.CAPTURED, note="captured on import")
            await self._capture(ref, OUTBOUND, shipment.shipment_id, after=[captured])
        body = mapped_order_to_json(mapped)
        intent: dict[str, Json] = {
            "order": shipment.order_id,
            "shipment": shipment.shipment_id,
            "wms_order": body,
        }

        def sent(outcome: Json) -> list[Move]:
            return [
                NewRecord(ref, wms_id=_wms_id(outcome)),
                Step(
                    ref,
                    ShipmentState.SENT,
                    note="WMS order created",
                    request=body,
                    # The Centra order travels on, so confirmation need not look it up.
                    response={**outcome, "orderId": shipment.order_id}
                    if isinstance(outcome, dict)
                    else outcome,
                ),
            ]

        outcome = await self._effect(
            f"wms-order/{ref}",
            ref,
            intent,
            lambda: self._upsert_order(mapped.order),
            look=lambda: self._order_in_wms(mapped.order.order_number),
            after=sent,
        )
        wms_id = _wms_id(outcome)
        self.events.processed(self.store_name, OUTBOUND)
        if shipment.shipment_date is not None:
            self.events.lag(
                self.store_name, OUTBOUND, (self.now() - shipment.shipment_date).total_seconds()
            )
        _log.info("shipment sent to WMS", store=self.store_name, shipment=ref.key, wms_id=wms_id)

    async def _upsert_order(self, order: Any) -> Json:
        created = await self.wms.upsert_outbound_order(order)
        return {"number": created.number, "wms_id": created.wms_id}

    async def _order_in_wms(self, order_number: str) -> Json | None:
        found = await self.wms.find_outbound_order(order_number)
        if found is None:
            return None
        return {"number": found.number, "wms_id": found.wms_id, "found": "already in the WMS"}

    # -- confirmation --------------------------------------------------------------------

    async def confirm_shipped(self) -> int:
        """Report every shipped WMS order back to Centra; returns how many completed.

        The orders are confirmed as their pages come in: after a busy day the WMS lists
        thousands, and reading them all first left the lanes idle for seconds.
        """
        return await for_each(self._shipped(), self._confirm_one, limit=self.concurrency)

    async def _shipped(self) -> AsyncGenerator[ShippedOrder]:
        pages = self.wms.iter_shipped_unreported()
        async with aclosing(pages):
            async for page in pages:
                for unreadable in page.rejected:
                    await self._park_unreadable(unreadable)
                for order in page:
                    if order.shipped:
                        yield order

    async def _park_unreadable(self, unreadable: Unreadable) -> None:
        """A WMS order that cannot be read: its shipment, if one of ours waiting for
        confirmation, is parked with the order as the WMS sent it."""
        ref = self.ref(unreadable.number or "")
        async with self._lock(ref):
            record = await self.state.get_record(ref)
            if record is None or record.state not in _CONFIRMABLE:
                return
            with suppress(_Parked):
                await self._park(
                    ref,
                    CONFIRMATION,
                    ShipmentState.INVALID,
                    str(unreadable.error),
                    unreadable.document,
                )

    async def _confirm_one(self, shipped: ShippedOrder) -> bool:
        ref = self.ref(shipped.order_number)
        async with self._lock(ref):
            return await self._guarded(ref, CONFIRMATION, partial(self._confirm, ref, shipped))

    async def _confirm(self, ref: RecordRef, shipped: ShippedOrder) -> None:
        record = await self.state.get_record(ref)
        if record is None:
            _log.debug("shipped order is not ours", store=self.store_name, order=ref.key)
            return
        if record.state == ShipmentState.COMPLETED:
            # Killed after Centra accepted but before the WMS lines were marked.
            await self.wms.mark_lines_reported(shipped, _picked(shipped))
            return
        if record.state not in _CONFIRMABLE:
            return
        try:
            await self._report_shipped(ref, record, shipped)
        except GiveUpError:
            # Centra refuses every write on a shipment it no longer has. Cancelled there
            # while the warehouse shipped it, the cancellation pass may not have seen it yet;
            # then it is a cancellation that came too late, parked as such, not a refusal.
            if not await self._check_cancelled(ref):
                raise

    async def _report_shipped(
        self, ref: RecordRef, record: LedgerRecord, shipped: ShippedOrder
    ) -> None:
        """Short pick, serial numbers, capture (by policy) and completion, in that order."""
        order_number = await self._centra_order(ref, record)
        short = {
            line.line_key: int(line.picked) for line in shipped.lines if line.picked < line.ordered
        }
        if short and record.state != ShipmentState.QUANTITIES_UPDATED:
            await self._lower_quantities(ref, short)
        serials = {
            line.line_key: SerialNumber(", ".join(line.serial_numbers), int(line.picked))
            for line in shipped.lines
            if line.serial_numbers
        }
        if serials:
            await self._effect(
                f"serials/{ref}",
                ref,
                {"serial_numbers": {k: v.serial_number for k, v in serials.items()}},
                lambda: self._update(ref.key, serial_numbers=serials),
            )
        if self.settings.capture_policy is CapturePolicy.ON_COMPLETE:
            await self._capture(ref, CONFIRMATION, ref.key)
        request = _completion(order_number, ref.key, shipped)
        note = f"completed in Centra, tracking {request.get('tracking') or 'none'}"
        await self._effect(
            f"complete/{ref}",
            ref,
            request,
            lambda: self._complete(order_number, ref.key, shipped),
            look=lambda: self._completed_in_centra(order_number, ref.key),
            after=lambda outcome: [
                Step(ref, ShipmentState.COMPLETED, note=note, request=request, response=outcome)
            ],
        )
        # Completed first, then marked: killed in between, the next pass still lists the
        # order and marks it (above); the other way round nothing would list it again.
        await self.wms.mark_lines_reported(shipped, _picked(shipped))
        self.events.processed(self.store_name, CONFIRMATION)
        if shipped.shipped_at is not None:
            self.events.lag(
                self.store_name, CONFIRMATION, (self.now() - shipped.shipped_at).total_seconds()
            )
        _log.info("shipment completed", store=self.store_name, shipment=ref.key)

    async def _lower_quantities(self, ref: RecordRef, short: Mapping[str, int]) -> None:
        captured = await self.state.get_effect(f"capture/{ref}")
        if captured is not None and captured.status == "succeeded":
            await self._park(
                ref,
                CONFIRMATION,
                ShipmentState.REFUSED,
                "short pick on a captured shipment: Centra refuses to lower quantities once "
                "captured; complete it by hand and refund the missing units with a return",
                {"picked": dict(short)},
            )
        lowered = Step(
            ref,
            ShipmentState.QUANTITIES_UPDATED,
            note="short pick: quantities lowered to what was picked",
            request={"quantities": dict(short)},
        )
        await self._effect(
            f"quantities/{ref}",
            ref,
            {"quantities": dict(short)},
            lambda: self._update(ref.key, quantities=short),
            after=lambda _: [lowered],
        )

    async def _update(
        self,
        shipment: str,
        *,
        quantities: Mapping[str, int] | None = None,
        serial_numbers: Mapping[str, SerialNumber] | None = None,
    ) -> Json:
        await self.centra.update_shipment(
            shipment, quantities=quantities, serial_numbers=serial_numbers
        )
        return {"shipment": shipment, "updated": True}

    async def _complete(self, order_number: str, shipment: str, shipped: ShippedOrder) -> Json:
        tracking = shipped.tracking_numbers
        done = await self.centra.complete_shipment(
            order_number,
            shipment,
            carrier=shipped.carrier or None,
            service=shipped.service or None,
            packages=len(shipped.parcels) or None,
            # [I] Centra takes one tracking string; several parcels are joined.
            tracking=", ".join(tracking) or None,
            # Capture is our own step (policy), never a side effect of completing.
            capture=False,
        )
        return {"order": done.order, "shipment": done.shipment}

    async def _completed_in_centra(self, order_number: str, shipment: str) -> Json | None:
        order = await self.centra.get_order(order_number)
        for candidate in order.shipments:
            if candidate.shipment_id == shipment and candidate.shipped_date is not None:
                return {"order": order_number, "shipment": shipment, "found": "already completed"}
        return None

    # -- cancellation --------------------------------------------------------------------

    async def reconcile_cancellations(
        self,
        *,
        exclude: Iterable[str] = (),
        key_prefix: str | None = None,
    ) -> int:
        """Check open shipments missing from Centra's Good-to-Go list; returns cancelled.

        A shipment still Good-to-Go is not cancelled, so only the others cost a call.
        ``key_prefix`` keeps to one order's shipments, read from the ledger alone.
        """
        skip = set(exclude)
        records = await self.state.list_records(
            self.store_name, kind=RecordKind.SHIPMENT, limit=_LISTING_LIMIT, key_prefix=key_prefix
        )
        missing = [
            record.ref for record in records if record.state in _OPEN and record.ref.key not in skip
        ]
        return await for_each(missing, self._cancel_one, limit=self.concurrency)

    async def _cancel_one(self, ref: RecordRef) -> bool:
        async with self._lock(ref):
            return await self._guarded(ref, CANCELLATION, partial(self._check_cancelled, ref))

    async def _check_cancelled(self, ref: RecordRef) -> bool:
        record = await self.state.get_record(ref)
        if record is None or record.state not in _OPEN:
            return False
        order_number = await self._centra_order(ref)
        order = await self.centra.get_order(order_number)
        if any(s.shipment_id == ref.key for s in order.shipments):
            return False
        sent = await self.state.get_effect(f"wms-order/{ref}")
        if sent is None:
            await self.state.transition(
                ref, ShipmentState.CANCELLED, note="cancelled in Centra before reaching the WMS"
            )
            self.events.processed(self.store_name, CANCELLATION)
            return True
        key = f"cancel/{ref}"
        begun = await self.state.begin_effect(key, ref, {"cancel": ref.key})
        if begun.outcome is not BeginOutcome.SUCCEEDED:
            result = await self.wms.cancel_outbound_order(ref.key)
            if result is CancelOutcome.TOO_LATE:
                await self.state.fail_effect(key, "picking had begun")
                await self._park(
                    ref,
                    CANCELLATION,
                    ShipmentState.CANCEL_TOO_LATE,
                    "cancelled in Centra after picking began in the WMS: stop the parcel by "
                    "hand, then 'centrasync retry' this record",
                    {"order": order_number, "shipment": ref.key},
                )
            await self.state.complete_effect(key, {"wms": result.value})
        await self.state.transition(
            ref, ShipmentState.CANCELLED, note="cancelled in Centra; WMS order cancelled"
        )
        self.events.processed(self.store_name, CANCELLATION)
        _log.info("shipment cancelled", store=self.store_name, shipment=ref.key)
        return True

    # -- retries requested by a person -----------------------------------------------------

    async def pending_retries(self) -> list[LedgerRecord]:
        return await self.state.list_records(
            self.store_name,
            kind=RecordKind.SHIPMENT,
            state=ShipmentState.RETRY,
            limit=_LISTING_LIMIT,
        )

    async def redrive_retries(self) -> int:
        """Move every record a person sent to ``retry`` on from where its effects stand."""
        refs = [record.ref for record in await self.pending_retries()]
        return await for_each(refs, self._redrive_one, limit=self.concurrency)

    async def _redrive_one(self, ref: RecordRef) -> bool:
        async with self._lock(ref):
            return await self._guarded(ref, OUTBOUND, partial(self._redrive, ref))

    async def _redrive(self, ref: RecordRef) -> None:
        order_number = await self._centra_order(ref)
        sent = await self.state.get_effect(f"wms-order/{ref}")
        if sent is not None and sent.status == "succeeded":
            order = await self.centra.get_order(order_number)
            if any(s.shipment_id == ref.key for s in order.shipments):
                # In the WMS and alive in Centra: the confirmation pass takes it from here
                # (a capture declined on completion is tried again there).
                await self.state.transition(
                    ref, ShipmentState.SENT, note="retry: waiting for the WMS to ship"
                )
            else:
                await self._check_cancelled(ref)
            return
        page = await self.centra.list_shipments("goodtogo", order=order_number)
        for shipment in page:
            if shipment.shipment_id == ref.key:
                await self._send(ref, shipment)
                return
        if not await self._check_cancelled(ref):
            await self.state.transition(
                ref, ShipmentState.NEW, note="retry: waiting for Centra to list it Good-to-Go"
            )

    # -- shared steps ------------------------------------------------------------------

    async def _capture(
        self, ref: RecordRef, flow: str, shipment: str, *, after: Sequence[Move] = ()
    ) -> None:
        """Capture once; ``after`` moves the record in the same transaction as the outcome."""
        try:
            await self._effect(
                f"capture/{ref}",
                ref,
                {"capture": shipment, "policy": self.settings.capture_policy.value},
                lambda: self._capture_call(shipment),
                after=(lambda _: after) if after else None,
            )
        except CaptureDeclinedError as exc:
            await self._park(
                ref,
                flow,
                ShipmentState.CAPTURE_DECLINED,
                CAPTURE_DECLINED_REASON,
                {"shipment": shipment, "centra": exc.remote_message},
            )

    async def _capture_call(self, shipment: str) -> Json:
        done = await self.centra.capture_shipment(shipment)
        return {"order": done.order, "shipment": done.shipment, "captured": True}

    async def _centra_order(self, ref: RecordRef, record: LedgerRecord | None = None) -> str:
        """The Centra order number: from the record in hand, the WMS-order intent, or the
        shipment number. The record's last answer names it in states new and sent."""
        if record is not None and (order := _order_of(record)) is not None:
            return order
        sent = await self.state.get_effect(f"wms-order/{ref}")
        if sent is not None and isinstance(sent.intent, dict):
            intended = sent.intent.get("order")
            if isinstance(intended, str | int) and str(intended):
                return str(intended)
        stored = await self.state.get_record(ref)
        if stored is not None and (order := _order_of(stored)) is not None:
            return order
        # Centra numbers shipments "<order>-<n>" (e.g. "83651-1").
        return ref.key.rsplit("-", 1)[0]

    async def _effect(
        self,
        key: str,
        ref: RecordRef,
        intent: Json,
        call: Callable[[], Awaitable[Json]],
        *,
        look: Callable[[], Awaitable[Json | None]] | None = None,
        after: Callable[[Json], Sequence[Move]] | None = None,
    ) -> Json:
        """Apply ``call`` at most once per ``key`` across crashes; returns its outcome.

        ``after(outcome)`` moves the record in the transaction that confirms the outcome.
        """
        try:
            return await apply_once(
                self.state,
                key,
                ref,
                intent,
                call,
                look=look,
                max_attempts=self.max_attempts,
                after=after,
            )
        except EffectGaveUp as exc:
            await self._park(ref, _flow_of(key), ShipmentState.FAILED, str(exc), intent)

    async def _guarded(
        self, ref: RecordRef, flow: str, step: Callable[[], Awaitable[object]]
    ) -> bool:
        """Run one record's step; failures are recorded on the record, never raised."""
        try:
            result = await step()
        except _Parked:
            return False
        except RetryLaterError as exc:
            self.events.failed(self.store_name, flow)
            await self._note_failure(ref, exc)
            return False
        except GiveUpError as exc:
            await self._park_quietly(ref, flow, ShipmentState.REFUSED, exc)
            return False
        except DataError as exc:
            await self._park_quietly(ref, flow, ShipmentState.INVALID, exc)
            return False
        return result is not False

    async def _note_failure(self, ref: RecordRef, exc: Exception) -> None:
        record = await self.state.get_record(ref)
        if record is not None:
            await self.state.transition(ref, record.state, note="will retry", error=str(exc))
        _log.warning("will retry", store=self.store_name, record=str(ref), error=redact(str(exc)))

    async def _park_quietly(
        self, ref: RecordRef, flow: str, to: ShipmentState, exc: Exception
    ) -> None:
        try:
            await self._park(ref, flow, to, str(exc), None)
        except _Parked:
            return

    async def _park(
        self, ref: RecordRef, flow: str, to: ShipmentState, reason: str, payload: Json
    ) -> NoReturn:
        """Park the record for a person and stop this step (raises ``_Parked``).

        State and dead letter in one transaction: a parked state is never retried by the
        engine, so a crash between the two would leave a record nobody is told about.
        """
        async with self.state.transaction() as tx:
            await tx.upsert_record(ref)
            await tx.transition(ref, to, note=reason, error=reason)
            await tx.park(ref, reason, payload)
        self.events.parked(self.store_name, flow, to.value)
        _log.error("alert: record parked", store=self.store_name, record=str(ref), reason=reason)
        raise _Parked

    def _lock(self, ref: RecordRef) -> asyncio.Lock:
        return self._locks.setdefault(ref.key, asyncio.Lock())


async def flow_backlog(state: StateStore, store: str) -> dict[str, int]:
    """Shipments waiting per flow, counted from the ledger."""
    waiting = {OUTBOUND: 0, CONFIRMATION: 0}
    for record in await state.list_records(store, kind=RecordKind.SHIPMENT, limit=_LISTING_LIMIT):
        if record.state in _TAKEABLE:
            waiting[OUTBOUND] += 1
        elif record.state in _CONFIRMABLE:
            waiting[CONFIRMATION] += 1
    return waiting


def _order_of(record: LedgerRecord) -> str | None:
    """The Centra order number the record's last answer carries, if it carries one."""
    if isinstance(record.last_response, dict):
        order = record.last_response.get("orderId")
        if isinstance(order, str | int) and str(order):
            return str(order)
    return None


def _wms_id(outcome: Json) -> str | None:
    return str(outcome.get("wms_id")) if isinstance(outcome, dict) else None


def _created(shipment: Shipment) -> datetime:
    assert shipment.shipment_date is not None, "callers pass dated shipments only"
    return shipment.shipment_date


def _key(rejected: RecordValidationError) -> str:
    """The shipment number an unparseable record was listed under."""
    return rejected.record.removeprefix("shipment ").strip() or "unknown"


def _flow_of(effect_key: str) -> str:
    head = effect_key.split("/", 1)[0]
    return {"wms-order": OUTBOUND, "cancel": CANCELLATION}.get(head, CONFIRMATION)


def _picked(shipped: ShippedOrder) -> dict[str, Decimal]:
    return {line.line_key: line.picked for line in shipped.lines}


def _completion(order_number: str, shipment: str, shipped: ShippedOrder) -> dict[str, Json]:
    return {
        "order": order_number,
        "shipment": shipment,
        "carrier": shipped.carrier,
        "service": shipped.service,
        "packages": len(shipped.parcels),
        "tracking": ", ".join(shipped.tracking_numbers),
        "picked": {line.line_key: str(line.picked) for line in shipped.lines},
    }


def _shipment_json(shipment: Shipment) -> Json:
    dumped: Json = shipment.model_dump(mode="json", by_alias=True)
    return dumped
