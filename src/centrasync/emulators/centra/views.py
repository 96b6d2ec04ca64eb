"""Full object views for the control API: every field, aware ISO-8601 UTC times.

Unlike the Order API's shapes these are for tests and people reading back state, so they
show internal ids next to human numbers and nothing is converted to merchant time.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from .model import Order, Shipment, Store, SupplierDelivery, Warehouse, WriteRecord
from .world import World

__all__ = [
    "delivery_view",
    "order_view",
    "shipment_view",
    "store_view",
    "warehouse_view",
    "write_view",
]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def store_view(store: Store) -> dict[str, Any]:
    return {
        "uri": store.uri,
        "name": store.name,
        "timezone": store.timezone,
        "currency": store.currency,
        "bundles_in_shipments": store.bundles_in_shipments,
        "bundles_in_orders": store.bundles_in_orders,
        "primary_warehouse_id": store.primary_warehouse_id,
        "supplier_delivery_warehouse_id": store.supplier_delivery_warehouse_id,
        "allowed_endpoints": (
            None if store.allowed_endpoints is None else sorted(store.allowed_endpoints)
        ),
    }


def warehouse_view(warehouse: Warehouse) -> dict[str, Any]:
    return {
        "id": warehouse.id,
        "name": warehouse.name,
        "allocation_policy": warehouse.allocation_policy,
    }


def shipment_view(world: World, shipment: Shipment) -> dict[str, Any]:
    order = world.orders[shipment.order_number]
    lines = []
    for sl in shipment.lines:
        line = world.line(order, sl.order_line_id)
        ref = world.sizes[line.size_id] if line else None
        lines.append(
            {
                "shipment_line_id": sl.id,
                "line_id": sl.order_line_id,
                "qty": sl.qty,
                "serial_numbers": list(sl.serial_numbers),
                "sku": ref.physical_sku if ref else None,
                "ean": ref.size.ean if ref else None,
            }
        )
    return {
        "id": shipment.id,
        "number": shipment.number,
        "order": shipment.order_number,
        "store": order.store_uri,
        "created_at": _iso(shipment.created_at),
        "gtg": shipment.gtg,
        "paid": shipment.paid,
        "captured": shipment.captured,
        "should_capture": shipment.should_capture,
        "shipped": shipment.shipped,
        "shipped_at": _iso(shipment.shipped_at),
        "cancelled": shipment.cancelled,
        "capture_declines": shipment.capture_declines or order.capture_declines,
        "carrier": shipment.carrier,
        "service": shipment.service,
        "packages": shipment.packages,
        "tracking": shipment.tracking,
        "return_slip_tracking": shipment.return_slip_tracking,
        "send_email": shipment.send_email,
        "internal_comment": shipment.internal_comment,
        "lines": lines,
    }


def order_view(world: World, order: Order) -> dict[str, Any]:
    lines = []
    for line in order.lines:
        ref = world.sizes[line.size_id]
        lines.append(
            {
                "line_id": line.id,
                "size_id": line.size_id,
                "sku": ref.physical_sku,
                "ean": ref.size.ean,
                "qty": line.qty,
                "cancelled_qty": line.cancelled_qty,
                # A bundle's own line is never shipped: its items are.
                "unshipped_qty": None if line.is_bundle else world.unshipped(order, line),
                "is_bundle": line.is_bundle,
                "bundle_line_id": line.bundle_line_id,
                "price": line.price,
                "warehouse_id": line.warehouse_id,
            }
        )
    return {
        "number": order.number,
        "selection_id": order.selection_id,
        "store": order.store_uri,
        "status": order.status.name.lower(),
        "created_at": _iso(order.created_at),
        "customer_id": order.customer_id,
        "account_id": order.account_id,
        "account_name": order.account_name,
        "currency": order.currency,
        "billing": asdict(order.billing),
        "delivery": asdict(order.delivery),
        "shipping_list": order.shipping_list,
        "other_comment": order.other_comment,
        "po_number": order.po_number,
        "shipwallet": dict(order.shipwallet),
        "capture_declines": order.capture_declines,
        "allocated": order.allocated,
        "internal_comment": order.internal_comment,
        "extra_attributes": dict(order.extra_attributes),
        "check_first": [
            {"warehouse_id": o.warehouse_id, "status": o.status, "expires_at": _iso(o.expires_at)}
            for o in world.check_first_offers.values()
            if o.order_number == order.number
        ],
        "allocation_requests": [
            {"id": r.id, "warehouse_id": r.warehouse_id, "status": r.status}
            for r in world.allocation_requests.values()
            if r.order_number == order.number
        ],
        "lines": lines,
        "shipments": [shipment_view(world, s) for s in world.order_shipments(order.number)],
    }


def delivery_view(world: World, delivery: SupplierDelivery) -> dict[str, Any]:
    def by_ean(quantities: dict[int, int]) -> dict[str, int]:
        return {world.sizes[k].size.ean: v for k, v in quantities.items()}

    return {
        "id": delivery.id,
        "deliveryId": delivery.number,
        "order_id": delivery.order_id,
        "quantities": by_ean(delivery.quantities),
        "accepted_at": _iso(delivery.accepted_at),
        "accepted": by_ean(delivery.accepted),
    }


def write_view(record: WriteRecord) -> dict[str, Any]:
    return {"kind": record.kind, "at": _iso(record.at), "store": record.store_uri, **record.data}
