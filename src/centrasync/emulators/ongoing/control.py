"""The warehouse-operator control API under ``/_emulator/``: thin wrappers over the state.

Orders and purchase orders are addressed by *our* numbers (the ``orderNumber`` and
``purchaseOrderNumber`` the client sent), because that is what a test knows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from centrasync.emulators.ongoing.floor import (
    AutoOperatorSettings,
    LineQuantity,
    OngoingState,
    ParcelRequest,
    PickRequest,
    ReturnRequest,
)
from centrasync.emulators.ongoing.render import (
    render_article,
    render_order,
    render_purchase_order,
    render_return_order,
)

__all__ = ["control_router", "snapshot"]


def control_router(state: OngoingState, on_auto_operator_change: Callable[[], None]) -> APIRouter:
    """Build the control routes; ``on_auto_operator_change`` wakes the background operator."""
    router = APIRouter(prefix="/_emulator", tags=["warehouse operator"])
    _state_routes(router, state)
    _order_routes(router, state)
    _purchase_order_routes(router, state)
    _return_order_routes(router, state)
    _stock_routes(router, state)
    _auto_operator_routes(router, state, on_auto_operator_change)
    return router


# -- the whole state ------------------------------------------------------------------------


def snapshot(state: OngoingState) -> dict[str, Any]:
    """Everything the emulator holds, in the REST shapes, for read-back in tests."""
    inventory = state.inventory()
    settings = state.auto_operator
    return {
        "goodsOwnerId": state.goods_owner_id,
        "articles": [
            render_article(a, inventory[a.number], state.site) for a in state.articles.values()
        ],
        "orders": [render_order(o, state.statuses, state.site) for o in state.orders.values()],
        "purchaseOrders": [
            render_purchase_order(p, state.statuses, state.site)
            for p in state.purchase_orders.values()
        ],
        "returnOrders": [
            render_return_order(r, state.statuses, state.site) for r in state.return_orders.values()
        ],
        "autoOperator": {
            "interval": settings.interval,
            "shortPickOrderNumbers": sorted(settings.short_pick_order_numbers),
            "heldOrderNumbers": sorted(settings.held_order_numbers),
            "heldPurchaseOrderNumbers": sorted(settings.held_purchase_order_numbers),
        },
        "openingStockWaiting": dict(sorted(state.opening_stock.items())),
    }


def _state_routes(router: APIRouter, state: OngoingState) -> None:
    @router.post("/reset")
    async def reset() -> dict[str, Any]:
        state.reset()
        return {"reset": True}

    @router.get("/state")
    async def read_state() -> dict[str, Any]:
        return snapshot(state)


# -- orders: allocate, pick, ship, return ---------------------------------------------------


class PickLine(BaseModel):
    article_number: str
    quantity: float = Field(ge=0)
    serial_numbers: list[str] = Field(default_factory=list)


class PickBody(BaseModel):
    lines: list[PickLine] | None = Field(None, description="null = pick every line in full")


class ParcelBody(BaseModel):
    tracking_number: str
    tracking_url: str | None = None
    parcel_number: str | None = None
    weight: float | None = None


class ShipBody(BaseModel):
    parcels: list[ParcelBody] | None = Field(
        None, description="omitted = one invented parcel with tracking number and URL"
    )
    transporter_code: str | None = None
    service_code: str | None = None


class ReturnLine(BaseModel):
    article_number: str
    quantity: float = Field(gt=0)
    cause: str | None = None


class ReturnBody(BaseModel):
    lines: list[ReturnLine]


class ReturnOrderBody(BaseModel):
    return_order_number: str | None = Field(
        None, description="omitted = <order number>-R<n>, the order's n-th return order"
    )
    lines: list[ReturnLine] = Field(min_length=1)


class TakeBackBody(BaseModel):
    lines: list[ReturnLine] | None = Field(
        None, description="null = everything the return order still expects"
    )


class StatusBody(BaseModel):
    status: int


def _return_requests(lines: list[ReturnLine]) -> list[ReturnRequest]:
    return [ReturnRequest(line.article_number, line.quantity, line.cause) for line in lines]


def _order_routes(router: APIRouter, state: OngoingState) -> None:
    def order_view(order_number: str) -> dict[str, Any]:
        return render_order(state.order_by_number(order_number), state.statuses, state.site)

    @router.post("/orders/ship-open")
    async def ship_open() -> dict[str, Any]:
        """Allocate, pick in full and ship every open order (the whole queue at once)."""
        shipped = state.ship_open_orders()
        return {"shipped": len(shipped), "orderNumbers": shipped}

    @router.post("/orders/{order_number}/allocate")
    async def allocate(order_number: str) -> dict[str, Any]:
        state.allocate(order_number)
        return order_view(order_number)

    @router.post("/orders/{order_number}/pick")
    async def pick(order_number: str, body: PickBody | None = None) -> dict[str, Any]:
        lines = None if body is None else body.lines
        picks = None
        if lines is not None:
            picks = [
                PickRequest(line.article_number, line.quantity, tuple(line.serial_numbers))
                for line in lines
            ]
        state.pick(order_number, picks)
        return order_view(order_number)

    @router.post("/orders/{order_number}/ship")
    async def ship(order_number: str, body: ShipBody | None = None) -> dict[str, Any]:
        body = body or ShipBody()
        parcels = [
            ParcelRequest(p.tracking_number, p.tracking_url, p.parcel_number, p.weight)
            for p in body.parcels or []
        ]
        state.ship(order_number, parcels, body.transporter_code, body.service_code)
        return order_view(order_number)

    @router.post("/orders/{order_number}/return")
    async def return_goods(order_number: str, body: ReturnBody) -> dict[str, Any]:
        state.return_goods(order_number, _return_requests(body.lines))
        return order_view(order_number)

    @router.post("/orders/{order_number}/return-order")
    async def open_return_order(order_number: str, body: ReturnOrderBody) -> dict[str, Any]:
        """Goods came back unannounced: the warehouse registers a return order for them on
        the shipped order and books them on it (not on the order's own lines)."""
        return_order = state.open_return_order(
            order_number, body.return_order_number, _return_requests(body.lines)
        )
        return render_return_order(return_order, state.statuses, state.site)

    @router.post("/orders/{order_number}/status")
    async def set_status(order_number: str, body: StatusBody) -> dict[str, Any]:
        state.set_order_status(order_number, body.status)
        return order_view(order_number)


# -- purchase orders: receive ---------------------------------------------------------------


class ReceiveLine(BaseModel):
    article_number: str
    quantity: float = Field(gt=0)


class ReceiveBody(BaseModel):
    lines: list[ReceiveLine] | None = Field(None, description="null = everything outstanding")


def _purchase_order_routes(router: APIRouter, state: OngoingState) -> None:
    @router.post("/purchase-orders/{purchase_order_number}/receive")
    async def receive(
        purchase_order_number: str, body: ReceiveBody | None = None
    ) -> dict[str, Any]:
        lines = None if body is None else body.lines
        receipts = (
            None
            if lines is None
            else [LineQuantity(line.article_number, line.quantity) for line in lines]
        )
        purchase_order = state.receive(purchase_order_number, receipts)
        return render_purchase_order(purchase_order, state.statuses, state.site)


# -- return orders: take goods back ---------------------------------------------------------


def _return_order_routes(router: APIRouter, state: OngoingState) -> None:
    @router.post("/return-orders/{return_order_number}/return")
    async def take_back(
        return_order_number: str, body: TakeBackBody | None = None
    ) -> dict[str, Any]:
        """Goods came back on an announced return order (one a client PUT)."""
        lines = None if body is None else body.lines
        requests = None if lines is None else _return_requests(lines)
        return_order = state.take_back(return_order_number, requests)
        return render_return_order(return_order, state.statuses, state.site)


# -- stock counts ---------------------------------------------------------------------------


class StockAdjustBody(BaseModel):
    article_number: str
    number_of_items: float = Field(ge=0, description="the counted physical stock")
    locked_number_of_items: float | None = Field(None, ge=0)


class OpeningStockBody(BaseModel):
    articles: dict[str, float] = Field(
        description="article number: physical count, applied when the article is created"
    )


def _stock_routes(router: APIRouter, state: OngoingState) -> None:
    @router.post("/stock/adjust")
    async def adjust_stock(body: StockAdjustBody) -> dict[str, Any]:
        state.adjust_stock(body.article_number, body.number_of_items, body.locked_number_of_items)
        article = state.article_by_number(body.article_number)
        return render_article(article, state.inventory()[article.number], state.site)

    @router.put("/stock/opening")
    async def opening_stock(body: OpeningStockBody) -> dict[str, int]:
        counted, waiting = state.set_opening_stock(body.articles)
        return {"counted": counted, "waiting": waiting}


# -- the auto-operator ----------------------------------------------------------------------


class AutoOperatorBody(BaseModel):
    interval: float | None = Field(None, gt=0, description="seconds between steps; null = off")
    short_pick_order_numbers: list[str] = Field(default_factory=list)
    held_order_numbers: list[str] = Field(
        default_factory=list, description="orders the operator leaves alone"
    )
    held_purchase_order_numbers: list[str] = Field(
        default_factory=list, description="in-orders the operator does not receive"
    )


def _auto_operator_routes(
    router: APIRouter, state: OngoingState, on_change: Callable[[], None]
) -> None:
    @router.put("/auto-operator")
    async def auto_operator(body: AutoOperatorBody) -> dict[str, Any]:
        state.auto_operator = AutoOperatorSettings(
            body.interval,
            frozenset(body.short_pick_order_numbers),
            frozenset(body.held_order_numbers),
            frozenset(body.held_purchase_order_numbers),
        )
        on_change()
        return {
            "interval": body.interval,
            "shortPickOrderNumbers": sorted(body.short_pick_order_numbers),
            "heldOrderNumbers": sorted(body.held_order_numbers),
            "heldPurchaseOrderNumbers": sorted(body.held_purchase_order_numbers),
        }

    @router.post("/auto-operator/step")
    async def auto_operator_step() -> dict[str, Any]:
        return {"did": await state.operator_step()}
