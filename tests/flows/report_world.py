"""Both emulators, the real clients and a state store, wired for the report flows.

The in-deliveries and returns tests share this: one Stockholm store (``se`` on the Centra
emulator's ``wms`` plugin) feeding the Ongoing emulator, and a kill switch that stands for
the engine process dying right after a remote system applied a call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from centrasync.centra.client import OrderApiClient
from centrasync.config import StoreSettings, parse_settings
from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.faults import EmulatorTransport
from centrasync.emulators.ongoing import OngoingEmulator
from centrasync.http import RateBudget, RetryPolicy
from centrasync.store.base import StateStore
from centrasync.store.sql import open_store
from centrasync.wms.ongoing.client import OngoingWarehouse

CENTRA_URL = "http://centra.test/api/wms/"
ONGOING_URL = "http://ongoing.test/demo/api/v1/"


def store_settings(**options: Any) -> StoreSettings:
    """The ``se`` store with the given per-store options (``return_stock=True``, …)."""
    document = {
        "stores": {
            "se": {
                "centra": {
                    "host": "http://centra.test",
                    "uri": "wms",
                    "timezone": "Europe/Stockholm",
                },
                "wms": {"base_url": ONGOING_URL, "user": "centrasync", "goods_owner_id": 1},
                "capture_policy": "on_complete",
                **options,
            }
        }
    }
    env = {"CENTRASYNC_SE_CENTRA_SECRET": "s3cret", "CENTRASYNC_SE_WMS_PASSWORD": "secret"}
    return parse_settings(document, env).store("se")


class Killed(Exception):
    """Stands for the engine process dying; no handler in the flows catches it."""


class KillSwitch:
    """Counts requests across both systems and kills the run after the chosen one.

    ``after`` kills after that many requests, ``when`` after the first request it matches.
    The request is applied by the emulator first, so the kill lands in the worst spot for
    a non-idempotent write: done remotely, unknown locally.
    """

    def __init__(
        self, after: int | None = None, when: Callable[[httpx.Request], bool] | None = None
    ) -> None:
        self.after = after
        self.when = when
        self.count = 0

    def wrap(self, inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        return _Counted(inner, self)

    def fires(self, request: httpx.Request) -> bool:
        self.count += 1
        if self.after is not None and self.count >= self.after:
            return True
        return self.when is not None and self.when(request)


class _Counted(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, switch: KillSwitch) -> None:
        self._inner = inner
        self._switch = switch

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if self._switch.fires(request):
            await response.aread()
            await response.aclose()
            raise Killed(f"killed after request {self._switch.count}: {request.url.path}")
        return response


@dataclass
class World:
    """The two emulators and the engine's durable state; clients come per run."""

    centra: CentraEmulator
    ongoing: OngoingEmulator
    state: StateStore


@asynccontextmanager
async def open_world(tmp_path: Path) -> AsyncIterator[World]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    state = await open_store(f"sqlite+aiosqlite:///{tmp_path}/s.sqlite")
    try:
        yield World(CentraEmulator(seed="demo"), OngoingEmulator(), state)
    finally:
        await state.close()


class FailFirst(httpx.AsyncBaseTransport):
    """Answers 503 to the first request ``matches`` accepts; passes everything else on."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, matches: Callable[[httpx.Request], bool]
    ) -> None:
        self._inner = inner
        self._matches = matches
        self.failed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self.failed and self._matches(request):
            self.failed = True
            return httpx.Response(503, json={"status": "no", "msg": "try later"})
        return await self._inner.handle_async_request(request)


@asynccontextmanager
async def clients(
    world: World,
    switch: KillSwitch | None = None,
    *,
    centra_fails_first: Callable[[httpx.Request], bool] | None = None,
) -> AsyncIterator[tuple[OrderApiClient, OngoingWarehouse]]:
    """Real clients on the in-process emulators, optionally behind a kill switch.

    ``centra_fails_first`` makes Centra answer 503 once, to the first request it matches,
    and the Centra client give up on the first failure instead of backing off.
    """
    switch = switch or KillSwitch()
    centra_transport = switch.wrap(EmulatorTransport(world.centra.app))
    retry = None
    if centra_fails_first is not None:
        centra_transport = FailFirst(centra_transport, centra_fails_first)
        retry = RetryPolicy(max_attempts=1)
    centra = OrderApiClient(
        CENTRA_URL,
        "s3cret",
        "Europe/Stockholm",
        transport=centra_transport,
        budget=RateBudget(1000),
        retry=retry,
    )
    wms = OngoingWarehouse(
        ONGOING_URL,
        "centrasync",
        "secret",
        1,
        transport=switch.wrap(EmulatorTransport(world.ongoing.app)),
    )
    async with centra, wms:
        yield centra, wms
