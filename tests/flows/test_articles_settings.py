"""Each article setting, flipped, changes what the Ongoing emulator holds afterwards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from centrasync.emulators.centra.seed import ean13
from centrasync.store.base import RecordKind, RecordRef

from .articles_helpers import rig, store_settings


async def test_default_mapping_as_ongoings_connector_documents(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        assert await r.flow().run() == 3
        articles = await r.wms_articles()
    # The inactive cap and the gift box (no variant or size SKU) stay out by default.
    assert sorted(articles) == ["TEEWHTM", "WJBLK38", "WJBLK40"]
    jacket = articles["WJBLK38"]
    assert jacket["articleName"] == "WinterJacket Black 38"
    assert jacket["barCodeInfo"]["barCode"] == ean13(1)
    assert jacket["statisticsNumber"] == "6201409000"
    assert jacket["countryOfOriginCode"] == "PT"
    assert jacket["weight"] == 1.2, "1200 g in Centra is 1.2 kg in the WMS"
    assert articles["TEEWHTM"]["weight"] == 0.2, "kg stays kg"
    assert jacket["customerPrice"] is None
    assert jacket["isActive"] is True
    assert jacket["isObsolete"] is False


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"article_number": "sku_variant_size"}, ["TEEWHTM", "WJBLK38", "WJBLK40"]),
        ({"article_number": "ean"}, [ean13(1), ean13(2), ean13(3)]),
        ({"article_number": "sku"}, ["TEE"]),  # both jacket sizes claim "WJ": parked
        (
            {"article_number": "custom", "article_number_fields": ["sku", "sizeSku"]},
            ["TEEM", "WJ38", "WJ40"],
        ),
    ],
)
async def test_article_number_strategy(
    tmp_path: Path, options: dict[str, Any], expected: list[str]
) -> None:
    async with rig(tmp_path) as r:
        await r.flow(**options).run()
        assert sorted(await r.wms_articles()) == sorted(expected)


@pytest.mark.parametrize("page_size", [100, 1], ids=["one page", "a page per row"])
async def test_sku_variant_strategy_refuses_the_clash_and_names_both_products(
    tmp_path: Path, page_size: int
) -> None:
    """Rows are handled page by page, but a clash is still refused before anything is written."""
    async with rig(tmp_path) as r:
        assert await r.flow(article_number="sku_variant", page_size=page_size).run() == 1
        assert r.recorder.puts == ["TEEWHT"], "neither jacket size was ever sent"
        assert sorted(await r.wms_articles()) == ["TEEWHT"], "the tee carries on"
        dead = await r.state.list_dead("se")
        record = await r.state.get_record(RecordRef("se", RecordKind.ARTICLE, "WJBLK"))
    assert record is not None and record.state == "ambiguous"
    [entry] = dead
    assert entry.record.key == "WJBLK"
    assert "'WinterJacket Black 38'" in entry.reason and "'WinterJacket Black 40'" in entry.reason
    assert "sku_variant" in entry.reason


async def test_sync_article_price(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        await r.flow(sync_article_price=False).run()
        assert (await r.wms_articles())["WJBLK38"]["customerPrice"] is None
        await r.flow(sync_article_price=True).full_resync()
        assert (await r.wms_articles())["WJBLK38"]["customerPrice"] == 1299.0


async def test_sync_inactive_products(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        await r.flow(sync_inactive_products=False).run()
        assert "CAPREDOS" not in await r.wms_articles()
        await r.flow(sync_inactive_products=True).full_resync()
        cap = (await r.wms_articles())["CAPREDOS"]
    assert cap["articleName"] == "Old Cap Red One size"
    # The seed's table: obsolete ← not active; Ongoing REST also has isActive.
    assert cap["isObsolete"] is True
    assert cap["isActive"] is False


async def test_default_filter_keeps_out_rows_without_every_sku_part_whatever_the_strategy(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path) as r:
        written = await r.flow(article_number="ean").run()
        assert ean13(5) not in await r.wms_articles(), "the gift box has no variant/size SKU"
        assert written == 3


async def test_article_filters_replace_the_default(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        written = await r.flow(article_number="ean", article_filters=["ean"]).run()
        assert ean13(5) in await r.wms_articles(), "only an EAN is required now"
        assert written == 4


def test_an_unknown_article_filter_field_names_the_store_and_key() -> None:
    from centrasync.errors import ConfigError

    with pytest.raises(ConfigError, match=r"stores\.se\.article_filters.*colour"):
        store_settings(article_filters=["sku", "colour"])
