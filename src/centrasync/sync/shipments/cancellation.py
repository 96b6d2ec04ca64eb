"""Cancellation: a shipment cancelled in Centra is cancelled in the WMS, or a person is told.

Centra announces no cancellation: a cancelled shipment simply stops being listed Good-to-Go.
So every open shipment of ours that the listing no longer shows is checked against its
order; one Centra no longer has is cancelled in the WMS if the WMS got it (an effect like any
other, at most once and with the attempt limit), or parked ``cancel_too_late`` when picking
has begun there: someone must stop the parcel.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from functools import partial

import structlog

from centrasync.errors import GiveUpError
from centrasync.store.base import Json, RecordKind, RecordRef, records_in
from centrasync.wms.models import CancelOutcome

from ..lanes import for_each
from ..policy import Outcome, Park, Verdict
from .context import ShipmentContext
from .ledger import CANCELLATION, OPEN, ShipmentEffect, ShipmentState, effect_key

__all__ = ["CANCEL_TOO_LATE_REASON", "Cancellation"]

_log = structlog.get_logger(__name__)

CANCEL_TOO_LATE_REASON = (
    "cancelled in Centra after picking began in the WMS: stop the parcel by hand, then "
    "'centrasync retry' this record"
)


class _TooLate(GiveUpError):
    """The WMS had begun picking: the cancellation did not happen there."""


@dataclass
class Cancellation:
    """The cancellation flow of one store."""

    ctx: ShipmentContext

    async def run(self) -> int:
        """The scheduled pass: check every open shipment Centra no longer lists Good-to-Go."""
        page = await self.ctx.centra.list_shipments("goodtogo")
        listed = {shipment.shipment_id for shipment in page}
        return await self.reconcile(exclude=listed)

    async def reconcile(self, *, exclude: Iterable[str] = (), key_prefix: str | None = None) -> int:
        """Check open shipments missing from Centra's Good-to-Go list; returns cancelled.

        A shipment still Good-to-Go is not cancelled, so only the others cost a call.
        ``key_prefix`` keeps to one order's shipments. The ledger is read page by page in
        the database, however many shipments it holds.
        """
        missing = self._open_except(set(exclude), key_prefix)
        return await for_each(missing, self._cancel_one, limit=self.ctx.concurrency)

    async def _open_except(
        self, skip: set[str], key_prefix: str | None
    ) -> AsyncIterator[RecordRef]:
        ctx = self.ctx
        opened = records_in(
            ctx.state, ctx.store_name, RecordKind.SHIPMENT, OPEN, key_prefix=key_prefix
        )
        async for record in opened:
            if record.ref.key not in skip:
                yield record.ref

    async def _cancel_one(self, ref: RecordRef) -> bool:
        async with self.ctx.lock(ref):
            outcome = await self.ctx.policy(CANCELLATION).run(ref, partial(self.check, ref))
            return outcome is Outcome.MOVED

    async def check(self, ref: RecordRef) -> Verdict:
        """Cancel the shipment here if Centra no longer has it; the caller holds its lock.

        :attr:`Outcome.UNCHANGED` when Centra still has it (or it is not open).
        """
        ctx = self.ctx
        record = await ctx.state.get_record(ref)
        if record is None or record.state not in OPEN:
            return Outcome.UNCHANGED
        order_number = ctx.centra_order(record)
        order = await ctx.centra.get_order(order_number)
        if any(s.shipment_id == ref.key for s in order.shipments):
            return Outcome.UNCHANGED
        policy = ctx.policy(CANCELLATION)
        if await ctx.state.get_effect(effect_key(ShipmentEffect.WMS_ORDER, ref)) is None:
            await policy.move(
                ref,
                ShipmentState.CANCELLED,
                note="cancelled in Centra before reaching the WMS",
                finished=True,
            )
            ctx.events.processed(ctx.store_name, CANCELLATION)
            return Outcome.MOVED
        cancelled = policy.step(
            ref, ShipmentState.CANCELLED, note="cancelled in Centra; WMS order cancelled"
        )
        try:
            outcome = await policy.effect(
                effect_key(ShipmentEffect.CANCEL, ref),
                ref,
                {"cancel": ref.key},
                partial(self._cancel_in_wms, ref.key),
                after=lambda _: [cancelled, *policy.finishing(ref, ShipmentState.CANCELLED)],
            )
        except _TooLate:
            return Park(
                ShipmentState.CANCEL_TOO_LATE,
                CANCEL_TOO_LATE_REASON,
                {"order": order_number, "shipment": ref.key},
            )
        if isinstance(outcome, Park):
            return outcome
        ctx.events.processed(ctx.store_name, CANCELLATION)
        _log.info("shipment cancelled", store=ctx.store_name, shipment=ref.key)
        return Outcome.MOVED

    async def _cancel_in_wms(self, order_number: str) -> Json:
        result = await self.ctx.wms.cancel_outbound_order(order_number)
        if result is CancelOutcome.TOO_LATE:
            raise _TooLate("picking had begun", system="wms")
        return {"wms": result.value}
