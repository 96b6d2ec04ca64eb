"""What ``centrasync preview shipment`` and the console's mapping preview do: find a Centra
shipment and map it with the engine's own mapper, sending nothing."""

from __future__ import annotations

from centrasync.centra import Shipment
from centrasync.config import StoreSettings
from centrasync.errors import NotFoundError
from centrasync.runtime import centra_client
from centrasync.store import Json
from centrasync.sync import (
    mapped_order_to_json,
    shipment_passes_filters,
    shipment_to_outbound_order,
)

__all__ = ["find_shipment", "preview_shipment"]


async def find_shipment(store: StoreSettings, number: str) -> Shipment:
    """Look for the shipment in every state, Good-to-Go first, as the pick flow would."""
    order = number.split("-", 1)[0] if "-" in number else None
    async with centra_client(store) as client:
        for status in ("goodtogo", "inprogress", "completed"):
            page = await client.list_shipments(status, order=order)
            for shipment in page:
                if shipment.shipment_id == number:
                    return shipment
            for rejected in page.rejected:
                if rejected.record == f"shipment {number}":
                    raise rejected
    raise NotFoundError(
        f"shipment {number!r} not found in store {store.name!r} "
        "(looked in good-to-go, in progress and completed)"
    )


async def preview_shipment(store: StoreSettings, number: str) -> dict[str, Json]:
    """The WMS order the shipment becomes, as JSON, and whether the store's
    ``shipment_filters`` let it through (``passes_filters``)."""
    shipment = await find_shipment(store, number)
    mapped = shipment_to_outbound_order(shipment, store)
    passes = shipment_passes_filters(shipment, store.shipment_filters)
    return {**mapped_order_to_json(mapped), "passes_filters": passes}
