from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from centrasync.centra import (
    WebhookEvent,
    WebhookSignatureError,
    parse_webhook,
    sign_payload,
    verify_signature,
)
from centrasync.centra.webhooks import decode_event, encode_event
from centrasync.errors import ConfigError, DataError, RecordValidationError

# The plugin doc's test vector (centra-api.md §4.4).
VECTOR_BODY = b"payload=%7B%22x%22%3A%22test%22%7D"
VECTOR_T = 12345678
VECTOR_V1 = "0b9cd84f5d583e5e1aadfb9f160aa8080b51d5b85ff85808d6b75bdac356c549"


def form(payload: object) -> bytes:
    return b"payload=" + quote(json.dumps(payload), safe="").encode()


def test_documented_vector_is_accepted() -> None:
    assert sign_payload(VECTOR_BODY, "test123", VECTOR_T) == VECTOR_V1
    verify_signature(VECTOR_BODY, f"t={VECTOR_T},v1={VECTOR_V1}", "test123", now=VECTOR_T + 10)


def test_hashing_the_decoded_json_would_not_match() -> None:
    with pytest.raises(WebhookSignatureError) as caught:
        verify_signature(b'{"x":"test"}', f"t={VECTOR_T},v1={VECTOR_V1}", "test123", now=VECTOR_T)
    assert caught.value.reason == "mismatch"


@pytest.mark.parametrize(
    ("header", "now", "reason"),
    [
        (None, VECTOR_T, "missing"),
        ("  ", VECTOR_T, "missing"),
        (f"v1={VECTOR_V1}", VECTOR_T, "malformed"),
        (f"t={VECTOR_T}", VECTOR_T, "malformed"),
        (f"t=abc,v1={VECTOR_V1}", VECTOR_T, "malformed"),
        (f"t={VECTOR_T},v1=xyz", VECTOR_T, "malformed"),
        (f"t={VECTOR_T};v1={VECTOR_V1}", VECTOR_T, "malformed"),
        (f"t={VECTOR_T},v1={VECTOR_V1}", VECTOR_T + 301, "stale"),
        (f"t={VECTOR_T},v1={VECTOR_V1}", VECTOR_T - 301, "stale"),
        (f"t={VECTOR_T},v1={'0' * 64}", VECTOR_T, "mismatch"),
    ],
)
def test_rejections_say_why(header: str | None, now: float, reason: str) -> None:
    with pytest.raises(WebhookSignatureError) as caught:
        verify_signature(VECTOR_BODY, header, "test123", now=now)
    assert caught.value.reason == reason
    assert "test123" not in str(caught.value)


def test_any_of_several_v1_values_may_match() -> None:
    header = f"t={VECTOR_T},v1={'a' * 64},v1={VECTOR_V1.upper()}"
    verify_signature(VECTOR_BODY, header, "test123", now=VECTOR_T)


bodies = st.binary(max_size=200)
secrets = st.text(min_size=1, max_size=40)
times = st.integers(min_value=1_000_000_000, max_value=4_000_000_000)


@given(bodies, secrets, times)
def test_sign_then_verify_accepts(body: bytes, secret: str, t: int) -> None:
    verify_signature(body, f"t={t},v1={sign_payload(body, secret, t)}", secret, now=t)


@given(bodies, bodies, secrets, secrets, times, st.integers(-300, 300))
def test_any_change_of_body_time_or_secret_rejects(
    body: bytes, other_body: bytes, secret: str, other_secret: str, t: int, shift: int
) -> None:
    v1 = sign_payload(body, secret, t)
    if other_body != body:
        with pytest.raises(WebhookSignatureError):
            verify_signature(other_body, f"t={t},v1={v1}", secret, now=t)
    if other_secret != secret:
        with pytest.raises(WebhookSignatureError):
            verify_signature(body, f"t={t},v1={v1}", other_secret, now=t)
    if shift:
        with pytest.raises(WebhookSignatureError):
            verify_signature(body, f"t={t + shift},v1={v1}", secret, now=t)


@given(st.text(max_size=200), bodies)
def test_garbage_headers_only_ever_raise_signature_errors(header: str, body: bytes) -> None:
    with pytest.raises(WebhookSignatureError):
        verify_signature(body, header, "secret", now=1_700_000_000)


def test_integration_api_events_are_parsed_with_dates_in_utc() -> None:
    body = form(
        {
            "events": [
                {
                    "type": "order",
                    "action": "update",
                    "date": "2021-01-29 14:40:58.628033",
                    "id": 2735,
                },
                {
                    "type": "shipment",
                    "action": "good_to_go",
                    "date": "2021-07-01 12:00:00.000001",
                    "id": 1902,
                },
                {
                    "type": "check_first",
                    "action": "create",
                    "date": "2021-07-01 12:00:00.5",
                    "id": 7,
                    "data": {"warehouses": [{"warehouseId": 1}]},
                },
                {
                    "type": "brand_new_type",
                    "action": "insert",
                    "date": "2021-07-01 12:00:00",
                    "id": "x",
                },
            ]
        }
    )
    events = parse_webhook(body, "Europe/Stockholm")
    assert events[0] == WebhookEvent(
        "order", "update", "2735", datetime(2021, 1, 29, 13, 40, 58, 628033, tzinfo=UTC)
    )
    assert events[1].date == datetime(2021, 7, 1, 10, 0, 0, 1, tzinfo=UTC)
    assert events[2].data == {"warehouses": [{"warehouseId": 1}]}
    assert (events[3].type, events[3].action, events[3].id) == ("brand_new_type", "insert", "x")


def test_checkout_api_version_gives_changed_events() -> None:
    events = parse_webhook(form({"orders": ["1", "2"], "categories": [3]}), "Europe/Stockholm")
    assert [(e.type, e.action, e.id, e.date) for e in events] == [
        ("orders", "changed", "1", None),
        ("orders", "changed", "2", None),
        ("categories", "changed", "3", None),
    ]


def test_documented_captured_body_parses() -> None:
    events = parse_webhook(b"payload=%7B%22products%22%3A%5B%221%22%5D%7D", "UTC")
    assert events == [WebhookEvent("products", "changed", "1")]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"nothing=here",
        b"payload=1&payload=2",
        b"payload=%7Bnot-json",
        b"payload=%5B1%5D",
        b"\xff\xfe",
        form({"events": "nope"}),
        form({"events": [5]}),
        form({"orders": "1"}),
        b"payload=" + b"%5B" * 100_000,
    ],
)
def test_malformed_bodies_are_data_errors(body: bytes) -> None:
    with pytest.raises(DataError):
        parse_webhook(body, "Europe/Stockholm")


@given(order=st.text(max_size=12))
def test_an_order_event_is_decoded_only_with_an_order_number(order: str) -> None:
    """Centra's order numbers are whole numbers; an event naming anything else can never
    be acted on, so reading it back names the field. Other events keep any id."""
    encoded = encode_event(WebhookEvent("order", "update", order))
    if order.isascii() and order.isdigit():
        assert decode_event(encoded).id == order
        return
    with pytest.raises(RecordValidationError) as caught:
        decode_event(encoded)
    assert (caught.value.record, caught.value.field) == ("order webhook event", "id")
    assert decode_event(encode_event(WebhookEvent("shipment", "update", order))).id == order


def test_event_missing_a_field_names_it() -> None:
    with pytest.raises(RecordValidationError) as caught:
        parse_webhook(form({"events": [{"type": "order", "action": "update"}]}), "UTC")
    assert caught.value.field == "id" and caught.value.record == "webhook event #0"
    with pytest.raises(RecordValidationError) as bad_date:
        parse_webhook(
            form({"events": [{"type": "order", "action": "x", "id": 1, "date": "soon"}]}), "UTC"
        )
    assert bad_date.value.field == "date"


def test_empty_secret_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError):
        verify_signature(VECTOR_BODY, f"t={VECTOR_T},v1={VECTOR_V1}", "", now=VECTOR_T)
