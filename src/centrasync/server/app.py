"""The engine's ASGI app: Centra webhook receiver per store, liveness and metrics.

Built from already validated settings and an open state store, so the app itself has no
start-up work that could fail; the caller (CLI or test) owns the store's lifetime.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from centrasync.config import Settings
from centrasync.store.base import StateStore

from .metrics import CONTENT_TYPE, RateLimitCounts, ReceiverMetrics
from .webhooks import WebhookReceiver

__all__ = ["create_app"]


def create_app(
    settings: Settings,
    store: StateStore,
    *,
    clock: Callable[[], float] = time.time,
    engine: RateLimitCounts | None = None,
) -> FastAPI:
    """The app; ``clock`` (unix seconds) judges signature freshness and is injectable.

    With ``engine`` the scrape also shows its Centra 429 counts; the
    flow counters live in ``app.state.metrics.flows`` for the engine to report into.
    """
    metrics = ReceiverMetrics(s.name for s in settings.stores)
    metrics.engine = engine
    receiver = WebhookReceiver(settings, store, metrics, clock)
    app = FastAPI(title="centrasync", docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/webhooks/centra/{store_name}")
    async def centra_webhook(request: Request, store_name: str) -> Response:
        return await receiver.handle(request, store_name)

    @app.get("/healthz")
    async def healthz() -> Response:
        return JSONResponse({"status": "ok"})

    @app.get("/metrics")
    async def metrics_page() -> Response:
        return Response(await metrics.render(store), media_type=CONTENT_TYPE)

    app.state.metrics = metrics
    return app
