"""Order API routes for orders: list, update, and create (one, several) and complete.

Creating orders is what an ERP, a POS or a marketplace does through the Order API; the
orders are paid elsewhere. See :mod:`.order_intake` for how a body becomes an order.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from .api_common import (
    StoreGuard,
    api_router,
    as_bool,
    as_int,
    in_window,
    json_body,
    ok,
    query_int,
    query_time,
)
from .model import Store
from .order_intake import order_dates, payment_fields, place
from .state import Refusal
from .wire import order_node
from .world import World

__all__ = ["order_router"]


def _complete(world: World, store: Store, ref: str, body: dict[str, Any]) -> dict[str, Any]:
    """Complete Order: finalise a createOnly order; on any order, save payment details."""
    order = world.store_order(store, as_int(ref, "orderId"))
    if order is None:
        raise Refusal("order does not exist")  # [I]
    for name, moment in order_dates(body, store).items():
        setattr(order, name, moment)
    payment = payment_fields(body.get("payment"))
    order.payment_reference = payment.get("payment_reference", order.payment_reference)
    order.payment_method = payment.get("payment_method", order.payment_method)
    order.paid_elsewhere = order.paid_elsewhere or bool(payment.get("paid_elsewhere"))
    if body.get("poNumber") is not None:
        order.po_number = str(body["poNumber"])
    for key, name in (("internalComment", "internal_comment"), ("comment", "other_comment")):
        if body.get(key):
            current = getattr(order, name)
            setattr(order, name, f"{current}\n{body[key]}" if current else str(body[key]))
    world.complete_order(order)
    world.record("order_completions", store.uri, order=order.number, body=body)
    return ok(orders=[str(order.number)])


def order_router(world: World) -> APIRouter:
    router = api_router()
    guard = Depends(StoreGuard(world))

    @router.get("/orders")
    async def get_orders(request: Request, store: Store = guard) -> dict[str, Any]:
        limit = query_int(request, "limit", 20) or 20
        offset = query_int(request, "offset", 0) or 0
        order_filter = query_int(request, "order", None)
        customer = query_int(request, "customer_id", None)
        newer = query_time(request, "newer_than", store)
        older = query_time(request, "older_than", store)
        found = [
            o
            for o in world.orders.values()
            if o.store_uri == store.uri
            and o.status in store.order_statuses
            and order_filter in (None, o.number)
            and customer in (None, o.customer_id)
            and in_window(o.created_at, newer, older)
        ]
        # [I] The order of GET /orders is undocumented: ascending order number.
        found.sort(key=lambda o: o.number)
        page = found[offset : offset + limit]
        return ok(orders=[order_node(world, store, o) for o in page])

    @router.put("/orders")
    async def update_order(request: Request, store: Store = guard) -> dict[str, Any]:
        body = await json_body(request)
        if body.get("order") in (None, ""):
            raise Refusal("order is required")  # [I]
        number = as_int(body["order"], "order")
        extra = body.get("extraAttributes")
        if extra is not None and not isinstance(extra, dict):
            raise Refusal("extraAttributes must be an object", order=number)  # [I]
        world.edit_order(
            store,
            number,
            internal_comment=(
                None if body.get("internalComment") is None else str(body["internalComment"])
            ),
            replace_internal_comment=as_bool(body.get("replaceInternalComment"), False),
            comment=None if body.get("comment") is None else str(body["comment"]),
            replace_comment=as_bool(body.get("replaceComment"), False),
            extra_attributes=extra or {},
        )
        return ok(order=number)

    @router.post("/order")
    async def create_order(request: Request, store: Store = guard) -> dict[str, Any]:
        return place(world, store, await json_body(request))

    @router.post("/orders")
    async def create_orders(request: Request, store: Store = guard) -> dict[str, Any]:
        """Each named order on its own: one refused does not stop the others."""
        answers: dict[str, Any] = {}
        for name, body in (await json_body(request)).items():
            if name == "xml":
                continue  # the output switch, not an order
            try:
                answers[name] = place(world, store, body)
            except Refusal as refusal:
                answers[name] = {"status": "no", "msg": refusal.msg, **refusal.echo}
        return answers

    @router.post("/order/{order_id}")
    async def complete_order(
        request: Request, order_id: str, store: Store = guard
    ) -> dict[str, Any]:
        return _complete(world, store, order_id, await json_body(request))

    return router
