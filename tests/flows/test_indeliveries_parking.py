"""Bad deliveries and impossible receipts are parked with a reason; the rest carries on."""

from __future__ import annotations

from pathlib import Path

from centrasync.emulators.centra.specs import (
    SupplierDeliverySpec,
    SupplierOrderLineSpec,
    SupplierOrderSpec,
)
from centrasync.emulators.ongoing.floor import LineQuantity
from centrasync.store.base import RecordKind, RecordRef
from centrasync.sync.indeliveries import InDeliveriesFlow, InDeliveryState
from centrasync.sync.tally import Tally

from .indeliveries_helpers import acceptances, receive, run, seed_delivery
from .report_world import World, clients, open_world, store_settings


def add_gift_card_delivery(world: World) -> str:
    """A delivery of the seed's gift card box, whose SKU has no variant or size part."""
    centra = world.centra.world
    gift = next(ref for ref in centra.sizes.values() if ref.product.sku == "M411-740")
    warehouse = centra.stores["wms"].supplier_delivery_warehouse_id
    assert warehouse is not None
    order = centra.add_supplier_order(
        SupplierOrderSpec(
            warehouse_id=warehouse, lines=[SupplierOrderLineSpec(ean=gift.size.ean, qty=5)]
        )
    )
    return str(centra.add_supplier_delivery(order.id, SupplierDeliverySpec()).id)


async def test_a_delivery_without_a_full_article_number_is_parked_and_the_others_sent(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        good, _ = seed_delivery(world)
        bad = add_gift_card_delivery(world)
        tally = Tally()
        async with clients(world) as (centra, wms):
            flow = InDeliveriesFlow(store_settings(), world.state, centra, wms, events=tally)
            assert await flow.run() == 1
            assert await flow.run() == 0

        assert [po.number for po in world.ongoing.state.purchase_orders.values()] == [good]
        record = await world.state.get_record(RecordRef("se", RecordKind.IN_DELIVERY, bad))
        assert record is not None and record.state == InDeliveryState.INVALID
        [dead] = await world.state.list_dead("se")
        assert dead.record.key == bad
        assert f"supplier delivery {bad}" in dead.reason
        assert "products[0].variantSku" in dead.reason
        assert isinstance(dead.payload, dict) and dead.payload["id"] == bad
        assert tally.parked_count["se", "in_deliveries"] == 1


async def test_a_fraction_of_an_item_received_is_parked_naming_the_line(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        number, _ = seed_delivery(world)
        await run(world)
        po = world.ongoing.state.purchase_order_by_number(number)
        world.ongoing.state.receive(number, [LineQuantity(po.lines[1].article.number, 2.5)])

        assert await run(world) == 0

        assert acceptances(world) == []
        [dead] = await world.state.list_dead("se")
        assert f"in-order {number}" in dead.reason and "lines[1].received" in dead.reason
        record = await world.state.get_record(RecordRef("se", RecordKind.IN_DELIVERY, number))
        assert record is not None and record.state == InDeliveryState.INVALID


async def test_goods_received_after_the_last_acceptance_are_parked_not_accepted(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        number, _ = seed_delivery(world)
        await run(world)
        receive(world, number, 24)
        await run(world)
        assert len(acceptances(world)) == 1
        assert acceptances(world)[0]["additionalDelivery"] is None
        po = world.ongoing.state.purchase_order_by_number(number)
        world.ongoing.state.receive(number, [LineQuantity(po.lines[0].article.number, 1)])

        assert await run(world) == 0

        assert len(acceptances(world)) == 1
        record = await world.state.get_record(RecordRef("se", RecordKind.IN_DELIVERY, number))
        assert record is not None and record.state == InDeliveryState.REFUSED
        [dead] = await world.state.list_dead("se")
        assert "no open delivery" in dead.reason
