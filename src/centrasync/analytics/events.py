"""Near real time from Centra's events queue: re-read only what changed, then confirm.

The store's integration listens to ``Order``, ``Shipment``, ``Return``, ``PurchaseOrder``,
``PurchaseOrderDelivery`` and ``Product`` (:func:`listen`, idempotent). :func:`events_pass`
reads the oldest unconfirmed events, re-reads those objects (orders by number, the others by id),
merges them through the same dlt source (:class:`~.source.Targets`: no cursor moves, so a
change the polling has not loaded yet is never skipped), and only then confirms every
event it read, the ones it had nothing to load for included. A crash between the load and
the confirmation delivers the events again; the merge makes the second load harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from centrasync.centra.integration.client import IntegrationApiClient
from centrasync.centra.integration.models import Event
from centrasync.config import AnalyticsSettings

from .rows import Row
from .source import Targets, sync_store

__all__ = ["KINDS", "LISTENED", "EventsPass", "events_pass", "listen", "targets_of"]

LISTENED: dict[str, Sequence[str] | None] = {
    "Order": None,
    "Shipment": None,
    "Return": None,
    "PurchaseOrder": None,
    "PurchaseOrderDelivery": None,
    "Product": None,
}
# Each event type's table; the reference is the order number for orders, the id otherwise.
KINDS = {
    "Order": "orders",
    "Shipment": "shipments",
    "Return": "returns",
    "PurchaseOrder": "purchase_orders",
    "PurchaseOrderDelivery": "in_deliveries",
    "Product": "products",
}


@dataclass
class EventsPass:
    """Events read and confirmed, and rows re-read per resource."""

    read: int = 0
    confirmed: int = 0
    loaded: dict[str, int] = field(default_factory=dict)


def targets_of(events: Sequence[Event]) -> Targets:
    """The objects the events name, by resource; other object types are left out. A
    ``DELETED`` object (Centra sends ``object: null``) is removed, not re-read; an object
    changed again after its deletion event in the same batch is re-read (events come
    oldest first)."""
    found: dict[str, set[int]] = {}
    gone: dict[str, set[int]] = {}
    for event in events:
        resource = KINDS.get(event.object_type)
        if resource is None:
            continue
        ref = event.object_reference
        if event.change_type == "DELETED":
            gone.setdefault(resource, set()).add(ref)
            found.get(resource, set()).discard(ref)
        else:
            found.setdefault(resource, set()).add(ref)
            gone.get(resource, set()).discard(ref)
    return Targets(
        {name: frozenset(refs) for name, refs in found.items() if refs},
        {name: frozenset(refs) for name, refs in gone.items() if refs},
    )


async def listen(client: IntegrationApiClient) -> None:
    await client.set_event_listeners(LISTENED)


async def events_pass(
    store: str,
    client: IntegrationApiClient,
    settings: AnalyticsSettings,
    *,
    base: Path,
    limit: int = 200,
    observe: Callable[[str, Sequence[Row]], None] = lambda resource, rows: None,
) -> EventsPass:
    """Drain the queue: load what each batch names, then confirm the whole batch."""
    result = EventsPass()
    while True:
        events = await client.events(limit=limit)
        if not events:
            return result
        targets = targets_of(events)
        if targets.by_resource or targets.gone:
            loaded = await sync_store(
                store, client, settings, base=base, targets=targets, observe=observe
            )
            for name, rows in loaded.read.items():
                result.loaded[name] = result.loaded.get(name, 0) + rows
        confirmed = await client.confirm_events([event.id for event in events])
        result.read += len(events)
        result.confirmed += len(confirmed.value)
        if len(events) < limit:
            return result
