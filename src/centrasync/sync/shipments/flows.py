"""The shipment flows of one store together: what the worker schedules, and retries.

Outbound, confirmation and cancellation each live in a module of their own; this is where
they meet: the sweep (take what was missed, check what vanished), a webhook about an order,
and the re-drive of records a person sent to ``retry``, which picks each up wherever its
effects stand.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from functools import partial

from centrasync.centra.models import Shipment
from centrasync.centra.results import Page
from centrasync.logs import handover
from centrasync.store.base import EffectStatus, RecordKind, RecordRef, records_in

from ..lanes import for_each
from ..policy import Outcome, Verdict
from ..ports import IntegrationShipment
from .cancellation import Cancellation
from .confirmation import Confirmation
from .context import ShipmentContext
from .ledger import OUTBOUND, ShipmentEffect, ShipmentState, effect_key, order_of_shipment_number
from .outbound import Outbound, rejected_key

__all__ = ["ShipmentFlows"]


@dataclass
class ShipmentFlows(ShipmentContext):
    """Outbound, confirmation and cancellation for one store, on one shared context."""

    outbound: Outbound = field(init=False, repr=False)
    confirmation: Confirmation = field(init=False, repr=False)
    cancellation: Cancellation = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.outbound = Outbound(self)
        self.cancellation = Cancellation(self)
        self.confirmation = Confirmation(self, self.cancellation)

    async def poll_outbound(self) -> int:
        return await self.outbound.poll()

    async def confirm_shipped(self) -> int:
        return await self.confirmation.run()

    async def cancellations(self) -> int:
        return await self.cancellation.run()

    async def sweep(self) -> int:
        """Re-read the whole Good-to-Go list: take what was missed, check what vanished.

        A cancelled shipment simply stops being listed, so open shipments missing from
        the list go to the cancellation check.
        """
        page = await self.centra.list_shipments("goodtogo")
        taken = await self.outbound.take_page(page, source="sweep")
        listed = {s.shipment_id for s in page} | {rejected_key(r) for r in page.rejected}
        await self.cancellation.reconcile(exclude=listed)
        return taken

    async def on_order_event(self, order_number: str) -> None:
        """A webhook said the order changed: fetch its shipments at once."""
        page = await self.centra.list_shipments("goodtogo", order=order_number)
        await self._take_announced(f"order:{order_number}", page)
        listed = {s.shipment_id for s in page}
        await self.cancellation.reconcile(exclude=listed, key_prefix=f"{order_number}-")

    async def resolve_shipments(self, ids: Sequence[int]) -> dict[int, IntegrationShipment]:
        """The shipments behind webhook events' internal ids, in one Integration API query;
        an id Centra does not know (a deleted shipment) is left out."""
        if self.integration is None:
            raise RuntimeError("no Integration API configured for this store")
        found = await self.integration.shipments({"id": list(ids)}, limit=max(1, len(ids)))
        return {shipment.id: shipment for shipment in found}

    async def on_shipment_event(self, shipment: IntegrationShipment) -> None:
        """A webhook said this shipment changed: if it is Good-to-Go and not shipped, take
        it now, read through the Order API as every pass reads shipments (its lines,
        addresses and prices are what the WMS order is made of)."""
        if not shipment.is_good_to_go or shipment.is_shipped:
            return
        order_number = order_of_shipment_number(shipment.number)
        listed = await self.centra.list_shipments("goodtogo", order=order_number)
        page = Page(
            tuple(s for s in listed if s.shipment_id == shipment.number),
            tuple(r for r in listed.rejected if rejected_key(r) == shipment.number),
        )
        await self._take_announced(f"shipment:{shipment.id}", page)

    async def _take_announced(self, subject: str, page: Page[Shipment]) -> None:
        """Take what a webhook's Centra read found; the read is a hand-over of the trace."""
        shipments = [s.shipment_id for s in page]
        handover("centra", store=self.store_name, subject=subject, shipments=shipments)
        await self.outbound.take_page(page, source="webhook")

    # -- retries requested by a person -----------------------------------------------------

    async def redrive_retries(self) -> int:
        """Move every record a person sent to ``retry`` on from where its effects stand."""
        return await for_each(self._retried(), self._redrive_one, limit=self.concurrency)

    async def _retried(self) -> AsyncIterator[RecordRef]:
        retried = records_in(
            self.state, self.store_name, RecordKind.SHIPMENT, {ShipmentState.RETRY}
        )
        async for record in retried:
            yield record.ref

    async def _redrive_one(self, ref: RecordRef) -> bool:
        async with self.lock(ref):
            outcome = await self.policy(OUTBOUND).run(ref, partial(self._redrive, ref))
            return outcome is Outcome.MOVED

    async def _redrive(self, ref: RecordRef) -> Verdict:
        record = await self.state.get_record(ref)
        if record is None or record.state != ShipmentState.RETRY:
            return Outcome.UNCHANGED
        order_number = self.centra_order(record)
        policy = self.policy(OUTBOUND)
        sent = await self.state.get_effect(effect_key(ShipmentEffect.WMS_ORDER, ref))
        if sent is not None and sent.status is EffectStatus.SUCCEEDED:
            order = await self.centra.get_order(order_number)
            if not any(s.shipment_id == ref.key for s in order.shipments):
                return await self.cancellation.check(ref)
            # In the WMS and alive in Centra: the confirmation pass takes it from here
            # (a capture declined on completion is tried again there).
            await policy.move(ref, ShipmentState.SENT, note="retry: waiting for the WMS to ship")
            return Outcome.MOVED
        page = await self.centra.list_shipments("goodtogo", order=order_number)
        for shipment in page:
            if shipment.shipment_id == ref.key:
                return await self.outbound.send(ref, shipment)
        cancelled = await self.cancellation.check(ref)
        if cancelled is not Outcome.UNCHANGED:
            return cancelled
        await policy.move(
            ref, ShipmentState.NEW, note="retry: waiting for Centra to list it Good-to-Go"
        )
        return Outcome.MOVED
