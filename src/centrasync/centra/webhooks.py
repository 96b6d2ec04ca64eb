"""Centra webhook plugin: verify ``X-Centra-Signature`` on the raw body, then parse events.

Centra posts ``application/x-www-form-urlencoded`` with one field, ``payload=<json>``, and
signs ``"<t>.<raw body>"`` with HMAC-SHA256 under the endpoint secret (centra-api.md §4.4).
The signature covers the *raw, still url-encoded* bytes, so verification must run before
anything decodes them: re-encoding a decoded payload would not reproduce PHP's encoding.

Webhooks are hints that carry ids only and may arrive twice, late or never; callers store
the events and re-read current state through the API.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qs

from centrasync.errors import CentrasyncError, ConfigError, DataError, RecordValidationError

from .timezones import load_zone, parse_centra_datetime

__all__ = [
    "SIGNATURE_HEADER",
    "WebhookEvent",
    "WebhookSignatureError",
    "decode_event",
    "encode_event",
    "parse_webhook",
    "sign_payload",
    "verify_signature",
]

SIGNATURE_HEADER = "X-Centra-Signature"
SignatureProblem = Literal["missing", "malformed", "stale", "mismatch"]

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_ORDER_NUMBER = re.compile(r"[0-9]+")
_HEX_SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")


class WebhookSignatureError(CentrasyncError):
    """The webhook is not provably from Centra; ``reason`` says why, for metrics and logs.

    ``missing``: no header; ``malformed``: the header is not ``t=<unix>,v1=<hex>``;
    ``stale``: ``t`` is outside the tolerance (old replay, or a clock far ahead);
    ``mismatch``: no ``v1`` matches the body under our secret.
    """

    def __init__(self, reason: SignatureProblem, message: str) -> None:
        super().__init__(message, system="centra", endpoint="webhook")
        self.reason: SignatureProblem = reason


def sign_payload(raw_body: bytes, secret: str, timestamp: int) -> str:
    """The ``v1`` value Centra would send: lowercase hex HMAC-SHA256 of ``"<t>.<body>"``."""
    message = str(timestamp).encode("ascii") + b"." + raw_body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _parse_header(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise WebhookSignatureError("malformed", "signature header part without '='")
        if key == "t":
            if timestamp is not None or not _TIMESTAMP.fullmatch(value):
                raise WebhookSignatureError("malformed", "signature header has a bad 't'")
            timestamp = int(value)
        elif key == "v1":
            if not _HEX_SIGNATURE.fullmatch(value):
                raise WebhookSignatureError("malformed", "signature header has a bad 'v1'")
            signatures.append(value.lower())
    if timestamp is None or not signatures:
        raise WebhookSignatureError("malformed", "signature header needs both 't' and 'v1'")
    return timestamp, signatures


def verify_signature(
    raw_body: bytes,
    header: str | None,
    secret: str,
    *,
    now: float | None = None,
    tolerance: float = 300.0,
) -> None:
    """Accept a webhook only if ``header`` signs ``raw_body`` with ``secret`` recently.

    Every ``v1`` in the header is tried (Centra may send more than one during a secret
    rotation); comparisons are constant-time. ``t`` may differ from ``now`` by at most
    ``tolerance`` seconds either way: older means a replay, newer means a broken clock.
    """
    if not secret:
        # An empty key signs nothing: anyone could compute the HMAC.
        raise ConfigError("webhook secret is empty; set the endpoint secret of the plugin")
    if header is None or not header.strip():
        raise WebhookSignatureError("missing", f"no {SIGNATURE_HEADER} header")
    timestamp, signatures = _parse_header(header)
    expected = sign_payload(raw_body, secret, timestamp)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise WebhookSignatureError("mismatch", "signature does not match the body")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise WebhookSignatureError(
            "stale", f"signature time is {current - timestamp:.0f} s away from now"
        )


@dataclass(frozen=True)
class WebhookEvent:
    """One change Centra told us about.

    ``id`` is a string in every version (the order *number* for orders, Centra's internal
    id for shipments [I]). ``date`` is aware UTC, or None in the Checkout-API version,
    which has no times. ``data`` carries extra objects some types send (check-first,
    allocation requests) verbatim.
    """

    type: str
    action: str
    id: str
    date: datetime | None = None
    data: Mapping[str, Any] | None = field(default=None, compare=False)


def _bad_payload(message: str) -> DataError:
    return DataError(f"webhook payload: {message}", system="centra", endpoint="webhook")


def _decode_payload(raw_body: bytes) -> Any:
    try:
        form = parse_qs(raw_body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        raise _bad_payload("body is not a url-encoded form") from None
    values = form.get("payload")
    if not values or len(values) != 1:
        raise _bad_payload("body must contain exactly one 'payload' field")
    try:
        return json.loads(values[0])
    except RecursionError:
        raise _bad_payload("'payload' is nested too deeply") from None
    except ValueError:
        raise _bad_payload("'payload' is not JSON") from None


def _text(value: Any, record: str, name: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise RecordValidationError(
            f"expected a string or an integer, got {value!r}", record=record, field=name
        )
    return str(value)


def _integration_events(events: Any, timezone: str) -> list[WebhookEvent]:
    if not isinstance(events, list):
        raise _bad_payload("'events' must be a list")
    zone = load_zone(timezone)
    parsed: list[WebhookEvent] = []
    for index, event in enumerate(events):
        record = f"webhook event #{index}"
        if not isinstance(event, dict):
            raise _bad_payload(f"event #{index} is not an object")
        for required in ("type", "action", "id"):
            if required not in event:
                raise RecordValidationError("missing", record=record, field=required)
        data = event.get("data")
        parsed.append(
            WebhookEvent(
                type=_text(event["type"], record, "type"),
                action=_text(event["action"], record, "action"),
                id=_text(event["id"], record, "id"),
                date=parse_centra_datetime(event.get("date"), zone, field="date", record=record),
                data=data if isinstance(data, dict) else None,
            )
        )
    return parsed


def _checkout_events(payload: Mapping[str, Any]) -> list[WebhookEvent]:
    """``{"<fieldName>": ["<id>", …], …}``: each id becomes a ``changed`` event.

    The type is the configured field name verbatim (``products``, ``orders``, …): field
    names are merchant settings, so any mapping to singular type names would be a guess.
    """
    parsed: list[WebhookEvent] = []
    for key, ids in payload.items():
        if not isinstance(ids, list):
            raise _bad_payload(f"{key!r} must be a list of ids")
        parsed.extend(
            WebhookEvent(type=key, action="changed", id=_text(i, f"webhook {key}", key))
            for i in ids
        )
    return parsed


def parse_webhook(raw_body: bytes, timezone: str) -> list[WebhookEvent]:
    """Decode a webhook body into events in the order Centra listed them; unknown types kept.

    The Integration-API version (``{"events": [...]}``) gives one event per entry with its
    date read in the merchant ``timezone``; the Checkout-API and Storefront-API versions
    (lists of ids per field) give ``changed`` events without dates. Verify the signature
    on the same ``raw_body`` first.
    """
    payload = _decode_payload(raw_body)
    if not isinstance(payload, dict):
        raise _bad_payload("JSON payload must be an object")
    if "events" in payload:
        return _integration_events(payload["events"], timezone)
    return _checkout_events(payload)


def encode_event(event: WebhookEvent) -> bytes:
    """The event as compact JSON (type, action, id, date as ISO UTC or null, raw data).

    This is the form events wait in in the inbox between receipt and processing.
    """
    document: dict[str, Any] = {
        "type": event.type,
        "action": event.action,
        "id": event.id,
        "date": event.date.astimezone(UTC).isoformat() if event.date is not None else None,
        "data": dict(event.data) if event.data is not None else None,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode("utf-8")


def decode_event(body: bytes) -> WebhookEvent:
    """Read back what :func:`encode_event` wrote; a damaged row is a :class:`DataError`.

    An order event whose id is no order number (Centra's are whole numbers) can never be
    acted on: it is a :class:`RecordValidationError` naming the field, so it is parked at
    once instead of being tried again.
    """
    try:
        document = json.loads(body)
        when = document["date"]
        event = WebhookEvent(
            type=str(document["type"]),
            action=str(document["action"]),
            id=str(document["id"]),
            date=datetime.fromisoformat(when) if when is not None else None,
            data=document.get("data"),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise _bad_payload(f"inbox row is not an encoded event ({exc})") from None
    if event.type == "order" and not _ORDER_NUMBER.fullmatch(event.id):
        raise RecordValidationError(
            f"an order number is a whole number, got {event.id[:40]!r}",
            record=f"{event.type} webhook event",
            field="id",
            system="centra",
            endpoint="webhook",
        )
    return event
