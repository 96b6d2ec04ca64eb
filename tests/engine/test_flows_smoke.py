"""The shipment flows on both emulators in-process: the demo seed's three special cases."""

from __future__ import annotations

from typing import Any

import pytest

from centrasync.config import Settings, parse_settings
from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.faults import EmulatorTransport
from centrasync.emulators.ongoing import OngoingEmulator
from centrasync.server.runtime import Connections, Engine
from centrasync.store import open_store
from centrasync.store.base import RecordKind
from centrasync.sync.tally import Tally


def settings(policy: str) -> Settings:
    stores: dict[str, Any] = {}
    for name, uri, zone in (
        ("se", "wms", "Europe/Stockholm"),
        ("us", "wms-us", "America/New_York"),
    ):
        stores[name] = {
            "centra": {"host": "http://centra.test", "uri": uri, "timezone": zone},
            "wms": {
                "base_url": "http://ongoing.test/demo/api/v1/",
                "user": "centrasync",
                "goods_owner_id": 1,
            },
            "capture_policy": policy,
            "schedule": {"shipments": 0.01, "confirmations": 0.01, "cancellations": 0.01},
        }
    env = {}
    for name in stores:
        env[f"CENTRASYNC_{name.upper()}_CENTRA_SECRET"] = "s3cret"
        env[f"CENTRASYNC_{name.upper()}_WMS_PASSWORD"] = "secret"
    return parse_settings({"engine": {"centra_rate": 1000}, "stores": stores}, env)


@pytest.mark.asyncio
async def test_demo_seed_round_trip(tmp_path: Any) -> None:
    centra = CentraEmulator(seed="demo")
    ongoing = OngoingEmulator()
    summary = centra.seed_summary
    from centrasync.emulators.ongoing.floor import AutoOperatorSettings

    ongoing.state.auto_operator = AutoOperatorSettings(
        None, frozenset({summary["short_pick"]["shipment"]})
    )
    state = await open_store(f"sqlite+aiosqlite:///{tmp_path}/state.sqlite")
    tally = Tally()
    conns = Connections(centra=EmulatorTransport(centra.app), wms=EmulatorTransport(ongoing.app))
    engine = Engine(
        settings("on_complete"),
        state,
        events=tally,
        owner="t",
        connections={"se": conns, "us": conns},
    )
    async with engine:
        await engine.run_once()
        for _ in range(200):
            step = await ongoing.state.operator_step()
            if step is None:
                break
        await engine.run_once()
        for store in ("se", "us"):
            records = await state.list_records(store, kind=RecordKind.SHIPMENT, limit=1000)
            print(store, {r.ref.key: r.state for r in records})
        print(tally)
    await state.close()
