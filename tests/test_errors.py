from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from centrasync.errors import (
    _SECRET_PATTERNS,
    CaptureDeclinedError,
    GiveUpError,
    RecordValidationError,
    RemoteRefusedError,
    RetryLaterError,
    ServerError,
    redact,
)


def test_tree_groups_by_what_the_caller_does() -> None:
    assert issubclass(CaptureDeclinedError, RemoteRefusedError)
    assert issubclass(RemoteRefusedError, GiveUpError)
    assert issubclass(ServerError, RetryLaterError)


def test_record_error_names_record_and_field() -> None:
    error = RecordValidationError(
        "not a number", record="shipment 83651-1", field="products[0].qty"
    )
    assert "shipment 83651-1" in str(error)
    assert "products[0].qty" in str(error)


def test_body_and_message_are_redacted_and_truncated() -> None:
    error = ServerError(
        "call failed with API-Authorization: hunter22",
        system="centra",
        endpoint="GET /shipments",
        status=502,
        body='{"password": "hunter22"}' + "x" * 2000,
    )
    text = str(error)
    assert "hunter22" not in text
    assert "GET /shipments" in text
    assert "HTTP 502" in text
    assert len(text) < 800


def test_url_credentials_are_masked() -> None:
    assert redact("https://user:pa55@host/api") == "https://user:***@host/api"


@given(secret=st.text(min_size=3, max_size=40).filter(lambda s: s.strip() == s and "*" not in s))
def test_explicit_secret_never_survives(secret: str) -> None:
    assert secret not in redact(f"before {secret} after {secret}", secret)


_PIECES = st.sampled_from(
    ["Authorization", "PASSWORD", "secret", "Token", "api-authorization", "://", "user:", "@", ":"]
)


@given(st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=8).map("".join))
def test_redact_masks_what_both_patterns_mask_and_leaves_other_text_alone(text: str) -> None:
    """The quick test for a credential's words never lets one through the patterns."""
    masked = _SECRET_PATTERNS[0].sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    masked = _SECRET_PATTERNS[1].sub(lambda m: f"{m.group(1)}***{m.group(3)}", masked)
    assert redact(text) == masked
