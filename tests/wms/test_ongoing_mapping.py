"""Property tests for the Ongoing models and the pure mapping to and from our terms."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from centrasync.emulators.ongoing.payloads import NotificationIn, OrderIn
from centrasync.errors import RecordValidationError
from centrasync.wms import Address, OutboundOrder, OutboundOrderLine, Parcel
from centrasync.wms.ongoing import OngoingStatusCodes
from centrasync.wms.ongoing.mapping import quantity, shipped_order, to_post_order
from centrasync.wms.ongoing.models import GetOrderLine, GetOrderModel, PostOrderModel

text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20
).filter(lambda s: s.strip() != "")
amounts = st.decimals(min_value=0, max_value=100_000, places=3, allow_nan=False)


def loose(value: Decimal) -> st.SearchStrategy[Any]:
    """The ways Ongoing and its examples write one number: 2, 2.0 and "2"."""
    return st.sampled_from([float(value), str(value)] + ([int(value)] if value % 1 == 0 else []))


@given(amounts.flatmap(lambda v: st.tuples(st.just(v), loose(v))))
def test_loose_numbers_parse_to_the_exact_quantity(case: tuple[Decimal, Any]) -> None:
    value, written = case
    line = GetOrderLine.model_validate(
        {
            "id": 1,
            "article": {"articleSystemId": 1, "articleNumber": "A"},
            "pickedNumberOfItems": written,
            "reportedNumberOfItems": None,
        }
    )
    assert quantity(line.picked_number_of_items) == value
    assert quantity(line.reported_number_of_items) == 0


@st.composite
def outbound_orders(draw: st.DrawFn) -> OutboundOrder:
    keys = draw(st.lists(text, min_size=1, max_size=5, unique=True))
    lines = tuple(
        OutboundOrderLine(
            key,
            draw(text),
            draw(amounts),
            unit_price=draw(st.none() | st.decimals(min_value=0, max_value=10_000, places=2)),
            currency=draw(st.none() | st.sampled_from(["SEK", "EUR"])),
        )
        for key in keys
    )
    address = Address(
        name=draw(text),
        address1=draw(text),
        postcode=draw(text),
        city=draw(text),
        country_code=draw(st.sampled_from(["SE", "NO", "DE", "US"])),
        address2=draw(st.none() | text),
        email=draw(st.none() | st.emails()),
        phone=draw(st.none() | st.from_regex(r"\+46[0-9]{8}", fullmatch=True)),
    )
    phones = st.none() | st.from_regex(r"\+46[0-9]{8}", fullmatch=True)
    return OutboundOrder(
        order_number=draw(text),
        ship_to=address,
        lines=lines,
        reference=draw(st.none() | text),
        delivery_date=draw(st.none() | st.dates(date(2020, 1, 1), date(2030, 12, 31))),
        carrier=draw(st.none() | st.sampled_from(["PLAB", "DHLSE"])),
        service=draw(st.none() | st.sampled_from(["P18", "P19"])),
        order_type=draw(st.none() | st.sampled_from(["B2B", "B2C"]) | text),
        customer_price=draw(st.none() | st.decimals(min_value=0, max_value=10**7, places=2)),
        invoice_number=draw(st.none() | text),
        invoice_url=draw(st.none() | st.just("https://x.centra.com/invoice?shipment=1-1")),
        delivery_note=draw(st.none() | text),
        marketplace=draw(st.none() | text),
        marketplace_order_number=draw(st.none() | text),
        notification_mobile=draw(phones),
        notification_email=draw(st.none() | st.emails()),
        telephone=draw(phones),
        mobile=draw(phones),
    )


@given(outbound_orders(), st.integers(min_value=1, max_value=10**6))
def test_domain_order_round_trips_through_the_put_body(
    order: OutboundOrder, goods_owner_id: int
) -> None:
    today = date(2026, 1, 15)
    body = to_post_order(order, goods_owner_id, today)
    wire = body.model_dump_json(by_alias=True, exclude_none=True)

    assert PostOrderModel.model_validate_json(wire) == body
    accepted = OrderIn.model_validate_json(wire)  # the emulator's reading of the same body
    assert accepted.goods_owner_id == goods_owner_id
    assert accepted.order_number == order.order_number
    # The emulator keeps the spec's date-time: the day sent, at its start in UTC.
    assert accepted.delivery_date.date() == (order.delivery_date or today)
    assert accepted.delivery_date.utcoffset() == timedelta(0)
    assert [(r.row_number, r.external_id, r.article_number) for r in accepted.order_lines] == [
        (line.line_key, line.line_key, line.sku) for line in order.lines
    ]
    assert [quantity(r.number_of_items) for r in accepted.order_lines] == [
        line.quantity for line in order.lines
    ]
    assert accepted.consignee.country_code == order.ship_to.country_code
    transporter = accepted.transporter
    assert (transporter.transporter_code if transporter else None) == order.carrier
    assert_document_fields_reach_the_emulator(order, accepted)


def _value(notification: NotificationIn | None) -> str | None:
    return None if notification is None else notification.value


def assert_document_fields_reach_the_emulator(order: OutboundOrder, accepted: OrderIn) -> None:
    """Every document field of the seed's table is in the body, where Ongoing reads it."""
    price = accepted.customer_price
    assert (None if price is None else quantity(price)) == order.customer_price
    assert (accepted.order_type.code if accepted.order_type else None) == order.order_type
    assert accepted.invoice_url == order.invoice_url
    assert (accepted.advanced.invoice_number if accepted.advanced else None) == (
        order.invoice_number
    )
    assert accepted.consignee_order_number == order.delivery_note
    market = accepted.market_place
    assert (market.market_place if market else None) == order.marketplace
    assert (market.market_place_order_number if market else None) == (
        order.marketplace_order_number
    )
    assert _value(accepted.sms_notification) == order.notification_mobile
    assert _value(accepted.email_notification) == order.notification_email
    contacts = accepted.consignee.advanced
    assert _value(contacts.telephone_notification if contacts else None) == order.telephone
    assert _value(contacts.sms_notification if contacts else None) == order.mobile
    assert _value(contacts.email_notification if contacts else None) == order.ship_to.email


@st.composite
def order_rows(draw: st.DrawFn) -> dict[str, Any]:
    lines = []
    for index in range(draw(st.integers(min_value=1, max_value=4))):
        picked = draw(st.integers(min_value=0, max_value=20))
        lines.append(
            {
                "id": 100 + index,
                "rowNumber": f"R{index}",
                "externalId": draw(st.none() | st.just(f"X{index}")),
                "article": {"articleSystemId": index, "articleNumber": f"A{index}"},
                "orderedNumberOfItems": picked + draw(st.integers(min_value=0, max_value=3)),
                "pickedNumberOfItems": float(picked),
                "reportedNumberOfItems": draw(
                    st.none() | st.integers(min_value=0, max_value=picked).map(float)
                ),
            }
        )
    waybills = draw(st.lists(st.from_regex(r"W[0-9]{4}", fullmatch=True), max_size=3, unique=True))
    parcels = [
        {"id": i, "parcelNumber": f"P{i}", "isReturnParcel": False} for i in range(len(waybills))
    ]
    parcels.append({"id": 99, "parcelNumber": "RET", "isReturnParcel": True})
    return {
        "orderInfo": {
            "orderId": 5,
            "orderNumber": "O-5",
            "orderStatus": {"number": draw(st.sampled_from([400, 450, 500])), "text": "t"},
            "shippedTime": "2026-01-01T10:00:00.5Z",
        },
        "orderLines": lines,
        "parcels": parcels,
        "tracking": [
            {"waybill": w, "trackingUrl": f"https://t.example/{w}"}
            for w in draw(st.permutations(waybills))
        ],
    }


@given(order_rows())
def test_shipped_order_figures_follow_the_reported_number_rules(row: dict[str, Any]) -> None:
    order = shipped_order(GetOrderModel.model_validate(row), OngoingStatusCodes())
    for raw, line in zip(row["orderLines"], order.lines, strict=True):
        assert line.line_key == (raw["externalId"] or raw["rowNumber"])
        assert line.wms_line_id == str(raw["id"])
        assert line.unreported == Decimal(raw["pickedNumberOfItems"]) - Decimal(
            raw["reportedNumberOfItems"] or 0
        )
    waybills = sorted(t["waybill"] for t in row["tracking"])
    assert sorted(order.tracking_numbers) == waybills
    assert "RET" not in [p.parcel_number for p in order.parcels]
    for parcel in order.parcels:
        assert parcel.tracking_url == f"https://t.example/{parcel.tracking_number}"


def test_bad_domain_orders_name_the_record_and_the_field() -> None:
    address = Address("A", "B", "1", "C", "SE")
    with pytest.raises(RecordValidationError, match=r"order 'O-1'.*lines\[1\]\.quantity"):
        OutboundOrder(
            "O-1",
            address,
            (OutboundOrderLine("L1", "A", Decimal(1)), OutboundOrderLine("L2", "B", Decimal(-1))),
        )
    with pytest.raises(RecordValidationError, match=r"'L1' appears twice"):
        OutboundOrder(
            "O-2",
            address,
            (OutboundOrderLine("L1", "A", Decimal(1)), OutboundOrderLine("L1", "B", Decimal(1))),
        )


def test_parcel_waybill_absorbs_the_matching_order_tracking_entry() -> None:
    row = {
        "orderInfo": {"orderId": 1, "orderNumber": "O", "orderStatus": {"number": 500}},
        "parcels": [
            {"parcelNumber": "P1", "tracking": {"waybill": "W1"}},
            {"parcelNumber": "P2", "tracking": {"trackingUrl": "https://t/2"}},
        ],
        "tracking": [
            {"waybill": "W2", "trackingUrl": "https://t/2"},
            {"waybill": "W1", "trackingUrl": "https://t/1"},
            {"waybill": "W3"},
        ],
    }
    order = shipped_order(GetOrderModel.model_validate(row), OngoingStatusCodes())
    assert order.parcels == (
        Parcel("P1", "W1", "https://t/1"),
        Parcel("P2", "W2", "https://t/2"),
        Parcel(None, "W3", None),
    )


def full_order(**changes: Any) -> OutboundOrder:
    values: dict[str, Any] = {
        "order_number": "83651-1",
        "ship_to": Address(
            "Ann AB", "Gatan 1", "11122", "Stockholm", "SE", email="ann@example.com"
        ),
        "lines": (OutboundOrderLine("43243", "JKT1BLK38", Decimal(2)),),
        "order_type": "B2C",
        "customer_price": Decimal("3978.75"),
        "invoice_number": "https://x.centra.com/proforma?shipment=83651-1",
        "invoice_url": "https://x.centra.com/invoice-2.pdf",
        "delivery_note": "https://x.centra.com/delnote?shipment=83651-1",
        "marketplace": "zalando",
        "marketplace_order_number": "Z-1",
        "notification_mobile": "+4670000000",
        "notification_email": "ann@example.com",
        "telephone": "+468000000",
        "mobile": "+4670000000",
    }
    values.update(changes)
    return OutboundOrder(**values)


def test_document_fields_land_in_ongoings_field_names() -> None:
    body = to_post_order(full_order(), 7, date(2026, 1, 15))
    wire = body.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert wire["customerPrice"] == 3978.75
    assert wire["orderType"] == {"code": "B2C", "name": "Business to Consumer"}
    assert wire["invoiceUrl"] == "https://x.centra.com/invoice-2.pdf"
    assert wire["advanced"] == {"invoiceNumber": "https://x.centra.com/proforma?shipment=83651-1"}
    assert wire["consigneeOrderNumber"] == "https://x.centra.com/delnote?shipment=83651-1"
    assert wire["marketPlace"] == {"marketPlace": "zalando", "marketPlaceOrderNumber": "Z-1"}
    assert wire["smsNotification"] == {"toBeNotified": True, "value": "+4670000000"}
    assert wire["emailNotification"] == {"toBeNotified": True, "value": "ann@example.com"}
    assert wire["consignee"]["advanced"] == {
        "telephoneNotification": {"toBeNotified": False, "value": "+468000000"},
        "smsNotification": {"toBeNotified": False, "value": "+4670000000"},
        "emailNotification": {"toBeNotified": False, "value": "ann@example.com"},
    }


def test_absent_document_fields_are_left_out_of_the_body() -> None:
    bare = OutboundOrder(
        "O-1", Address("A", "B", "1", "C", "SE"), (OutboundOrderLine("L1", "A", Decimal(1)),)
    )
    wire = to_post_order(bare, 7, date(2026, 1, 15)).model_dump(by_alias=True, exclude_none=True)
    for absent in (
        "customerPrice",
        "orderType",
        "invoiceUrl",
        "advanced",
        "consigneeOrderNumber",
        "marketPlace",
        "smsNotification",
        "emailNotification",
    ):
        assert absent not in wire
    assert "advanced" not in wire["consignee"]


def test_vendor_example_order_type_name_is_kept_for_b2b() -> None:
    body = to_post_order(full_order(order_type="B2B"), 7, date(2026, 1, 15))
    assert body.order_type is not None
    assert (body.order_type.code, body.order_type.name) == ("B2B", "Business to Business")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"customer_price": Decimal(-1)}, "customer_price"),
        ({"customer_price": Decimal("NaN")}, "customer_price"),
        ({"customer_price": Decimal("Infinity")}, "customer_price"),
        ({"invoice_url": "invoice-2.pdf"}, "invoice_url"),
        ({"invoice_url": "mailto:ann@example.com"}, "invoice_url"),
        ({"order_type": " "}, "order_type"),
        ({"marketplace": ""}, "marketplace"),
        ({"notification_email": "  "}, "notification_email"),
        ({"mobile": ""}, "mobile"),
    ],
)
def test_bad_document_fields_name_the_order_and_the_field(
    changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(RecordValidationError) as caught:
        full_order(**changes)
    assert caught.value.record == "order '83651-1'"
    assert caught.value.field == field
