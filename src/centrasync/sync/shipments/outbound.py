"""Outbound: Good-to-Go shipments become WMS orders, exactly once.

A shipment is taken when Centra lists it Good-to-Go: by the incremental poll, by the webhook
handler fetching one order's shipments, or by the sweep over the whole list. Under the store's
capture policy the payment is captured first (on import), then the WMS order is created. The
WMS order is an effect keyed by the shipment: a process killed after the warehouse accepted it
finds the effect in doubt and looks the order up by number before sending anything again,
because the warehouse refuses to replace an order it has started on.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import structlog

from centrasync.centra.models import Shipment
from centrasync.centra.results import Page
from centrasync.config import CapturePolicy
from centrasync.errors import DataError, RecordValidationError
from centrasync.logs import handover
from centrasync.store.base import Json, LedgerRecord, Move, NewRecord, RecordRef

from ..lanes import for_each
from ..mapping import mapped_order_to_json, shipment_passes_filters, shipment_to_outbound_order
from ..policy import Outcome, Park, Verdict
from .context import ShipmentContext
from .ledger import OUTBOUND, TAKEABLE, ShipmentEffect, ShipmentState, effect_key

__all__ = ["FIRST_SIGHT_CHUNK", "SHIPMENTS_CURSOR", "Outbound", "rejected_key"]

_log = structlog.get_logger(__name__)

SHIPMENTS_CURSOR = "shipments"
# New ledger rows opened per batch while a listing is taken: a batch is a few store calls,
# and one lane opens the next batch while the others work on what they hold.
FIRST_SIGHT_CHUNK = 50


@dataclass
class Outbound:
    """The outbound flow of one store."""

    ctx: ShipmentContext

    async def poll(self) -> int:
        """Take Good-to-Go shipments created since the last poll; returns how many moved.

        Incremental on the shipments' creation time: the cursor re-reads an overlap
        window (Centra filters on naive merchant times, and a shipment can become
        Good-to-Go some time after it was created) and the ledger drops repeats. A
        shipment flagged Good-to-Go long after its creation is the sweep's to find.
        """
        ctx = self.ctx
        cursor = await ctx.state.get_cursor(ctx.store_name, SHIPMENTS_CURSOR)
        newer = cursor.value - ctx.poll_overlap if cursor is not None else None
        page = await ctx.centra.list_shipments("goodtogo", newer_than=newer)
        taken = await self.take_page(page, source="poll")
        await self._advance(page)
        return taken

    async def take_page(self, page: Page[Shipment], *, source: str) -> int:
        """Take a listing's shipments; one read of their records sorts out the rest.

        Most of a Good-to-Go listing is already in the WMS (the sweep re-reads all of
        it), so only the shipments with no record or a takeable one go on to
        :meth:`take`, which reads the record again under the shipment's lock. An entry
        that did not parse is parked as invalid, naming its field.
        """
        ctx = self.ctx
        known = await ctx.state.get_records(
            [ctx.ref(rejected_key(rejected)) for rejected in page.rejected]
            + [ctx.ref(shipment.shipment_id) for shipment in page]
        )
        policy = ctx.policy(OUTBOUND)
        for rejected in page.rejected:
            ref = ctx.ref(rejected_key(rejected))
            found = known.get(ref)
            if found is None or found.state != ShipmentState.INVALID:
                await policy.park(ref, Park(ShipmentState.INVALID, str(rejected)))
        takeable = [
            shipment
            for shipment in page
            if (record := known.get(ctx.ref(shipment.shipment_id))) is None
            or record.state in TAKEABLE
        ]
        opened = self._opened_in_turn(takeable, known, source)
        return await for_each(opened, partial(self.take, source=source), limit=ctx.concurrency)

    async def take(self, shipment: Shipment, *, source: str) -> bool:
        """Bring one Good-to-Go shipment into the WMS; True if this call moved it on."""
        ctx = self.ctx
        ref = ctx.ref(shipment.shipment_id)
        async with ctx.lock(ref):
            record = await ctx.state.get_record(ref)
            if record is not None and record.state not in TAKEABLE:
                return False
            if record is None:
                await self._open_records([shipment], source)
            outcome = await ctx.policy(OUTBOUND).run(ref, partial(self.send, ref, shipment))
            return outcome is Outcome.MOVED

    async def send(self, ref: RecordRef, shipment: Shipment) -> Verdict:
        """Filters, capture on import, then the WMS order; the caller holds the lock."""
        ctx = self.ctx
        policy = ctx.policy(OUTBOUND)
        if not shipment_passes_filters(shipment, ctx.settings.shipment_filters):
            await policy.move(ref, ShipmentState.FILTERED, note="left out by filters")
            return Outcome.MOVED
        try:
            mapped = shipment_to_outbound_order(shipment, ctx.settings)
        except DataError as exc:
            return Park(ShipmentState.INVALID, str(exc), _shipment_json(shipment))
        if ctx.settings.capture_policy is CapturePolicy.ON_IMPORT and not shipment.paid:
            captured = policy.step(ref, ShipmentState.CAPTURED, note="captured on import")
            capture = await ctx.capture(policy, ref, after=[captured])
            if isinstance(capture, Park):
                return capture
        body = mapped_order_to_json(mapped)
        intent: dict[str, Json] = {
            "order": shipment.order_id,
            "shipment": shipment.shipment_id,
            "wms_order": body,
        }

        def sent(outcome: Json) -> list[Move]:
            return [
                NewRecord(ref, wms_id=_wms_id(outcome)),
                policy.step(
                    ref,
                    ShipmentState.SENT,
                    note="WMS order created",
                    request=body,
                    response=outcome,
                ),
            ]

        outcome = await policy.effect(
            effect_key(ShipmentEffect.WMS_ORDER, ref),
            ref,
            intent,
            partial(self._upsert_order, mapped.order, ref.key),
            look=partial(self._order_in_wms, mapped.order.order_number),
            after=sent,
        )
        if isinstance(outcome, Park):
            return outcome
        handover("ledger", store=ctx.store_name, shipment=ref.key)
        ctx.events.processed(ctx.store_name, OUTBOUND)
        if shipment.shipment_date is not None:
            age = (ctx.now() - shipment.shipment_date).total_seconds()
            ctx.events.lag(ctx.store_name, OUTBOUND, age)
        _log.info(
            "shipment sent to WMS", store=ctx.store_name, shipment=ref.key, wms_id=_wms_id(outcome)
        )
        return Outcome.MOVED

    async def _upsert_order(self, order: Any, shipment: str) -> Json:
        created = await self.ctx.wms.upsert_outbound_order(order)
        handover("wms", store=self.ctx.store_name, shipment=shipment)
        return {"number": created.number, "wms_id": created.wms_id}

    async def _order_in_wms(self, order_number: str) -> Json | None:
        found = await self.ctx.wms.find_outbound_order(order_number)
        if found is None:
            return None
        return {"number": found.number, "wms_id": found.wms_id, "found": "already in the WMS"}

    # -- first sight ---------------------------------------------------------------------

    async def _opened_in_turn(
        self,
        takeable: Sequence[Shipment],
        known: Mapping[RecordRef, LedgerRecord],
        source: str,
    ) -> AsyncGenerator[Shipment]:
        """The shipments to take, their new ledger rows opened ``FIRST_SIGHT_CHUNK`` at a time.

        Opening the rows of a whole listing first kept the lanes idle until every row was
        written (a round trip per statement on PostgreSQL; docs/performance.md).
        A shipment whose row is not opened yet when the engine dies is simply new on the
        next pass (the poll cursor stays behind it until it is taken).
        """
        ctx = self.ctx
        for start in range(0, len(takeable), FIRST_SIGHT_CHUNK):
            chunk = takeable[start : start + FIRST_SIGHT_CHUNK]
            await self._first_sight(
                [s for s in chunk if ctx.ref(s.shipment_id) not in known], source
            )
            for shipment in chunk:
                yield shipment

    async def _first_sight(self, shipments: Sequence[Shipment], source: str) -> None:
        """Open the ledger rows of a page's new shipments in three store calls, not two each.

        Under the shipments' locks, and read again under them: two webhooks for one order
        are handled side by side, and a row the other opened and moved on meanwhile must
        not go back to new.
        """
        ctx = self.ctx
        unique = {s.shipment_id: s for s in shipments}
        if not unique:
            return
        refs = [ctx.ref(key) for key in unique]
        async with ctx.locked(refs):
            existing = await ctx.state.get_records(refs)
            await self._open_records(
                [s for key, s in unique.items() if ctx.ref(key) not in existing], source
            )

    async def _open_records(self, shipments: Sequence[Shipment], source: str) -> None:
        """Ledger rows in state new, with their Centra order; the caller holds the locks."""
        if not shipments:
            return
        ctx = self.ctx
        refs = [ctx.ref(shipment.shipment_id) for shipment in shipments]
        await ctx.state.upsert_records(
            [
                NewRecord(ref, centra_id=ref.key, centra_order=shipment.order_id or None)
                for ref, shipment in zip(refs, shipments, strict=True)
            ]
        )
        await ctx.state.transition_records(
            [
                ctx.policy(OUTBOUND).step(
                    ref, ShipmentState.NEW, note=f"seen by {source}", response=_shipment_json(s)
                )
                for ref, s in zip(refs, shipments, strict=True)
            ]
        )
        for ref, shipment in zip(refs, shipments, strict=True):
            if source != "webhook" and self._webhook_missed(shipment.shipment_date):
                ctx.events.recovered(ctx.store_name, OUTBOUND)
                _log.warning(
                    "webhook missed", store=ctx.store_name, shipment=ref.key, found_by=source
                )

    def _webhook_missed(self, created: datetime | None) -> bool:
        since = self.ctx.webhooks_since
        return (
            since is not None
            and created is not None
            and created > since
            and self.ctx.now() - created > self.ctx.webhook_grace
        )

    async def _advance(self, page: Page[Shipment]) -> None:
        """Move the poll cursor up to, not past, the oldest shipment still waiting."""
        ctx = self.ctx
        dated = [s for s in page if s.shipment_date is not None]
        if not dated:
            return
        records = await ctx.state.get_records(ctx.ref(s.shipment_id) for s in dated)
        waiting = []
        for shipment in dated:
            record = records.get(ctx.ref(shipment.shipment_id))
            if record is None or record.state in TAKEABLE:
                waiting.append(shipment)
        if waiting:
            value = min(_created(s) for s in waiting)
            await ctx.state.advance_cursor(ctx.store_name, SHIPMENTS_CURSOR, value)
            return
        value = max(_created(s) for s in dated)
        boundary = [s.shipment_id for s in dated if _created(s) == value]
        await ctx.state.advance_cursor(ctx.store_name, SHIPMENTS_CURSOR, value, boundary)


def rejected_key(rejected: RecordValidationError) -> str:
    """The shipment number an unparseable listing entry was listed under."""
    return rejected.record.removeprefix("shipment ").strip() or "unknown"


def _wms_id(outcome: Json) -> str | None:
    return str(outcome.get("wms_id")) if isinstance(outcome, dict) else None


def _created(shipment: Shipment) -> datetime:
    assert shipment.shipment_date is not None, "callers pass dated shipments only"
    return shipment.shipment_date


def _shipment_json(shipment: Shipment) -> Json:
    dumped: Json = shipment.model_dump(mode="json", by_alias=True)
    return dumped
