"""Each stock setting, flipped, changes what the emulators read back."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from centrasync.emulators.centra.model import SizeRef
from centrasync.emulators.faults import EmulatorTransport
from centrasync.emulators.ongoing.floor import PickRequest
from centrasync.emulators.ongoing.payloads import OrderIn
from centrasync.errors import ConfigError
from centrasync.store.base import RecordKind, RecordRef
from centrasync.sync.stock import StockFlow, StockState
from centrasync.wms.ongoing.client import OngoingWarehouse

from .stock_harness import ONGOING_URL, StockWorld, stock_world

pytestmark = pytest.mark.slow


def free_sizes(world: StockWorld, count: int) -> list[SizeRef]:
    """Sizes no demo order has allocated, so Centra never raises a write to its allocation."""
    store = world.centra.world.store("wms")
    return [
        ref
        for ref in world.sizes(count + 40)
        if world.centra.world.store_stock(store, ref.size.id)[1] == 0
    ][:count]


def wms_order(world: StockWorld, number: str, sku: str, qty: float) -> None:
    body = {
        "goodsOwnerId": 1,
        "orderNumber": number,
        "deliveryDate": "2025-03-04",
        "consignee": {"customerNumber": "C1", "name": "Ada", "countryCode": "SE"},
        "orderLines": [{"rowNumber": "1", "articleNumber": sku, "numberOfItems": qty}],
    }
    world.ongoing.state.upsert_order(OrderIn.model_validate(body))


async def test_sync_stock_writes_only_the_skus_that_differ_in_batches(tmp_path: Path) -> None:
    async with stock_world(tmp_path) as world:
        refs = free_sizes(world, 5)
        skus = [ref.physical_sku for ref in refs]
        for sku in skus[:3]:
            world.in_wms(sku, world.physical(sku) + 4)
        for sku in skus[3:]:
            world.in_wms(sku, world.physical(sku))
        expected = {sku: world.physical(sku) + 4 for sku in skus[:3]}

        report = await world.flow(batch_size=2).run_incremental()

        assert sorted(world.stock_writes()) == sorted(expected.items())
        assert world.tap.stock_posts == 2, "three SKUs in batches of two"
        assert (report.seen, report.written, report.batches) == (5, 3, 2)
        assert {sku: world.physical(sku) for sku in skus[:3]} == expected
        record = await world.state.get_record(RecordRef("se", RecordKind.STOCK, skus[0]))
        assert record is not None and record.state == StockState.WRITTEN
        assert record.last_request == {"physical": expected[skus[0]], "warehouse": None}


async def test_sync_stock_off_leaves_centra_alone(tmp_path: Path) -> None:
    async with stock_world(tmp_path) as world:
        sku = free_sizes(world, 1)[0].physical_sku
        before = world.physical(sku)
        world.in_wms(sku, before + 9)

        assert await world.flow(sync_stock=False).run() == 0

        assert world.stock_writes() == []
        assert world.physical(sku) == before
        assert world.tap.calls == [], "a switched-off flow makes no call at all"
        assert await world.state.list_records("se", kind=RecordKind.STOCK) == []


async def test_picked_goods_count_as_in_stock_only_when_the_store_says_so(
    tmp_path: Path,
) -> None:
    """10 on the shelf, 2 allocated to one order, 3 picked for another, 1 damaged."""
    for option, expected in ((False, 6), (True, 9)):
        async with stock_world(tmp_path / str(option)) as world:
            sku = free_sizes(world, 1)[0].physical_sku
            world.in_wms(sku, 10, locked=1)
            wms_order(world, "O-ALLOC", sku, 2)
            world.ongoing.state.allocate("O-ALLOC")
            wms_order(world, "O-PICK", sku, 3)
            world.ongoing.state.allocate("O-PICK")
            world.ongoing.state.pick("O-PICK", [PickRequest(sku, 3)])

            await world.flow(picked_not_collected_as_in_stock=option).run()

            assert world.stock_writes() == [(sku, expected)]
            assert world.physical(sku) == expected


async def test_import_available_stock_fills_the_wms_external_number(tmp_path: Path) -> None:
    for option in (False, True):
        async with stock_world(tmp_path / str(option)) as world:
            refs = world.sizes(3)
            for ref in refs:
                world.in_wms(ref.physical_sku, 5)
            store = world.centra.world.store("wms")

            report = await world.flow(sync_stock=False, import_available_stock=option).run_full()

            for ref in refs:
                physical, allocated = world.centra.world.store_stock(store, ref.size.id)
                shown = world.external(ref.physical_sku)
                assert shown == (float(physical - allocated) if option else None)
            assert report.imported == (3 if option else 0)
            assert world.stock_writes() == [], "importing never writes Centra's stock"


async def test_import_is_incremental_and_only_where_the_figure_differs(tmp_path: Path) -> None:
    async with stock_world(tmp_path) as world:
        refs = world.sizes(3)
        for ref in refs:
            world.in_wms(ref.physical_sku, 5)
        flow = world.flow(sync_stock=False, import_available_stock=True)
        assert (await flow.run_incremental()).imported == 3
        world.clock.advance(seconds=3600)
        assert (await flow.run_incremental()).imported == 0, "nothing moved in Centra"

        world.set_physical(refs[1].physical_sku, world.physical(refs[1].physical_sku) + 7)
        world.clock.advance(seconds=600)
        report = await flow.run_incremental()

        assert report.imported == 1
        store = world.centra.world.store("wms")
        physical, allocated = world.centra.world.store_stock(store, refs[1].size.id)
        assert world.external(refs[1].physical_sku) == float(physical - allocated)


async def test_full_sync_waits_for_the_quiet_window(tmp_path: Path) -> None:
    async with stock_world(tmp_path) as world:
        sku = free_sizes(world, 1)[0].physical_sku
        world.in_wms(sku, 3)
        world.clock.advance(seconds=100)
        world.in_wms(sku, 4)
        world.clock.advance(seconds=30)

        report = await world.flow(stock_quiet_window=120).run_full()

        assert not report.postponed
        assert report.waited >= 90, "the last change was 30 s ago; 120 s of quiet needed"
        assert world.clock.slept, "it slept through the injected sleep"
        assert world.stock_writes() == [(sku, 4)]


async def test_without_a_quiet_window_the_full_sync_starts_at_once(tmp_path: Path) -> None:
    async with stock_world(tmp_path) as world:
        sku = free_sizes(world, 1)[0].physical_sku
        world.in_wms(sku, 4)

        report = await world.flow(stock_quiet_window=0).run_full()

        assert (report.waited, world.clock.slept) == (0.0, [])
        assert world.stock_writes() == [(sku, 4)]


async def test_full_sync_is_postponed_while_stock_keeps_moving(tmp_path: Path) -> None:
    async with stock_world(tmp_path) as world:
        sku = free_sizes(world, 1)[0].physical_sku
        world.in_wms(sku, 4)
        count = iter(range(5, 1000))

        async def busy_sleep(seconds: float) -> None:
            world.clock.advance(seconds=seconds)
            world.in_wms(sku, next(count))

        flow = world.flow(stock_quiet_window=120)
        flow.sleep = busy_sleep
        flow.quiet_max_wait = 300

        report = await flow.run_full()

        assert report.postponed and report.waited == 300
        assert world.stock_writes() == []


async def test_full_sync_reports_drift_per_sku(tmp_path: Path) -> None:
    async with stock_world(tmp_path) as world:
        refs = free_sizes(world, 3)
        drifted, same, ghost = refs[0].physical_sku, refs[1].physical_sku, refs[2].physical_sku
        centra_had = world.physical(drifted)
        world.in_wms(drifted, centra_had - 2)
        world.in_wms(same, world.physical(same))

        report = await world.flow(stock_quiet_window=0).run_full()

        by_sku = {entry.sku: entry for entry in report.drift}
        assert (by_sku[drifted].centra, by_sku[drifted].wms) == (centra_had, centra_had - 2)
        assert by_sku[drifted].written
        assert same not in by_sku
        assert by_sku[ghost].wms is None and not by_sku[ghost].written, "in Centra only"
        assert world.stock_writes() == [(drifted, centra_had - 2)]


async def test_a_value_centra_clamps_is_not_sent_again(tmp_path: Path) -> None:
    async with stock_world(tmp_path) as world:
        store = world.centra.world.store("wms")
        ref = next(
            r for r in world.sizes(400) if world.centra.world.store_stock(store, r.size.id)[1]
        )
        allocated = world.centra.world.store_stock(store, ref.size.id)[1]
        world.in_wms(ref.physical_sku, 0)
        flow = world.flow(stock_quiet_window=0)

        await flow.run_full()
        world.clock.advance(seconds=3600)
        await flow.run_full()

        assert world.stock_writes() == [(ref.physical_sku, 0)], "written once, clamped once"
        assert world.physical(ref.physical_sku) == allocated


async def test_centra_moving_away_after_a_write_is_corrected_in_the_same_second(
    tmp_path: Path,
) -> None:
    async with stock_world(tmp_path) as world:
        sku = free_sizes(world, 1)[0].physical_sku
        world.in_wms(sku, 5)
        flow = world.flow(stock_quiet_window=0)
        await flow.run_full()
        world.set_physical(sku, 9)

        await world.flow(stock_quiet_window=0).run_full()

        assert world.stock_writes() == [(sku, 5), (sku, 5)]
        assert world.physical(sku) == 5


async def test_unknown_skus_and_bundles_are_parked_and_the_rest_written(tmp_path: Path) -> None:
    async with stock_world(tmp_path) as world:
        good = free_sizes(world, 1)[0].physical_sku
        for sku in (good, "GHOST123", "BND2001"):
            world.in_wms(sku, 3)
        flow = world.flow()

        await flow.run_incremental()

        assert world.physical(good) == 3
        dead = {d.record.key: d.reason for d in await world.state.list_dead("se")}
        assert set(dead) == {"GHOST123", "BND2001"}
        assert "productsNotFound" in dead["GHOST123"]
        assert "productsAreBundles" in dead["BND2001"]
        states = {
            r.ref.key: r.state
            for r in await world.state.list_records("se", kind=RecordKind.STOCK, limit=10)
        }
        assert states == {
            good: StockState.WRITTEN,
            "GHOST123": StockState.NOT_FOUND,
            "BND2001": StockState.BUNDLE,
        }

        world.clock.advance(seconds=600)
        for sku in (good, "GHOST123", "BND2001"):
            world.in_wms(sku, 4)
        await flow.run_incremental()
        assert world.stock_writes()[-1:] == [(good, 4)], "parked SKUs wait for a person"


async def test_figures_that_are_no_whole_item_count_are_parked_by_field(tmp_path: Path) -> None:
    async with stock_world(tmp_path) as world:
        half, whole = (ref.physical_sku for ref in free_sizes(world, 2))
        world.in_wms(half, 2.5)
        world.in_wms(whole, 2)

        await world.flow().run()

        assert world.stock_writes() == [(whole, 2)]
        [dead] = await world.state.list_dead("se")
        assert dead.record.key == half
        assert f"stock {half}" in dead.reason and "numberOfItems" in dead.reason
        assert isinstance(dead.payload, dict) and dead.payload["numberOfItems"] == "2.5"


async def test_a_wms_read_over_many_pages_is_compared_page_by_page(tmp_path: Path) -> None:
    async with stock_world(tmp_path) as world:
        *good, bad = (ref.physical_sku for ref in free_sizes(world, 5))
        for sku in good[:2]:
            world.in_wms(sku, world.physical(sku) + 3)
        for sku in good[2:]:
            world.in_wms(sku, world.physical(sku))
        world.in_wms(bad, 1.5)
        async with OngoingWarehouse(
            ONGOING_URL,
            "centrasync",
            "secret",
            1,
            transport=EmulatorTransport(world.ongoing.app),
            clock=world.clock,
            page_size=2,
        ) as paged:
            report = await replace(world, wms=paged).flow().run_incremental()

        assert (report.seen, report.written, report.parked) == (5, 2, 1)
        assert sorted(world.stock_writes()) == sorted(
            (sku, world.physical(sku)) for sku in good[:2]
        )
        [dead] = await world.state.list_dead("se")
        assert dead.record.key == bad
        assert isinstance(dead.payload, dict) and dead.payload["numberOfItems"] == "1.5"


# -- warehouse_map: Ongoing with two warehouses (the emulator keeps one) -------------------


def two_warehouse_ongoing(sku: str) -> httpx.MockTransport:
    """10 items of ``sku`` in Stockholm (one locked for an order) and 5 in Göteborg."""

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/demo/api/v1/")
        if path == "warehouses":
            return httpx.Response(
                200,
                json=[{"id": 1, "code": "STO", "name": "Stockholm"}, {"id": 2, "code": "GOT"}],
            )
        if int(request.url.params.get("articleSystemIdFrom", "0")) > 7:
            return httpx.Response(200, json=[])
        if path == "articles":
            info = {
                "numberOfItems": 15.0,
                "numberOfLockedItems": 1.0,
                "allocatedNumberOfItems": 1.0,
                "sellableNumberOfItems": 14.0,
            }
            row = {"articleSystemId": 7, "articleNumber": sku, "inventoryInfo": info}
            return httpx.Response(200, json=[row])
        if path == "articles/inventoryPerWarehouse":
            wanted = set(request.url.params.get_list("warehouseIds"))
            parts = [
                {"warehouseId": 1, "numberOfItems": 10.0, "numberOfLockedItems": 1.0},
                {"warehouseId": 2, "numberOfItems": 5.0, "numberOfLockedItems": 0.0},
            ]
            chosen = [p for p in parts if str(p["warehouseId"]) in wanted]
            row = {"articleSystemId": 7, "articleNumber": sku, "inventoryPerWarehouse": chosen}
            return httpx.Response(200, json=[row])
        return httpx.Response(404, json={"message": f"no {path}"})

    return httpx.MockTransport(handle)


@pytest.mark.parametrize(
    ("warehouse_map", "expected"),
    [({}, 15), ({"STO": "Stockholm Central"}, 10), ({"GOT": "Stockholm Central"}, 5)],
)
async def test_warehouse_map_picks_the_wms_warehouses_a_store_sells_from(
    tmp_path: Path, warehouse_map: dict[str, str], expected: int
) -> None:
    async with stock_world(tmp_path) as world:
        sku = free_sizes(world, 1)[0].physical_sku
        async with OngoingWarehouse(
            ONGOING_URL, "centrasync", "secret", 1, transport=two_warehouse_ongoing(sku)
        ) as wms:
            flow = world.flow(warehouse_map=warehouse_map)
            flow.wms = wms

            await flow.run()

        assert world.stock_writes() == [(sku, expected)]
        if warehouse_map:
            record = await world.state.get_record(RecordRef("se", RecordKind.STOCK, sku))
            assert record is not None and isinstance(record.last_request, dict)
            assert record.last_request["warehouse"] == "Stockholm Central"


async def test_a_warehouse_ongoing_does_not_know_is_a_setup_error(tmp_path: Path) -> None:
    async with stock_world(tmp_path) as world:
        world.in_wms(free_sizes(world, 1)[0].physical_sku, 1)
        flow = world.flow(warehouse_map={"NOWHERE": "Stockholm Central"})

        with pytest.raises(ConfigError, match="NOWHERE"):
            await flow.run()

        assert world.stock_writes() == []


async def test_one_plugin_cannot_write_two_centra_warehouses(tmp_path: Path) -> None:
    async with stock_world(tmp_path) as world:
        mapping: dict[str, Any] = {"STO": "Stockholm Central", "GOT": "Göteborg Retail"}
        with pytest.raises(ConfigError, match="warehouse_map"):
            StockFlow(world.settings(warehouse_map=mapping), world.state, world.client, world.wms)
