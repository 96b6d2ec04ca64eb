"""What the shipment flows write down: a shipment's states, its effects' keys, its backlog."""

from __future__ import annotations

from enum import StrEnum

from centrasync.store.base import LedgerStore, RecordKind, RecordRef

from ..policy import Ladder, ParkedStates

__all__ = [
    "CANCELLATION",
    "CAPTURE_DECLINED_REASON",
    "CONFIRMABLE",
    "CONFIRMATION",
    "LADDER",
    "OPEN",
    "OUTBOUND",
    "PARKED",
    "PARKED_STATES",
    "TAKEABLE",
    "ShipmentEffect",
    "ShipmentState",
    "effect_key",
    "flow_backlog",
    "order_of_shipment_number",
]

OUTBOUND = "outbound"
CONFIRMATION = "confirmation"
CANCELLATION = "cancellation"

CAPTURE_DECLINED_REASON = "capture declined: possible fraud"


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
PARKED = ParkedStates(
    invalid=ShipmentState.INVALID, refused=ShipmentState.REFUSED, failed=ShipmentState.FAILED
)
TAKEABLE = frozenset({ShipmentState.NEW, ShipmentState.RETRY, ShipmentState.CAPTURED})
"""States the outbound flow takes a shipment in."""
CONFIRMABLE = frozenset({ShipmentState.SENT, ShipmentState.QUANTITIES_UPDATED, ShipmentState.RETRY})
"""States in which what the warehouse shipped is reported to Centra."""
OPEN = TAKEABLE | CONFIRMABLE | {ShipmentState.CAPTURE_DECLINED}
"""States in which a cancellation in Centra still concerns us."""

LADDER = Ladder.of(
    (ShipmentState.NEW, ShipmentState.RETRY),
    (ShipmentState.CAPTURED,),
    (ShipmentState.SENT,),
    (ShipmentState.QUANTITIES_UPDATED,),
    (ShipmentState.COMPLETED, ShipmentState.CANCELLED, ShipmentState.FILTERED, *PARKED_STATES),
)
"""A late answer never moves a shipment back (say, to sent after it was completed); only a
person's retry takes one off the top rung."""


class ShipmentEffect(StrEnum):
    """The remote writes made for a shipment, each at most once."""

    WMS_ORDER = "wms-order"
    CAPTURE = "capture"
    QUANTITIES = "quantities"
    SERIALS = "serials"
    COMPLETE = "complete"
    CANCEL = "cancel"


def effect_key(effect: ShipmentEffect, ref: RecordRef) -> str:
    """The idempotency key of ``effect`` for the shipment ``ref``."""
    return f"{effect.value}/{ref}"


def order_of_shipment_number(shipment: str) -> str:
    """The Centra order of a shipment known only by its number.

    Centra numbers shipments ``<order>-<n>`` ("83651-1"). The ledger keeps each shipment's
    order from when it was first seen; only a shipment parked before it could be read (its
    listing entry did not parse) has no order recorded, and this is how it is found.
    """
    return shipment.rsplit("-", 1)[0]


async def flow_backlog(state: LedgerStore, store: str) -> dict[str, int]:
    """Shipments waiting per flow, counted by the database in the waiting states alone."""
    counts = await state.count_records(store, RecordKind.SHIPMENT, states=TAKEABLE | CONFIRMABLE)
    return {
        OUTBOUND: sum(counts.get(state, 0) for state in TAKEABLE),
        CONFIRMATION: sum(counts.get(state, 0) for state in CONFIRMABLE - TAKEABLE),
    }
