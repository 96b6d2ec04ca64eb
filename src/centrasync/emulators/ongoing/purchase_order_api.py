"""Ongoing REST routes for purchase orders (in-orders): ``/purchaseOrders``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from centrasync.emulators.ongoing.api_common import (
    GoodsOwner,
    distinct_code_names,
    json_body,
    page,
    record_label,
    status_list,
    within,
)
from centrasync.emulators.ongoing.model import PurchaseOrder
from centrasync.emulators.ongoing.payloads import PurchaseOrderIn, ReportedNumberIn, parse_body
from centrasync.emulators.ongoing.render import render_purchase_order

__all__ = ["add_purchase_order_routes"]


# Query parameters the spec lists for ``GET /purchaseOrders`` (besides goodsOwnerId).
_PURCHASE_ORDER_PARAMS = frozenset(
    {
        "purchaseOrderNumber",
        "lastReceiveTimeFrom",
        "lastReceiveTimeTo",
        "purchaseOrderStatusFrom",
        "purchaseOrderStatusTo",
        "onlyPurchaseOrdersWithOrderLinesToReport",
        "purchaseOrderIdFrom",
        "maxPurchaseOrdersToGet",
        "purchaseOrderStatusChangedTimeFrom",
        "purchaseOrderNumbers",
        "articleNumbers",
        "inDateFrom",
        "inDateTo",
    }
)


def select_purchase_orders(owner: GoodsOwner, request: Request) -> list[PurchaseOrder]:
    """The filters and cursor of ``GET /purchaseOrders``."""
    args = owner.query(request, _PURCHASE_ORDER_PARAMS, owner_required=True)
    numbers = set(args.texts("purchaseOrderNumbers"))
    single = args.text("purchaseOrderNumber")
    articles = set(args.texts("articleNumbers"))
    status_from = args.integer("purchaseOrderStatusFrom")
    status_to = args.integer("purchaseOrderStatusTo")
    received_from = args.time("lastReceiveTimeFrom")
    received_to = args.time("lastReceiveTimeTo")
    changed_from = args.time("purchaseOrderStatusChangedTimeFrom")
    in_from, in_to = args.time("inDateFrom"), args.time("inDateTo")
    # The spec text: at least one line with ReportedNumberOfItems != ReceivedNumberOfItems.
    to_report = args.flag("onlyPurchaseOrdersWithOrderLinesToReport")
    selected = [
        po
        for po in owner.state.purchase_orders.values()
        if (not numbers or po.number in numbers)
        and (single is None or po.number == single)
        and (not articles or any(line.article.number in articles for line in po.lines))
        and within(po.status, status_from, status_to)
        and within(po.last_receive_time, received_from, received_to)
        and within(po.status_changed, changed_from, None)
        and within(po.document.in_date, in_from, in_to)
        and (not to_report or any(ln.received != (ln.reported or 0.0) for ln in po.lines))
    ]
    return page(
        selected,
        lambda p: p.purchase_order_id,
        args.integer("purchaseOrderIdFrom"),
        args.integer("maxPurchaseOrdersToGet"),
    )


def add_purchase_order_routes(router: APIRouter, owner: GoodsOwner) -> None:
    state = owner.state

    def purchase_order_json(purchase_order: PurchaseOrder) -> dict[str, Any]:
        return render_purchase_order(purchase_order, state.statuses, state.site)

    @router.put("/purchaseOrders")
    async def put_purchase_order(request: Request) -> dict[str, Any]:
        owner.query(request)
        body = await json_body(request)
        record = record_label("Purchase order", body, "purchaseOrderNumber")
        document = parse_body(PurchaseOrderIn, body, record)
        owner.check(document.goods_owner_id)
        async with owner.write_turn():
            purchase_order, created = state.upsert_purchase_order(document)
        verb = "created" if created else "updated"
        # The spec lists only 200 for PUT /purchaseOrders, created or updated.
        return {
            "purchaseOrderId": purchase_order.purchase_order_id,
            "message": f"Inorder with order number {purchase_order.number} {verb}. <br/>",
        }

    @router.get("/purchaseOrders/statuses")
    async def purchase_order_statuses(request: Request) -> dict[str, Any]:
        owner.query(request)
        # The vendor example answers under "orderStatuses" for purchase orders too.
        return status_list("orderStatuses", state.statuses.purchase_order)

    @router.get("/purchaseOrders/types")
    async def purchase_order_types(request: Request) -> dict[str, Any]:
        """The purchase-order types in use [I: as for order types]."""
        owner.query(request, owner_required=True)
        types = (po.document.purchase_order_type for po in state.purchase_orders.values())
        return {"purchaseOrderTypes": distinct_code_names(types)}

    @router.get("/purchaseOrders")
    async def get_purchase_orders(request: Request) -> list[dict[str, Any]]:
        return [purchase_order_json(po) for po in select_purchase_orders(owner, request)]

    @router.get("/purchaseOrders/{purchase_order_id:int}")
    async def get_purchase_order(request: Request, purchase_order_id: int) -> dict[str, Any]:
        owner.query(request)
        return purchase_order_json(state.purchase_order_by_id(purchase_order_id))

    @router.delete("/purchaseOrders/{purchase_order_id:int}")
    async def delete_purchase_order(request: Request, purchase_order_id: int) -> dict[str, Any]:
        owner.query(request)
        async with owner.write_turn():
            purchase_order = state.cancel_purchase_order(purchase_order_id)
        return {
            "purchaseOrderId": purchase_order.purchase_order_id,
            "message": f"Inorder with order number {purchase_order.number} cancelled.",
        }

    @router.patch(
        "/purchaseOrders/{purchase_order_id:int}/lines/{line_id:int}/reportedNumberOfItems"
    )
    async def patch_po_reported(
        request: Request, purchase_order_id: int, line_id: int
    ) -> dict[str, Any]:
        owner.query(request)
        raw = await json_body(request)
        body = parse_body(ReportedNumberIn, raw, f"Purchase order line {line_id}")
        async with owner.write_turn():
            state.report_received(purchase_order_id, line_id, body.reported_number_of_items)
        return {"purchaseOrderId": purchase_order_id, "message": f"Line {line_id} updated"}

    @router.patch(
        "/purchaseOrders/{purchase_order_id:int}/setReportedNumberOfItemsToReceivedNumberOfItems"
    )
    async def patch_po_all_reported(request: Request, purchase_order_id: int) -> dict[str, Any]:
        owner.query(request)
        async with owner.write_turn():
            state.report_all_received(purchase_order_id)
        return {"purchaseOrderId": purchase_order_id, "message": "Purchase order updated"}
