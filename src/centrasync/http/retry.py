"""When to retry an HTTP call, and how long to wait: a pure decision, tested on tables.

The loop that applies the decision lives in :mod:`centrasync.http.transports`; keeping the
decision pure lets tests pin time and jitter instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["Outcome", "RetryPolicy", "parse_retry_after"]

RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})

# Epoch timestamps are told apart from delays by size: no server asks for a 30-year wait.
_EPOCH_THRESHOLD = 1_000_000_000


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait according to a ``Retry-After`` header value, or None if unusable.

    Accepts delay-seconds (RFC 9110), an HTTP date, and Unix epoch seconds, because Centra's
    GraphQL docs say the header holds "the timestamp of when you can resume" without saying
    which form. A time in the past means "now" (0.0).
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None:
        if number != number or number < 0:  # NaN or negative
            return None
        if number >= _EPOCH_THRESHOLD:
            return max(0.0, number - now.timestamp())
        return number
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class Outcome:
    """What happened to one attempt, as far as the retry decision needs to know.

    ``status`` is None when no response arrived; ``sent`` says whether the request may have
    reached the server (a connect error means it certainly did not).
    """

    status: int | None = None
    headers: Mapping[str, str] | None = None
    sent: bool = True


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, an attempt cap and a cap on any single wait.

    Full jitter (a wait drawn uniformly from zero to the exponential ceiling) rather than
    equal jitter: the engine's processes and lanes share one Centra and one warehouse, and
    when a 5xx or a dropped connection hits them together, spreading their retries over the
    whole window parts them most, at the price of some immediate retries.

    ``decide`` returns the number of seconds to wait before the next attempt, or None to
    stop. Non-idempotent requests are retried only when the server cannot have acted on
    them: a connect failure, or a 429 (the server refused before doing anything).
    """

    max_attempts: int = 5
    base_delay: float = 0.25
    max_delay: float = 10.0
    max_retry_after: float = 120.0

    def backoff(self, attempt: int, jitter: float) -> float:
        """Delay after failed attempt number ``attempt`` (1-based); ``jitter`` is in [0, 1]."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return ceiling * jitter

    def decide(
        self,
        outcome: Outcome,
        attempt: int,
        *,
        idempotent: bool,
        now: datetime,
        jitter: float,
    ) -> float | None:
        if attempt >= self.max_attempts:
            return None
        if outcome.status is None:
            if not outcome.sent or idempotent:
                return self.backoff(attempt, jitter)
            return None
        if outcome.status not in RETRYABLE_STATUSES:
            return None
        if outcome.status != 429 and not idempotent:
            return None
        headers = outcome.headers or {}
        asked = parse_retry_after(headers.get("retry-after") or headers.get("Retry-After"), now)
        if asked is not None:
            if asked > self.max_retry_after:
                return None
            return asked
        return self.backoff(attempt, jitter)
