"""Order API routes for ship-from-store: check-first answers and allocation requests."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from .allocation import OPEN_REQUEST
from .api_common import StoreGuard, api_router, as_bool, json_body, ok, query_int
from .model import AllocationRequest, Store
from .state import Refusal
from .wire import allocation_request_node
from .world import World

__all__ = ["allocation_router"]

_PAGE = 100
_STATUSES = frozenset(
    {"allocated", "sent", "failed", "confirmed", "rejected", "timed-out", "outdated"}
)


def _check_first_body(body: dict[str, Any]) -> tuple[int, int, bool]:
    """The three required fields, or Centra's field-keyed ``msg``."""
    errors: dict[str, str] = {}
    values: dict[str, int] = {}
    for name in ("orderNumber", "warehouseId"):
        raw = body.get(name)
        if raw in (None, ""):
            errors[name] = "required"
        elif isinstance(raw, bool) or not str(raw).strip().isdigit():
            errors[name] = "invalid value"
        else:
            values[name] = int(str(raw).strip())
    accepted = body.get("accepted")
    if accepted is None:
        errors["accepted"] = "required"
    elif str(accepted).strip().lower() not in ("1", "0", "true", "false"):
        errors["accepted"] = "invalid value"
    if errors:
        raise Refusal(errors)
    return values["orderNumber"], values["warehouseId"], as_bool(accepted, False)


def _listed(world: World, request: Request, found: list[AllocationRequest]) -> list[dict[str, Any]]:
    """The ``status``, ``order``, ``warehouse`` (comma lists) and ``page`` filters."""
    q = request.query_params
    wanted = {s.strip() for s in q.get("status", "").split(",") if s.strip()}
    if wanted - _STATUSES - {"all"}:
        raise Refusal(f"unknown status {', '.join(sorted(wanted - _STATUSES - {'all'}))}")  # [I]
    statuses = _STATUSES if "all" in wanted else (wanted or OPEN_REQUEST)
    orders = {o.strip() for o in q.get("order", "").split(",") if o.strip()}
    # [I] A warehouse is named by id or by name.
    houses = {w.strip() for w in q.get("warehouse", "").split(",") if w.strip()}
    page = max(1, query_int(request, "page", 1) or 1)
    chosen = [
        r
        for r in sorted(found, key=lambda r: r.id)
        if r.status in statuses
        and (not orders or str(r.order_number) in orders)
        and (
            not houses
            or str(r.warehouse_id) in houses
            or world.warehouses[r.warehouse_id].name in houses
        )
    ]
    return [allocation_request_node(world, r) for r in chosen[(page - 1) * _PAGE : page * _PAGE]]


def allocation_router(world: World) -> APIRouter:
    router = api_router()
    guard = Depends(StoreGuard(world))

    @router.post("/check-first")
    async def check_first(request: Request, store: Store = guard) -> dict[str, Any]:
        """Accept or reject an order for a check-first warehouse; cannot be undone."""
        number, warehouse_id, accepted = _check_first_body(await json_body(request))
        world.check_first(store, number, warehouse_id, accepted)
        return ok()

    @router.get("/allocation-requests")
    async def allocation_requests(request: Request, store: Store = guard) -> dict[str, Any]:
        """Open requests by default; ``status=all`` or a comma list for others."""
        found = world.store_allocation_requests(store)
        return ok(allocation_requests=_listed(world, request, found))

    @router.get("/orders/{order_id}/allocation-requests")
    async def order_allocation_requests(
        request: Request, order_id: str, store: Store = guard
    ) -> dict[str, Any]:
        """The older, per-order form of the list."""
        number = int(order_id) if order_id.isdigit() else None
        order = None if number is None else world.store_order(store, number)
        if order is None:
            raise Refusal(f"Unknown order id: {order_id}")
        found = [r for r in world.store_allocation_requests(store) if r.order_number == number]
        return ok(allocation_requests=_listed(world, request, found))

    @router.put("/allocation-request")
    async def answer_allocation_request(request: Request, store: Store = guard) -> dict[str, Any]:
        """Confirm or reject; ``{"success": bool, "errorMessages": [...]}`` either way."""
        body = await json_body(request)
        raw = body.get("id")
        if isinstance(raw, bool) or not str(raw).strip().isdigit():
            errors: list[str] | dict[str, str] = ["Allocation request not found"]  # [I]
        else:
            errors = world.answer_allocation_request(
                store, int(str(raw).strip()), str(body.get("status") or "")
            )
        return {"success": not errors, "errorMessages": errors}

    return router
