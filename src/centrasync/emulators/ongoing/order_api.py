"""Ongoing REST routes for customer orders: ``/orders``, their lines and reported quantities."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from centrasync.emulators.ongoing.api_common import (
    GoodsOwner,
    QueryArgs,
    json_body,
    page,
    record_label,
    within,
)
from centrasync.emulators.ongoing.model import Order
from centrasync.emulators.ongoing.payloads import (
    OrderIn,
    ReportedNumberIn,
    ReportedReturnedNumberIn,
    parse_body,
)
from centrasync.emulators.ongoing.render import render_order

__all__ = ["add_order_routes"]


def select_orders(owner: GoodsOwner, request: Request) -> list[Order]:
    """The filters and cursor of ``GET /orders``."""
    owner.check_query(request)
    args = QueryArgs(request)
    numbers = set(args.texts("orderNumbers"))
    single = args.text("orderNumber")
    articles = set(args.texts("articleNumbers"))
    status_from, status_to = args.integer("orderStatusFrom"), args.integer("orderStatusTo")
    shipped_from, shipped_to = args.time("shippedTimeFrom"), args.time("shippedTimeTo")
    changed_from = args.time("orderStatusChangedTimeFrom")
    created_from = args.time("orderCreatedTimeFrom")
    updated_from = args.time("orderUpdatedTimeFrom")
    returned_from = args.time("lastReturnedFrom")
    to_report = args.flag("onlyOrdersWithOrderLinesToReport")
    to_report_returned = args.flag("onlyOrdersWithOrderLinesToReportReturned")
    selected = [
        order
        for order in owner.state.orders.values()
        if (not numbers or order.number in numbers)
        and (single is None or order.number == single)
        and (not articles or any(line.article.number in articles for line in order.lines))
        and within(order.status, status_from, status_to)
        and within(order.shipped_time, shipped_from, shipped_to)
        and within(order.status_changed, changed_from, None)
        and within(order.created, created_from, None)
        and within(order.updated, updated_from, None)
        and within(order.last_returned, returned_from, None)
        and (not to_report or any(line.picked != (line.reported or 0.0) for line in order.lines))
        and (
            not to_report_returned
            or any(line.returned != (line.reported_returned or 0.0) for line in order.lines)
        )
    ]
    return page(
        selected,
        lambda o: o.order_id,
        args.integer("orderIdFrom"),
        args.integer("maxOrdersToGet"),
    )


def add_order_routes(router: APIRouter, owner: GoodsOwner) -> None:
    state = owner.state

    def order_json(order: Order) -> dict[str, Any]:
        return render_order(order, state.statuses, state.goods_owner_name)

    @router.put("/orders")
    async def put_order(request: Request) -> JSONResponse:
        body = await json_body(request)
        document = parse_body(OrderIn, body, record_label("Order", body, "orderNumber"))
        owner.check(document.goods_owner_id)
        async with owner.write_turn():
            order, created = state.upsert_order(document)
        message = f"Order number {order.number} created/updated"
        # The spec lists 200 and 201 for PUT /orders: 201 when the order is new [I].
        return JSONResponse(
            {"orderId": order.order_id, "message": message}, status_code=201 if created else 200
        )

    @router.get("/orders/statuses")
    async def order_statuses() -> dict[str, Any]:
        return {
            "orderStatuses": [
                {"number": number, "text": text}
                for number, text in sorted(state.statuses.order.items())
            ]
        }

    @router.get("/orders")
    async def get_orders(request: Request) -> list[dict[str, Any]]:
        return [order_json(order) for order in select_orders(owner, request)]

    @router.get("/orders/{order_id}")
    async def get_order(request: Request, order_id: int) -> dict[str, Any]:
        owner.check_query(request, required=False)
        return order_json(state.order_by_id(order_id))

    @router.delete("/orders/{order_id}")
    async def delete_order(request: Request, order_id: int) -> dict[str, Any]:
        owner.check_query(request, required=False)
        async with owner.write_turn():
            order = state.cancel_order(order_id)
        return {"orderId": order.order_id, "message": f"Order {order.number} cancelled"}

    _add_reporting_routes(router, owner)


def _add_reporting_routes(router: APIRouter, owner: GoodsOwner) -> None:
    """What the integration reports back per order line: picked and returned quantities."""
    state = owner.state

    @router.patch("/orders/{order_id}/lines/{line_id}/reportedNumberOfItems")
    async def patch_reported(request: Request, order_id: int, line_id: int) -> dict[str, Any]:
        owner.check_query(request, required=False)
        body = parse_body(ReportedNumberIn, await json_body(request), f"Order line {line_id}")
        async with owner.write_turn():
            state.report_picked(order_id, line_id, body.reported_number_of_items)
        return {"orderId": order_id, "message": f"Order line {line_id} updated"}

    @router.patch("/orders/{order_id}/lines/{line_id}/reportedReturnedNumberOfItems")
    async def patch_reported_returned(
        request: Request, order_id: int, line_id: int
    ) -> dict[str, Any]:
        owner.check_query(request, required=False)
        raw = await json_body(request)
        body = parse_body(ReportedReturnedNumberIn, raw, f"Order line {line_id}")
        async with owner.write_turn():
            state.report_returned(order_id, line_id, body.reported_returned_number_of_items)
        return {"orderId": order_id, "message": f"Order line {line_id} updated"}

    @router.patch("/orders/{order_id}/setReportedNumberOfItemsToPickedNumberOfItems")
    async def patch_all_reported(request: Request, order_id: int) -> dict[str, Any]:
        owner.check_query(request, required=False)
        async with owner.write_turn():
            state.report_all_picked(order_id)
        return {"orderId": order_id, "message": f"Order {order_id} updated"}

    @router.patch("/orders/{order_id}/setReportedReturnedNumberOfItemsToReturnedNumberOfItems")
    async def patch_all_reported_returned(request: Request, order_id: int) -> dict[str, Any]:
        owner.check_query(request, required=False)
        async with owner.write_turn():
            state.report_all_returned(order_id)
        return {"orderId": order_id, "message": f"Order {order_id} updated"}
