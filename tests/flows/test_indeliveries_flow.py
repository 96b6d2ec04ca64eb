"""The in-deliveries flow on both emulators: in-orders out, receipts back, exactly once."""

from __future__ import annotations

import contextlib
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from centrasync.store.base import RecordKind, RecordRef
from centrasync.sync.indeliveries import InDeliveryState

from .indeliveries_helpers import (
    acceptances,
    accepted_totals,
    receive,
    run,
    seed_delivery,
    settle,
)
from .report_world import Killed, KillSwitch, open_world


async def test_a_new_delivery_becomes_an_in_order_as_ongoing_maps_it(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        number, delivery_id = seed_delivery(world)
        delivery = world.centra.world.supplier_deliveries[int(number)]
        supplier = world.centra.world.supplier_orders[delivery.order_id]

        assert await run(world) == 1

        po = world.ongoing.state.purchase_order_by_number(number)
        doc = po.document
        assert doc.goods_owner_reference == delivery_id
        assert doc.reference_number == str(supplier.id)
        assert supplier.eta is not None
        assert doc.in_date is not None
        assert doc.in_date.date() == supplier.eta.astimezone(ZoneInfo("Europe/Stockholm")).date()
        assert doc.supplier_info is not None
        assert doc.supplier_info.supplier_name == supplier.supplier_name
        sizes = [world.centra.world.sizes[line.size_id] for line in supplier.lines]
        assert [row.article_number for row in doc.purchase_order_lines] == [
            ref.physical_sku for ref in sizes
        ]
        assert [row.row_number for row in doc.purchase_order_lines] == [
            ref.size.ean for ref in sizes
        ]
        assert {row.number_of_items for row in doc.purchase_order_lines} == {24.0}
        assert {row.row_price for row in doc.purchase_order_lines} == {24 * 120.0}
        assert {row.currency_code for row in doc.purchase_order_lines} == {"SEK"}
        record = await world.state.get_record(RecordRef("se", RecordKind.IN_DELIVERY, number))
        assert record is not None
        assert record.state == InDeliveryState.SENT
        assert record.centra_id == delivery_id
        assert record.wms_id == str(po.purchase_order_id)

        assert await run(world) == 0
        assert len(world.ongoing.state.purchase_orders) == 1


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [("sku_variant_size", "physical_sku"), ("ean", "ean"), ("sku", "product_sku")],
)
async def test_the_article_number_setting_names_the_in_order_articles(
    tmp_path: Path, strategy: str, expected: str
) -> None:
    async with open_world(tmp_path) as world:
        number, _ = seed_delivery(world)
        delivery = world.centra.world.supplier_deliveries[int(number)]
        supplier = world.centra.world.supplier_orders[delivery.order_id]
        sizes = [world.centra.world.sizes[line.size_id] for line in supplier.lines]
        wanted = {
            "physical_sku": [ref.physical_sku for ref in sizes],
            "ean": [ref.size.ean for ref in sizes],
            "product_sku": [ref.product.sku for ref in sizes],
        }[expected]

        await run(world, article_number=strategy)

        po = world.ongoing.state.purchase_order_by_number(number)
        assert [line.article.number for line in po.lines] == wanted


async def test_partial_receipts_accumulate_and_follow_the_additional_delivery(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        number, delivery_id = seed_delivery(world)
        await run(world)

        receive(world, number, 10)
        assert await run(world) == 1

        first = acceptances(world)
        assert len(first) == 1
        assert first[0]["delivery"] == delivery_id
        assert set(first[0]["received"].values()) == {10}
        additional = first[0]["additionalDelivery"]
        assert additional is not None
        po = world.ongoing.state.purchase_order_by_number(number)
        assert {line.reported for line in po.lines} == {10.0}
        ledger = await world.state.list_records("se", kind=RecordKind.IN_DELIVERY)
        states = {r.ref.key: (r.state, r.centra_id) for r in ledger}
        assert states[number] == (InDeliveryState.PARTIALLY_RECEIVED, delivery_id)
        assert (InDeliveryState.CONTINUATION, additional) in states.values()
        assert len(world.ongoing.state.purchase_orders) == 1, "remainder not sent on its own"

        receive(world, number, 14)
        assert await run(world) == 1

        second = acceptances(world)[1:]
        assert [a["delivery"] for a in second] == [additional]
        assert set(second[0]["received"].values()) == {14}
        assert second[0]["additionalDelivery"] is None
        assert set(accepted_totals(world).values()) == {24}
        assert {line.reported for line in po.lines} == {24.0}
        record = await world.state.get_record(RecordRef("se", RecordKind.IN_DELIVERY, number))
        assert record is not None and record.state == InDeliveryState.RECEIVED

        assert await run(world) == 0
        assert len(acceptances(world)) == 2
        assert len(world.ongoing.state.purchase_orders) == 1


@pytest.mark.slow
async def test_a_kill_at_any_request_reports_nothing_twice(tmp_path: Path) -> None:
    """Kill each pass after its n-th request, for every n a pass makes; restart; check.

    A receipt pass makes ten requests (list in-orders, read the delivery, accept, five
    marks, list open deliveries), the sending pass four.
    """
    looked = 0
    for kill_at in range(1, 11):
        async with open_world(tmp_path / str(kill_at)) as world:
            number, _ = seed_delivery(world)
            with contextlib.suppress(Killed):
                await run(world, KillSwitch(after=kill_at))
            await settle(world)
            for quantity in (10, 14):
                receive(world, number, quantity)
                with contextlib.suppress(Killed):
                    await run(world, KillSwitch(after=kill_at))
                await settle(world)

            deliveries = [a["delivery"] for a in acceptances(world)]
            assert len(deliveries) == 2 == len(set(deliveries)), kill_at
            assert set(accepted_totals(world).values()) == {24}, kill_at
            po = world.ongoing.state.purchase_order_by_number(number)
            assert {line.reported for line in po.lines} == {24.0}, kill_at
            assert len(world.ongoing.state.purchase_orders) == 1, kill_at
            record = await world.state.get_record(RecordRef("se", RecordKind.IN_DELIVERY, number))
            assert record is not None and record.state == InDeliveryState.RECEIVED, kill_at
            for accepted in acceptances(world):
                key = f"accept/se/in_delivery/{number}/{accepted['deliveryId']}"
                effect = await world.state.get_effect(key)
                if effect is not None and isinstance(effect.outcome, dict):
                    looked += effect.outcome.get("found_by") == "look"
    assert looked >= 2, "some kills must land right after an acceptance"


def is_acceptance(request: httpx.Request) -> bool:
    return request.method == "POST" and "/supplier-deliveries/" in request.url.path


async def test_an_acceptance_in_doubt_is_looked_up_not_repeated(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        number, delivery_id = seed_delivery(world)
        await run(world)
        receive(world, number, 10)
        with pytest.raises(Killed):
            await run(world, KillSwitch(when=is_acceptance))
        assert len(acceptances(world)) == 1
        record = await world.state.get_record(RecordRef("se", RecordKind.IN_DELIVERY, number))
        assert record is not None and record.state == InDeliveryState.ACCEPTING

        assert await run(world) == 1

        assert len(acceptances(world)) == 1
        accepted = acceptances(world)[0]
        assert accepted["delivery"] == delivery_id
        effect = await world.state.get_effect(f"accept/se/in_delivery/{number}/{number}")
        assert effect is not None and isinstance(effect.outcome, dict)
        assert effect.outcome["found_by"] == "look"
        assert effect.outcome["additional_number"] == accepted["additionalDelivery"]
        po = world.ongoing.state.purchase_order_by_number(number)
        assert {line.reported for line in po.lines} == {10.0}
        assert len(world.ongoing.state.purchase_orders) == 1, "remainder not sent on its own"
