"""Property tests for the Ongoing models and the pure mapping to and from our terms."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from centrasync.emulators.ongoing.payloads import OrderIn
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
    return OutboundOrder(
        order_number=draw(text),
        ship_to=address,
        lines=lines,
        reference=draw(st.none() | text),
        delivery_date=draw(st.none() | st.dates(date(2020, 1, 1), date(2030, 12, 31))),
        carrier=draw(st.none() | st.sampled_from(["PLAB", "DHLSE"])),
        service=draw(st.none() | st.sampled_from(["P18", "P19"])),
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
    assert accepted.delivery_date == (order.delivery_date or today)
    assert [(r.row_number, r.external_id, r.article_number) for r in accepted.order_lines] == [
        (line.line_key, line.line_key, line.sku) for line in order.lines
    ]
    assert [quantity(r.number_of_items) for r in accepted.order_lines] == [
        line.quantity for line in order.lines
    ]
    assert accepted.consignee.country_code == order.ship_to.country_code
    transporter = accepted.transporter
    assert (transporter.transporter_code if transporter else None) == order.carrier


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
