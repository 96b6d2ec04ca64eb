"""The shipment → outbound order table, row by row (ongoing-api.md §12)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from centrasync.errors import ConfigError, RecordValidationError
from centrasync.sync import B2B, B2C, MappedOrder, mapped_order_to_json, shipment_to_outbound_order

from .factories import make_shipment, make_store


def mapped(**changes: Any) -> MappedOrder:
    return shipment_to_outbound_order(make_shipment(**changes), make_store())


def test_header_rows_of_the_table() -> None:
    order = mapped().order
    assert order.order_number == "83651-1"
    assert order.reference == "83651"
    assert order.customer_number == "11627"
    assert order.remark == "leave at door"
    assert order.service_point == "12345"
    assert order.service == "pnl-mpc"
    assert order.currency == "EUR"
    assert order.customer_price == Decimal("3978.75")
    assert order.invoice_number == "https://x.centra.com/proforma?shipment=83651-1"
    assert order.delivery_note == "https://x.centra.com/delnote?shipment=83651-1"
    assert order.marketplace == "zalando"
    assert order.marketplace_order_number == "Z-1"


def test_contact_rows_of_the_table() -> None:
    order = mapped().order
    assert order.notification_email == "ann@example.com"
    assert order.notification_mobile == "+4670000000"
    assert order.telephone == "+468000000"
    assert order.mobile == "+4670000000"


def test_invoice_url_is_the_latest_invoice() -> None:
    assert mapped().order.invoice_url == "https://x.centra.com/invoice-2.pdf"
    assert mapped(invoices=[]).order.invoice_url is None


def test_absent_optional_fields_are_none_not_blank() -> None:
    order = mapped(
        grandTotalValue=None,
        proforma="",
        deliveryNote=" ",
        marketplace_source="",
        marketplace_source_id=None,
        deliveryEmail="",
        deliveryTele="",
        deliveryCell="",
    ).order
    assert order.customer_price is None
    assert order.invoice_number is None
    assert order.delivery_note is None
    assert (order.marketplace, order.marketplace_order_number) == (None, None)
    assert (order.notification_email, order.notification_mobile) == (None, None)
    assert (order.telephone, order.mobile) == (None, None)


def test_customer_price_keeps_every_digit() -> None:
    assert mapped(grandTotalValue="1234.005").order.customer_price == Decimal("1234.005")
    assert mapped(grandTotalValue=0).order.customer_price == Decimal(0)


def test_customer_address_rows() -> None:
    ship_to = mapped().order.ship_to
    assert ship_to.address1 == "Gatan 1"
    assert ship_to.address2 is None
    assert ship_to.postcode == "11122"
    assert ship_to.city == "Stockholm"
    assert ship_to.state == "AB"
    assert ship_to.country_code == "SE"
    assert ship_to.email == "ann@example.com"


def test_coaddress_takes_the_address_line_and_pushes_the_street_to_address2() -> None:
    ship_to = mapped(deliveryCoaddress="c/o Berg").order.ship_to
    assert ship_to.address1 == "c/o Berg"
    assert ship_to.address2 == "Gatan 1"


@pytest.mark.parametrize(
    ("account", "expected_type", "expected_name"),
    [("0", B2C, "Ann AB"), ("710", B2B, "Ann Ship"), (None, B2C, "Ann AB")],
)
def test_order_type_and_name_follow_the_account(
    account: str | None, expected_type: str, expected_name: str
) -> None:
    order = mapped(accountId=account).order
    assert order.order_type == expected_type
    assert order.ship_to.name == expected_name


@pytest.mark.parametrize(
    ("account", "changes", "expected"),
    [
        ("0", {"deliveryCompany": ""}, "Ann Ship"),
        ("710", {"deliveryName": ""}, "Ann AB"),
    ],
)
def test_name_falls_back_to_the_other_field_when_empty(
    account: str, changes: dict[str, str], expected: str
) -> None:
    assert mapped(accountId=account, **changes).order.ship_to.name == expected


@pytest.mark.parametrize(
    ("cell", "tele", "expected"),
    [("+4670", "+468", "+4670"), ("", "+468", "+468"), ("  ", "+468", "+468"), ("", "", None)],
)
def test_mobile_is_the_cell_else_the_telephone(cell: str, tele: str, expected: str | None) -> None:
    order = mapped(deliveryCell=cell, deliveryTele=tele).order
    assert order.ship_to.phone == expected
    assert order.notification_mobile == expected
    assert order.mobile == (cell.strip() or None)
    assert order.telephone == (tele or None)


def test_ingrid_fields_empty_become_none() -> None:
    order = mapped(shipwallet_method="", shipwallet_pickup=None).order
    assert order.service is None
    assert order.service_point is None


def test_lines_rows() -> None:
    lines = mapped().order.lines
    assert [(x.line_key, x.sku, x.quantity, x.unit_price, x.currency) for x in lines] == [
        ("43243", "JKT1BLK38", Decimal(2), Decimal("450.5"), "EUR"),
        ("43244", "JKT1BLK40", Decimal(1), Decimal("450.5"), "EUR"),
    ]


def test_store_strategy_chooses_the_article_number() -> None:
    result = shipment_to_outbound_order(make_shipment(), make_store(article_number="ean"))
    assert [line.sku for line in result.order.lines] == ["1234567890123", "1234567890124"]


def test_field_mapping_override_replaces_the_source() -> None:
    store = make_store(field_mapping={"remark": "internalComment", "name": "deliveryEmail"})
    order = shipment_to_outbound_order(make_shipment(), store).order
    assert order.remark == "VIP"
    assert order.ship_to.name == "ann@example.com"


def test_field_mapping_to_a_merchant_custom_field() -> None:
    store = make_store(field_mapping={"remark": "giftMessage"})
    order = shipment_to_outbound_order(make_shipment(giftMessage="Happy birthday"), store).order
    assert order.remark == "Happy birthday"


def test_unknown_field_mapping_target_is_a_config_error() -> None:
    store = make_store(field_mapping={"colour": "otherComment"})
    with pytest.raises(ConfigError, match=r"field_mapping\.colour"):
        shipment_to_outbound_order(make_shipment(), store)


def test_field_mapping_re_sources_document_fields() -> None:
    store = make_store(
        field_mapping={"customer_price": "shippingValue", "delivery_note": "poNumber"}
    )
    order = shipment_to_outbound_order(
        make_shipment(shippingValue=25, poNumber="PO-9"), store
    ).order
    assert order.customer_price == Decimal(25)
    assert order.delivery_note == "PO-9"


@pytest.mark.parametrize(
    ("changes", "field_mapping", "field"),
    [
        ({"grandTotalValue": -1}, {}, "grandTotalValue"),
        ({}, {"customer_price": "otherComment"}, "otherComment"),
        ({"invoices": ["invoice-1.pdf"]}, {}, "invoices"),
        ({"deliveryNote": "delnote 83651-1"}, {"invoice_url": "deliveryNote"}, "deliveryNote"),
        ({"deliveryNote": "ftp://x/delnote"}, {"invoice_url": "deliveryNote"}, "deliveryNote"),
    ],
)
def test_bad_money_or_link_names_the_shipment_and_the_centra_field(
    changes: dict[str, Any], field_mapping: dict[str, str], field: str
) -> None:
    store = make_store(field_mapping=field_mapping)
    with pytest.raises(RecordValidationError) as caught:
        shipment_to_outbound_order(make_shipment(**changes), store)
    assert caught.value.record == "shipment 83651-1"
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"deliveryAddress": ""}, "deliveryAddress"),
        ({"deliveryZipcode": ""}, "deliveryZipcode"),
        ({"deliveryCity": None}, "deliveryCity"),
        ({"deliveryCountry": ""}, "deliveryCountry"),
        ({"deliveryName": "", "deliveryCompany": ""}, "deliveryName"),
    ],
)
def test_missing_address_fields_name_the_shipment_and_field(
    changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(RecordValidationError) as caught:
        mapped(**changes)
    assert caught.value.record == "shipment 83651-1"
    assert caught.value.field == field


@pytest.mark.parametrize("qty", [0, -1, None])
def test_bad_quantity_names_the_line(qty: int | None) -> None:
    bad = [
        {
            "lineId": str(n),
            "sku": "A",
            "variantSku": "B",
            "sizeSku": str(n),
            "qty": 1 if n < 3 else qty,
        }
        for n in (1, 2, 3)
    ]
    with pytest.raises(RecordValidationError) as caught:
        mapped(products=bad)
    assert str(caught.value).startswith("shipment 83651-1: field 'products[2].qty'")


def test_missing_size_sku_names_the_line_and_part() -> None:
    lines = [
        {"lineId": "1", "sku": "A", "variantSku": "B", "sizeSku": "C", "qty": 1},
        {"lineId": "2", "sku": "A", "variantSku": "B", "sizeSku": "D", "qty": 1},
        {"lineId": "3", "sku": "A", "variantSku": "B", "sizeSku": "", "qty": 1},
    ]
    with pytest.raises(RecordValidationError) as caught:
        mapped(shipmentId="1001-1", products=lines)
    assert caught.value.record == "shipment 1001-1"
    assert caught.value.field == "products[2].sizeSku"


def test_json_view_is_plain_json() -> None:
    view = mapped_order_to_json(mapped())
    assert set(view) == {"order"}
    order = view["order"]
    assert order["order_number"] == "83651-1"
    assert order["lines"][0] == {
        "line_key": "43243",
        "sku": "JKT1BLK38",
        "quantity": "2",
        "unit_price": "450.5",
        "currency": "EUR",
    }
    assert order["order_type"] == B2C
    assert order["customer_price"] == "3978.75"
    assert order["invoice_url"] == "https://x.centra.com/invoice-2.pdf"
    assert order["marketplace_order_number"] == "Z-1"
    assert json.loads(json.dumps(view)) == view
