"""The REST subset of Ongoing WMS served under ``/{warehouse}/api/v1/``, one module a resource.

Articles (:mod:`.article_api`), orders (:mod:`.order_api`), purchase orders
(:mod:`.purchase_order_api`) and return orders (:mod:`.return_order_api`) share the auth,
goods-owner checks, write lane and input parsing of :mod:`.api_common`; the reference
data the connector reads lives here.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from centrasync.emulators.ongoing.api_common import BasicAuth, GoodsOwner
from centrasync.emulators.ongoing.article_api import add_article_routes
from centrasync.emulators.ongoing.floor import OngoingState
from centrasync.emulators.ongoing.order_api import add_order_routes
from centrasync.emulators.ongoing.purchase_order_api import add_purchase_order_routes
from centrasync.emulators.ongoing.render import render_transporter_contracts, render_warehouse
from centrasync.emulators.ongoing.return_order_api import add_return_order_routes

__all__ = ["rest_router"]


def rest_router(
    state: OngoingState,
    *,
    warehouse: str,
    user: str,
    password: str,
    write_delay: float = 0.0,
) -> APIRouter:
    """Build the REST routes for one warehouse, user and goods owner."""
    router = APIRouter(
        prefix=f"/{warehouse}/api/v1",
        tags=["ongoing"],
        dependencies=[Depends(BasicAuth(user, password))],
    )
    owner = GoodsOwner(state, write_delay)
    add_article_routes(router, owner)
    add_order_routes(router, owner)
    add_purchase_order_routes(router, owner)
    add_return_order_routes(router, owner)
    add_reference_routes(router, owner)
    return router


def add_reference_routes(router: APIRouter, owner: GoodsOwner) -> None:
    """Reference data: transporter contracts and the one warehouse."""

    @router.get("/transporterContracts")
    async def transporter_contracts(request: Request) -> list[dict[str, Any]]:
        owner.query(request, owner_required=True)
        return render_transporter_contracts()

    @router.get("/warehouses")
    async def warehouses(request: Request) -> list[dict[str, Any]]:
        owner.query(request)
        return [render_warehouse(owner.state.site)]
