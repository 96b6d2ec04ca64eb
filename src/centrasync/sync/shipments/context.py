"""What the three shipment flows of one store share: clients, settings, locks, capture."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from centrasync.config import StoreSettings
from centrasync.errors import CaptureDeclinedError
from centrasync.store.base import Json, LedgerRecord, Move, RecordKind, RecordRef, StateStore
from centrasync.wms.base import Warehouse

from ..lanes import KeyedLocks
from ..policy import Park, RecordPolicy
from ..ports import CentraShipments, FlowEvents, NullEvents, ShipmentLookup
from .ledger import (
    CAPTURE_DECLINED_REASON,
    LADDER,
    PARKED,
    ShipmentEffect,
    ShipmentState,
    effect_key,
    order_of_shipment_number,
)

__all__ = ["ShipmentContext"]


@dataclass
class ShipmentContext:
    """One store's shipment flows share these; each flow reads them when it acts.

    ``webhooks_since``: when set, a shipment first found by a poll or sweep and created
    after this moment (plus ``webhook_grace``) is counted as one a webhook should have
    announced. ``concurrency``: how many shipments a pass works on at once (see
    :mod:`..lanes`). ``integration``: the store's Integration API, when it has one, which
    turns a shipment webhook's internal id into that shipment.
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
    integration: ShipmentLookup | None = None
    locks: KeyedLocks = field(default_factory=KeyedLocks, init=False, repr=False)

    @property
    def store_name(self) -> str:
        return self.settings.name

    def ref(self, shipment_number: str) -> RecordRef:
        return RecordRef(self.store_name, RecordKind.SHIPMENT, shipment_number)

    def policy(self, flow: str) -> RecordPolicy:
        """The record-step policy of ``flow``, on the context as it is now."""
        return RecordPolicy(
            self.state,
            self.events,
            self.store_name,
            flow,
            PARKED,
            max_attempts=self.max_attempts,
            ladder=LADDER,
        )

    def lock(self, ref: RecordRef) -> AbstractAsyncContextManager[None]:
        """The shipment's own lock: the lanes of a pass, the webhook handler and the next
        pass may all meet on one shipment, and each re-reads it under the lock."""
        return self.locks.hold(ref.key)

    @asynccontextmanager
    async def locked(self, refs: Sequence[RecordRef]) -> AsyncIterator[None]:
        """Several shipments' locks, taken in key order so two callers never wait on each
        other."""
        if not refs:
            yield
            return
        first, *rest = sorted(set(refs), key=lambda ref: ref.key)
        async with self.lock(first), self.locked(rest):
            yield

    @staticmethod
    def centra_order(record: LedgerRecord) -> str:
        """The Centra order the shipment belongs to."""
        return record.centra_order or order_of_shipment_number(record.ref.key)

    async def capture(
        self, policy: RecordPolicy, ref: RecordRef, *, after: Sequence[Move] = ()
    ) -> Json | Park:
        """Capture the shipment's payment once; a decline parks it as possible fraud.

        ``after`` moves the record in the transaction that confirms the capture.
        """
        try:
            return await policy.effect(
                effect_key(ShipmentEffect.CAPTURE, ref),
                ref,
                {"capture": ref.key, "policy": self.settings.capture_policy.value},
                lambda: self._capture_call(ref.key),
                after=(lambda _: after) if after else None,
            )
        except CaptureDeclinedError as exc:
            return Park(
                ShipmentState.CAPTURE_DECLINED,
                CAPTURE_DECLINED_REASON,
                {"shipment": ref.key, "centra": exc.remote_message},
            )

    async def _capture_call(self, shipment: str) -> Json:
        done = await self.centra.capture_shipment(shipment)
        return {"order": done.order, "shipment": done.shipment, "captured": True}
