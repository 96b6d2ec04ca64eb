"""Confirmation: what the warehouse shipped goes back to Centra, with carrier and tracking.

For each shipped WMS order of ours: a short pick first lowers Centra's quantities to what was
picked, serial numbers are written, the payment is captured if the store captures on
completion (a decline parks the shipment as possible fraud, never completed), and the shipment
is completed in Centra. Completing is not idempotent (Centra emails the customer), so an
attempt in doubt is settled by reading the order back. The WMS lines are marked reported only
after Centra has the completion: killed in between, the next pass still lists the order and
only marks it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

import structlog

from centrasync.centra.results import SerialNumber
from centrasync.config import CapturePolicy
from centrasync.errors import GiveUpError
from centrasync.store.base import EffectStatus, Json, LedgerRecord, RecordRef
from centrasync.wms.models import ShippedOrder, Unreadable

from ..lanes import for_each
from ..policy import Outcome, Park, Verdict
from .cancellation import Cancellation
from .context import ShipmentContext
from .ledger import CONFIRMABLE, CONFIRMATION, ShipmentEffect, ShipmentState, effect_key

__all__ = ["Confirmation"]

_log = structlog.get_logger(__name__)


@dataclass
class Confirmation:
    """The confirmation flow of one store."""

    ctx: ShipmentContext
    cancellation: Cancellation

    async def run(self) -> int:
        """Report every shipped WMS order back to Centra; returns how many completed.

        The orders are confirmed as their pages come in: after a busy day the WMS lists
        thousands, and reading them all first left the lanes idle for seconds.
        """
        return await for_each(self._shipped(), self._confirm_one, limit=self.ctx.concurrency)

    async def _shipped(self) -> AsyncGenerator[ShippedOrder]:
        pages = self.ctx.wms.iter_shipped_unreported()
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
        if unreadable.number is None:
            return
        ref = self.ctx.ref(unreadable.number)
        async with self.ctx.lock(ref):
            record = await self.ctx.state.get_record(ref)
            if record is None or record.state not in CONFIRMABLE:
                return
            verdict = Park(ShipmentState.INVALID, str(unreadable.error), unreadable.document)
            await self.ctx.policy(CONFIRMATION).park(ref, verdict)

    async def _confirm_one(self, shipped: ShippedOrder) -> bool:
        ref = self.ctx.ref(shipped.order_number)
        async with self.ctx.lock(ref):
            outcome = await self.ctx.policy(CONFIRMATION).run(
                ref, partial(self._confirm, ref, shipped)
            )
            return outcome is Outcome.MOVED

    async def _confirm(self, ref: RecordRef, shipped: ShippedOrder) -> Verdict:
        ctx = self.ctx
        record = await ctx.state.get_record(ref)
        if record is None:
            _log.debug("shipped order is not ours", store=ctx.store_name, order=ref.key)
            return Outcome.UNCHANGED
        if record.state == ShipmentState.COMPLETED:
            # Killed after Centra accepted but before the WMS lines were marked.
            await ctx.wms.mark_lines_reported(shipped, _picked(shipped))
            return Outcome.UNCHANGED
        if record.state not in CONFIRMABLE:
            return Outcome.UNCHANGED
        try:
            return await self._report_shipped(ref, record, shipped)
        except GiveUpError:
            # Centra refuses every write on a shipment it no longer has. Cancelled there
            # while the warehouse shipped it, the cancellation pass may not have seen it yet;
            # then it is a cancellation that came too late, parked as such, not a refusal.
            cancelled = await self.cancellation.check(ref)
            if cancelled is Outcome.UNCHANGED:
                raise
            return cancelled

    async def _report_shipped(
        self, ref: RecordRef, record: LedgerRecord, shipped: ShippedOrder
    ) -> Verdict:
        """Short pick, serial numbers, capture (by policy) and completion, in that order."""
        ctx = self.ctx
        policy = ctx.policy(CONFIRMATION)
        order_number = ctx.centra_order(record)
        short = {
            line.line_key: int(line.picked) for line in shipped.lines if line.picked < line.ordered
        }
        if short and record.state != ShipmentState.QUANTITIES_UPDATED:
            lowered = await self._lower_quantities(ref, short)
            if isinstance(lowered, Park):
                return lowered
        serials = {
            line.line_key: SerialNumber(", ".join(line.serial_numbers), int(line.picked))
            for line in shipped.lines
            if line.serial_numbers
        }
        if serials:
            written = await policy.effect(
                effect_key(ShipmentEffect.SERIALS, ref),
                ref,
                {"serial_numbers": {k: v.serial_number for k, v in serials.items()}},
                partial(self._update, ref.key, serial_numbers=serials),
            )
            if isinstance(written, Park):
                return written
        if ctx.settings.capture_policy is CapturePolicy.ON_COMPLETE:
            captured = await ctx.capture(policy, ref)
            if isinstance(captured, Park):
                return captured
        request = _completion(order_number, ref.key, shipped)
        note = f"completed in Centra, tracking {request.get('tracking') or 'none'}"
        completed = await policy.effect(
            effect_key(ShipmentEffect.COMPLETE, ref),
            ref,
            request,
            partial(self._complete, order_number, ref.key, shipped),
            look=partial(self._completed_in_centra, order_number, ref.key),
            after=lambda outcome: [
                policy.step(
                    ref, ShipmentState.COMPLETED, note=note, request=request, response=outcome
                ),
                *policy.finishing(ref, ShipmentState.COMPLETED),
            ],
        )
        if isinstance(completed, Park):
            return completed
        # Completed first, then marked: killed in between, the next pass still lists the
        # order and marks it (above); the other way round nothing would list it again.
        await ctx.wms.mark_lines_reported(shipped, _picked(shipped))
        ctx.events.processed(ctx.store_name, CONFIRMATION)
        if shipped.shipped_at is not None:
            age = (ctx.now() - shipped.shipped_at).total_seconds()
            ctx.events.lag(ctx.store_name, CONFIRMATION, age)
        _log.info("shipment completed", store=ctx.store_name, shipment=ref.key)
        return Outcome.MOVED

    async def _lower_quantities(self, ref: RecordRef, short: Mapping[str, int]) -> Json | Park:
        ctx = self.ctx
        policy = ctx.policy(CONFIRMATION)
        captured = await ctx.state.get_effect(effect_key(ShipmentEffect.CAPTURE, ref))
        if captured is not None and captured.status is EffectStatus.SUCCEEDED:
            return Park(
                ShipmentState.REFUSED,
                "short pick on a captured shipment: Centra refuses to lower quantities once "
                "captured; complete it by hand and refund the missing units with a return",
                {"picked": dict(short)},
            )
        lowered = policy.step(
            ref,
            ShipmentState.QUANTITIES_UPDATED,
            note="short pick: quantities lowered to what was picked",
            request={"quantities": dict(short)},
        )
        return await policy.effect(
            effect_key(ShipmentEffect.QUANTITIES, ref),
            ref,
            {"quantities": dict(short)},
            partial(self._update, ref.key, quantities=short),
            after=lambda _: [lowered],
        )

    async def _update(
        self,
        shipment: str,
        *,
        quantities: Mapping[str, int] | None = None,
        serial_numbers: Mapping[str, SerialNumber] | None = None,
    ) -> Json:
        await self.ctx.centra.update_shipment(
            shipment, quantities=quantities, serial_numbers=serial_numbers
        )
        return {"shipment": shipment, "updated": True}

    async def _complete(self, order_number: str, shipment: str, shipped: ShippedOrder) -> Json:
        tracking = shipped.tracking_numbers
        done = await self.ctx.centra.complete_shipment(
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
        order = await self.ctx.centra.get_order(order_number)
        for candidate in order.shipments:
            if candidate.shipment_id == shipment and candidate.shipped_date is not None:
                return {"order": order_number, "shipment": shipment, "found": "already completed"}
        return None


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
