"""The Ongoing WMS emulator as one ASGI app: REST API, operator control API, faults.

Run it in-process for tests (``EmulatorTransport(emulator.app)``) or for real with
``centrasync emulate ongoing``. The auto-operator is a background task of the app's
lifespan; in-process tests drive it with ``await emulator.state.operator_step()`` or
``async with emulator.running()``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from datetime import datetime

import structlog
from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from centrasync.emulators.faults import FaultMiddleware, FaultPlan, faults_router
from centrasync.emulators.ongoing.api import rest_router
from centrasync.emulators.ongoing.control import control_router
from centrasync.emulators.ongoing.floor import AutoOperatorSettings, OngoingState
from centrasync.emulators.ongoing.model import OngoingApiError
from centrasync.emulators.routing import resolve_routes

__all__ = ["OngoingEmulator"]

_log = structlog.get_logger(__name__)


class OngoingEmulator:
    """One emulated Ongoing WMS: a warehouse name, one API user and one goods owner."""

    def __init__(
        self,
        warehouse: str = "demo",
        user: str = "centrasync",
        password: str = "secret",
        goods_owner_id: int = 1,
        auto_operator_interval: float | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        fault_seed: int | None = None,
        write_delay: float = 0.0,
    ) -> None:
        self.warehouse = warehouse
        self.state = OngoingState(goods_owner_id, warehouse=warehouse, clock=clock)
        self.state.auto_operator = AutoOperatorSettings(auto_operator_interval)
        self.plan = FaultPlan(seed=fault_seed)
        self._wake: asyncio.Event | None = None

        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            async with self.running():
                yield

        api = FastAPI(
            title="Ongoing WMS emulator",
            description="Ongoing WMS REST subset plus a warehouse-operator control API.",
            lifespan=lifespan,
        )
        api.add_exception_handler(OngoingApiError, _ongoing_error)
        api.add_exception_handler(RequestValidationError, _validation_error)
        api.add_exception_handler(StarletteHTTPException, _http_error)
        api.include_router(
            rest_router(
                self.state,
                warehouse=warehouse,
                user=user,
                password=password,
                write_delay=write_delay,
            )
        )
        api.include_router(control_router(self.state, self._auto_operator_changed))
        api.include_router(faults_router(self.plan))
        resolve_routes(api)
        self.api = api
        self.app = FaultMiddleware(api, self.plan)

    def __repr__(self) -> str:
        owner = self.state.goods_owner_id
        return f"OngoingEmulator(warehouse={self.warehouse!r}, goods_owner_id={owner})"

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run the auto-operator loop for the duration of the block."""
        self._wake = asyncio.Event()
        task = asyncio.create_task(self._operate(self._wake))
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
            self._wake = None

    def _auto_operator_changed(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def _operate(self, wake: asyncio.Event) -> None:
        """Step at the configured pace; a settings change restarts the wait at once."""
        while True:
            wake.clear()
            interval = self.state.auto_operator.interval
            if interval is None:
                await wake.wait()
                continue
            # asyncio.wait, not wait_for: on Python 3.11 wait_for can swallow a cancel that
            # races with the event being set, and the task would then never stop.
            waiter = asyncio.create_task(wake.wait())
            try:
                woken, _ = await asyncio.wait({waiter}, timeout=interval)
            finally:
                waiter.cancel()
            if woken:
                continue
            try:
                await self.state.operator_step()
            except OngoingApiError as exc:
                _log.warning("ongoing_emulator.operator_step_failed", reason=exc.message)


async def _ongoing_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OngoingApiError)
    headers = {"WWW-Authenticate": 'Basic realm="Ongoing WMS"'} if exc.status_code == 401 else None
    return JSONResponse({"message": exc.message}, status_code=exc.status_code, headers=headers)


def _is_control(request: Request) -> bool:
    """The control API and the docs answer FastAPI's way; everything else is Ongoing's."""
    return request.url.path.startswith(("/_emulator", "/docs", "/redoc", "/openapi.json"))


async def _http_error(request: Request, exc: Exception) -> Response:
    """No route, or not this method: the REST API answers in Ongoing's error shape, with
    ASP.NET Web API's wording [I: the reference shows no such bodies]."""
    assert isinstance(exc, StarletteHTTPException)
    if _is_control(request):
        return await http_exception_handler(request, exc)
    if exc.status_code == 404:
        message = f"No HTTP resource was found that matches the request URI '{request.url}'."
    elif exc.status_code == 405:
        message = f"The requested resource does not support http method '{request.method}'."
    else:
        message = str(exc.detail)
    return JSONResponse({"message": message}, status_code=exc.status_code, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    """REST paths answer bad path parameters Ongoing-style (400 + message) [I]."""
    assert isinstance(exc, RequestValidationError)
    if _is_control(request):
        return await request_validation_exception_handler(request, exc)
    problems = "; ".join(
        f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
    )
    return JSONResponse({"message": f"The request is invalid: {problems}"}, status_code=400)
