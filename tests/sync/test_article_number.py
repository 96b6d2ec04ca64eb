"""Article numbers under every strategy, and the property that they are plain concatenations."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from centrasync.centra.models import ProductRow, ShipmentLine
from centrasync.config import ArticleNumberStrategy
from centrasync.errors import ConfigError, RecordValidationError
from centrasync.sync import article_number

LINE = ShipmentLine.model_validate(
    {
        "lineId": "7",
        "sku": "JKT1",
        "variantSku": "BLK",
        "sizeSku": "38",
        "ean": "735000",
        "upc": "9",
    }
)


@pytest.mark.parametrize(
    ("strategy", "fields", "expected"),
    [
        (ArticleNumberStrategy.EAN, (), "735000"),
        (ArticleNumberStrategy.SKU, (), "JKT1"),
        (ArticleNumberStrategy.SKU_VARIANT, (), "JKT1BLK"),
        (ArticleNumberStrategy.SKU_VARIANT_SIZE, (), "JKT1BLK38"),
        (ArticleNumberStrategy.CUSTOM, ("sku", "sizeSku"), "JKT138"),
        (ArticleNumberStrategy.CUSTOM, ("size_sku", "upc"), "389"),
    ],
)
def test_every_strategy(
    strategy: ArticleNumberStrategy, fields: tuple[str, ...], expected: str
) -> None:
    assert article_number(LINE, strategy, fields) == expected


def test_default_strategy_agrees_with_the_models_physical_sku() -> None:
    assert article_number(LINE, ArticleNumberStrategy.SKU_VARIANT_SIZE) == LINE.physical_sku


def test_works_on_product_rows_too() -> None:
    row = ProductRow.model_validate({"sku": "A", "variantSku": "B", "sizeSku": "C", "ean": "1"})
    assert article_number(row, ArticleNumberStrategy.SKU_VARIANT_SIZE) == "ABC"
    assert article_number(row, ArticleNumberStrategy.EAN) == "1"


def test_custom_field_kept_as_extra_can_be_used() -> None:
    line = ShipmentLine.model_validate({"lineId": "1", "sku": "A", "localSku": "X9"})
    assert article_number(line, ArticleNumberStrategy.CUSTOM, ("localSku",)) == "X9"


@pytest.mark.parametrize(
    ("strategy", "raw", "field"),
    [
        (ArticleNumberStrategy.EAN, {"ean": ""}, "ean"),
        (ArticleNumberStrategy.SKU, {"sku": " "}, "sku"),
        (ArticleNumberStrategy.SKU_VARIANT, {"sku": "A"}, "variantSku"),
        (ArticleNumberStrategy.SKU_VARIANT_SIZE, {"sku": "A", "variantSku": "B"}, "sizeSku"),
    ],
)
def test_empty_part_names_the_record_and_field(
    strategy: ArticleNumberStrategy, raw: dict[str, Any], field: str
) -> None:
    line = ShipmentLine.model_validate({"lineId": "5", **raw})
    with pytest.raises(RecordValidationError) as caught:
        article_number(line, strategy)
    assert caught.value.record == "line 5"
    assert caught.value.field == field


def test_custom_without_fields_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="article_number_fields"):
        article_number(LINE, ArticleNumberStrategy.CUSTOM)


part = st.text(min_size=1, max_size=12).filter(lambda s: s.strip() != "")


@given(sku=part, variant=part, size=part)
def test_default_number_is_the_concatenation_and_deterministic(
    sku: str, variant: str, size: str
) -> None:
    line = ShipmentLine.model_validate(
        {"lineId": "1", "sku": sku, "variantSku": variant, "sizeSku": size}
    )
    first = article_number(line, ArticleNumberStrategy.SKU_VARIANT_SIZE)
    again = article_number(line.model_copy(), ArticleNumberStrategy.SKU_VARIANT_SIZE)
    assert first == again == line.sku + line.variant_sku + line.size_sku
    assert article_number(line, ArticleNumberStrategy.SKU_VARIANT) == line.sku + line.variant_sku
