"""The in-process shop: both emulators, the engine and its webhook app on one event loop.

The Centra emulator posts its signed webhooks straight into the engine's app, each
store's Ongoing emulator is played step by step, and the engine is driven one pass at a
time, so a test decides exactly when anything happens.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from centrasync.config import parse_settings
from centrasync.emulators.centra import CentraEmulator, WebhookSettings
from centrasync.emulators.faults import EmulatorTransport
from centrasync.emulators.files import FilesWmsEmulator
from centrasync.emulators.ongoing import OngoingEmulator
from centrasync.runtime import Connections, Engine
from centrasync.server import create_app
from centrasync.store.base import RecordKind, StateStore
from centrasync.store.sql import open_store
from centrasync.sync.tally import Tally

from .helpers import (
    SE,
    STORES,
    WEBHOOK_SECRET,
    WMS_PASSWORD,
    WMS_USER,
    StoreSetup,
    secrets_env,
    settings_document,
)

WMS_KINDS = ("ongoing", "files")

# Operator steps per warehouse between two engine passes: small enough that passes see
# orders in every stage (open, picked, shipped), large enough to keep the run short.
STEPS_PER_PASS = 40

POLLING = {"shipments": 60, "confirmations": 60, "cancellations": 300, "sweep": 900}


class ProcessKilled(BaseException):
    """Stands for SIGKILL: a BaseException, so nothing in the engine catches it."""


@dataclass
class Tripwire:
    """Kills "the process" right after one chosen remote write has landed.

    Armed with a method and a path glob, the next matching request reaches the emulator
    and is applied there, and then :class:`ProcessKilled` is raised instead of the answer:
    exactly the moment a real kill leaves a write applied but unconfirmed.
    """

    armed: tuple[str, str] | None = None
    fired: list[str] = field(default_factory=list)

    def arm(self, method: str, path: str) -> None:
        self.armed = (method, path)

    def around(self, inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        return _TripwireTransport(self, inner)


class _TripwireTransport(httpx.AsyncBaseTransport):
    def __init__(self, tripwire: Tripwire, inner: httpx.AsyncBaseTransport) -> None:
        self._tripwire = tripwire
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        armed = self._tripwire.armed
        if armed is not None and request.method == armed[0] and fnmatch(request.url.path, armed[1]):
            self._tripwire.armed = None
            self._tripwire.fired.append(f"{request.method} {request.url.path}")
            await response.aclose()
            raise ProcessKilled(f"killed after {request.method} {request.url.path} landed")
        return response


@dataclass
class Shop:
    """Both emulators, the engine with its webhook app, and the state store under them."""

    centra: CentraEmulator
    warehouses: dict[str, OngoingEmulator | FilesWmsEmulator]
    state: StateStore
    engine: Engine
    app: FastAPI
    control: httpx.AsyncClient
    tally: Tally
    tripwire: Tripwire

    async def run_pass(self) -> None:
        """Deliver pending webhooks into the inbox, then one pass of every flow.

        A file warehouse first writes the files for what the test did on its floor.
        """
        for warehouse in self.warehouses.values():
            if isinstance(warehouse, FilesWmsEmulator):
                warehouse.files.publish()
        await self.centra.webhooks.drain()
        await self.engine.run_once()

    async def operate_until_idle(self, max_passes: int = 100) -> None:
        """Play both warehouses to the end, with an engine pass after every batch of steps."""
        for _ in range(max_passes):
            busy = False
            for warehouse in self.warehouses.values():
                for _ in range(STEPS_PER_PASS):
                    if await warehouse.state.operator_step() is None:
                        break
                    busy = True
            await self.run_pass()
            if not busy:
                return
        pytest.fail(f"the warehouses still had work after {max_passes} passes")

    async def ledger(self, store: StoreSetup) -> dict[str, str]:
        records = await self.state.list_records(store.name, kind=RecordKind.SHIPMENT, limit=1000)
        return {record.ref.key: record.state for record in records}

    def wms_orders(self, store: StoreSetup) -> list[Any]:
        return list(self.warehouses[store.name].state.orders.values())

    def wms_order(self, store: StoreSetup, number: str) -> Any:
        return self.warehouses[store.name].state.order_by_number(number)

    async def cancel_in_centra(self, shipment: str) -> None:
        answer = await self.control.post(f"/_emulator/shipments/{shipment}/cancel")
        assert answer.status_code == 200, answer.text


@asynccontextmanager
async def open_shop(
    database_url: str,
    *,
    schedule: Mapping[str, float] = POLLING,
    clock: Callable[[], float] = time.time,
    wms: str = "ongoing",
) -> AsyncIterator[Shop]:
    """The shop on a fresh state store; ``clock`` is the webhook app's (signature age).

    ``wms="files"`` gives each store a file-exchange warehouse: a files-wms emulator
    serving SFTP on a free local port, with host-key checking on.
    """
    async with AsyncExitStack() as stack:
        warehouses: dict[str, OngoingEmulator | FilesWmsEmulator] = {}
        files_wms: dict[str, dict[str, Any]] | None = None
        if wms == "files":
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="shop-")))
            files_wms = {}
            for s in STORES:
                emulator = FilesWmsEmulator(
                    folder / s.warehouse, user=WMS_USER, password=WMS_PASSWORD
                )
                await stack.enter_async_context(emulator.running())
                known_hosts = folder / f"{s.warehouse}.known_hosts"
                known_hosts.write_text(emulator.known_hosts_line(), encoding="utf-8")
                warehouses[s.name] = emulator
                files_wms[s.name] = {
                    "kind": "files",
                    "host": "127.0.0.1",
                    "port": emulator.port,
                    "user": WMS_USER,
                    "known_hosts": str(known_hosts),
                    "poll_interval": 0.01,
                    "answer_timeout": 5.0,
                }
        else:
            warehouses = {s.name: OngoingEmulator(warehouse=s.warehouse) for s in STORES}
        async with _open_shop(database_url, schedule, clock, warehouses, files_wms) as shop:
            yield shop


@asynccontextmanager
async def _open_shop(
    database_url: str,
    schedule: Mapping[str, float],
    clock: Callable[[], float],
    warehouses: dict[str, OngoingEmulator | FilesWmsEmulator],
    files_wms: dict[str, dict[str, Any]] | None,
) -> AsyncIterator[Shop]:
    state = await open_store(database_url)
    document = settings_document(
        database_url,
        centra_host="http://centra.test",
        wms_hosts={s.name: f"http://{s.warehouse}.test" for s in STORES},
        schedule=schedule,
        files_wms=files_wms,
    )
    settings = parse_settings(document, secrets_env())
    app = create_app(settings, state, clock=clock)
    centra = CentraEmulator(seed="demo", webhook_transport=EmulatorTransport(app))
    # Webhooks exist for store se only (the emulator-wide plugin, narrowed to it), so
    # store us shows that the sweeps alone bring every shipment in.
    centra.webhooks.configure(
        WebhookSettings(
            url=f"http://engine.test/webhooks/centra/{SE.name}",
            secret=WEBHOOK_SECRET,
            store=SE.uri,
        )
    )
    tripwire = Tripwire()
    connections = {
        s.name: Connections(
            centra=tripwire.around(EmulatorTransport(centra.app)),
            wms=tripwire.around(EmulatorTransport(warehouses[s.name].app)),
        )
        for s in STORES
    }
    tally = Tally()
    engine = Engine(settings, state, events=tally, owner="shop", connections=connections)
    control = httpx.AsyncClient(transport=EmulatorTransport(centra.app), base_url="http://c.test")
    try:
        async with engine, control:
            yield Shop(centra, warehouses, state, engine, app, control, tally, tripwire)
    finally:
        await centra.aclose()
        await state.close()
