"""Properties of the supplier delivery → in-order mapping (pure, no emulator)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from centrasync.centra.models import SupplierDelivery
from centrasync.errors import RecordValidationError
from centrasync.sync.indeliveries import delivery_to_in_order, in_order_to_json
from centrasync.wms.ongoing.mapping import to_post_purchase_order

from .report_world import store_settings

_PART = st.text(alphabet="ABCKLMNXYZ0123456789-", min_size=1, max_size=5)
_EAN = st.text(alphabet="0123456789", min_size=8, max_size=13)
_COST = st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False)
_ETA = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@st.composite
def product(draw: st.DrawFn, *, ean: st.SearchStrategy[str] = _EAN) -> dict[str, Any]:
    return {
        "sku": draw(_PART),
        "variantSku": draw(_PART),
        "sizeSku": draw(_PART),
        "ean": draw(ean),
        "quantity": draw(st.integers(min_value=1, max_value=500)),
        "cost": str(draw(_COST)),
        "costCurrency": draw(st.sampled_from(["SEK", "EUR", "USD", ""])),
    }


def _physical(row: dict[str, Any]) -> str:
    return f"{row['sku']}{row['variantSku']}{row['sizeSku']}"


@st.composite
def delivery(draw: st.DrawFn, *, ean: st.SearchStrategy[str] = _EAN) -> dict[str, Any]:
    order = draw(st.integers(min_value=1, max_value=99_999))
    return {
        "id": str(draw(st.integers(min_value=1, max_value=99_999))),
        "orderId": str(order),
        "deliveryId": f"{order}-{draw(st.integers(min_value=1, max_value=9))}",
        "supplierName": draw(st.text(alphabet="Supplier AB", min_size=1, max_size=20)),
        "ETA": draw(_ETA),
        "products": draw(
            st.lists(product(ean=ean), min_size=1, max_size=6, unique_by=(_physical,))
        ),
    }


@given(delivery())
def test_a_delivery_maps_field_by_field_as_ongoing_does(raw: dict[str, Any]) -> None:
    rows = raw["products"]
    eans_usable = len({r["ean"] for r in rows}) == len(rows)

    mapped = delivery_to_in_order(SupplierDelivery.model_validate(raw), store_settings())

    in_order = mapped.in_order
    assert in_order.in_order_number == raw["id"]
    assert in_order.reference == raw["deliveryId"]
    assert in_order.reference_number == raw["orderId"]
    assert in_order.supplier_name == (raw["supplierName"].strip() or None)
    assert in_order.expected_date == raw["ETA"].astimezone(ZoneInfo("Europe/Stockholm")).date()
    assert mapped.accept_by == ("ean" if eans_usable else "sku")
    key = "ean" if eans_usable else None
    assert [line.line_key for line in in_order.lines] == [
        r[key] if key else _physical(r) for r in rows
    ]
    assert [line.sku for line in in_order.lines] == [_physical(r) for r in rows]
    assert [line.quantity for line in in_order.lines] == [Decimal(r["quantity"]) for r in rows]
    assert [line.unit_cost for line in in_order.lines] == [Decimal(r["cost"]) for r in rows]
    assert [line.currency for line in in_order.lines] == [r["costCurrency"] or None for r in rows]
    body = to_post_purchase_order(in_order, 1)
    assert body.purchase_order_number == raw["id"]
    assert body.goods_owner_reference == raw["deliveryId"]
    assert body.reference_number == raw["orderId"]
    assert [line.row_price for line in body.purchase_order_lines] == [
        float(Decimal(r["cost"]) * r["quantity"]) for r in rows
    ]
    assert in_order_to_json(in_order)["in_order_number"] == raw["id"]


@given(delivery(), st.data())
def test_an_empty_sku_part_is_refused_naming_the_item_and_field(
    raw: dict[str, Any], data: st.DataObject
) -> None:
    index = data.draw(st.integers(min_value=0, max_value=len(raw["products"]) - 1))
    part = data.draw(st.sampled_from(["variantSku", "sizeSku"]))
    raw["products"][index][part] = ""

    with pytest.raises(RecordValidationError) as caught:
        delivery_to_in_order(SupplierDelivery.model_validate(raw), store_settings())

    assert caught.value.record == f"supplier delivery {raw['id']}"
    assert caught.value.field.startswith("products[")
    assert caught.value.field.endswith(f".{part}") or caught.value.field.endswith(".ean")


@given(delivery(), st.data())
def test_a_quantity_below_one_is_refused_naming_the_item(
    raw: dict[str, Any], data: st.DataObject
) -> None:
    index = data.draw(st.integers(min_value=0, max_value=len(raw["products"]) - 1))
    raw["products"][index]["quantity"] = data.draw(st.integers(min_value=-1000, max_value=0))

    with pytest.raises(RecordValidationError) as caught:
        delivery_to_in_order(SupplierDelivery.model_validate(raw), store_settings())

    assert caught.value.field == f"products[{index}].quantity"


@given(delivery(ean=st.just("")))
def test_items_without_ean_are_accepted_by_their_full_sku(raw: dict[str, Any]) -> None:
    mapped = delivery_to_in_order(
        SupplierDelivery.model_validate(raw), store_settings(article_number="sku_variant_size")
    )

    assert mapped.accept_by == "sku"
    assert [line.line_key for line in mapped.in_order.lines] == [
        _physical(r) for r in raw["products"]
    ]


def test_items_that_cannot_be_told_apart_are_refused() -> None:
    row = {"sku": "A", "variantSku": "", "sizeSku": "", "ean": "", "quantity": 1}
    raw = {"id": "7", "orderId": "3", "deliveryId": "3-1", "products": [row, dict(row)]}

    with pytest.raises(RecordValidationError) as caught:
        delivery_to_in_order(SupplierDelivery.model_validate(raw), store_settings())

    assert (caught.value.record, caught.value.field) == ("supplier delivery 7", "products[0].ean")


def test_a_delivery_without_items_is_refused() -> None:
    raw = {"id": "7", "orderId": "3", "deliveryId": "3-1", "products": []}

    with pytest.raises(RecordValidationError) as caught:
        delivery_to_in_order(SupplierDelivery.model_validate(raw), store_settings())

    assert caught.value.field == "products"
