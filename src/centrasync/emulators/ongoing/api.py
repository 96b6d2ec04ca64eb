"""The REST subset of Ongoing WMS served under ``/{warehouse}/api/v1/``.

HTTP Basic auth, ``goodsOwnerId`` on every list read and in every ``PUT`` body, JSON only,
ID-cursor paging and repeated-key array parameters, as the reference describes. Writes
(PUT, PATCH, DELETE) run one at a time per goods owner, as on the live system (§8).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from centrasync.emulators.ongoing.floor import OngoingState
from centrasync.emulators.ongoing.model import (
    STOCK_INFO_WINDOW,
    Article,
    Inventory,
    OngoingApiError,
    Order,
    PurchaseOrder,
    parse_time,
)
from centrasync.emulators.ongoing.payloads import (
    ArticleIn,
    OrderIn,
    PurchaseOrderIn,
    ReportedNumberIn,
    ReportedReturnedNumberIn,
    parse_body,
)
from centrasync.emulators.ongoing.render import (
    WAREHOUSE_ID,
    render_article,
    render_inventory_per_warehouse,
    render_order,
    render_purchase_order,
    render_transporter_contracts,
)

__all__ = ["rest_router"]

T = TypeVar("T")


class QueryArgs:
    """Typed access to query parameters; arrays are repeated keys, never comma lists."""

    def __init__(self, request: Request) -> None:
        self._params = request.query_params

    def text(self, name: str) -> str | None:
        return self._params.get(name)

    def texts(self, name: str) -> list[str]:
        return self._params.getlist(name)

    def integer(self, name: str) -> int | None:
        value = self._params.get(name)
        if value is None:
            return None
        try:
            return int(value)
        except ValueError as exc:
            raise OngoingApiError(400, f"The value '{value}' is not valid for {name}") from exc

    def flag(self, name: str) -> bool:
        value = self._params.get(name)
        if value is None:
            return False
        if value.lower() not in ("true", "false"):
            raise OngoingApiError(400, f"The value '{value}' is not valid for {name}")
        return value.lower() == "true"

    def time(self, name: str) -> datetime | None:
        value = self._params.get(name)
        return None if value is None else parse_time(value, name)


def _page(
    items: Iterable[T], key: Callable[[T], int], start: int | None, size: int | None
) -> list[T]:
    """Ascending by id from ``start``; at most ``size`` rows. An empty page ends a scan."""
    rows = sorted((item for item in items if start is None or key(item) >= start), key=key)
    return rows if size is None else rows[: max(size, 0)]


def _within(value: Any, start: Any, end: Any) -> bool:
    if start is not None and (value is None or value < start):
        return False
    return not (end is not None and (value is None or value > end))


def rest_router(
    state: OngoingState,
    *,
    warehouse: str,
    user: str,
    password: str,
    write_delay: float = 0.0,
) -> APIRouter:
    """Build the REST routes for one warehouse, user and goods owner."""
    expected_user = user.encode()
    expected_password = password.encode()
    write_lanes: dict[int, asyncio.Lock] = {}

    def authenticate(request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        given_user, given_password = b"", b""
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                decoded = b""
            given_user, _, given_password = decoded.partition(b":")
        user_ok = hmac.compare_digest(given_user, expected_user)
        password_ok = hmac.compare_digest(given_password, expected_password)
        if not (user_ok and password_ok):
            raise OngoingApiError(401, "Authorization has been denied for this request.")

    router = APIRouter(
        prefix=f"/{warehouse}/api/v1", tags=["ongoing"], dependencies=[Depends(authenticate)]
    )

    def check_owner(goods_owner_id: int | None) -> None:
        if goods_owner_id is None:
            raise OngoingApiError(400, "goodsOwnerId is required")
        if goods_owner_id != state.goods_owner_id:
            # The user may only reach its own goods owner; the code is an inference [I].
            raise OngoingApiError(403, f"The user has no access to goods owner {goods_owner_id}")

    def owner_from_query(request: Request, required: bool = True) -> None:
        goods_owner_id = QueryArgs(request).integer("goodsOwnerId")
        if required or goods_owner_id is not None:
            check_owner(goods_owner_id)

    async def json_body(request: Request) -> Any:
        content_type = request.headers.get("content-type", "application/json")
        if "json" not in content_type.lower():
            raise OngoingApiError(415, f"Content type '{content_type}' is not supported: send JSON")
        raw = await request.body()
        try:
            return json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise OngoingApiError(400, f"The request body is not valid JSON: {exc}") from exc

    @asynccontextmanager
    async def write_turn() -> AsyncIterator[None]:
        """Hold the goods owner's single write lane, taking ``write_delay`` to process."""
        lane = write_lanes.setdefault(state.goods_owner_id, asyncio.Lock())
        async with lane:
            if write_delay > 0:
                await asyncio.sleep(write_delay)
            yield

    def order_json(order: Order) -> dict[str, Any]:
        return render_order(order, state.statuses, state.goods_owner_name)

    def purchase_order_json(purchase_order: PurchaseOrder) -> dict[str, Any]:
        return render_purchase_order(purchase_order, state.statuses, state.goods_owner_name)

    # -- articles -----------------------------------------------------------------------

    @router.put("/articles")
    async def put_article(request: Request) -> JSONResponse:
        body = await json_body(request)
        record = f"Article {_field(body, 'articleNumber')}"
        document = parse_body(ArticleIn, body, record)
        check_owner(document.goods_owner_id)
        async with write_turn():
            article, created = state.upsert_article(document)
        message = f"Article {article.number} {document.article_name or ''} Updated/Created"
        return JSONResponse(
            {"articleSystemId": article.system_id, "message": message},
            status_code=201 if created else 200,
        )

    def select_articles(request: Request, inventory: dict[str, Inventory]) -> list[Article]:
        """The article filters and cursor shared by the article and stock reads."""
        owner_from_query(request)
        args = QueryArgs(request)
        numbers = set(args.texts("articleNumbers"))
        single = args.text("articleNumber")
        stock_from = args.time("stockInfoChangedFrom")
        if stock_from is not None and stock_from < state.now() - STOCK_INFO_WINDOW:
            raise OngoingApiError(
                400, "stockInfoChangedFrom must be within 24 hours of the current time"
            )
        data_from = args.time("articleDataLastUpdatedFrom")
        product_codes = set(args.texts("productCodes"))
        in_stock_only = args.flag("onlyArticlesInStock")
        selected = [
            article
            for article in state.articles.values()
            if (not numbers or article.number in numbers)
            and (single is None or article.number == single)
            and (not product_codes or article.document.product_code in product_codes)
            and _within(article.stock_changed, stock_from, None)
            and _within(article.data_updated, data_from, None)
            and (not in_stock_only or inventory[article.number].number_of_items > 0)
        ]
        return _page(
            selected,
            lambda a: a.system_id,
            args.integer("articleSystemIdFrom"),
            args.integer("maxArticlesToGet"),
        )

    @router.get("/articles")
    async def get_articles(request: Request) -> list[dict[str, Any]]:
        inventory = state.inventory()
        return [
            render_article(a, inventory[a.number], state.goods_owner_id, state.goods_owner_name)
            for a in select_articles(request, inventory)
        ]

    @router.get("/articles/inventoryPerWarehouse")
    async def get_inventory_per_warehouse(request: Request) -> list[dict[str, Any]]:
        inventory = state.inventory()
        articles = select_articles(request, inventory)
        warehouse_ids = QueryArgs(request).texts("warehouseIds")
        if warehouse_ids and str(WAREHOUSE_ID) not in warehouse_ids:
            return []
        return [render_inventory_per_warehouse(a, inventory[a.number]) for a in articles]

    @router.get("/articles/{article_system_id}")
    async def get_article(request: Request, article_system_id: int) -> dict[str, Any]:
        owner_from_query(request, required=False)
        inventory = state.inventory()
        for article in state.articles.values():
            if article.system_id == article_system_id:
                return render_article(
                    article, inventory[article.number], state.goods_owner_id, state.goods_owner_name
                )
        raise OngoingApiError(404, f"Article with ID {article_system_id} does not exist")

    # -- orders -------------------------------------------------------------------------

    @router.put("/orders")
    async def put_order(request: Request) -> JSONResponse:
        body = await json_body(request)
        document = parse_body(OrderIn, body, f"Order {_field(body, 'orderNumber')}")
        check_owner(document.goods_owner_id)
        async with write_turn():
            order, created = state.upsert_order(document)
        message = f"Order number {order.number} created/updated"
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
        owner_from_query(request)
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
            for order in state.orders.values()
            if (not numbers or order.number in numbers)
            and (single is None or order.number == single)
            and (not articles or any(line.article.number in articles for line in order.lines))
            and _within(order.status, status_from, status_to)
            and _within(order.shipped_time, shipped_from, shipped_to)
            and _within(order.status_changed, changed_from, None)
            and _within(order.created, created_from, None)
            and _within(order.updated, updated_from, None)
            and _within(order.last_returned, returned_from, None)
            and (
                not to_report or any(line.picked != (line.reported or 0.0) for line in order.lines)
            )
            and (
                not to_report_returned
                or any(line.returned != (line.reported_returned or 0.0) for line in order.lines)
            )
        ]
        page = _page(
            selected,
            lambda o: o.order_id,
            args.integer("orderIdFrom"),
            args.integer("maxOrdersToGet"),
        )
        return [order_json(order) for order in page]

    @router.get("/orders/{order_id}")
    async def get_order(request: Request, order_id: int) -> dict[str, Any]:
        owner_from_query(request, required=False)
        return order_json(state.order_by_id(order_id))

    @router.delete("/orders/{order_id}")
    async def delete_order(request: Request, order_id: int) -> dict[str, Any]:
        owner_from_query(request, required=False)
        async with write_turn():
            order = state.cancel_order(order_id)
        return {"orderId": order.order_id, "message": f"Order {order.number} cancelled"}

    @router.patch("/orders/{order_id}/lines/{line_id}/reportedNumberOfItems")
    async def patch_reported(request: Request, order_id: int, line_id: int) -> dict[str, Any]:
        owner_from_query(request, required=False)
        body = parse_body(ReportedNumberIn, await json_body(request), f"Order line {line_id}")
        async with write_turn():
            state.report_picked(order_id, line_id, body.reported_number_of_items)
        return {"orderId": order_id, "message": f"Order line {line_id} updated"}

    @router.patch("/orders/{order_id}/lines/{line_id}/reportedReturnedNumberOfItems")
    async def patch_reported_returned(
        request: Request, order_id: int, line_id: int
    ) -> dict[str, Any]:
        owner_from_query(request, required=False)
        raw = await json_body(request)
        body = parse_body(ReportedReturnedNumberIn, raw, f"Order line {line_id}")
        async with write_turn():
            state.report_returned(order_id, line_id, body.reported_returned_number_of_items)
        return {"orderId": order_id, "message": f"Order line {line_id} updated"}

    @router.patch("/orders/{order_id}/setReportedNumberOfItemsToPickedNumberOfItems")
    async def patch_all_reported(request: Request, order_id: int) -> dict[str, Any]:
        owner_from_query(request, required=False)
        async with write_turn():
            state.report_all_picked(order_id)
        return {"orderId": order_id, "message": f"Order {order_id} updated"}

    @router.patch("/orders/{order_id}/setReportedReturnedNumberOfItemsToReturnedNumberOfItems")
    async def patch_all_reported_returned(request: Request, order_id: int) -> dict[str, Any]:
        owner_from_query(request, required=False)
        async with write_turn():
            state.report_all_returned(order_id)
        return {"orderId": order_id, "message": f"Order {order_id} updated"}

    # -- purchase orders ----------------------------------------------------------------

    @router.put("/purchaseOrders")
    async def put_purchase_order(request: Request) -> JSONResponse:
        body = await json_body(request)
        record = f"Purchase order {_field(body, 'purchaseOrderNumber')}"
        document = parse_body(PurchaseOrderIn, body, record)
        check_owner(document.goods_owner_id)
        async with write_turn():
            purchase_order, created = state.upsert_purchase_order(document)
        verb = "created" if created else "updated"
        return JSONResponse(
            {
                "purchaseOrderId": purchase_order.purchase_order_id,
                "message": f"Inorder with order number {purchase_order.number} {verb}. <br/>",
            },
            status_code=201 if created else 200,
        )

    @router.get("/purchaseOrders/statuses")
    async def purchase_order_statuses() -> dict[str, Any]:
        # The vendor example answers under "orderStatuses" for purchase orders too.
        return {
            "orderStatuses": [
                {"number": number, "text": text}
                for number, text in sorted(state.statuses.purchase_order.items())
            ]
        }

    @router.get("/purchaseOrders")
    async def get_purchase_orders(request: Request) -> list[dict[str, Any]]:
        owner_from_query(request)
        args = QueryArgs(request)
        numbers = set(args.texts("purchaseOrderNumbers"))
        single = args.text("purchaseOrderNumber")
        articles = set(args.texts("articleNumbers"))
        status_from = args.integer("purchaseOrderStatusFrom")
        status_to = args.integer("purchaseOrderStatusTo")
        received_from = args.time("lastReceiveTimeFrom")
        received_to = args.time("lastReceiveTimeTo")
        changed_from = args.time("purchaseOrderStatusChangedTimeFrom")
        to_report = args.flag("onlyPurchaseOrdersWithOrderLinesToReport")
        selected = [
            po
            for po in state.purchase_orders.values()
            if (not numbers or po.number in numbers)
            and (single is None or po.number == single)
            and (not articles or any(line.article.number in articles for line in po.lines))
            and _within(po.status, status_from, status_to)
            and _within(po.last_receive_time, received_from, received_to)
            and _within(po.status_changed, changed_from, None)
            and (not to_report or any(ln.received != (ln.reported or 0.0) for ln in po.lines))
        ]
        page = _page(
            selected,
            lambda p: p.purchase_order_id,
            args.integer("purchaseOrderIdFrom"),
            args.integer("maxPurchaseOrdersToGet"),
        )
        return [purchase_order_json(po) for po in page]

    @router.get("/purchaseOrders/{purchase_order_id}")
    async def get_purchase_order(request: Request, purchase_order_id: int) -> dict[str, Any]:
        owner_from_query(request, required=False)
        return purchase_order_json(state.purchase_order_by_id(purchase_order_id))

    @router.delete("/purchaseOrders/{purchase_order_id}")
    async def delete_purchase_order(request: Request, purchase_order_id: int) -> dict[str, Any]:
        owner_from_query(request, required=False)
        async with write_turn():
            purchase_order = state.cancel_purchase_order(purchase_order_id)
        return {
            "purchaseOrderId": purchase_order.purchase_order_id,
            "message": f"Inorder with order number {purchase_order.number} cancelled.",
        }

    @router.patch("/purchaseOrders/{purchase_order_id}/lines/{line_id}/reportedNumberOfItems")
    async def patch_po_reported(
        request: Request, purchase_order_id: int, line_id: int
    ) -> dict[str, Any]:
        owner_from_query(request, required=False)
        raw = await json_body(request)
        body = parse_body(ReportedNumberIn, raw, f"Purchase order line {line_id}")
        async with write_turn():
            state.report_received(purchase_order_id, line_id, body.reported_number_of_items)
        return {"purchaseOrderId": purchase_order_id, "message": f"Line {line_id} updated"}

    @router.patch(
        "/purchaseOrders/{purchase_order_id}/setReportedNumberOfItemsToReceivedNumberOfItems"
    )
    async def patch_po_all_reported(request: Request, purchase_order_id: int) -> dict[str, Any]:
        owner_from_query(request, required=False)
        async with write_turn():
            state.report_all_received(purchase_order_id)
        return {"purchaseOrderId": purchase_order_id, "message": "Purchase order updated"}

    # -- reference data -----------------------------------------------------------------

    @router.get("/transporterContracts")
    async def transporter_contracts(request: Request) -> list[dict[str, Any]]:
        owner_from_query(request)
        return render_transporter_contracts()

    @router.get("/warehouses")
    async def warehouses() -> list[dict[str, Any]]:
        return [{"id": WAREHOUSE_ID, "code": warehouse, "name": warehouse}]

    return router


def _field(body: Any, name: str) -> str:
    value = body.get(name) if isinstance(body, dict) else None
    return "(no " + name + ")" if value is None else str(value)
