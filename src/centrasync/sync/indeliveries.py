"""Centra supplier deliveries become WMS in-orders; received goods go back, exactly once.

Sending: each supplier delivery Centra lists as not yet accepted, and the engine has not
seen, becomes one in-order numbered by the delivery's ``id``. The WMS upserts by that
number, so repeating the call after a crash is harmless.

Receiving: Centra accepts a delivery once. When the warehouse has received part of it, the
engine accepts the delivery with what arrived, and Centra creates an *additional delivery*
holding the remainder; the next receipt on the same in-order is accepted on that one, and
so on. The chain lives in the effects: ``accept/<record>/<delivery id>``, once confirmed,
names the additional delivery, so walking the effects from the in-order's own number finds
the delivery to accept next. Acceptance is not idempotent, so one whose outcome is unknown
is looked up in Centra before it is tried again: an accepted delivery has left Centra's
open list, and its additional delivery is the open one on the same supplier order that
nobody has claimed and that holds exactly the remainder.

The WMS hears what Centra was told only after Centra accepted: each line's cumulative
received quantity at the time of the acceptance (its *target*) is written as reported. A
crash between the two is caught up on the next pass from the last confirmed acceptance's
targets, never by accepting again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from functools import partial
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

import structlog

from centrasync.centra.models import SupplierDelivery, SupplierOrderLine
from centrasync.centra.results import DeliveryAccepted, Page
from centrasync.config import StoreSettings
from centrasync.errors import DataError, GiveUpError, RecordValidationError
from centrasync.store.base import (
    Effect,
    EffectStatus,
    Json,
    Move,
    NewRecord,
    RecordKind,
    RecordRef,
    Step,
)
from centrasync.wms.models import InOrder, InOrderLine, ReceivedInOrder, Unreadable

from .flow import RecordFlow
from .mapping import article_number
from .policy import Outcome, Park, ParkedStates, Verdict

__all__ = [
    "IN_DELIVERIES",
    "PARKED_STATES",
    "CentraSupplierDeliveries",
    "InDeliveriesFlow",
    "InDeliveryState",
    "MappedInOrder",
    "acceptance_key",
    "delivery_to_in_order",
    "in_order_to_json",
]

IN_DELIVERIES = "in_deliveries"
AcceptBy = Literal["ean", "sku"]

_log = structlog.get_logger(__name__)


class InDeliveryState(StrEnum):
    """Where a Centra supplier delivery stands in the engine's ledger."""

    NEW = "new"
    """Seen in Centra, not yet in the WMS."""
    RETRY = "retry"
    """A person asked for another try; the effects decide what is left."""
    SENT = "sent"
    """The WMS has the in-order; nothing received yet."""
    ACCEPTING = "accepting"
    """Received goods are being reported; the request names the delivery and quantities."""
    PARTIALLY_RECEIVED = "partially_received"
    """Part accepted in Centra; the remainder waits on an additional delivery."""
    RECEIVED = "received"
    """Centra accepted the last delivery of the chain; nothing is left to receive."""
    CONTINUATION = "continuation"
    """An additional delivery Centra made for the remainder of an in-order the WMS has."""
    INVALID = "invalid"
    """Parked: the delivery cannot become a valid in-order (names the field)."""
    REFUSED = "refused"
    """Parked: Centra or the WMS refused a write for a reason retrying will not change."""
    FAILED = "failed"
    """Parked: kept failing with retryable errors until the attempt limit."""


PARKED_STATES = frozenset(
    {InDeliveryState.INVALID, InDeliveryState.REFUSED, InDeliveryState.FAILED}
)
_PARKED = ParkedStates(
    invalid=InDeliveryState.INVALID,
    refused=InDeliveryState.REFUSED,
    failed=InDeliveryState.FAILED,
)
_SENDABLE = frozenset({InDeliveryState.NEW, InDeliveryState.RETRY})


class CentraSupplierDeliveries(Protocol):
    """The Order API calls this flow makes."""

    async def list_supplier_deliveries(self) -> Page[SupplierDelivery]: ...

    async def get_supplier_delivery(
        self, delivery: str | int, *, details: bool = False
    ) -> SupplierDelivery: ...

    async def accept_supplier_delivery(
        self,
        delivery: str | int,
        quantities: Mapping[str, int],
        *,
        by: Literal["ean", "sku"] = "ean",
        insert_stock: bool = True,
    ) -> DeliveryAccepted: ...


# -- mapping (pure) ---------------------------------------------------------------------


@dataclass(frozen=True)
class MappedInOrder:
    """The in-order plus how its line keys name items when Centra accepts the delivery."""

    in_order: InOrder
    accept_by: AcceptBy


def acceptance_key(row: SupplierOrderLine, by: AcceptBy) -> str:
    """How Centra's accept call names an item: its EAN, or ``sku+variantSku+sizeSku``."""
    return (row.ean if by == "ean" else row.physical_sku).strip()


def _accept_by(delivery: SupplierDelivery, record: str) -> AcceptBy:
    """EAN when every item has a distinct one (Centra's main form), else the full SKU."""
    by: AcceptBy
    for by in ("ean", "sku"):
        keys = [acceptance_key(row, by) for row in delivery.products]
        if all(keys) and len(set(keys)) == len(keys):
            return by
    seen: set[str] = set()
    for index, row in enumerate(delivery.products):
        ean = acceptance_key(row, "ean")
        if not ean or ean in seen:
            raise RecordValidationError(
                "items need a distinct EAN or a distinct sku + variantSku + sizeSku, so "
                "that received quantities can be reported back",
                record=record,
                field=f"products[{index}].ean",
            )
        seen.add(ean)
    raise AssertionError("unreachable: distinct EANs would have been chosen above")


def delivery_to_in_order(delivery: SupplierDelivery, settings: StoreSettings) -> MappedInOrder:
    """Map a supplier delivery (with products) to the in-order the WMS should expect.

    As Ongoing's Centra connector maps it (seed table): the delivery ``id`` is the in-order
    number, ``deliveryId`` the goods owner's reference, the supplier order id the reference
    number, ``ETA`` the in-date, and each line's article number follows the store's
    strategy with quantity, cost and cost currency. Raises :class:`RecordValidationError`
    naming the delivery and the field.
    """
    record = f"supplier delivery {delivery.id}"
    if not delivery.products:
        raise RecordValidationError("a delivery without items", record=record, field="products")
    by = _accept_by(delivery, record)
    lines = []
    for index, row in enumerate(delivery.products):
        prefix = f"products[{index}]."
        if row.quantity is None or row.quantity <= 0:
            raise RecordValidationError(
                f"must be a positive quantity, got {row.quantity}",
                record=record,
                field=prefix + "quantity",
            )
        lines.append(
            InOrderLine(
                line_key=acceptance_key(row, by),
                sku=article_number(
                    row,
                    settings.article_number,
                    settings.article_number_fields,
                    record=record,
                    field_prefix=prefix,
                ),
                quantity=Decimal(row.quantity),
                unit_cost=row.cost,
                currency=row.cost_currency.strip() or None,
            )
        )
    # ETA is a calendar day to the warehouse; it is the merchant's day, so the aware
    # time is read in the store's zone (02:00 in Stockholm is the previous day in UTC).
    eta = delivery.eta
    in_order = InOrder(
        in_order_number=delivery.id,
        lines=tuple(lines),
        expected_date=None if eta is None else eta.astimezone(_zone(settings)).date(),
        supplier_name=delivery.supplier_name.strip() or None,
        reference=delivery.delivery_id,
        reference_number=delivery.order_id,
    )
    return MappedInOrder(in_order, by)


def _zone(settings: StoreSettings) -> ZoneInfo:
    return ZoneInfo(settings.centra.timezone)


def in_order_to_json(in_order: InOrder) -> dict[str, Json]:
    """A JSON view of an in-order for the ledger (decimals as strings, the date ISO)."""
    return {
        "in_order_number": in_order.in_order_number,
        "reference": in_order.reference,
        "reference_number": in_order.reference_number,
        "expected_date": (
            None if in_order.expected_date is None else in_order.expected_date.isoformat()
        ),
        "supplier_name": in_order.supplier_name,
        "lines": [
            {
                "line_key": line.line_key,
                "sku": line.sku,
                "quantity": str(line.quantity),
                "unit_cost": None if line.unit_cost is None else str(line.unit_cost),
                "currency": line.currency,
            }
            for line in in_order.lines
        ],
    }


# -- the flow ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Chain:
    """Where an in-order's deliveries stand, read from the acceptance effects."""

    current: str | None
    """The delivery to accept next; None once Centra expects nothing more."""
    pending: Effect | None
    """An acceptance of ``current`` whose outcome is unknown."""
    last: Effect | None
    """The last confirmed acceptance."""


@dataclass
class InDeliveriesFlow(RecordFlow[CentraSupplierDeliveries]):
    """Supplier deliveries to in-orders, and receipts back to Centra, for one store."""

    FLOW = IN_DELIVERIES
    KIND = RecordKind.IN_DELIVERY
    PARKED = _PARKED

    async def run(self) -> int:
        """Report receipts, then send new deliveries; returns how many records moved on.

        Receipts go first: an acceptance in doubt is settled before the open list is read,
        so the additional delivery it may have created is known as a continuation and is
        not sent to the WMS as a delivery of its own.
        """
        unsettled: set[str] = set()
        moved = 0
        listing = await self.wms.list_received_unreported()
        for unreadable in listing.rejected:
            await self._park_unreadable(unreadable, unsettled)
        for received in listing:
            ref = self.ref(received.in_order_number)
            step = partial(self._report, ref, received, unsettled)
            if await self.policy.run(ref, step) is Outcome.MOVED:
                moved += 1
        return moved + await self._send_new(unsettled)

    # -- sending ---------------------------------------------------------------------------

    async def _send_new(self, unsettled: set[str]) -> int:
        page = await self.centra.list_supplier_deliveries()
        for rejected in page.rejected:
            await self._park_rejected(rejected)
        sent = 0
        for listed in page:
            ref = self.ref(listed.id)
            record = await self.state.get_record(ref)
            if record is not None and record.state not in _SENDABLE:
                continue
            if record is None and (listed.order_id or "") in unsettled:
                # It may be the additional delivery of that acceptance: wait until settled.
                _log.info(
                    "delivery waits for an acceptance in doubt",
                    store=self.store_name,
                    delivery=listed.id,
                    supplier_order=listed.order_id,
                )
                continue
            if await self.policy.run(ref, partial(self._send, ref, listed.id)) is Outcome.MOVED:
                sent += 1
        return sent

    async def _send(self, ref: RecordRef, delivery_id: str) -> Verdict:
        delivery = await self.centra.get_supplier_delivery(delivery_id)
        payload = _delivery_json(delivery)
        if await self.state.get_record(ref) is None:
            await self.state.upsert_records(
                [NewRecord(ref, centra_id=delivery.delivery_id or None)]
            )
            await self.policy.move(
                ref, InDeliveryState.NEW, note="seen in Centra", response=payload
            )
        try:
            mapped = delivery_to_in_order(delivery, self.settings)
        except DataError as exc:
            return Park(InDeliveryState.INVALID, str(exc), payload)
        body = in_order_to_json(mapped.in_order)
        intent: dict[str, Json] = {
            "delivery": delivery.id,
            "order": delivery.order_id,
            "accept_by": mapped.accept_by,
            "in_order": body,
        }

        def sent(outcome: Json) -> list[Move]:
            wms_id = outcome.get("wms_id") if isinstance(outcome, dict) else None
            return [
                NewRecord(ref, wms_id=None if wms_id is None else str(wms_id)),
                Step(
                    ref,
                    InDeliveryState.SENT,
                    note="WMS in-order created",
                    request=body,
                    response=outcome,
                ),
            ]

        outcome = await self.policy.effect(
            _in_order_key(ref), ref, intent, partial(self._upsert, mapped.in_order), after=sent
        )
        if isinstance(outcome, Park):
            return outcome
        self.events.processed(self.store_name, IN_DELIVERIES)
        _log.info("in-order sent to WMS", store=self.store_name, delivery=ref.key)
        return Outcome.MOVED

    async def _upsert(self, in_order: InOrder) -> Json:
        created = await self.wms.upsert_in_order(in_order)
        return {"number": created.number, "wms_id": created.wms_id}

    async def _park_rejected(self, rejected: RecordValidationError) -> None:
        ref = self.ref(rejected.record.removeprefix("supplier delivery ").strip() or "unknown")
        record = await self.state.get_record(ref)
        if record is None or record.state in _SENDABLE:
            await self.policy.park(ref, Park(InDeliveryState.INVALID, str(rejected)))

    # -- receiving -------------------------------------------------------------------------

    async def _report(
        self, ref: RecordRef, received: ReceivedInOrder, unsettled: set[str]
    ) -> Verdict:
        record = await self.state.get_record(ref)
        sent = await self.state.get_effect(_in_order_key(ref))
        if record is None or sent is None:
            _log.debug("received in-order is not ours", store=self.store_name, in_order=ref.key)
            return Outcome.UNCHANGED
        chain = await self._follow_chain(ref)
        if chain.pending is not None:
            unsettled.add(_text(chain.pending.intent, "order"))
        if record.state in PARKED_STATES:
            return Outcome.UNCHANGED
        if sent.status is not EffectStatus.SUCCEEDED:
            # Killed after the PUT, before its outcome was stored: the WMS shows it has it.
            await self.state.complete_effect(
                sent.key, {"number": ref.key, "wms_id": received.wms_id, "found_by": "receipt"}
            )
        received, caught_up = await self._catch_up(ref, received, chain.last)
        if chain.pending is not None:
            intent = chain.pending.intent
        else:
            planned = await self._plan(ref, received, chain.current, sent.intent)
            if planned is None:
                return Outcome.MOVED if caught_up else Outcome.UNCHANGED
            if isinstance(planned, Park):
                return planned
            intent = planned
        return await self._accept(ref, received, intent, unsettled)

    async def _park_unreadable(self, unreadable: Unreadable, unsettled: set[str]) -> None:
        """An in-order of ours the WMS cannot show readably: parked with it as sent.

        An acceptance of it still in doubt keeps its supplier order's open deliveries
        from being sent, as :meth:`_report` does for a readable one.
        """
        if unreadable.number is None:
            return
        ref = self.ref(unreadable.number)
        record = await self.state.get_record(ref)
        if record is None or await self.state.get_effect(_in_order_key(ref)) is None:
            return
        pending = (await self._follow_chain(ref)).pending
        if pending is not None:
            unsettled.add(_text(pending.intent, "order"))
        if record.state not in PARKED_STATES:
            verdict = Park(InDeliveryState.INVALID, str(unreadable.error), unreadable.document)
            await self.policy.park(ref, verdict)

    async def _follow_chain(self, ref: RecordRef) -> _Chain:
        current: str | None = ref.key
        last: Effect | None = None
        while current is not None:
            effect = await self.state.get_effect(_accept_key(ref, current))
            if effect is None or effect.status is EffectStatus.FAILED:
                return _Chain(current, None, last)
            if effect.status is EffectStatus.PENDING:
                return _Chain(current, effect, last)
            last = effect
            current = await self._claim_additional(ref, effect.outcome)
        return _Chain(None, None, last)

    async def _claim_additional(self, ref: RecordRef, outcome: Json) -> str | None:
        """Record Centra's additional delivery as part of this in-order; returns its id."""
        if not isinstance(outcome, dict) or outcome.get("additional") is None:
            return None
        additional = str(outcome["additional"])
        follow = self.ref(additional)
        if await self.state.get_record(follow) is None:
            number = outcome.get("additional_number")
            await self.state.upsert_record(
                follow, centra_id=None if number is None else str(number)
            )
            await self.state.transition(
                follow,
                InDeliveryState.CONTINUATION,
                note=f"remainder of in-order {ref.key}",
                response={"in_order": ref.key, "follows": outcome.get("delivery")},
            )
        return additional

    async def _catch_up(
        self, ref: RecordRef, received: ReceivedInOrder, last: Effect | None
    ) -> tuple[ReceivedInOrder, bool]:
        """Mark what the last confirmed acceptance told Centra, if the WMS missed it."""
        if last is None:
            return received, False
        targets = _targets(last.intent)
        behind = {
            line.line_key: targets[line.line_key]
            for line in received.lines
            if line.line_key in targets and line.reported < targets[line.line_key]
        }
        if not behind:
            return received, False
        await self.wms.mark_receipts_reported(received, behind)
        await self.state.transition(
            ref,
            _after(last.outcome),
            note="receipts marked reported after an interrupted pass",
            response=last.outcome,
        )
        lines = tuple(
            replace(line, reported=behind.get(line.line_key, line.reported))
            for line in received.lines
        )
        return replace(received, lines=lines), True

    async def _plan(
        self, ref: RecordRef, received: ReceivedInOrder, current: str | None, sent: Json
    ) -> dict[str, Json] | Park | None:
        record = f"in-order {ref.key}"
        quantities: dict[str, Json] = {}
        targets: dict[str, Json] = {}
        for index, line in enumerate(received.lines):
            if line.unreported > 0:
                quantities[line.line_key] = _whole(line.unreported, record, index)
                targets[line.line_key] = str(line.received)
        if not quantities:
            return None
        if current is None:
            return Park(
                InDeliveryState.REFUSED,
                "received more after Centra accepted the last delivery of this in-order; "
                "Centra has no open delivery to report it on",
                {"unreported": quantities},
            )
        by = _by(sent, "accept_by")
        delivery = await self.centra.get_supplier_delivery(current)
        return {
            "in_order": ref.key,
            "delivery": current,
            "order": delivery.order_id or _text(sent, "order"),
            "by": by,
            "quantities": quantities,
            "announced": {acceptance_key(row, by): row.quantity or 0 for row in delivery.products},
            "targets": targets,
        }

    async def _accept(
        self, ref: RecordRef, received: ReceivedInOrder, intent: Json, unsettled: set[str]
    ) -> Verdict:
        delivery = _text(intent, "delivery")
        accepting = Step(
            ref, InDeliveryState.ACCEPTING, note=f"accepting delivery {delivery}", request=intent
        )
        try:
            outcome = await self.policy.effect(
                _accept_key(ref, delivery),
                ref,
                intent,
                partial(self._accept_call, intent),
                look=partial(self._accepted_in_centra, intent),
                before=[accepting],
            )
        except Exception:
            # Its additional delivery may exist unclaimed: it must not be sent on its own.
            unsettled.add(_text(intent, "order"))
            raise
        if isinstance(outcome, Park):
            unsettled.add(_text(intent, "order"))
            return outcome
        await self._claim_additional(ref, outcome)
        # The state moves before the marks: a kill between them is caught up from the effect.
        await self.state.transition(
            ref, _after(outcome), note=f"delivery {delivery} accepted in Centra", response=outcome
        )
        await self.wms.mark_receipts_reported(received, _targets(intent))
        self.events.processed(self.store_name, IN_DELIVERIES)
        _log.info("receipt reported", store=self.store_name, in_order=ref.key, delivery=delivery)
        return Outcome.MOVED

    async def _accept_call(self, intent: Json) -> Json:
        delivery = _text(intent, "delivery")
        done = await self.centra.accept_supplier_delivery(
            delivery, _counts(intent, "quantities"), by=_by(intent)
        )
        return _acceptance_json(delivery, done.additional_delivery, found_by="accept")

    async def _accepted_in_centra(self, intent: Json) -> Json | None:
        """Whether an acceptance in doubt went through, and which delivery it left behind.

        Centra lists only deliveries not yet accepted, so a listed delivery was not
        accepted. Otherwise the remainder, if any, sits on an open delivery of the same
        supplier order that no record claims yet, with exactly those quantities [I].
        """
        delivery = _text(intent, "delivery")
        page = await self.centra.list_supplier_deliveries()
        if any(listed.id == delivery for listed in page):
            return None
        sent = _counts(intent, "quantities")
        remainder = {
            key: left
            for key, announced in _counts(intent, "announced").items()
            if (left := announced - sent.get(key, 0)) > 0
        }
        if not remainder:
            return _acceptance_json(delivery, None, found_by="look")
        order, by = _text(intent, "order"), _by(intent)
        for listed in page:
            claimed = await self.state.get_record(self.ref(listed.id))
            if listed.order_id != order or claimed is not None:
                continue
            candidate = await self.centra.get_supplier_delivery(listed.id)
            items = {acceptance_key(row, by): row.quantity for row in candidate.products}
            if items == remainder:
                return _acceptance_json(delivery, candidate, found_by="look")
        raise GiveUpError(
            f"delivery {delivery} was accepted in Centra, but no open delivery on supplier "
            f"order {order} holds the remainder {remainder}; find it and link it by hand"
        )


def _in_order_key(ref: RecordRef) -> str:
    return f"in-order/{ref}"


def _accept_key(ref: RecordRef, delivery: str) -> str:
    return f"accept/{ref}/{delivery}"


def _after(outcome: Json) -> InDeliveryState:
    """The state an acceptance leaves: more to come on an additional delivery, or done."""
    more = isinstance(outcome, dict) and outcome.get("additional") is not None
    return InDeliveryState.PARTIALLY_RECEIVED if more else InDeliveryState.RECEIVED


def _acceptance_json(
    delivery: str, additional: SupplierDelivery | None, *, found_by: str
) -> dict[str, Json]:
    return {
        "delivery": delivery,
        "additional": None if additional is None else additional.id,
        "additional_number": None if additional is None else additional.delivery_id,
        "found_by": found_by,
    }


def _whole(quantity: Decimal, record: str, index: int) -> int:
    if quantity != quantity.to_integral_value():
        raise RecordValidationError(
            f"received {quantity} is not a whole number of items; Centra counts items",
            record=record,
            field=f"lines[{index}].received",
        )
    return int(quantity)


def _text(payload: Json, key: str) -> str:
    value = payload.get(key) if isinstance(payload, dict) else None
    return "" if value is None else str(value)


def _by(payload: Json, key: str = "by") -> AcceptBy:
    return "sku" if _text(payload, key) == "sku" else "ean"


def _counts(payload: Json, key: str) -> dict[str, int]:
    value = payload.get(key) if isinstance(payload, dict) else None
    if not isinstance(value, dict):
        return {}
    return {str(k): int(str(v)) for k, v in value.items()}


def _targets(payload: Json) -> dict[str, Decimal]:
    value = payload.get("targets") if isinstance(payload, dict) else None
    if not isinstance(value, dict):
        return {}
    return {str(k): Decimal(str(v)) for k, v in value.items()}


def _delivery_json(delivery: SupplierDelivery) -> Json:
    dumped: Json = delivery.model_dump(mode="json", by_alias=True)
    return dumped
