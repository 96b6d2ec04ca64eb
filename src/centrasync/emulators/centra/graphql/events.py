"""The Integration API's events queue: listeners per integration name, oldest first, confirm.

Every change the world announces (the same feed the webhook sender reads) is offered to
each integration's listeners; a matching one queues an event that ``events`` returns until
it is confirmed. Unsetting a listener deletes its queued events, as Centra documents.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from centrasync.emulators.centra.model import Event

__all__ = ["OBJECT_TYPES", "EventQueue", "Listener", "QueuedEvent"]

# The world's event types that have an EventObjectType; check-first offers and allocation
# requests reach integrations only by webhook.
OBJECT_TYPES = {
    "order": "Order",
    "shipment": "Shipment",
    "return": "Return",
    "purchase_order": "PurchaseOrder",
    "purchase_order_delivery": "PurchaseOrderDelivery",
    "stock_change": "StockChange",
    "product": "Product",
}


@dataclass(frozen=True)
class QueuedEvent:
    id: int
    object_type: str
    change_type: str
    reference: int
    at: datetime
    store_uri: str | None


@dataclass
class Listener:
    integration_name: str
    object_type: str
    # None: every change type ("subscribe to all").
    change_types: frozenset[str] | None
    created_at: datetime
    updated_at: datetime

    def wants(self, change_type: str) -> bool:
        return self.change_types is None or change_type in self.change_types


class EventQueue:
    """Queues per integration name, fed by the world's change announcements."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._ids = itertools.count(1)
        self.clear()

    def clear(self) -> None:
        self._listeners: dict[str, dict[str, Listener]] = {}
        self._queues: dict[str, list[QueuedEvent]] = {}

    def listen(self, event: Event) -> None:
        """World listener: queue the change for every integration that listens for it."""
        object_type = OBJECT_TYPES.get(event.type)
        if object_type is None:
            return
        for integration, listeners in self._listeners.items():
            listener = listeners.get(object_type)
            if listener is not None and listener.wants(event.change):
                self._queues.setdefault(integration, []).append(
                    QueuedEvent(
                        id=next(self._ids),
                        object_type=object_type,
                        change_type=event.change,
                        reference=event.id,
                        at=event.at,
                        store_uri=event.store_uri,
                    )
                )

    def listeners(self, integration: str) -> list[Listener]:
        return list(self._listeners.get(integration, {}).values())

    def set_listeners(
        self, integration: str, wanted: Iterable[tuple[str, frozenset[str] | None]]
    ) -> list[Listener]:
        """Add listeners; a repeated object type merges its change types (None = all)."""
        now = self._clock()
        listeners = self._listeners.setdefault(integration, {})
        for object_type, change_types in wanted:
            current = listeners.get(object_type)
            if current is None:
                listeners[object_type] = Listener(integration, object_type, change_types, now, now)
                continue
            if current.change_types is None or change_types is None:
                current.change_types = None
            else:
                current.change_types = current.change_types | change_types
            current.updated_at = now
        return self.listeners(integration)

    def unset_listeners(
        self, integration: str, unwanted: Iterable[tuple[str, frozenset[str] | None]]
    ) -> list[Listener]:
        """Remove listeners (or some of their change types) and delete what they queued."""
        now = self._clock()
        listeners = self._listeners.get(integration, {})
        dropped: list[tuple[str, frozenset[str] | None]] = []
        for object_type, change_types in unwanted:
            current = listeners.get(object_type)
            if current is None:
                continue
            dropped.append((object_type, change_types))
            if change_types is None:
                del listeners[object_type]
                continue
            if current.change_types is None:
                # [I] Narrowing "all" keeps every documented change type but the removed ones.
                current.change_types = frozenset(_CHANGE_TYPES) - change_types
            else:
                current.change_types = current.change_types - change_types
            current.updated_at = now
            if not current.change_types:
                del listeners[object_type]
        queue = self._queues.get(integration, [])
        self._queues[integration] = [
            queued
            for queued in queue
            if not any(
                queued.object_type == object_type
                and (change_types is None or queued.change_type in change_types)
                for object_type, change_types in dropped
            )
        ]
        return self.listeners(integration)

    def pending(self, integration: str) -> list[QueuedEvent]:
        """Unconfirmed events, oldest first."""
        return list(self._queues.get(integration, []))

    def confirm(self, integration: str, event_ids: Iterable[int]) -> list[QueuedEvent]:
        """Remove the given events; the ones that were queued come back."""
        wanted = set(event_ids)
        queue = self._queues.get(integration, [])
        confirmed = [queued for queued in queue if queued.id in wanted]
        self._queues[integration] = [queued for queued in queue if queued.id not in wanted]
        return confirmed


_CHANGE_TYPES = ("CREATED", "UPDATED", "DELETED", "COMPLETED", "DEPENDENT_DATA_CHANGED")
