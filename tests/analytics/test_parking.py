"""Bad data from Centra parks the one object, with its payload; the rest of the batch loads.

The emulator's world is seeded with a value no control route makes: a shipment whose
number is not ``<order number>-<n>``, so the return made from it has no order number the
mapping can read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from centrasync.analytics.live import LiveAnalytics
from centrasync.cli import app
from centrasync.config import AnalyticsSettings
from centrasync.store.base import StateStore
from centrasync.store.sql import open_store
from centrasync.sync.tally import Tally
from centrasync.testing.centra import CentraHarness

from .conftest import place_order, rows


@pytest.fixture
async def state(tmp_path: Path) -> AsyncIterator[StateStore]:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'state.db'}")
    yield store
    await store.close()


async def _returned(centra: CentraHarness) -> None:
    """An order shipped, then one unit of it returned."""
    client = centra.client
    number = await place_order(centra, 2)
    shipment = (await client.create_shipment(number, good_to_go=True, capture=True)).value
    await client.complete_shipment(shipment.id)
    await client.create_return(shipment.id, {shipment.lines[0].id: 1}, stock="release")


async def test_an_object_with_bad_data_is_parked_and_the_rest_of_its_batch_loads(
    centra: CentraHarness, state: StateStore, tmp_path: Path
) -> None:
    assert centra.emulator is not None
    world = centra.emulator.world
    for _ in range(2):
        await _returned(centra)
    returns = sorted(world.returns.values(), key=lambda r: r.id)
    bad, good = returns[0], returns[1]
    world.shipments[bad.shipment_id].number = "WEB-ORDER"
    orders = sorted(world.orders)[:2]
    live = LiveAnalytics(
        "se",
        centra.client,
        AnalyticsSettings(destination="a.duckdb"),
        state,
        tally := Tally(),
        tmp_path,
    )
    objects = [("returns", bad.id), ("returns", good.id), *(("orders", n) for n in orders)]
    await state.note_for_analytics("se", objects)

    assert await live.webhook_pass() == 4

    db = tmp_path / "a.duckdb"
    assert rows(db, "SELECT return_id FROM $s.returns") == [(good.id,)]
    assert sorted(n for (n,) in rows(db, "SELECT order_number FROM $s.orders")) == orders
    [parked] = await state.parked_analytics("se")
    assert (parked.resource, parked.object_id) == ("returns", bad.id)
    assert "'se'" in parked.error and f"returns {bad.id}" in parked.error
    assert "'order_number'" in parked.error, parked.error
    assert isinstance(parked.payload, dict) and parked.payload["id"] == bad.id
    assert parked.payload["shipment"]["number"] == "WEB-ORDER"
    assert tally.parked_count["se", "analytics"] == 1
    assert tally.parked_reasons["se", "bad_data"] == 1
    # Parked, it is out of the backlog and of the next passes.
    assert await state.analytics_backlog("se") == 0
    assert await live.webhook_pass() == 0

    # Centra's data is mended; the operator retries it from the command line.
    world.shipments[bad.shipment_id].number = f"{world.shipments[bad.shipment_id].order_number}-9"
    config = tmp_path / "centrasync.toml"
    config.write_text(f'[engine]\ndatabase_url = "sqlite+aiosqlite:///{tmp_path / "state.db"}"\n')
    listed = await asyncio.to_thread(
        CliRunner().invoke, app, ["analytics", "parked", "--config", str(config)]
    )
    assert listed.exit_code == 0, listed.output
    assert f"returns {bad.id}" in listed.output and "order_number" in listed.output
    retried = await asyncio.to_thread(
        CliRunner().invoke,
        app,
        ["analytics", "retry", "se", f"returns/{bad.id}", "--config", str(config)],
    )
    assert retried.exit_code == 0, retried.output
    assert "1 parked" in retried.output

    assert await live.webhook_pass() == 1
    assert await state.parked_analytics("se") == []
    assert sorted(r for (r,) in rows(db, "SELECT return_id FROM $s.returns")) == sorted(
        [bad.id, good.id]
    )
