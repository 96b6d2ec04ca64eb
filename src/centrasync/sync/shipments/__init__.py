"""The shipment flows of one store: outbound, confirmation and cancellation, exactly once.

Every remote write is an *effect* keyed by the store and the Centra shipment number and
recorded in the state store before the call and confirmed after it. The engine may be
killed between any two lines of these flows; on restart the same key finds the effect in
one of three states and acts accordingly:

* confirmed: skip the call (a WMS order is never created twice, a shipment never
  completed twice);
* failed for certain: call again;
* pending, i.e. the outcome is unknown: for idempotent calls (Centra capture, absolute
  quantity updates) call again; where a repeat can fail or do harm, look first: the WMS
  refuses to replace an order it has started on, and completing a shipment emails the
  customer.

The ledger row of each shipment tells an operator where it stands (see
:class:`ShipmentState`); a record that needs a person is parked with the reason. Each flow
runs its records through the one record-step policy (:mod:`centrasync.sync.policy`).
"""

from __future__ import annotations

from .cancellation import CANCEL_TOO_LATE_REASON, Cancellation
from .confirmation import Confirmation
from .context import ShipmentContext
from .flows import ShipmentFlows
from .ledger import (
    CANCELLATION,
    CAPTURE_DECLINED_REASON,
    CONFIRMATION,
    OUTBOUND,
    PARKED_STATES,
    ShipmentEffect,
    ShipmentState,
    effect_key,
    flow_backlog,
)
from .outbound import FIRST_SIGHT_CHUNK, SHIPMENTS_CURSOR, Outbound

__all__ = [
    "CANCELLATION",
    "CANCEL_TOO_LATE_REASON",
    "CAPTURE_DECLINED_REASON",
    "CONFIRMATION",
    "FIRST_SIGHT_CHUNK",
    "OUTBOUND",
    "PARKED_STATES",
    "SHIPMENTS_CURSOR",
    "Cancellation",
    "Confirmation",
    "Outbound",
    "ShipmentContext",
    "ShipmentEffect",
    "ShipmentFlows",
    "ShipmentState",
    "effect_key",
    "flow_backlog",
]
