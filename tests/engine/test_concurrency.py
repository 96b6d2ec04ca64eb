"""The engine works on several shipments at once, and still writes to a WMS one at a time.

Both emulators run in-process behind a wire that holds every request for a moment and
counts how many are in flight per host. The demo seed's Good-to-Go shipments are taken and
confirmed with ``[engine] concurrency`` 8 and 1; the ledger and the warehouses must end the
same way, only the overlap differs.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from centrasync.config import parse_settings
from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.faults import EmulatorTransport
from centrasync.emulators.ongoing import OngoingEmulator
from centrasync.runtime import Connections, Engine
from centrasync.store.base import RecordKind, StateStore
from centrasync.store.sql import open_store
from centrasync.sync.shipments import ShipmentState, outbound
from centrasync.sync.tally import Tally

from .helpers import STORES, secrets_env, settings_document
from .shop import POLLING

pytestmark = pytest.mark.slow


@dataclass
class Held(httpx.AsyncBaseTransport):
    """Holds each request 5 ms (a remote API's latency) and keeps the peak in flight."""

    inner: httpx.AsyncBaseTransport
    state: StateStore
    now: Counter[str] = field(default_factory=Counter)
    peak: Counter[str] = field(default_factory=Counter)
    # Per warehouse host: the store's shipment rows when its first WMS order was sent.
    rows_at_first_order: dict[str, int] = field(default_factory=dict)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        store = {f"{s.warehouse}.test": s.name for s in STORES}.get(host)
        first_order = request.method == "PUT" and request.url.path.endswith("/orders")
        if store is not None and first_order and host not in self.rows_at_first_order:
            rows = await self.state.list_records(store, kind=RecordKind.SHIPMENT)
            self.rows_at_first_order[host] = len(rows)
        kinds = [request.url.host]
        if request.method != "GET":
            kinds.append(f"{request.url.host} writes")
        for kind in kinds:
            self.now[kind] += 1
            self.peak[kind] = max(self.peak[kind], self.now[kind])
        try:
            await asyncio.sleep(0.005)
            return await self.inner.handle_async_request(request)
        finally:
            for kind in kinds:
                self.now[kind] -= 1


async def run_demo_shipments(
    folder: Path, concurrency: int
) -> tuple[Held, dict[str, Counter[str]]]:
    """Take, ship and confirm every demo shipment; the wire and each store's end states."""
    url = f"sqlite+aiosqlite:///{folder / f'c{concurrency}.sqlite'}"
    document = settings_document(
        url,
        centra_host="http://centra.test",
        wms_hosts={s.name: f"http://{s.warehouse}.test" for s in STORES},
        schedule=POLLING,
        engine={"concurrency": concurrency},
    )
    settings = parse_settings(document, secrets_env())
    state = await open_store(url)
    centra = CentraEmulator(seed="demo")
    warehouses = {s.name: OngoingEmulator(warehouse=s.warehouse) for s in STORES}
    wire = Held(
        _Routes(
            {"centra.test": EmulatorTransport(centra.app)}
            | {f"{s.warehouse}.test": EmulatorTransport(warehouses[s.name].app) for s in STORES}
        ),
        state,
    )
    connections = {s.name: Connections(centra=wire, wms=wire) for s in STORES}
    engine = Engine(settings, state, events=Tally(), owner="test", connections=connections)
    try:
        async with engine:
            for _ in range(30):
                await engine.run_once()
                busy = False
                for warehouse in warehouses.values():
                    while await warehouse.state.operator_step() is not None:
                        busy = True
                if not busy:
                    break
            await engine.run_once()
            ends = {}
            for store in STORES:
                records = await state.list_records(store.name, kind=RecordKind.SHIPMENT)
                ends[store.name] = Counter(record.state for record in records)
    finally:
        await centra.aclose()
        await state.close()
    return wire, ends


@dataclass
class _Routes(httpx.AsyncBaseTransport):
    by_host: dict[str, httpx.AsyncBaseTransport]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.by_host[request.url.host].handle_async_request(request)


@pytest.mark.timeout(240)
async def test_several_shipments_at_once_and_one_wms_write_at_a_time(tmp_path: Path) -> None:
    wide, wide_ends = await run_demo_shipments(tmp_path, concurrency=8)
    narrow, narrow_ends = await run_demo_shipments(tmp_path, concurrency=1)

    assert wide_ends == narrow_ends
    for ends in wide_ends.values():
        assert ends[ShipmentState.COMPLETED] > 10
    # Both stores share the Centra account: one at a time per store, side by side.
    assert narrow.peak["centra.test"] <= len(STORES)
    assert wide.peak["centra.test"] > 2 * len(STORES)
    for store in STORES:
        host = f"{store.warehouse}.test"
        assert narrow.peak[host] == 1
        # Ongoing executes a goods owner's writes one by one: the connector queues them,
        # and the shipment passes make no WMS call but writes and one listing.
        assert wide.peak[f"{host} writes"] == 1


@pytest.mark.timeout(240)
async def test_orders_go_out_before_every_new_shipment_of_a_listing_has_its_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbound, "FIRST_SIGHT_CHUNK", 5)
    wire, ends = await run_demo_shipments(tmp_path, concurrency=4)
    for store in STORES:
        total = sum(ends[store.name].values())
        assert ends[store.name][ShipmentState.COMPLETED] > 10
        # Rows are opened a few at a time as the lanes take them, not all before the first.
        assert wire.rows_at_first_order[f"{store.warehouse}.test"] < total
