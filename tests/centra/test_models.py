from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from centrasync.centra import (
    Order,
    ProductRow,
    Return,
    Shipment,
    ShipmentLine,
    StockRow,
    SupplierDelivery,
)

STOCKHOLM = {"zone": ZoneInfo("Europe/Stockholm")}

# The Get Shipments example node, types exactly as in Centra's docs (§2.4.2).
DOC_SHIPMENT: dict[str, Any] = {
    "orderId": "83651",
    "shipmentId": "83651-1",
    "selectionId": "ff805e6d0dc8c8e3ab2a9c7d7e5a3a11",
    "orderDate": "2012-02-04 15:16:13",
    "cancelDate": "2012-08-04 15:16:13",
    "shipmentDate": "0000-00-00 00:00:00",
    "orderStore": "retail",
    "orderCurrency": "EUR",
    "customerId": "11627",
    "accountId": "0",
    "billingVAT": "",
    "shippingList": "standard",
    "shippingTerms": {"id": 5, "name": "DAP", "description": "Delivered"},
    "proforma": "https://x.centra.com/proforma?shipment=83651-1",
    "deliveryNote": "https://x.centra.com/delnote?shipment=83651-1",
    "invoices": ["https://x.centra.com/invoice.pdf"],
    "suspect": 0,
    "hold": 0,
    "paid": 1,
    "shouldCapture": 0,
    "shippingValue": 25,
    "voucherValue": 0,
    "grandTotalValue": 3978.75,
    "grandTotalTaxValue": 795.75,
    "otherComment": "leave at door",
    "taxBreakdown": [{"description": "VAT", "taxPercent": 25, "value": 795.75}],
    "billingName": "Ann Bill",
    "billingCountry": "SE",
    "deliveryName": "Ann Ship",
    "deliveryAddress": "Gatan 1",
    "deliveryZipcode": 11122,
    "deliveryCity": "Stockholm",
    "deliveryCountry": "SE",
    "deliveryCell": "+4670000000",
    "shipwallet_method": "pnl-mpc",
    "shipwallet_pickup": "12345",
    "marketplace_source": "zalando",
    "marketplace_source_id": "Z-1",
    "customField": {"kept": True},
    "products": [
        {
            "lineId": "43243",
            "sku": "S123K456U1",
            "variantSku": "",
            "sizeSku": "",
            "name": "Product #1",
            "variant": "White",
            "size": "XS",
            "ean": "1234567890123",
            "qty": 1,
            "originalPrice": 500.5,
            "price": 450.5,
            "weight": 2,
            "weightUnit": "kg",
            "countryOfOrigin": "DE",
            "harmCode": 12345,
            "comment": "",
            "warehouses": [{"name": "Default warehouse", "itemQty": "1"}],
            "isBundle": False,
            "isPartOfBundle": "217",
        }
    ],
}


def test_documented_shipment_node_parses_to_strict_values() -> None:
    shipment = Shipment.model_validate(DOC_SHIPMENT, context=STOCKHOLM)
    assert shipment.order_id == "83651"
    assert shipment.order_date == datetime(2012, 2, 4, 14, 16, 13, tzinfo=UTC)
    assert shipment.shipment_date is None
    assert shipment.paid is True and shipment.should_capture is False
    assert shipment.grand_total_value == Decimal("3978.75")
    assert shipment.currency == "EUR"
    assert shipment.delivery.city == "Stockholm" and shipment.delivery.zipcode == "11122"
    assert shipment.billing.name == "Ann Bill"
    assert shipment.shipwallet_pickup == "12345"
    assert shipment.marketplace_source == "zalando"
    assert shipment.shipping_terms is not None and shipment.shipping_terms.id == "5"
    line = shipment.products[0]
    assert line.line_id == "43243" and line.qty == 1 and line.price == Decimal("450.5")
    assert line.harm_code == "12345" and line.is_part_of_bundle == "217"
    assert line.warehouses[0].item_qty == 1
    assert line.physical_sku == "S123K456U1"
    assert shipment.model_extra == {"customField": {"kept": True}}


def test_naive_time_without_the_store_zone_is_refused() -> None:
    with pytest.raises(ValidationError, match="store's zone"):
        Shipment.model_validate(DOC_SHIPMENT)


def test_bad_field_is_named() -> None:
    bad = {**DOC_SHIPMENT, "paid": "maybe"}
    with pytest.raises(ValidationError) as caught:
        Shipment.model_validate(bad, context=STOCKHOLM)
    assert caught.value.errors()[0]["loc"] == ("paid",)


def test_other_records_parse() -> None:
    order = Order.model_validate(
        {
            "orderId": 5,
            "orderStatus": "3",
            "orderDate": "2024-01-01 10:00:00",
            "shipments": [{"shipmentId": "5-1", "shippedDate": "0000-00-00 00:00:00"}],
            "products": [{"lineId": 9, "qty": "2", "productId": 77, "brand": None}],
        },
        context=STOCKHOLM,
    )
    assert order.shipments[0].shipped_date is None and order.products[0].product_id == "77"
    row = StockRow.model_validate(
        {
            "sku": "A",
            "physicalStock": "5",
            "allocatedStock": 2,
            "availableStock": 3.0,
            "active": "1",
        },
        context=STOCKHOLM,
    )
    assert (row.physical_stock, row.allocated_stock, row.available_stock) == (5, 2, 3)
    product = ProductRow.model_validate(
        {"sku": "A", "prices": [{"id": "1", "price": "99.90", "currency": "SEK"}]}
    )
    assert product.prices[0].price == Decimal("99.90")
    ret = Return.model_validate(
        {
            "returnId": 5397,
            "shipment": "20059-1",
            "shipmentId": 88,
            "completed": False,
            "date": "2019-07-11 14:34:32",
            "products": [{"returnLineId": 1, "quantity": "1"}],
        },
        context=STOCKHOLM,
    )
    assert ret.shipment == "20059-1" and ret.shipment_internal_id == "88"
    delivery = SupplierDelivery.model_validate(
        {"id": "364", "orderId": "957", "deliveryId": "957-1", "ETA": "2019-01-28 01:15"},
        context=STOCKHOLM,
    )
    assert delivery.eta == datetime(2019, 1, 28, 0, 15, tzinfo=UTC)


# -- properties -----------------------------------------------------------------------

ids = st.integers(min_value=0, max_value=10**12)
money = st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False)
quantities = st.integers(min_value=-(10**6), max_value=10**6)


def _id_encodings(n: int) -> st.SearchStrategy[Any]:
    return st.sampled_from([n, str(n), f" {n} ", float(n)])


def _flag_encodings(b: bool) -> st.SearchStrategy[Any]:
    if b:
        return st.sampled_from([True, 1, "1", "true", "True"])
    return st.sampled_from([False, 0, "0", "false", "FALSE"])


def _money_encodings(d: Decimal) -> st.SearchStrategy[Any]:
    options: list[Any] = [str(d), d, float(d)]
    if d == d.to_integral_value():
        options.append(int(d))
    return st.sampled_from(options)


def _qty_encodings(q: int) -> st.SearchStrategy[Any]:
    return st.sampled_from([q, str(q), float(q), f"{q}.0"])


@st.composite
def loose_line(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[str, int, Decimal, bool]]:
    line_id, qty, price, bundle = draw(ids), draw(quantities), draw(money), draw(st.booleans())
    raw = {
        "lineId": draw(_id_encodings(line_id)),
        "qty": draw(_qty_encodings(qty)),
        "price": draw(_money_encodings(price)),
        "isBundle": draw(_flag_encodings(bundle)),
    }
    return raw, (str(line_id), qty, price, bundle)


@given(loose_line())
def test_any_loose_encoding_parses_to_the_same_strict_value(
    case: tuple[dict[str, Any], tuple[str, int, Decimal, bool]],
) -> None:
    raw, (line_id, qty, price, bundle) = case
    line = ShipmentLine.model_validate(raw)
    assert (line.line_id, line.qty, line.price, line.is_bundle) == (line_id, qty, price, bundle)
    assert type(line.qty) is int and type(line.price) is Decimal


@given(
    loose_line(),
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31), timezones=st.just(UTC)
    ),
    st.sampled_from(["Europe/Stockholm", "America/New_York", "Asia/Tokyo", "Pacific/Auckland"]),
)
def test_emit_then_reparse_round_trips(
    case: tuple[dict[str, Any], tuple[str, int, Decimal, bool]], when: datetime, zone: str
) -> None:
    raw_line, _ = case
    local = when.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")
    raw = {"orderId": 1, "shipmentId": "1-1", "orderDate": local, "products": [raw_line]}
    shipment = Shipment.model_validate(raw, context={"zone": ZoneInfo(zone)})
    emitted = shipment.model_dump(mode="json", by_alias=True)
    assert Shipment.model_validate(emitted) == shipment
    assert isinstance(emitted["products"][0]["price"], str)
    assert emitted["paid"] is False


junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.decimals().map(str)
    | st.sampled_from(["1e999999999", "NaN", "-Infinity", "0000-00-00", "2024-02-30 10:00"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=8,
)
line_fields = st.sampled_from(
    ["lineId", "qty", "price", "isBundle", "isPartOfBundle", "ean", "weight", "warehouses"]
)
header_fields = st.sampled_from(
    ["orderId", "shipmentId", "orderDate", "paid", "grandTotalValue", "deliveryName", "products"]
)


@settings(max_examples=60)
@given(st.dictionaries(line_fields, junk), st.dictionaries(header_fields, junk))
def test_junk_input_only_ever_fails_validation(
    line: dict[str, Any], header: dict[str, Any]
) -> None:
    for model, data in ((ShipmentLine, line), (Shipment, header)):
        with contextlib.suppress(ValidationError):
            model.model_validate(data, context=STOCKHOLM)
