"""What the stock flow needed from the emulators and the Ongoing connector."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from centrasync.emulators.centra.specs import OrderLineSpec, OrderSpec
from centrasync.emulators.ongoing.floor import PickRequest
from centrasync.emulators.ongoing.payloads import ArticleIn, OrderIn
from centrasync.wms.models import Article

from .stock_harness import stock_world


async def test_ongoing_counts_goods_bound_to_orders_as_locked(tmp_path: Path) -> None:
    """Allocated (vendor's word) and picked-not-collected (inferred) goods are locked."""
    async with stock_world(tmp_path) as world:
        world.in_wms("A", 10, locked=1)
        for number, qty in (("O-1", 2), ("O-2", 3)):
            world.ongoing.state.upsert_order(
                OrderIn.model_validate(
                    {
                        "goodsOwnerId": 1,
                        "orderNumber": number,
                        "deliveryDate": "2025-03-04",
                        "consignee": {"name": "Ada", "countryCode": "SE"},
                        "orderLines": [
                            {"rowNumber": "1", "articleNumber": "A", "numberOfItems": qty}
                        ],
                    }
                )
            )
            world.ongoing.state.allocate(number)
        world.ongoing.state.pick("O-2", [PickRequest("A", 3)])

        [level] = await world.wms.read_stock(skus=["A"])

        assert level.on_hand == 10, "allocated and picked goods are still on the premises"
        assert (level.allocated, level.picked_not_collected) == (2, 3)
        assert level.locked == 1 + 2 + 3
        assert level.available == 10 - 1 - 5, "sellable: minus the lock and both orders"


async def test_centra_moves_a_rows_stock_time_when_an_order_allocates(tmp_path: Path) -> None:
    async with stock_world(tmp_path) as world:
        ref = world.sizes(1)[0]
        world.clock.advance(seconds=3600)
        since = world.clock()
        world.clock.advance(seconds=60)
        world.centra.world.place_order(
            OrderSpec(store="wms", lines=[OrderLineSpec(ean=ref.size.ean, qty=1)])
        )

        rows = [
            row
            async for page in world.client.iter_stock(stock_modified_since=since)
            for row in page
        ]

        assert [row.physical_sku for row in rows] == [ref.physical_sku]
        assert rows[0].allocated_stock is not None and rows[0].allocated_stock >= 1


async def test_external_stock_is_written_without_blanking_the_article(tmp_path: Path) -> None:
    async with stock_world(tmp_path) as world:
        article = Article(
            sku="A",
            name="Wool Jacket Black XS",
            barcode="7350000000017",
            weight_kg=Decimal("0.8"),
            country_of_origin="PT",
            hs_code="62019300",
        )
        assert not (await world.wms.upsert_articles([article])).failed

        result = await world.wms.set_external_stock({"A": Decimal(7), "NOPE": Decimal(1)})

        assert result.upserted == ("A",)
        assert [failure.key for failure in result.failed] == ["NOPE"]
        document = world.ongoing.state.articles["A"].document
        assert document.external_number_of_items == 7.0
        assert document.article_name == "Wool Jacket Black XS"
        assert document.bar_code_info is not None
        assert document.bar_code_info.bar_code == "7350000000017"
        assert (document.weight, document.country_of_origin_code) == (0.8, "PT")
        assert document.statistics_number == "62019300"
        [level] = await world.wms.read_stock(skus=["A"])
        assert level.external == 7


async def test_the_emulators_one_warehouse_by_code_or_id_gives_the_article_figures(
    tmp_path: Path,
) -> None:
    async with stock_world(tmp_path) as world:
        world.in_wms("A", 6, locked=2)
        world.ongoing.state.upsert_article(ArticleIn(goods_owner_id=1, article_number="B"))

        whole = await world.wms.read_stock()
        by_code = await world.wms.read_stock(warehouses=["demo"])
        by_id = await world.wms.read_stock(world.clock() - timedelta(hours=1), warehouses=["1"])

        figures = {(level.sku, level.on_hand, level.locked) for level in whole}
        assert figures == {("A", 6, 2), ("B", 0, 0)}
        assert {(level.sku, level.on_hand, level.locked) for level in by_code} == figures
        assert {(level.sku, level.on_hand, level.locked) for level in by_id} == figures
