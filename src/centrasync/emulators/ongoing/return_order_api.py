"""Ongoing REST routes for return orders: ``/returnOrders``, their statuses and causes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from centrasync.emulators.ongoing.api_common import (
    GoodsOwner,
    json_body,
    record_label,
    status_list,
    within,
)
from centrasync.emulators.ongoing.model import ReturnOrder
from centrasync.emulators.ongoing.payloads import ReturnOrderIn, parse_body
from centrasync.emulators.ongoing.render import render_return_causes, render_return_order

__all__ = ["add_return_order_routes"]

# Query parameters the spec lists for ``GET /returnOrders`` (besides goodsOwnerId).
_RETURN_ORDER_PARAMS = frozenset(
    {
        "returnOrderNumbers",
        "customerOrderNumbers",
        "goodsReturnedFromDate",
        "returnOrderStatusFrom",
        "returnOrderStatusTo",
    }
)


def select_return_orders(owner: GoodsOwner, request: Request) -> list[ReturnOrder]:
    """The filters of ``GET /returnOrders``; the spec lists no paging for it."""
    args = owner.query(request, _RETURN_ORDER_PARAMS, owner_required=True)
    numbers = set(args.texts("returnOrderNumbers"))
    customer_orders = set(args.texts("customerOrderNumbers"))
    returned_from = args.time("goodsReturnedFromDate")
    status_from = args.integer("returnOrderStatusFrom")
    status_to = args.integer("returnOrderStatusTo")
    selected = [
        return_order
        for return_order in owner.state.return_orders.values()
        if (not numbers or return_order.number in numbers)
        and (not customer_orders or return_order.order.number in customer_orders)
        # "Only return orders where a return has been made after this date."
        and within(return_order.last_returned, returned_from, None)
        and within(return_order.status, status_from, status_to)
    ]
    return sorted(selected, key=lambda r: r.return_order_id)


def add_return_order_routes(router: APIRouter, owner: GoodsOwner) -> None:
    state = owner.state

    def return_order_json(return_order: ReturnOrder) -> dict[str, Any]:
        return render_return_order(return_order, state.statuses, state.site)

    @router.put("/returnOrders")
    async def put_return_order(request: Request) -> dict[str, Any]:
        owner.query(request)
        body = await json_body(request)
        record = record_label("Return order", body, "returnOrderNumber")
        document = parse_body(ReturnOrderIn, body, record)
        owner.check(document.goods_owner_id)
        async with owner.write_turn():
            return_order, created = state.upsert_return_order(document)
        verb = "created" if created else "updated"
        # The spec lists only 200 for PUT /returnOrders.
        return {
            "returnOrderId": return_order.return_order_id,
            "message": f"Return order {return_order.number} {verb}",
        }

    @router.get("/returnOrders/statuses")
    async def return_order_statuses(request: Request) -> dict[str, Any]:
        owner.query(request)
        return status_list("returnOrderStatuses", state.statuses.return_order)

    @router.get("/returnOrders/returnCauses")
    async def return_causes(request: Request) -> dict[str, Any]:
        owner.query(request)
        return render_return_causes(state.return_causes.values())

    @router.get("/returnOrders")
    async def get_return_orders(request: Request) -> list[dict[str, Any]]:
        return [return_order_json(r) for r in select_return_orders(owner, request)]

    @router.get("/returnOrders/{return_order_id:int}")
    async def get_return_order(request: Request, return_order_id: int) -> dict[str, Any]:
        owner.query(request)
        return return_order_json(state.return_order_by_id(return_order_id))
