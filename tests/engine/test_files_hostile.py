"""Hostile conditions for the file-exchange warehouse: the whole engine (both stores, the
demo seed plus added shipments) against files-wms emulators that misbehave as file
warehouses do: files imported late, confirmations written twice, uploads that died half
way, a file in the wrong encoding, a file cut short under its final name, and the SFTP
server going away between passes. Nothing may be lost or done twice; what cannot be read
is parked for a person, naming the file and the line."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from centrasync.emulators.files import FilesWmsEmulator
from centrasync.store.base import RecordKind
from centrasync.sync.shipments import ShipmentState

from .helpers import SE, STORES, US, add_shipments, orderable_eans
from .shop import Shop, open_shop

pytestmark = pytest.mark.slow


def files_of(shop: Shop, name: str) -> FilesWmsEmulator:
    warehouse = shop.warehouses[name]
    assert isinstance(warehouse, FilesWmsEmulator)
    return warehouse


async def test_file_faults_lose_nothing_and_do_nothing_twice(tmp_path: Path) -> None:
    async with open_shop(f"sqlite+aiosqlite:///{tmp_path / 'state.sqlite'}", wms="files") as shop:
        for store in STORES:
            eans = await orderable_eans(shop.control, store, 10)
            await add_shipments(shop.control, store, eans)
        se, us = files_of(shop, SE.name), files_of(shop, US.name)
        # Store se: confirmations doubled, dying uploads, one in Latin-1; store us: every
        # file imported only after a while, and one confirmation cut short.
        se.files.faults.arm("duplicate", "dispatches", 8)
        se.files.faults.arm("partial", "dispatches", 5)
        se.files.faults.arm("wrong_encoding", "dispatches", 1)
        us.files.faults.arm("malformed", "dispatches", 1)
        us.files.hold_intake(0.3, us._loop_time())

        await shop.run_pass()
        # The server goes away and comes back on the same port between two passes.
        port = se.port
        await se.stop()
        await shop.run_pass()
        await se.start(port=port or 0)
        await shop.operate_until_idle()
        for _ in range(3):
            await shop.run_pass()

        hit = Counter(fault.split()[0] for f in (se, us) for fault in f.files.faults.hit)
        assert hit == {"duplicate": 8, "partial": 5, "wrong_encoding": 1, "malformed": 1}

        # One WMS order per shipment, none doubled.
        for store in STORES:
            numbers = Counter(order.number for order in shop.wms_orders(store))
            assert max(numbers.values()) == 1

        # Completed once each in Centra.
        completions = Counter(w.data["shipment"] for w in shop.centra.world.written("completions"))
        assert max(completions.values()) == 1

        # The file cut short is parked in error/ with a reason naming file and line, and
        # its shipment is parked for a person with that reason. The Latin-1 file held only
        # ASCII (as most confirmations do), so it read the same: nothing parked in se.
        assert not (se.root / "error" / "dispatches").exists()
        folder = us.root / "error" / "dispatches"
        (reason,) = sorted(folder.glob("*.reason.txt"))
        name = reason.name.removesuffix(".reason.txt")
        assert re.match(rf"file {re.escape(name)}, line \d+: \d+ fields where", reason.read_text())
        number = name.split("_")[1]
        unreadable = {number}
        ledger = await shop.ledger(SE) | await shop.ledger(US)
        dead = {d.record.key: d.reason for s in STORES for d in await shop.state.list_dead(s.name)}
        assert ledger[number] == ShipmentState.INVALID
        assert re.search(rf"file {re.escape(name)} line \d+", dead[number])
        settled = {ShipmentState.COMPLETED, ShipmentState.CAPTURE_DECLINED, ShipmentState.CANCELLED}
        stuck = {n: s for n, s in ledger.items() if s not in settled and n not in unreadable}
        assert stuck == {}
        records = await shop.state.list_records(SE.name, kind=RecordKind.SHIPMENT, limit=1000)
        assert records
