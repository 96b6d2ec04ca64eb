"""Order API routes for shipments: list, create, update, complete, capture, delete.

Handlers are thin: parse Centra's loose input, call the world, shape the documented JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request

from .api_common import (
    StoreGuard,
    api_router,
    as_bool,
    as_int,
    in_window,
    json_body,
    line_quantities,
    ok,
    query_int,
    query_time,
)
from .model import Shipment, Store
from .state import Refusal
from .wire import shipment_node
from .world import Completion, LineChange, World

__all__ = ["shipment_router"]

_LIST_CAP = 100

_SELECTORS: dict[str, Callable[[Shipment], bool]] = {
    "goodtogo": lambda s: s.gtg and not s.shipped,
    # [I] Undocumented: created but not yet good to go, and not shipped.
    "inprogress": lambda s: not s.gtg and not s.shipped,
    "completed": lambda s: s.shipped,
}


def _base(request: Request, store: Store) -> str:
    return f"{str(request.base_url).rstrip('/')}/api/{store.uri}"


def _completion(body: dict[str, Any]) -> Completion:
    return Completion(
        carrier=str(body.get("carrier") or ""),
        service=str(body.get("service") or ""),
        packages=as_int(body.get("packages") or 0, "packages"),
        tracking=str(body.get("tracking") or ""),
        return_slip_tracking=str(body.get("returnSlipTracking") or ""),
        send_email=None if body.get("sendEmail") is None else as_bool(body["sendEmail"], False),
        internal_comment=str(body.get("internalComment") or ""),
    )


def select_shipments(world: World, request: Request, store: Store) -> list[Shipment]:
    """The status selector, filters and paging of ``GET /shipments``."""
    status = request.query_params.get("status", "goodtogo")
    select = _SELECTORS.get(status)
    if select is None:
        raise Refusal("status must be goodtogo, inprogress or completed")  # [I]
    # [I] No bound is documented for goodtogo, so all are returned unless limited.
    default_limit = None if status == "goodtogo" else _LIST_CAP
    limit = query_int(request, "limit", default_limit)
    if limit is not None and status != "goodtogo" and not 1 <= limit <= _LIST_CAP:
        raise Refusal("limit must be between 1 and 100")  # [I]
    offset = query_int(request, "offset", 0) or 0
    order_filter = query_int(request, "order", None)
    customer = query_int(request, "customer_id", None)
    newer = query_time(request, "newer_than", store)
    older = query_time(request, "older_than", store)
    found: list[Shipment] = []
    candidates = (
        world.shipments.values() if order_filter is None else world.order_shipments(order_filter)
    )
    for shipment in candidates:
        order = world.orders[shipment.order_number]
        if (
            order.store_uri == store.uri
            and not shipment.cancelled
            and select(shipment)
            and order_filter in (None, order.number)
            and customer in (None, order.customer_id)
            and in_window(shipment.created_at, newer, older)
        ):
            found.append(shipment)
    found.sort(key=lambda s: (s.created_at, s.id))
    return found[offset:] if limit is None else found[offset : offset + limit]


def _line_changes(raw: Any) -> dict[int, LineChange]:
    """``products`` of a shipment update: ``{lineId: qty}`` or ``{lineId: {qty, serialNumber}}``."""
    if not isinstance(raw, dict):
        raise Refusal("products must be an object keyed by lineId")  # [I]
    changes: dict[int, LineChange] = {}
    for key, value in raw.items():
        line_id = as_int(key, "lineId")
        if isinstance(value, dict):
            qty = value.get("qty")
            changes[line_id] = LineChange(
                qty=None if qty is None else as_int(qty, "qty"),
                serial_number=(
                    None if value.get("serialNumber") is None else str(value["serialNumber"])
                ),
            )
        else:
            changes[line_id] = LineChange(qty=as_int(value, "quantity"))
    return changes


def shipment_router(world: World) -> APIRouter:
    router = api_router()
    guard = Depends(StoreGuard(world))

    @router.get("/shipments")
    async def get_shipments(request: Request, store: Store = guard) -> dict[str, Any]:
        """GTG and unsent by default, oldest first, on every call until completed."""
        page = select_shipments(world, request, store)
        base = _base(request, store)
        return ok(shipments=[shipment_node(world, store, s, base) for s in page])

    @router.post("/shipments")
    async def create_shipment(request: Request, store: Store = guard) -> dict[str, Any]:
        body = await json_body(request)
        if body.get("order") in (None, ""):
            raise Refusal("order is required")  # [I]
        number = as_int(body["order"], "order")
        shipped = as_bool(body.get("shipped"), False)
        shipment = world.create_shipment(
            store,
            number,
            line_quantities(body.get("products")),
            gtg=as_bool(body.get("gtg"), False),
            capture=as_bool(body.get("capture"), True),
            completion=_completion(body) if shipped else None,
        )
        base = _base(request, store)
        return ok(
            order=number,
            shipment=shipment.number,
            deliveryNote=f"{base}/delnote?shipment={shipment.number}",
            proforma=f"{base}/proforma?shipment={shipment.number}",
            invoice=f"{base}/invoice?shipment={shipment.number}" if shipment.captured else "",
        )

    @router.put("/shipments/{shipment_id}")
    async def update_shipment(
        request: Request, shipment_id: str, store: Store = guard
    ) -> dict[str, Any]:
        body = await json_body(request)
        changes = _line_changes(body.get("products") or {})
        # [I] Absent gtg leaves the flag alone rather than clearing it.
        gtg = None if body.get("gtg") is None else as_bool(body["gtg"], False)
        shipment = world.update_shipment(store, shipment_id, gtg=gtg, products=changes)
        return ok(shipment=shipment_node(world, store, shipment, _base(request, store)))

    @router.put("/shipment")
    async def complete_shipment(request: Request, store: Store = guard) -> dict[str, Any]:
        body = await json_body(request)
        if body.get("order") in (None, "") or body.get("shipment") in (None, ""):
            raise Refusal("order and shipment are required")  # [I]
        number = as_int(body["order"], "order")
        shipment = world.complete(
            store,
            number,
            str(body["shipment"]),
            _completion(body),
            capture=as_bool(body.get("capture"), True),
            gtg=None if body.get("gtg") is None else as_bool(body["gtg"], False),
        )
        return ok(order=number, shipment=shipment.number)

    @router.put("/capture")
    async def capture(request: Request, store: Store = guard) -> dict[str, Any]:
        body = await json_body(request)
        if body.get("shipment") in (None, ""):
            raise Refusal("shipment is required")  # [I]
        shipment = world.capture(store, str(body["shipment"]))
        return ok(order=shipment.order_number, shipment=shipment.number)

    @router.delete("/shipments/{shipment_id}")
    async def delete_shipment(shipment_id: str, store: Store = guard) -> dict[str, Any]:
        number, shipment = world.delete_shipment(store, shipment_id)
        return ok(msg="shipment removed", order=number, shipment=shipment)

    return router
