"""Order API routes for products, stock, supplier orders and supplier deliveries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request

from .api_common import (
    StoreGuard,
    api_router,
    as_amount,
    as_bool,
    as_int,
    json_body,
    ok,
    query_int,
    query_time,
)
from .model import SizeRef, Store
from .state import Refusal
from .wire import delivery_node, product_row, stock_row, supplier_order_node
from .world import StockWrite, World

__all__ = ["catalogue_router"]

_FILTER_KEYS = ("sku", "ean", "upc", "productId", "variantId", "stockItemId")


def _rows(world: World, request: Request, store: Store, *, stock: bool) -> list[SizeRef]:
    q = request.query_params
    modified = query_time(request, "modified", store)
    created = query_time(request, "created", store)
    stock_modified = query_time(request, "stock_modified", store) if stock else None
    found = []
    for ref in sorted(world.sizes.values(), key=lambda r: r.size.id):
        values = {
            "sku": ref.product.sku,
            "ean": ref.size.ean,
            "upc": ref.size.upc,
            "productId": str(ref.product.id),
            "variantId": str(ref.variant.id),
            "stockItemId": str(ref.size.id),
        }
        if any(q.get(key) not in (None, values[key]) for key in _FILTER_KEYS):
            continue
        if modified is not None and ref.product.modified_at < modified:
            continue
        if created is not None and ref.product.created_at < created:
            continue
        if stock_modified is not None:
            changed = world.stock_modified(store, ref.size.id)
            if changed is None or changed < stock_modified:
                continue
        found.append(ref)
    return found


def _paged(
    request: Request, refs: list[SizeRef], build: Callable[[SizeRef], dict[str, Any]]
) -> dict[str, Any]:
    """``limit`` + ``page``, with relative ``previous`` / ``next`` query strings."""
    limit = query_int(request, "limit", None)
    if limit is None:
        return ok(products=[build(r) for r in refs])
    if limit < 1:
        raise Refusal("limit must be a positive number")  # [I]
    page = max(1, query_int(request, "page", 1) or 1)
    chunk = refs[(page - 1) * limit : page * limit]
    result = ok(products=[build(r) for r in chunk])
    # [I] The docs' example shows only limit and page; other filters are kept in front so a
    # client that follows the link stays inside its filtered set.
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("limit", "page")]
    if page > 1:
        result["previous"] = "?" + urlencode([*kept, ("limit", limit), ("page", page - 1)])
    if page * limit < len(refs):
        result["next"] = "?" + urlencode([*kept, ("limit", limit), ("page", page + 1)])
    return result


def _keyed(world: World, raw: Any, *, by_sku: bool) -> dict[int, int]:
    if not isinstance(raw, dict) or not raw:
        raise Refusal("products must be an object of product: quantity")  # [I]
    received: dict[int, int] = {}
    for key, qty in raw.items():
        ref = world.find_size(str(key))
        if ref is None or str(key) != (ref.physical_sku if by_sku else ref.size.ean):
            raise Refusal(f"product {key} not found")  # [I]
        received[ref.size.id] = received.get(ref.size.id, 0) + as_int(qty, "quantity")
    return received


def catalogue_router(world: World) -> APIRouter:
    router = api_router()
    guard = Depends(StoreGuard(world))

    @router.get("/products")
    async def get_products(request: Request, store: Store = guard) -> dict[str, Any]:
        """One row per size."""
        refs = _rows(world, request, store, stock=False)
        return _paged(request, refs, lambda r: product_row(world, store, r))

    @router.get("/stock")
    async def get_stock(request: Request, store: Store = guard) -> dict[str, Any]:
        refs = _rows(world, request, store, stock=True)
        physical = request.query_params.get("exclude") != "physicalStock"
        return _paged(request, refs, lambda r: stock_row(world, store, r, physical=physical))

    @router.post("/stock")
    async def post_stock(request: Request, store: Store = guard) -> dict[str, Any]:
        """Absolute physical stock in the primary warehouse; below allocated clamps."""
        body = await json_body(request)
        items = body.get("products")
        if not isinstance(items, list):
            raise Refusal("products must be a list")  # [I]
        rows: list[StockWrite] = []
        for item in items:
            if not isinstance(item, dict) or item.get("product") in (None, ""):
                raise Refusal("every product needs product and quantity")  # [I]
            cost, currency = item.get("costPrice"), item.get("costPriceCurrency")
            rows.append(
                StockWrite(
                    product=str(item["product"]),
                    quantity=as_int(item.get("quantity"), "quantity"),
                    cost_price=None if cost is None else as_amount(cost, "costPrice"),
                    cost_currency=None if currency in (None, "") else str(currency),
                )
            )
        result = world.write_stock(store, rows)
        if result.not_found or result.bundles:
            errors: dict[str, list[str]] = {}
            if result.not_found:
                errors["productsNotFound"] = result.not_found
            if result.bundles:
                errors["productsAreBundles"] = result.bundles
            return {
                "status": "no",
                "msg": "Some of the products were not updated",
                "errors": errors,
            }
        return ok()

    @router.get("/supplier-orders")
    async def supplier_orders(store: Store = guard) -> dict[str, Any]:
        visible = [o for o in world.supplier_orders.values() if o.confirmed]
        return ok(orders=[supplier_order_node(world, store, o, products=False) for o in visible])

    @router.get("/supplier-orders/{order_id}")
    async def supplier_order(order_id: str, store: Store = guard) -> dict[str, Any]:
        order = world.supplier_orders.get(as_int(order_id, "order"))
        if order is None or not order.confirmed:
            raise Refusal("supplier order does not exist")  # [I]
        return ok(order=supplier_order_node(world, store, order, products=True))

    for prefix in ("supplier-deliveries", "supplier-delivery"):
        _delivery_routes(router, world, guard, prefix)
    return router


def _delivery_routes(router: APIRouter, world: World, guard: Any, prefix: str) -> None:
    """Both spellings appear in Centra's docs; the emulator serves both [I]."""

    @router.get(f"/{prefix}")
    async def deliveries(store: Store = guard) -> dict[str, Any]:
        listed = [
            delivery_node(world, store, d, products=False)
            for d in world.supplier_deliveries.values()
            if d.accepted_at is None and d.quantities and world.delivery_visible(store, d)
        ]
        return ok(deliveries=listed)

    @router.get(f"/{prefix}/{{ref}}")
    async def delivery(ref: str, store: Store = guard) -> dict[str, Any]:
        found = world.store_delivery(store, ref)
        if found is None:
            raise Refusal("delivery does not exist")  # [I]
        return ok(delivery=delivery_node(world, store, found, products=True))

    @router.get(f"/{prefix}/{{ref}}/details")
    async def delivery_details(ref: str, store: Store = guard) -> dict[str, Any]:
        found = world.store_delivery(store, ref)
        if found is None:
            raise Refusal("delivery does not exist")  # [I]
        return ok(delivery=delivery_node(world, store, found, products=True, details=True))

    async def accept(request: Request, store: Store, ref: str, *, by_sku: bool) -> dict[str, Any]:
        body = await json_body(request)
        received = _keyed(world, body.get("products"), by_sku=by_sku)
        additional = world.accept_delivery(
            store, ref, received, insert_stock=as_bool(body.get("insertStock"), True)
        )
        if additional is None:
            return ok()
        return ok(additionalDelivery=delivery_node(world, store, additional, products=True))

    @router.post(f"/{prefix}/{{ref}}")
    async def accept_by_ean(request: Request, ref: str, store: Store = guard) -> dict[str, Any]:
        return await accept(request, store, ref, by_sku=False)

    @router.post(f"/{prefix}/{{ref}}/sku")
    async def accept_by_sku(request: Request, ref: str, store: Store = guard) -> dict[str, Any]:
        return await accept(request, store, ref, by_sku=True)
