"""Order API routes for orders: the listing of a store's orders."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from .api_common import StoreGuard, api_router, in_window, ok, query_int, query_time
from .model import Store
from .wire import order_node
from .world import World

__all__ = ["order_router"]


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

    return router
