"""Route tables built with the app, not on the first request."""

from __future__ import annotations

from contextlib import suppress

from fastapi import FastAPI
from starlette.routing import NoMatchFound

__all__ = ["resolve_routes"]


def resolve_routes(api: FastAPI) -> None:
    """Build the routes of every router included in ``api`` now, in the thread building it.

    FastAPI (0.137 on) builds an included router's routes on the first request that reaches
    it, creating pydantic schemas inside ``warnings.catch_warnings()`` to silence a warning
    every parameter raises. Those filters are process-wide, so an emulator served from a
    thread (a test's uvicorn, a user's CI) could lose the silencing to another thread entering
    and leaving its own ``catch_warnings()``, and answer that request with a 500.
    """
    # Looking up a name no route has walks every included router, which builds them all.
    with suppress(NoMatchFound):
        api.url_path_for("centrasync: every route, built before serving")
