"""What an Integration API webhook event names for analytics (no dlt here: the webhook
receiver imports it, and a web-only process never loads anything)."""

from __future__ import annotations

__all__ = ["WEBHOOK_RESOURCES", "analytics_object"]

# What each webhook type names: the order number, the shipment's and the return's internal
# id (centra-api.md §4.3, §6).
WEBHOOK_RESOURCES = {"order": "orders", "shipment": "shipments", "return": "returns"}


def analytics_object(event_type: str, object_id: str) -> tuple[str, int] | None:
    """The (resource, id) a webhook event names, or None for types analytics does not load
    and for an id that is no whole number (nothing could be re-read by it)."""
    resource = WEBHOOK_RESOURCES.get(event_type)
    if resource is None or not object_id.isdigit():
        return None
    return resource, int(object_id)
