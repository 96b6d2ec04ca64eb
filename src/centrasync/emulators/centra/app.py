"""Assembly: the world, the webhook sender, the Order API, the control API and faults."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from centrasync.emulators.faults import FaultMiddleware, FaultPlan, faults_router
from centrasync.emulators.routing import resolve_routes
from centrasync.errors import NotFoundError, RecordValidationError

from .allocation_api import allocation_router
from .api_common import install_handlers
from .catalogue_api import catalogue_router
from .control import control_router
from .graphql import IntegrationApi, TokenSpec, integration_api_control
from .graphql.schema import permissions
from .order_api import order_router
from .return_api import return_router
from .seed import seed_catalogue, seed_default, seed_demo
from .shipment_api import shipment_router
from .specs import CatalogueSpec
from .webhooks import WebhookSender
from .world import World

__all__ = ["SEEDS", "CentraEmulator"]

SEEDS = ("default", "demo")


class CentraEmulator:
    """A faithful local Centra: Order API at ``/api/<uri>/``, Integration API at
    ``/graphql``, control API at ``/_emulator/``.

    ``app`` is the ASGI app (FastAPI wrapped in the fault middleware); ``world`` the
    in-memory model; ``plan`` the fault plan; ``webhooks`` the webhook sender, whose
    ``drain()`` lets a test wait until every queued call has been made;
    ``integration_api`` the GraphQL side (tokens, rate limits, events queue).
    ``graphql_token`` makes a start-up token with every permission, integration name
    ``centrasync-emulator``, that survives resets.
    """

    def __init__(
        self,
        uri: str = "wms",
        secret: str = "s3cret",
        seed: str | None = None,
        timezone: str = "Europe/Stockholm",
        *,
        clock: Callable[[], datetime] | None = None,
        fault_seed: int | None = None,
        webhook_transport: httpx.AsyncBaseTransport | None = None,
        graphql_token: str | None = None,
    ) -> None:
        if seed is not None and seed not in SEEDS:
            raise ValueError(f"unknown seed {seed!r}; choose one of {', '.join(SEEDS)}")
        self._uri, self._secret, self._timezone = uri, secret, timezone
        self._start_seed = seed or "default"
        self.world = World(clock)
        self.plan = FaultPlan(fault_seed)
        self.webhooks = WebhookSender(self._zone_of, self.world.now, webhook_transport)
        self.world.listeners.append(self.webhooks.enqueue)
        # One merchant zone for the whole installation, as Centra's is system-wide [I].
        self.integration_api = IntegrationApi(self.world, ZoneInfo(timezone))
        if graphql_token is not None:
            self.integration_api.create_token(
                TokenSpec(
                    name="start-up token",
                    permissions=sorted(permissions()),
                    integration_name="centrasync-emulator",
                    ttl=10 * 365 * 24 * 3600,
                ),
                token=graphql_token,
                keep=True,
            )
        self.seed_summary: dict[str, Any] = {}
        self.load(self._start_seed)
        self.api = self._build_api()
        self.app = FaultMiddleware(self.api, self.plan)

    def __repr__(self) -> str:
        return f"CentraEmulator(uri={self._uri!r}, seed={self._start_seed!r})"

    def _zone_of(self, store_uri: str | None) -> ZoneInfo:
        store = None if store_uri is None else self.world.stores.get(store_uri)
        return store.zone if store else ZoneInfo(self._timezone)

    def load(self, name: str) -> dict[str, Any]:
        """Replace all data by a built-in data set."""
        if name == "demo":
            summary = seed_demo(self.world, self._uri, self._secret, self._timezone)
        elif name == "default":
            summary = seed_default(self.world, self._uri, self._secret, self._timezone)
        else:
            raise ValueError(f"unknown seed {name!r}; choose one of {', '.join(SEEDS)}")
        self.seed_summary = summary
        return summary

    def load_catalogue(self, spec: CatalogueSpec) -> dict[str, Any]:
        self.seed_summary = seed_catalogue(
            self.world, spec, self._uri, self._secret, self._timezone
        )
        return self.seed_summary

    def reset(self) -> dict[str, Any]:
        self.webhooks.reset()
        self.plan.clear()
        summary = self.load(self._start_seed)
        self.integration_api.reset()
        return summary

    async def aclose(self) -> None:
        """Finish pending webhook calls and close the sender's HTTP client."""
        await self.webhooks.aclose()

    def _build_api(self) -> FastAPI:
        api = FastAPI(
            title="Centra emulator",
            description="Centra Order API at /api/<uri>/, Integration API (GraphQL) at "
            "/graphql and the emulator's control API.",
        )
        install_handlers(api)

        async def not_found(_: Request, exc: Exception) -> JSONResponse:
            return JSONResponse({"detail": str(exc)}, status_code=404)

        async def invalid(_: Request, exc: Exception) -> JSONResponse:
            return JSONResponse({"detail": str(exc)}, status_code=422)

        api.add_exception_handler(NotFoundError, not_found)
        api.add_exception_handler(RecordValidationError, invalid)
        api.include_router(shipment_router(self.world))
        api.include_router(order_router(self.world))
        api.include_router(allocation_router(self.world))
        api.include_router(return_router(self.world))
        api.include_router(catalogue_router(self.world))
        api.include_router(control_router(self))
        api.include_router(self.integration_api.router())
        api.include_router(integration_api_control(self.integration_api))
        api.include_router(faults_router(self.plan))
        resolve_routes(api)
        return api
