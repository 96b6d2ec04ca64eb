"""The pure part of the articles flow: filters, the row → article mapping, hashes, clashes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from centrasync.centra.models import ProductRow
from centrasync.errors import RecordValidationError
from centrasync.sync.article_mapping import (
    ambiguous_numbers,
    article_name,
    article_to_json,
    content_hash,
    filter_reason,
    product_to_article,
    weight_in_kg,
)
from centrasync.wms.models import Article

from .articles_helpers import store_settings

DEFAULT = store_settings()


def row(**fields: Any) -> ProductRow:
    base: dict[str, Any] = {
        "sku": "WJ",
        "variantSku": "BLK",
        "sizeSku": "38",
        "stockItemId": "10001",
        "product": "WinterJacket",
        "variant": "Black",
        "size": "38",
        "ean": "7350000000016",
        "weight": "1200",
        "weightUnit": "g",
        "countryOfOrigin": "pt",
        "harmCode": 6201409000,
        "active": "1",
        "prices": [{"id": "1", "price": "1299.00", "pricelist": "SEK", "currency": "SEK"}],
    }
    return ProductRow.model_validate({**base, **fields})


def test_a_row_maps_as_the_connectors_table_says() -> None:
    article = product_to_article(row(), DEFAULT)
    assert article == Article(
        sku="WJBLK38",
        name="WinterJacket Black 38",
        barcode="7350000000016",
        weight_kg=Decimal("1.2"),
        country_of_origin="PT",
        hs_code="6201409000",
        unit_price=None,
        is_active=True,
    )
    priced = product_to_article(row(), store_settings(sync_article_price=True))
    assert priced.unit_price == Decimal("1299.00")


def test_inactive_rows_carry_their_flag_when_they_are_synced() -> None:
    inactive = row(active="0")
    assert filter_reason(inactive, DEFAULT) == (
        "inactive in Centra and sync_inactive_products is off"
    )
    with_inactive = store_settings(sync_inactive_products=True)
    assert filter_reason(inactive, with_inactive) is None
    assert product_to_article(inactive, with_inactive).is_active is False


@pytest.mark.parametrize(
    ("fields", "named"),
    [({"variantSku": ""}, "variantSku"), ({"sizeSku": " "}, "sizeSku"), ({"sku": ""}, "sku")],
)
def test_default_filter_names_the_empty_parts(fields: dict[str, str], named: str) -> None:
    reason = filter_reason(row(**fields), DEFAULT)
    assert reason is not None and reason.startswith(named)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"weightUnit": "oz"}, "weightUnit"),
        ({"weight": "-1"}, "weight"),
        ({"countryOfOrigin": "Portugal"}, "countryOfOrigin"),
    ],
)
def test_bad_values_name_the_product_and_the_field(fields: dict[str, str], field: str) -> None:
    with pytest.raises(RecordValidationError) as caught:
        product_to_article(row(**fields), DEFAULT)
    assert caught.value.field == field
    assert "WinterJacket Black 38" in caught.value.record and "10001" in caught.value.record


def test_name_falls_back_to_the_external_name_and_skips_empty_parts() -> None:
    assert article_name(row(product="", name="Winter Jacket", size="")) == "Winter Jacket Black"


weights = st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False)


@given(weight=weights)
def test_grams_become_kilograms_exactly(weight: Decimal) -> None:
    kg = weight_in_kg(weight, "g", record="r")
    assert kg is not None and kg * 1000 == weight
    assert weight_in_kg(weight, "kg", record="r") == weight
    assert weight_in_kg(weight, "", record="r") == weight


text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
articles = st.builds(
    Article,
    sku=text.filter(lambda s: s.strip() != ""),
    name=text,
    barcode=st.none() | text,
    weight_kg=st.none() | weights,
    country_of_origin=st.none() | st.sampled_from(["SE", "PT"]),
    hs_code=st.none() | text,
    unit_price=st.none() | weights,
    is_active=st.booleans(),
)


@given(article=articles)
def test_hash_ignores_how_an_amount_is_written_but_sees_every_field(article: Article) -> None:
    assert content_hash(article) == content_hash(replace(article))
    if article.weight_kg is not None:
        padded = replace(article, weight_kg=article.weight_kg.quantize(Decimal("0.00001")))
        assert content_hash(padded) == content_hash(article)
    assert content_hash(replace(article, is_active=not article.is_active)) != content_hash(article)
    assert content_hash(replace(article, name=article.name + "x")) != content_hash(article)
    assert set(article_to_json(article)) == {
        "sku",
        "name",
        "barcode",
        "product_code",
        "weight_kg",
        "country_of_origin",
        "hs_code",
        "customs_description",
        "unit_price",
        "is_active",
    }


parts = st.text(alphabet="AB1", min_size=1, max_size=3)


@given(
    sku=parts,
    variant=parts,
    size=parts,
    price=st.none() | weights,
    active=st.booleans(),
    with_price=st.booleans(),
)
def test_mapping_properties(
    sku: str, variant: str, size: str, price: Decimal | None, active: bool, with_price: bool
) -> None:
    prices = [] if price is None else [{"price": str(price), "currency": "SEK"}]
    source = row(sku=sku, variantSku=variant, sizeSku=size, prices=prices, active=active)
    settings = store_settings(sync_article_price=with_price, sync_inactive_products=True)
    article = product_to_article(source, settings)
    assert article.sku == sku + variant + size
    assert article.unit_price == (price if with_price else None)
    assert article.is_active is active
    assert "  " not in article.name


claims = st.lists(st.tuples(st.sampled_from("abcd"), st.sampled_from("1234")), max_size=12)


@given(pairs=claims)
def test_ambiguous_numbers_are_exactly_those_claimed_by_two_items(
    pairs: list[tuple[str, str]],
) -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for number, item in pairs:
        owners[number].add(item)
    found = ambiguous_numbers(pairs)
    assert set(found) == {n for n, items in owners.items() if len(items) > 1}
    for number, items in found.items():
        assert sorted(items) == sorted(owners[number])
