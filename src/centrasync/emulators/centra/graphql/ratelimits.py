"""The Integration API's rate limits: three token buckets over two windows, per environment.

Centra counts requests, summed query complexity and mutations, each in a bucket refilled at
a constant rate over 10 seconds and over an hour; every token of the environment draws from
the same buckets. A request that any bucket cannot pay for is refused whole (nothing is
taken [I]) with HTTP 429 and ``Retry-After``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field

__all__ = ["PLANS", "Bucket", "Quotas", "RateLimiter"]


class Quotas(BaseModel):
    """Bucket sizes of a plan; the emulator's default is Centra's default plan, Growth."""

    requests_10s: int = Field(60, ge=1)
    requests_1h: int = Field(5_000, ge=1)
    mutations_10s: int = Field(20, ge=1)
    mutations_1h: int = Field(1_800, ge=1)
    complexity_10s: int = Field(250_000, ge=1)
    complexity_1h: int = Field(30_000_000, ge=1)


# Centra's published plans (centra.dev, "Rate limits").
PLANS: dict[str, Quotas] = {
    "growth": Quotas(),
    "enhanced": Quotas(
        requests_10s=150,
        requests_1h=20_000,
        mutations_10s=50,
        mutations_1h=4_500,
        complexity_10s=900_000,
        complexity_1h=90_000_000,
    ),
    "high_volume": Quotas(
        requests_10s=450,
        requests_1h=40_000,
        mutations_10s=150,
        mutations_1h=7_000,
        complexity_10s=1_800_000,
        complexity_1h=180_000_000,
    ),
    "enterprise": Quotas(
        requests_10s=1_500,
        requests_1h=85_000,
        mutations_10s=500,
        mutations_1h=25_000,
        complexity_10s=4_000_000,
        complexity_1h=400_000_000,
    ),
}

_WINDOWS = (("TEN_SECONDS", 10, "10s"), ("ONE_HOUR", 3600, "1h"))
_KINDS = (
    ("REQUEST_COUNT", "requests"),
    ("QUERY_COMPLEXITY", "complexity"),
    ("MUTATION_COUNT", "mutations"),
)


@dataclass
class Bucket:
    """A token bucket: full at the start, ``quota`` tokens refilled evenly over ``seconds``."""

    type: str
    interval: str
    seconds: int
    quota: int
    tokens: float
    at: datetime

    def refill(self, now: datetime) -> None:
        elapsed = max(0.0, (now - self.at).total_seconds())
        self.tokens = min(float(self.quota), self.tokens + elapsed * self.quota / self.seconds)
        self.at = now

    def wait_for(self, amount: int) -> float:
        """Seconds until ``amount`` tokens are there (a cost above the quota waits for full)."""
        missing = min(float(amount), float(self.quota)) - self.tokens
        return 0.0 if missing <= 0 else missing * self.seconds / self.quota

    @property
    def used(self) -> int:
        return self.quota - math.floor(self.tokens)


class RateLimiter:
    """The environment's six buckets."""

    def __init__(self, clock: Callable[[], datetime], quotas: Quotas | None = None) -> None:
        self._clock = clock
        self.configure(quotas or Quotas())

    def configure(self, quotas: Quotas) -> None:
        """New quotas, every bucket full again, nothing charged yet."""
        self.quotas = quotas
        self.charged = {"requests": 0, "complexity": 0, "mutations": 0}
        now = self._clock()
        limits = quotas.model_dump()
        self.buckets = [
            Bucket(kind, interval, seconds, quota, float(quota), now)
            for kind, key in _KINDS
            for interval, seconds, suffix in _WINDOWS
            for quota in [limits[f"{key}_{suffix}"]]
        ]

    def take(self, *, complexity: int, mutations: int) -> float | None:
        """Charge one request; None when it may run, else the seconds to wait."""
        now = self._clock()
        cost = {"REQUEST_COUNT": 1, "QUERY_COMPLEXITY": complexity, "MUTATION_COUNT": mutations}
        for bucket in self.buckets:
            bucket.refill(now)
        wait = max(bucket.wait_for(cost[bucket.type]) for bucket in self.buckets)
        if wait > 0:
            return wait
        for bucket in self.buckets:
            bucket.tokens -= cost[bucket.type]
        self.charged["requests"] += 1
        self.charged["complexity"] += complexity
        self.charged["mutations"] += mutations
        return None
