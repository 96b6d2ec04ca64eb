from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from centrasync.http import Outcome, RetryPolicy, parse_retry_after
from centrasync.http.retry import RETRYABLE_STATUSES

NOW = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
POLICY = RetryPolicy(max_attempts=5, base_delay=0.5, max_delay=8.0, max_retry_after=60.0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        ("0", 0.0),
        ("2.5", 2.5),
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        (format_datetime(NOW - timedelta(seconds=30), usegmt=True), 0.0),
        (str(int(NOW.timestamp()) + 12), 12.0),
        (str(int(NOW.timestamp()) - 12), 0.0),
        ("", None),
        ("soon", None),
        ("-3", None),
        ("nan", None),
        (None, None),
    ],
)
def test_retry_after_forms(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


@pytest.mark.parametrize(
    ("outcome", "idempotent", "expected"),
    [
        (Outcome(status=429, headers={"retry-after": "3"}), False, 3.0),
        (Outcome(status=429, headers={}), False, 0.5),
        (Outcome(status=503), True, 0.5),
        (Outcome(status=503), False, None),
        (Outcome(status=500, headers={"retry-after": "2"}), True, 2.0),
        (Outcome(status=400), True, None),
        (Outcome(status=403), True, None),
        (Outcome(status=200), True, None),
        (Outcome(status=None, sent=False), False, 0.5),
        (Outcome(status=None, sent=True), False, None),
        (Outcome(status=None, sent=True), True, 0.5),
        (Outcome(status=429, headers={"retry-after": "3600"}), True, None),
    ],
)
def test_decision_table(outcome: Outcome, idempotent: bool, expected: float | None) -> None:
    assert POLICY.decide(outcome, 1, idempotent=idempotent, now=NOW, jitter=1.0) == expected


def test_stops_after_max_attempts() -> None:
    outcome = Outcome(status=503)
    assert POLICY.decide(outcome, 4, idempotent=True, now=NOW, jitter=1.0) is not None
    assert POLICY.decide(outcome, 5, idempotent=True, now=NOW, jitter=1.0) is None


def test_backoff_grows_then_caps() -> None:
    delays = [POLICY.backoff(n, 1.0) for n in range(1, 8)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def _ceiling(attempt: int) -> float:
    return min(POLICY.max_delay, POLICY.base_delay * 2.0 ** (attempt - 1))


@given(attempt=st.integers(min_value=1, max_value=60), jitter=st.floats(min_value=0, max_value=1))
def test_backoff_is_full_jitter_under_the_ceiling(attempt: int, jitter: float) -> None:
    delay = POLICY.backoff(attempt, jitter)
    assert 0.0 <= delay <= _ceiling(attempt) <= POLICY.max_delay
    assert delay == pytest.approx(_ceiling(attempt) * jitter)


@given(attempt=st.integers(min_value=1, max_value=60))
def test_backoff_spans_the_whole_window(attempt: int) -> None:
    """Full jitter: the wait can be anything from zero to the ceiling, not just its top half."""
    assert POLICY.backoff(attempt, 0.0) == 0.0
    assert POLICY.backoff(attempt, 0.25) == pytest.approx(_ceiling(attempt) / 4)
    assert POLICY.backoff(attempt, 1.0) == _ceiling(attempt)


@given(
    status=st.sampled_from([*sorted(RETRYABLE_STATUSES), None]),
    attempt=st.integers(min_value=1, max_value=POLICY.max_attempts - 1),
    jitter=st.floats(min_value=0, max_value=1),
)
def test_decided_backoff_stays_in_bounds(status: int | None, attempt: int, jitter: float) -> None:
    delay = POLICY.decide(Outcome(status=status), attempt, idempotent=True, now=NOW, jitter=jitter)
    assert delay is not None
    assert 0.0 <= delay <= _ceiling(attempt)


@given(seconds=st.integers(min_value=0, max_value=10**6))
def test_delay_seconds_round_trip(seconds: int) -> None:
    assert parse_retry_after(str(seconds), NOW) == float(seconds)
