"""Returns registered in the WMS become Centra returns on their shipment, exactly once.

The WMS lists orders with a line whose returned quantity is ahead of the reported one. The
WMS order number is the Centra shipment number and each line key the Centra ``lineId``, so
a return is ``{lineId: returned - reported}`` on that shipment, with the store's *return
stock* setting.

Comments: Centra's Order API takes one comment per return, while Ongoing's connector gives
each order row a comment of its own holding all of that row's return causes. With *include
return comment* on, lines are grouped by their joined causes: lines with the same causes
share a return, a line with other causes gets its own, so every line's comment is exactly
its causes. With it off, one return carries every line and no comment.

Exactly once: per order the flow makes a *plan* (the returns to create, and each line's
cumulative returned quantity, its *target*) and keeps it in the ledger record's request
while carrying it out, so a pass killed half-way resumes the same plan rather than one
computed from figures that moved on. Each planned return is an effect keyed by the record
and a digest of its lines and targets. Creating a return is not idempotent, so one whose
outcome is unknown is looked up in Centra first: a return on the shipment, made since the
intent was recorded, not one the engine already knows, with those lines and quantities.
The WMS marks come last, with the targets; a crash before them is caught up on the next
pass from the plan in the ledger, never by creating another return.

Return orders (the store's *returns from* setting): many warehouses register returns as
WMS return orders rather than on the order's lines, and the WMS keeps no reported figure
for those. Each return order is a record of its own, keyed ``<shipment>/<return order>``;
its ledger response keeps the cumulative quantity reported per line, which stands in for
the WMS mark and is written in the same step that records the Centra returns. They are
read since the last clean pass (a cursor, less an overlap), as the WMS cannot list only
the unreported ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from functools import partial
from typing import Protocol

import structlog

from centrasync.centra.models import Return
from centrasync.centra.results import Page, ReturnCreated
from centrasync.centra.types import Moment
from centrasync.config import ReturnsSource
from centrasync.errors import DataError, RecordValidationError
from centrasync.store.base import (
    Effect,
    EffectStatus,
    Json,
    LedgerRecord,
    RecordKind,
    RecordRef,
)
from centrasync.wms.models import Listing, ReturnedOrder, Unreadable

from .flow import RecordFlow
from .policy import Outcome, Park, ParkedStates, Verdict

__all__ = [
    "PARKED_STATES",
    "RETURNS",
    "RETURN_ORDERS",
    "CentraReturns",
    "PlannedReturn",
    "ReturnPlan",
    "ReturnState",
    "ReturnsFlow",
    "plan_returns",
]

RETURNS = "returns"
RETURN_ORDERS = "returns:return_orders"
"""The cursor of return-order reads: the start of the last pass that left none to retry."""

# How far Centra's clock may trail ours when looking for a return made in doubt [I].
_CLOCK_SKEW = timedelta(minutes=5)
_LOOK_LIMIT = 100
# Where a return order that cannot be read is parked, under its shipment: its own number
# is part of what could not be read.
_UNREADABLE_RETURN_ORDER = "return-order"

_log = structlog.get_logger(__name__)


class ReturnState(StrEnum):
    """Where the returns of one WMS order (one Centra shipment) stand in the ledger."""

    NEW = "new"
    """Returned goods seen in the WMS, nothing reported yet."""
    RETRY = "retry"
    """A person asked for another try; the plan in the ledger decides what is left."""
    REPORTING = "reporting"
    """Centra returns are being created; the request holds the plan."""
    REPORTED = "reported"
    """Centra has every return reported so far; the response lists their ids."""
    INVALID = "invalid"
    """Parked: the WMS figures cannot become a Centra return (names the field)."""
    REFUSED = "refused"
    """Parked: Centra refused the return, or left lines of it out."""
    FAILED = "failed"
    """Parked: kept failing with retryable errors until the attempt limit."""


PARKED_STATES = frozenset({ReturnState.INVALID, ReturnState.REFUSED, ReturnState.FAILED})
_PARKED = ParkedStates(
    invalid=ReturnState.INVALID, refused=ReturnState.REFUSED, failed=ReturnState.FAILED
)


class CentraReturns(Protocol):
    """The Order API calls this flow makes."""

    async def create_return(
        self,
        shipment: str,
        quantities: Mapping[str, int],
        *,
        return_stock: bool | None = None,
        comment: str | None = None,
        created_at: Moment | None = None,
        return_cost: Decimal | None = None,
        refund_payment: bool | None = None,
        send_email: bool | None = None,
    ) -> ReturnCreated: ...

    async def list_returns(
        self,
        *,
        limit: int | None = None,
        page: int | None = None,
        return_id: str | int | None = None,
        shipment: str | None = None,
        order: str | int | None = None,
        newer_than: Moment | None = None,
        older_than: Moment | None = None,
    ) -> Page[Return]: ...


# -- planning (pure) --------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedReturn:
    """One Centra return to create: ``{lineId: qty}`` and its comment."""

    quantities: Mapping[str, int]
    comment: str | None = None


@dataclass(frozen=True)
class ReturnPlan:
    """The returns for one WMS order and each returned line's cumulative target."""

    shipment: str
    targets: Mapping[str, Decimal]
    returns: tuple[PlannedReturn, ...]


def plan_returns(order: ReturnedOrder, *, include_comment: bool) -> ReturnPlan:
    """Plan the Centra returns for what the WMS has returned but not reported.

    Raises :class:`RecordValidationError` naming the order and line when a quantity is
    not a whole number of items or a line has no key.
    """
    record = f"returned order {order.order_number!r}"
    groups: dict[str | None, dict[str, int]] = {}
    targets: dict[str, Decimal] = {}
    for index, line in enumerate(order.lines):
        if line.unreported <= 0:
            continue
        if not line.line_key.strip():
            raise RecordValidationError(
                "no Centra lineId to return against", record=record, field=f"lines[{index}]"
            )
        delta = line.unreported
        if delta != delta.to_integral_value():
            raise RecordValidationError(
                f"returned minus reported is {delta}, not a whole number of items",
                record=record,
                field=f"lines[{index}].returned",
            )
        comment = (", ".join(line.causes) or None) if include_comment else None
        groups.setdefault(comment, {})[line.line_key] = int(delta)
        targets[line.line_key] = line.returned
    returns = tuple(PlannedReturn(quantities, comment) for comment, quantities in groups.items())
    return ReturnPlan(order.order_number, targets, returns)


def _return_key(ref: RecordRef, planned: PlannedReturn, targets: Mapping[str, Decimal]) -> str:
    lines = sorted(planned.quantities.items())
    canonical = ";".join(f"{line}={qty}@{targets[line]}" for line, qty in lines)
    return f"return/{ref}/{hashlib.sha256(canonical.encode()).hexdigest()[:16]}"


# -- the flow ---------------------------------------------------------------------------


@dataclass
class ReturnsFlow(RecordFlow[CentraReturns]):
    """WMS returns to Centra returns for one store."""

    FLOW = RETURNS
    KIND = RecordKind.RETURN
    PARKED = _PARKED

    overlap: timedelta = timedelta(minutes=5)

    def record_ref(self, shipment: str, return_order: str | None = None) -> RecordRef:
        """A shipment's returns on its order's lines, or those of one of its return orders."""
        return self.ref(shipment if return_order is None else f"{shipment}/{return_order}")

    async def run(self) -> int:
        """Report every WMS return Centra has not heard of; returns how many records moved."""
        source = self.settings.returns_from
        moved = 0
        if source is not ReturnsSource.RETURN_ORDERS:
            moved, _ = await self._report_all(await self.wms.list_returns_unreported(), None)
        if source is not ReturnsSource.ORDERS:
            moved += await self._report_return_orders()
        return moved

    async def _report_return_orders(self) -> int:
        """Return orders with goods back since the last clean pass; the cursor moves only
        when no record of this pass is left to retry."""
        started = self.now()
        cursor = await self.state.get_cursor(self.store_name, RETURN_ORDERS)
        since = None if cursor is None else cursor.value - self.overlap
        listing = await self.wms.list_return_orders(since)
        moved, retrying = await self._report_all(listing, _UNREADABLE_RETURN_ORDER)
        if not retrying:
            await self.state.advance_cursor(self.store_name, RETURN_ORDERS, started)
        return moved

    async def _report_all(
        self, listing: Listing[ReturnedOrder], unreadable_as: str | None
    ) -> tuple[int, bool]:
        """Report each document of a read; how many records moved, and whether one waits
        for a retry."""
        moved, retrying = 0, False
        for unreadable in listing.rejected:
            await self._park_unreadable(unreadable, unreadable_as)
        for order in listing:
            shipment = await self._our_shipment(order.order_number)
            if shipment is None:
                continue
            ref = self.record_ref(order.order_number, order.return_order)
            step = partial(self._report, ref, order, shipment.centra_order)
            outcome = await self.policy.run(ref, step)
            moved += outcome is Outcome.MOVED
            retrying = retrying or outcome is Outcome.RETRY_LATER
        return moved, retrying

    async def _our_shipment(self, shipment: str) -> LedgerRecord | None:
        """The shipment's record if this store sent the order: several stores may share one
        goods owner, and a return belongs to the store whose Centra has the shipment."""
        owner = RecordRef(self.store_name, RecordKind.SHIPMENT, shipment)
        return await self.state.get_record(owner)

    async def _park_unreadable(self, unreadable: Unreadable, return_order: str | None) -> None:
        """A returned WMS document that cannot be read, if ours: parked with it as sent."""
        if unreadable.number is None:
            return
        shipment = await self._our_shipment(unreadable.number)
        if shipment is None:
            return
        ref = self.record_ref(unreadable.number, return_order)
        record = await self.state.get_record(ref)
        if record is None or record.state not in PARKED_STATES:
            verdict = Park(ReturnState.INVALID, str(unreadable.error), unreadable.document)
            await self.policy.park(ref, verdict)

    async def _report(
        self, ref: RecordRef, order: ReturnedOrder, centra_order: str | None
    ) -> Verdict:
        record = await self.state.get_record(ref)
        if record is not None and record.state in PARKED_STATES:
            return Outcome.UNCHANGED
        if record is None:
            await self.state.upsert_record(
                ref, centra_id=order.order_number, wms_id=order.wms_id, centra_order=centra_order
            )
        if order.return_order is not None:
            order = _reported_as(order, _ledger_reported(record))
        caught_up = False
        last = _plan_of(record)
        if last is not None:
            effects = [await self.state.get_effect(_text(p, "key")) for p in _returns_of(last)]
            if any(e is None or e.status is not EffectStatus.SUCCEEDED for e in effects):
                return await self._carry_out(ref, order, last)
            order, caught_up = await self._catch_up(ref, order, last, effects)
        try:
            plan = plan_returns(order, include_comment=self.settings.include_return_comment)
        except DataError as exc:
            return Park(ReturnState.INVALID, str(exc), _order_json(order))
        if not plan.returns:
            return Outcome.MOVED if caught_up else Outcome.UNCHANGED
        request = self._plan_json(ref, plan)
        await self.state.transition(
            ref, ReturnState.REPORTING, note="creating Centra returns", request=request
        )
        return await self._carry_out(ref, order, request)

    def _plan_json(self, ref: RecordRef, plan: ReturnPlan) -> dict[str, Json]:
        return {
            "plan": {
                "shipment": plan.shipment,
                "targets": {line: str(target) for line, target in plan.targets.items()},
                "returns": [
                    {
                        "key": _return_key(ref, planned, plan.targets),
                        "shipment": plan.shipment,
                        "products": dict(planned.quantities),
                        "comment": planned.comment,
                        "return_stock": self.settings.return_stock,
                    }
                    for planned in plan.returns
                ],
            }
        }

    async def _carry_out(self, ref: RecordRef, order: ReturnedOrder, request: Json) -> Verdict:
        outcomes: list[Json] = []
        for planned in _returns_of(request):
            key = _text(planned, "key")
            outcome = await self.policy.effect(
                key,
                ref,
                planned,
                partial(self._create, planned),
                look=partial(self._made_in_centra, ref, key, planned),
            )
            if isinstance(outcome, Park):
                return outcome
            outcomes.append(outcome)
        record = await self.state.get_record(ref)
        created = [_text(outcome, "return") for outcome in outcomes]
        known: list[Json] = [r for r in _known_returns(record) if r not in created]
        known.extend(created)
        targets = _returned_targets(request, outcomes)
        response: dict[str, Json] = {"returns": known, "created": outcomes}
        if order.return_order is not None:
            response["reported"] = _reported_json(_ledger_reported(record), targets)
        await self.state.transition(
            ref,
            ReturnState.REPORTED,
            note=f"Centra return(s) {', '.join(created)} created",
            response=response,
        )
        if order.return_order is None:
            await self.wms.mark_returns_reported(order, targets)
        self.events.processed(self.store_name, RETURNS)
        _log.info("returns reported", store=self.store_name, shipment=ref.key, returns=created)
        left_out = sorted(set(_targets(request)) - set(targets))
        if left_out:
            return Park(
                ReturnState.REFUSED,
                f"Centra created the return without line(s) {', '.join(left_out)}: it "
                "refused to return them; check the shipment in Centra",
                {"plan": request, "created": outcomes},
            )
        return Outcome.MOVED

    async def _create(self, planned: Json) -> Json:
        made = await self.centra.create_return(
            _text(planned, "shipment"),
            _counts(planned),
            return_stock=isinstance(planned, dict) and planned.get("return_stock") is True,
            comment=_text(planned, "comment") or None,
        )
        return _outcome(made.return_id, made.returned_items, found_by="create")

    async def _made_in_centra(self, ref: RecordRef, key: str, planned: Json) -> Json | None:
        """The return an in-doubt create made, if Centra has it [I: matched by content]."""
        effect = await self.state.get_effect(key)
        if effect is None:
            return None
        known = set(_known_returns(await self.state.get_record(ref)))
        wanted = _counts(planned)
        page = await self.centra.list_returns(
            shipment=_text(planned, "shipment"),
            newer_than=effect.created_at - _CLOCK_SKEW,
            limit=_LOOK_LIMIT,
        )
        for candidate in page:
            lines = {str(line.order_line_id): line.quantity for line in candidate.products}
            if candidate.return_id in known or not lines:
                continue
            # Centra may leave lines out of a return, so a subset with our quantities counts.
            if all(wanted.get(line) == qty for line, qty in lines.items()):
                return _outcome(candidate.return_id, tuple(lines), found_by="look")
        return None

    async def _catch_up(
        self,
        ref: RecordRef,
        order: ReturnedOrder,
        request: Json,
        effects: list[Effect | None],
    ) -> tuple[ReturnedOrder, bool]:
        """Mark what the last plan's returns told Centra, if the WMS missed it."""
        outcomes = [None if e is None else e.outcome for e in effects]
        targets = _returned_targets(request, outcomes)
        behind = {
            line.line_key: targets[line.line_key]
            for line in order.lines
            if line.line_key in targets and line.reported < targets[line.line_key]
        }
        if not behind:
            return order, False
        response: dict[str, Json] | None = None
        if order.return_order is None:
            await self.wms.mark_returns_reported(order, behind)
        else:
            record = await self.state.get_record(ref)
            last = record.last_response if record is not None else None
            response = dict(last) if isinstance(last, dict) else {}
            response["reported"] = _reported_json(_ledger_reported(record), behind)
        await self.state.transition(
            ref,
            ReturnState.REPORTED,
            note="returns marked reported after an interrupted pass",
            response=response,
        )
        lines = tuple(
            replace(line, reported=behind.get(line.line_key, line.reported)) for line in order.lines
        )
        return replace(order, lines=lines), True


def _ledger_reported(record: LedgerRecord | None) -> dict[str, Decimal]:
    """A return order's cumulative reported quantities per line, as the ledger keeps them."""
    response = None if record is None else record.last_response
    reported = response.get("reported") if isinstance(response, dict) else None
    if not isinstance(reported, dict):
        return {}
    return {str(line): Decimal(str(value)) for line, value in reported.items()}


def _reported_json(before: Mapping[str, Decimal], now: Mapping[str, Decimal]) -> Json:
    return {line: str(value) for line, value in {**before, **now}.items()}


def _reported_as(order: ReturnedOrder, reported: Mapping[str, Decimal]) -> ReturnedOrder:
    lines = tuple(
        replace(line, reported=reported.get(line.line_key, line.reported)) for line in order.lines
    )
    return replace(order, lines=lines)


def _plan_of(record: LedgerRecord | None) -> Json:
    """The last plan this record carried out (or began), from its ledger request."""
    if record is None or not isinstance(record.last_request, dict):
        return None
    plan = record.last_request.get("plan")
    return {"plan": plan} if isinstance(plan, dict) else None


def _returns_of(request: Json) -> list[Json]:
    plan = request.get("plan") if isinstance(request, dict) else None
    returns = plan.get("returns") if isinstance(plan, dict) else None
    return list(returns) if isinstance(returns, list) else []


def _targets(request: Json) -> dict[str, Decimal]:
    plan = request.get("plan") if isinstance(request, dict) else None
    targets = plan.get("targets") if isinstance(plan, dict) else None
    if not isinstance(targets, dict):
        return {}
    return {str(line): Decimal(str(value)) for line, value in targets.items()}


def _returned_targets(request: Json, outcomes: list[Json]) -> dict[str, Decimal]:
    """Targets of the lines Centra did return; Centra may leave lines out of a return."""
    returned: set[str] = set()
    for outcome in outcomes:
        items = outcome.get("returned_items") if isinstance(outcome, dict) else None
        if isinstance(items, list):
            returned.update(str(item) for item in items)
    return {line: target for line, target in _targets(request).items() if line in returned}


def _known_returns(record: LedgerRecord | None) -> list[str]:
    response = None if record is None else record.last_response
    returns = response.get("returns") if isinstance(response, dict) else None
    return [str(r) for r in returns] if isinstance(returns, list) else []


def _outcome(return_id: str, returned_items: tuple[str, ...], *, found_by: str) -> Json:
    return {"return": return_id, "returned_items": list(returned_items), "found_by": found_by}


def _text(payload: Json, key: str) -> str:
    value = payload.get(key) if isinstance(payload, dict) else None
    return "" if value is None else str(value)


def _counts(planned: Json) -> dict[str, int]:
    products = planned.get("products") if isinstance(planned, dict) else None
    if not isinstance(products, dict):
        return {}
    return {str(line): int(str(qty)) for line, qty in products.items()}


def _order_json(order: ReturnedOrder) -> Json:
    return {
        "order_number": order.order_number,
        "return_order": order.return_order,
        "wms_id": order.wms_id,
        "lines": [
            {
                "line_key": line.line_key,
                "sku": line.sku,
                "returned": str(line.returned),
                "reported": str(line.reported),
                "causes": list(line.causes),
            }
            for line in order.lines
        ],
    }
