"""Ongoing REST routes for customer orders: ``/orders``, their lines and reported quantities."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from centrasync.emulators.ongoing.api_common import (
    GoodsOwner,
    QueryArgs,
    distinct_code_names,
    json_body,
    page,
    record_label,
    status_list,
    within,
)
from centrasync.emulators.ongoing.floor import OngoingState
from centrasync.emulators.ongoing.model import OngoingApiError, Order, OrderLine, OrderStatus
from centrasync.emulators.ongoing.payloads import (
    OrderIn,
    ReportedNumberIn,
    ReportedReturnedNumberIn,
    parse_body,
)
from centrasync.emulators.ongoing.render import render_order

__all__ = ["add_order_routes"]


# Query parameters the spec lists for ``GET /orders`` (besides goodsOwnerId).
_ORDER_PARAMS = frozenset(
    {
        "orderNumber",
        "shippedTimeFrom",
        "shippedTimeTo",
        "orderStatusFrom",
        "orderStatusTo",
        "onlyOrdersWithOrderLinesToReport",
        "orderIdFrom",
        "maxOrdersToGet",
        "orderStatusChangedTimeFrom",
        "lastReturnedFrom",
        "orderNumbers",
        "orderCreatedTimeFrom",
        "onlyOrdersWithOrderLinesToReportReturned",
        "onlyIfTransportPrinted",
        "shipmentId",
        "pickable",
        "parcelNumber",
        "orderCreatedTimeTo",
        "articleNumbers",
        "serial",
        "marketPlace",
        "orderUpdatedTimeFrom",
        "backOrderForOrderId",
        "referenceNumbers",
        "orderLineSupplierNumber",
        "lastPickingTimeFrom",
    }
)
# "Note that this value must be at most 2 days old" (spec text of orderUpdatedTimeFrom).
_UPDATED_WINDOW = timedelta(days=2)
_PICKABLE = ("All", "NotPickable", "NotOk")

OrderTest = Callable[[Order], bool]


def _time_tests(state: OngoingState, args: QueryArgs) -> list[OrderTest]:
    """The time windows of ``GET /orders``; each needs the time it names to have happened."""
    tests: list[OrderTest] = []
    windows: list[tuple[str, str | None, Callable[[Order], datetime | None]]] = [
        ("shippedTimeFrom", "shippedTimeTo", lambda o: o.shipped_time),
        ("orderCreatedTimeFrom", "orderCreatedTimeTo", lambda o: o.created),
        ("orderStatusChangedTimeFrom", None, lambda o: o.status_changed),
        ("orderUpdatedTimeFrom", None, lambda o: o.updated),
        ("lastReturnedFrom", None, lambda o: o.last_returned),
        ("lastPickingTimeFrom", None, lambda o: o.last_picked),
    ]
    for start_name, end_name, moment in windows:
        start = args.time(start_name)
        end = None if end_name is None else args.time(end_name)
        if start is not None or end is not None:
            tests.append(partial(_in_window, moment, start, end))
    updated_from = args.time("orderUpdatedTimeFrom")
    if updated_from is not None and updated_from < state.now() - _UPDATED_WINDOW:
        raise OngoingApiError(400, "orderUpdatedTimeFrom must be at most 2 days old")
    return tests


def _in_window(
    moment: Callable[[Order], datetime | None],
    start: datetime | None,
    end: datetime | None,
    order: Order,
) -> bool:
    return within(moment(order), start, end)


def _document_tests(args: QueryArgs) -> list[OrderTest]:
    """Filters on what the order document says: numbers, references, marketplace, articles."""
    tests: list[OrderTest] = []
    single = args.text("orderNumber")
    if single is not None:
        tests.append(lambda o: o.number == single)
    numbers = set(args.texts("orderNumbers"))
    if numbers:
        tests.append(lambda o: o.number in numbers)
    references = set(args.texts("referenceNumbers"))
    if references:
        tests.append(lambda o: o.document.reference_number in references)
    market = args.text("marketPlace")
    if market is not None:
        tests.append(lambda o: _market_place(o) == market)
    articles = set(args.texts("articleNumbers"))
    if articles:
        tests.append(lambda o: any(line.article.number in articles for line in o.lines))
    supplier = args.text("orderLineSupplierNumber")
    if supplier is not None:
        tests.append(lambda o: any(_supplier(line) == supplier for line in o.lines))
    if args.integer("backOrderForOrderId") is not None:
        # The emulated warehouse never splits an order into back orders [I].
        tests.append(lambda o: False)
    return tests


def _floor_tests(state: OngoingState, args: QueryArgs) -> list[OrderTest]:
    """Filters on what the warehouse did: status, reporting, picks, parcels, shipments."""
    tests: list[OrderTest] = []
    status_from, status_to = args.integer("orderStatusFrom"), args.integer("orderStatusTo")
    if status_from is not None or status_to is not None:
        tests.append(lambda o: within(o.status, status_from, status_to))
    # The spec text: lines with ReportedNumberOfItems < PickedNumberOfItems, and lines whose
    # reported returned number is less than the returned one; never reported reads as 0.
    if args.flag("onlyOrdersWithOrderLinesToReport"):
        tests.append(lambda o: any((ln.reported or 0.0) < ln.picked for ln in o.lines))
    if args.flag("onlyOrdersWithOrderLinesToReportReturned"):
        tests.append(lambda o: any((ln.reported_returned or 0.0) < ln.returned for ln in o.lines))
    if args.flag("onlyIfTransportPrinted"):
        # Transport documents count as printed once the order went out with its parcels [I].
        tests.append(lambda o: o.shipped_time is not None)
    shipment = args.integer("shipmentId")
    if shipment is not None:
        tests.append(lambda o: o.shipment_id == shipment)
    parcel = args.text("parcelNumber")
    if parcel is not None:
        tests.append(lambda o: any(p.parcel_number == parcel for p in o.parcels))
    serial = args.text("serial")
    if serial is not None:
        tests.append(
            lambda o: any(item.serial == serial for ln in o.lines for item in ln.picked_items)
        )
    pickable = args.text("pickable")
    if pickable is not None and pickable not in _PICKABLE:
        raise OngoingApiError(
            400, f"The value '{pickable}' is not valid for pickable: use {', '.join(_PICKABLE)}"
        )
    if pickable in ("NotPickable", "NotOk"):
        free = {number: figures.free_to_allocate for number, figures in state.inventory().items()}
        tests.append(lambda o: _not_pickable(o, free))
    return tests


def _market_place(order: Order) -> str | None:
    market = order.document.market_place
    return None if market is None else market.market_place


def _supplier(line: OrderLine) -> str | None:
    info = line.article.document.supplier_info
    return None if info is None else info.supplier_number


def _not_pickable(order: Order, free: dict[str, float]) -> bool:
    """Still to pick, and the free stock cannot cover what is not yet allocated [I: the spec
    names NotPickable and NotOk without rules; both select these orders]."""
    waiting = order.status in (OrderStatus.OPEN, OrderStatus.RELEASED, OrderStatus.ALLOCATED)
    short = any(
        line.ordered - max(line.allocated, line.picked) > free[line.article.number]
        for line in order.lines
    )
    return order.is_active and waiting and short


def select_orders(owner: GoodsOwner, request: Request) -> list[Order]:
    """The filters and cursor of ``GET /orders``."""
    state = owner.state
    args = owner.query(request, _ORDER_PARAMS, owner_required=True)
    tests = [*_time_tests(state, args), *_document_tests(args), *_floor_tests(state, args)]
    return page(
        (order for order in state.orders.values() if all(test(order) for test in tests)),
        lambda o: o.order_id,
        args.integer("orderIdFrom"),
        args.integer("maxOrdersToGet"),
    )


def add_order_routes(router: APIRouter, owner: GoodsOwner) -> None:
    state = owner.state

    def order_json(order: Order) -> dict[str, Any]:
        return render_order(order, state.statuses, state.site)

    @router.put("/orders")
    async def put_order(request: Request) -> JSONResponse:
        owner.query(request)
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
    async def order_statuses(request: Request) -> dict[str, Any]:
        owner.query(request)
        return status_list("orderStatuses", state.statuses.order)

    @router.get("/orders/types")
    async def order_types(request: Request) -> dict[str, Any]:
        """The order types the goods owner's orders use [I: set up in the WMS on the live
        system; the emulator lists the ones PUT so far]."""
        owner.query(request, owner_required=True)
        return {
            "orderTypes": distinct_code_names(o.document.order_type for o in state.orders.values())
        }

    @router.get("/orders")
    async def get_orders(request: Request) -> list[dict[str, Any]]:
        return [order_json(order) for order in select_orders(owner, request)]

    @router.get("/orders/{order_id:int}")
    async def get_order(request: Request, order_id: int) -> dict[str, Any]:
        owner.query(request)
        return order_json(state.order_by_id(order_id))

    @router.delete("/orders/{order_id:int}")
    async def delete_order(request: Request, order_id: int) -> dict[str, Any]:
        owner.query(request)
        async with owner.write_turn():
            order = state.cancel_order(order_id)
        return {"orderId": order.order_id, "message": f"Order {order.number} cancelled"}

    _add_reporting_routes(router, owner)


def _add_reporting_routes(router: APIRouter, owner: GoodsOwner) -> None:
    """What the integration reports back per order line: picked and returned quantities."""
    state = owner.state

    @router.patch("/orders/{order_id:int}/lines/{line_id:int}/reportedNumberOfItems")
    async def patch_reported(request: Request, order_id: int, line_id: int) -> dict[str, Any]:
        owner.query(request)
        body = parse_body(ReportedNumberIn, await json_body(request), f"Order line {line_id}")
        async with owner.write_turn():
            state.report_picked(order_id, line_id, body.reported_number_of_items)
        return {"orderId": order_id, "message": f"Order line {line_id} updated"}

    @router.patch("/orders/{order_id:int}/lines/{line_id:int}/reportedReturnedNumberOfItems")
    async def patch_reported_returned(
        request: Request, order_id: int, line_id: int
    ) -> dict[str, Any]:
        owner.query(request)
        raw = await json_body(request)
        body = parse_body(ReportedReturnedNumberIn, raw, f"Order line {line_id}")
        async with owner.write_turn():
            state.report_returned(order_id, line_id, body.reported_returned_number_of_items)
        return {"orderId": order_id, "message": f"Order line {line_id} updated"}

    @router.patch("/orders/{order_id:int}/setReportedNumberOfItemsToPickedNumberOfItems")
    async def patch_all_reported(request: Request, order_id: int) -> dict[str, Any]:
        owner.query(request)
        async with owner.write_turn():
            state.report_all_picked(order_id)
        return {"orderId": order_id, "message": f"Order {order_id} updated"}

    @router.patch("/orders/{order_id:int}/setReportedReturnedNumberOfItemsToReturnedNumberOfItems")
    async def patch_all_reported_returned(request: Request, order_id: int) -> dict[str, Any]:
        owner.query(request)
        async with owner.write_turn():
            state.report_all_returned(order_id)
        return {"orderId": order_id, "message": f"Order {order_id} updated"}
