"""The control API under ``/_emulator/``: seed, play the merchant, break things, read back.

Thin wrappers over the world's methods (which tests may call directly), with pydantic
bodies so every route shows up in the app's OpenAPI at ``/docs``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from .model import BundleMode, Shipment
from .specs import (
    AddressSpec,
    CatalogueSpec,
    OrderSpec,
    ProductChange,
    ProductSpec,
    StoreSpec,
    SupplierDeliverySpec,
    SupplierOrderSpec,
    WarehouseSpec,
)
from .state import Refusal
from .views import (
    delivery_view,
    order_view,
    shipment_view,
    store_view,
    warehouse_view,
    write_view,
)
from .webhooks import WebhookPlugin, WebhookPluginSettings, WebhookSender, WebhookSettings
from .world import World

if TYPE_CHECKING:
    from .app import CentraEmulator

__all__ = ["control_router"]


def control_router(emulator: CentraEmulator) -> APIRouter:
    """The control routes, one group per resource."""
    world = emulator.world
    router = APIRouter(prefix="/_emulator", tags=["control"])
    _data_set_routes(router, emulator)
    _store_routes(router, world)
    _catalogue_routes(router, world)
    _order_routes(router, world)
    _shipment_routes(router, world)
    _webhook_routes(router, world, emulator.webhooks)
    _supplier_routes(router, world)
    _write_routes(router, world)
    return router


# -- data set -------------------------------------------------------------------------------


class SeedRequest(BaseModel):
    name: Literal["demo", "default"] | None = Field(None, description="a built-in data set")
    catalogue: CatalogueSpec | None = Field(None, description="or: a posted catalogue")


def _data_set_routes(router: APIRouter, emulator: CentraEmulator) -> None:
    @router.post("/reset")
    async def reset() -> dict[str, Any]:
        """Back to the start-up data set; webhook settings, deliveries and faults cleared."""
        return emulator.reset()

    @router.post("/seed")
    async def seed(body: SeedRequest) -> dict[str, Any]:
        if body.catalogue is not None:
            return emulator.load_catalogue(body.catalogue)
        return emulator.load(body.name or "default")

    @router.get("/seed-summary")
    async def seed_summary() -> dict[str, Any]:
        return emulator.seed_summary


# -- stores and warehouses ------------------------------------------------------------------


class AllowListRequest(BaseModel):
    endpoints: list[str] | None = Field(
        description="first path segments after /api/<uri>/, e.g. ['shipments', 'capture']; "
        "null allows every endpoint"
    )


class StoreChange(BaseModel):
    bundles_in_shipments: BundleMode | None = Field(
        None, description="only_items, items_in_bundles, only_bundles or bundles_and_items"
    )
    bundles_in_orders: BundleMode | None = None


def _store_routes(router: APIRouter, world: World) -> None:
    @router.get("/stores")
    async def stores() -> list[dict[str, Any]]:
        return [store_view(s) for s in world.stores.values()]

    @router.post("/stores")
    async def create_store(body: StoreSpec) -> dict[str, Any]:
        return store_view(world.add_store(body))

    @router.patch("/stores/{uri}")
    async def change_store(uri: str, body: StoreChange) -> dict[str, Any]:
        """The plugin's "Bundles in shipments" / "Bundles in orders" settings."""
        store = world.set_bundle_modes(
            uri, shipments=body.bundles_in_shipments, orders=body.bundles_in_orders
        )
        return store_view(store)

    @router.put("/stores/{uri}/allowed-endpoints")
    async def allow_list(uri: str, body: AllowListRequest) -> dict[str, Any]:
        return store_view(world.set_allowed_endpoints(uri, body.endpoints))

    @router.get("/warehouses")
    async def warehouses() -> list[dict[str, Any]]:
        return [warehouse_view(w) for w in world.warehouses.values()]

    @router.post("/warehouses")
    async def create_warehouse(body: WarehouseSpec) -> dict[str, Any]:
        warehouse = world.add_warehouse(body)
        return warehouse_view(warehouse)


# -- catalogue and stock --------------------------------------------------------------------


class ProductsRequest(BaseModel):
    products: list[ProductSpec] = Field(min_length=1)


class StockRequest(BaseModel):
    ean: str
    warehouse_id: int
    physical: int = Field(ge=0)


def _catalogue_routes(router: APIRouter, world: World) -> None:
    @router.post("/products")
    async def add_products(body: ProductsRequest) -> list[dict[str, Any]]:
        added = [world.add_product(spec) for spec in body.products]
        return [
            {
                "productId": p.id,
                "sku": p.sku,
                "sizes": [
                    {"stockItemId": s.id, "ean": s.ean, "sku": f"{p.sku}{v.sku}{s.sku}"}
                    for v in p.variants
                    for s in v.sizes
                ],
            }
            for p in added
        ]

    @router.patch("/products/{product_id}")
    async def update_product(product_id: int, body: ProductChange) -> dict[str, Any]:
        """Edit a product as staff would; it shows up in the next ``modified`` delta."""
        product = world.update_product(product_id, body)
        return {"productId": product.id, "sku": product.sku, "modified": product.modified_at}

    @router.get("/stock/{ean}")
    async def stock(ean: str) -> dict[str, Any]:
        ref = world.size_by_ean(ean, record=f"stock {ean}")
        return {
            "ean": ean,
            "stockItemId": ref.size.id,
            "warehouses": [
                {"warehouse_id": wid, "physical": level.physical, "allocated": level.allocated}
                for (wid, sid), level in sorted(world.stock.items())
                if sid == ref.size.id
            ],
        }

    @router.post("/stock")
    async def set_stock(body: StockRequest) -> dict[str, Any]:
        ref = world.size_by_ean(body.ean, record=f"stock {body.ean}")
        value = world.set_physical(body.warehouse_id, ref.size.id, body.physical)
        return {"ean": body.ean, "warehouse_id": body.warehouse_id, "physical": value}


# -- orders ---------------------------------------------------------------------------------


class OrderUpdateRequest(BaseModel):
    delivery: AddressSpec | None = None
    other_comment: str | None = None
    internal_comment: str | None = None
    hold: bool | None = None


class DeclineRequest(BaseModel):
    declines: bool = Field(True, description="the fake PSP declines every capture attempt")


class ShipmentRequest(BaseModel):
    lines: dict[int, int] | None = Field(
        None, description="lineId -> qty; default: everything not yet on a shipment"
    )
    gtg: bool = True
    capture: bool = Field(False, description="capture now (as if paid at creation)")


def _conflict(refusal: Refusal) -> HTTPException:
    return HTTPException(status_code=409, detail=refusal.msg)


class OrdersRequest(BaseModel):
    orders: list[OrderSpec] = Field(min_length=1, max_length=10_000)


def _order_routes(router: APIRouter, world: World) -> None:
    @router.post("/orders")
    async def place_order(body: OrderSpec) -> dict[str, Any]:
        return order_view(world, world.place_order(body))

    @router.post("/orders/bulk")
    async def place_orders(body: OrdersRequest) -> dict[str, Any]:
        """Orders placed one by one exactly as ``POST /orders`` places each, in one request:
        a history of 100,000 orders for a back-fill is 20 requests, not 100,000. A refusal
        names its order; the ones before it stay placed."""
        numbers = [world.place_order(spec).number for spec in body.orders]
        return {"placed": len(numbers), "numbers": numbers}

    @router.get("/orders/{number}")
    async def get_order(number: int) -> dict[str, Any]:
        world.expire_due()
        return order_view(world, world.order(number))

    @router.patch("/orders/{number}")
    async def update_order(number: int, body: OrderUpdateRequest) -> dict[str, Any]:
        """Edit an order as staff would; emits an order ``update`` webhook event."""
        order = world.update_order(
            number,
            delivery=body.delivery,
            other_comment=body.other_comment,
            internal_comment=body.internal_comment,
            hold=body.hold,
        )
        return order_view(world, order)

    @router.post("/orders/{number}/cancel")
    async def cancel_order(number: int) -> dict[str, Any]:
        return order_view(world, world.cancel_order(number))

    @router.put("/orders/{number}/capture")
    async def order_capture(number: int, body: DeclineRequest) -> dict[str, Any]:
        return order_view(world, world.set_order_capture_declines(number, body.declines))

    @router.post("/orders/{number}/shipments")
    async def create_shipment(number: int, body: ShipmentRequest) -> dict[str, Any]:
        order = world.order(number)
        lines = body.lines
        if lines is None:
            lines = {ln.id: world.unshipped(order, ln) for ln in world.physical_lines(order)}
        try:
            shipment = world.create_shipment(
                world.stores[order.store_uri],
                number,
                lines,
                gtg=body.gtg,
                capture=body.capture,
                via="control",
            )
        except Refusal as refusal:
            raise _conflict(refusal) from None
        return shipment_view(world, shipment)


# -- shipments ------------------------------------------------------------------------------


def _shipment_routes(router: APIRouter, world: World) -> None:
    @router.get("/shipments")
    async def shipments() -> list[dict[str, Any]]:
        """Every shipment with its internal id (webhook ``id``) and number (``"N-k"``)."""
        return [shipment_view(world, s) for s in sorted(world.shipments.values(), key=_by_id)]

    @router.get("/shipments/{ref}")
    async def get_shipment(ref: str) -> dict[str, Any]:
        return shipment_view(world, world.shipment(ref))

    @router.post("/shipments/{ref}/good-to-go")
    async def good_to_go(ref: str) -> dict[str, Any]:
        return shipment_view(world, world.make_good_to_go(ref))

    @router.post("/shipments/{ref}/cancel")
    async def cancel_shipment(ref: str) -> dict[str, Any]:
        try:
            return shipment_view(world, world.cancel_shipment(ref))
        except Refusal as refusal:
            raise _conflict(refusal) from None

    @router.put("/shipments/{ref}/capture")
    async def shipment_capture(ref: str, body: DeclineRequest) -> dict[str, Any]:
        return shipment_view(world, world.set_shipment_capture_declines(ref, body.declines))


def _by_id(shipment: Shipment) -> int:
    return shipment.id


# -- webhooks -------------------------------------------------------------------------------


def _masked(settings: WebhookPluginSettings) -> dict[str, Any]:
    shown = settings.model_dump()
    shown["secret"] = "***" if shown["secret"] else None
    return shown


def _plugin_view(plugin: WebhookPlugin) -> dict[str, Any]:
    return {"id": plugin.id, "store": plugin.store, **_masked(plugin.settings)}


def _webhook_routes(router: APIRouter, world: World, webhooks: WebhookSender) -> None:
    @router.get("/webhook")
    async def webhook() -> dict[str, Any]:
        """The emulator-wide plugin: one target for every store (or the one in ``store``)."""
        return _masked(webhooks.settings)

    @router.put("/webhook")
    async def configure_webhook(body: WebhookSettings) -> dict[str, Any]:
        webhooks.configure(body)
        return await webhook()

    @router.get("/webhook/deliveries")
    async def deliveries() -> list[dict[str, Any]]:
        return [d.as_dict() for d in webhooks.deliveries]

    @router.delete("/webhook/deliveries")
    async def forget_deliveries() -> dict[str, Any]:
        webhooks.deliveries.clear()
        return {"deliveries": []}

    @router.get("/stores/{uri}/webhooks")
    async def store_webhooks(uri: str) -> list[dict[str, Any]]:
        """The store's webhook plugins, each with its own URL, secret, version, triggers."""
        world.store(uri)
        return [_plugin_view(p) for p in webhooks.plugins(uri)]

    @router.post("/stores/{uri}/webhooks")
    async def add_store_webhook(uri: str, body: WebhookPluginSettings) -> dict[str, Any]:
        world.store(uri)
        return _plugin_view(webhooks.add_plugin(uri, body))

    @router.put("/stores/{uri}/webhooks/{plugin_id}")
    async def change_store_webhook(
        uri: str, plugin_id: int, body: WebhookPluginSettings
    ) -> dict[str, Any]:
        plugin = _store_plugin(webhooks, uri, plugin_id)
        webhooks.update_plugin(plugin, body)
        return _plugin_view(plugin)

    @router.delete("/stores/{uri}/webhooks/{plugin_id}")
    async def remove_store_webhook(uri: str, plugin_id: int) -> dict[str, Any]:
        webhooks.remove_plugin(_store_plugin(webhooks, uri, plugin_id))
        return {"removed": plugin_id}

    @router.post("/webhook/drain")
    async def drain() -> dict[str, Any]:
        """Wait until every queued webhook call is delivered, retried out or dropped."""
        await webhooks.drain()
        return {"deliveries": len(webhooks.deliveries)}


def _store_plugin(webhooks: WebhookSender, uri: str, plugin_id: int) -> WebhookPlugin:
    plugin = webhooks.plugin(uri, plugin_id)
    if plugin is None:
        raise HTTPException(status_code=404, detail=f"store {uri} has no webhook {plugin_id}")
    return plugin


# -- supplier orders and deliveries ---------------------------------------------------------


def _supplier_routes(router: APIRouter, world: World) -> None:
    @router.post("/supplier-orders")
    async def supplier_order(body: SupplierOrderSpec) -> dict[str, Any]:
        order = world.add_supplier_order(body)
        return {"orderId": order.id, "warehouse_id": order.warehouse_id}

    @router.post("/supplier-orders/{order_id}/deliveries")
    async def supplier_delivery(order_id: int, body: SupplierDeliverySpec) -> dict[str, Any]:
        return delivery_view(world, world.add_supplier_delivery(order_id, body))

    @router.get("/supplier-deliveries")
    async def supplier_deliveries() -> list[dict[str, Any]]:
        return [delivery_view(world, d) for d in world.supplier_deliveries.values()]


# -- what integrations wrote ----------------------------------------------------------------


WRITE_KINDS = (
    "captures",
    "completions",
    "shipment_creations",
    "shipment_updates",
    "shipment_deletions",
    "returns",
    "return_updates",
    "stock_writes",
    "supplier_acceptances",
    "order_creations",
    "order_completions",
    "order_updates",
    "check_first",
    "allocation_requests",
)


def _write_routes(router: APIRouter, world: World) -> None:
    @router.get("/writes")
    async def writes() -> dict[str, list[dict[str, Any]]]:
        """Everything integrations wrote, grouped by kind."""
        return {kind: [write_view(w) for w in world.written(kind)] for kind in WRITE_KINDS}

    @router.get("/writes/{kind}")
    async def writes_of(kind: str) -> list[dict[str, Any]]:
        if kind not in WRITE_KINDS:
            raise HTTPException(status_code=404, detail=f"kinds: {', '.join(WRITE_KINDS)}")
        return [write_view(w) for w in world.written(kind)]
