"""Order API routes for returns: create, list (newest first, by page) and update."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from .api_common import (
    StoreGuard,
    api_router,
    as_amount,
    as_bool,
    as_int,
    in_window,
    json_body,
    line_quantities,
    ok,
    query_int,
    query_time,
)
from .model import ReturnRecord, Store
from .state import Refusal
from .wire import parse_local, return_node
from .world import ReturnCosts, World

__all__ = ["return_router"]


def _cost(body: dict[str, Any], name: str) -> tuple[float, bool]:
    """A value or ``<name>FromShipment: true``; the docs forbid giving both."""
    value = body.get(name)
    from_shipment = as_bool(body.get(f"{name}FromShipment"), False)
    if from_shipment and value is not None:
        raise Refusal(f"{name} can not be given together with {name}FromShipment")  # [I]
    return (0.0 if value is None else as_amount(value, name)), from_shipment


def return_costs(body: dict[str, Any]) -> ReturnCosts:
    shipping, shipping_from = _cost(body, "shippingCost")
    handling, handling_from = _cost(body, "handlingCost")
    voucher, voucher_from = _cost(body, "voucherValue")
    cost = body.get("returnCost")
    return ReturnCosts(
        return_cost=0.0 if cost is None else as_amount(cost, "returnCost"),
        shipping=shipping,
        shipping_from_shipment=shipping_from,
        handling=handling,
        handling_from_shipment=handling_from,
        voucher=voucher,
        voucher_from_shipment=voucher_from,
    )


def select_returns(world: World, request: Request, store: Store) -> list[ReturnRecord]:
    """The filters and page of ``GET /returns``."""
    limit = query_int(request, "limit", 20) or 20  # [I] default undocumented
    page = max(1, query_int(request, "page", 1) or 1)
    wanted_id = query_int(request, "return", None)
    wanted_order = query_int(request, "order", None)
    customer = query_int(request, "customer_id", None)
    wanted_shipment = request.query_params.get("shipment")
    selection = request.query_params.get("selection")
    newer = query_time(request, "newer_than", store)
    older = query_time(request, "older_than", store)
    found: list[ReturnRecord] = []
    for record in world.returns.values():
        shipment = world.shipments.get(record.shipment_id)
        if shipment is None:
            continue
        order = world.orders[shipment.order_number]
        if (
            order.store_uri == store.uri
            and wanted_id in (None, record.id)
            and wanted_order in (None, order.number)
            and customer in (None, order.customer_id)
            and wanted_shipment in (None, shipment.number)
            and selection in (None, order.selection_id)
            and in_window(record.created_at, newer, older)
        ):
            found.append(record)
    found.sort(key=lambda r: (r.created_at, r.id), reverse=True)
    return found[(page - 1) * limit : page * limit]


def return_router(world: World) -> APIRouter:
    router = api_router()
    guard = Depends(StoreGuard(world))

    @router.post("/return")
    async def create_return(request: Request, store: Store = guard) -> dict[str, Any]:
        body = await json_body(request)
        if body.get("shipment") in (None, ""):
            raise Refusal("return could not be created.")
        created = None
        if body.get("createdAt"):
            try:
                created = parse_local(str(body["createdAt"]), store.zone)
            except ValueError:
                raise Refusal("createdAt must be YYYY-MM-DD or YYYY-MM-DD HH:MM:SS") from None
        refund = body.get("refund") if isinstance(body.get("refund"), dict) else {}
        assert isinstance(refund, dict)
        record, returned = world.create_return(
            store,
            str(body["shipment"]),
            line_quantities(body.get("products")),
            return_stock=(
                None if body.get("returnStock") is None else as_bool(body["returnStock"], False)
            ),
            comment=None if body.get("comment") is None else str(body["comment"]),
            created_at=created,
            refund=as_bool(refund.get("refundPayment"), False),
            costs=return_costs(body),
            send_email=(
                None if refund.get("sendEmail") is None else as_bool(refund["sendEmail"], False)
            ),
        )
        extra: dict[str, Any] = {"refund": {"status": "ok"}} if record.refunded else {}
        return ok(
            **{"return": record.id},
            returnCompleted=record.completed,
            returnedItems=[str(i) for i in returned],
            **extra,
        )

    @router.get("/returns")
    async def get_returns(request: Request, store: Store = guard) -> dict[str, Any]:
        """Newest first, page-based (unlike orders and shipments)."""
        chunk = select_returns(world, request, store)
        return ok(returns=[return_node(world, store, r) for r in chunk])

    @router.put("/returns/{return_id}")
    async def update_return(
        request: Request, return_id: str, store: Store = guard
    ) -> dict[str, Any]:
        body = await json_body(request)
        record = world.update_return(
            store,
            as_int(return_id, "returnId"),
            completed=None if body.get("completed") is None else as_bool(body["completed"], False),
            refund=as_bool(body.get("refundPayment"), False),
        )
        return ok(**{"return": return_node(world, store, record)})

    return router
