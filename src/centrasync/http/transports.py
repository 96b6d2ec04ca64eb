"""An httpx transport wrapper that applies the retry policy and the shared rate budget.

Clients mark each request through ``request.extensions``:

* ``"centrasync.idempotent"`` (bool, default: True for GET/HEAD/DELETE/OPTIONS) says the
  request may be repeated after an ambiguous failure;
* ``"centrasync.priority"`` (:class:`~centrasync.http.budget.Priority`) orders it in the
  budget's queue.

The wrapper returns the last response (clients map statuses to errors) or re-raises the
last transport exception once the policy says stop.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from .budget import Priority, RateBudget
from .guard import check_before_sending
from .retry import Outcome, RetryPolicy, parse_retry_after

__all__ = ["IDEMPOTENT", "PRIORITY", "ResilientTransport", "TransportStats"]

IDEMPOTENT = "centrasync.idempotent"
PRIORITY = "centrasync.priority"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass
class TransportStats:
    """Counts for metrics: attempts, retries, and 429s seen."""

    attempts: int = 0
    retries: int = 0
    rate_limited: int = 0
    by_status: dict[int, int] = field(default_factory=dict)


class ResilientTransport(httpx.AsyncBaseTransport):
    """Retry with backoff (honouring ``Retry-After``) and take a budget token per attempt."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        policy: RetryPolicy | None = None,
        budget: RateBudget | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.inner = inner
        self.policy = policy or RetryPolicy()
        self.budget = budget
        self.stats = TransportStats()
        self._sleep = sleep
        self._now = now
        self._jitter = jitter

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        idempotent = bool(request.extensions.get(IDEMPOTENT, request.method in _SAFE_METHODS))
        priority = request.extensions.get(PRIORITY, Priority.ORDER_FLOW)
        attempt = 0
        while True:
            attempt += 1
            if self.budget is not None:
                await self.budget.acquire(priority)
            # Last, after any wait for the budget or a backoff: the caller may have lost the
            # right to send meanwhile.
            check_before_sending()
            self.stats.attempts += 1
            try:
                response = await self.inner.handle_async_request(request)
            except httpx.TransportError as exc:
                outcome = Outcome(status=None, sent=not isinstance(exc, _NOT_SENT))
                delay = self._decide(outcome, attempt, idempotent)
                if delay is None:
                    raise
                self.stats.retries += 1
                await self._sleep(delay)
                continue
            self.stats.by_status[response.status_code] = (
                self.stats.by_status.get(response.status_code, 0) + 1
            )
            if response.status_code == 429:
                self.stats.rate_limited += 1
                self._pause_budget(response)
            outcome = Outcome(status=response.status_code, headers=response.headers)
            delay = self._decide(outcome, attempt, idempotent)
            if delay is None:
                return response
            await response.aread()
            await response.aclose()
            self.stats.retries += 1
            await self._sleep(delay)

    async def wait_to_reread(self, attempt: int) -> bool:
        """Back off before a safe read is sent again because its answer was unusable.

        For the client that found a 200 body cut short or not the JSON it expected: only it
        can tell, and reading again is harmless. ``attempt`` counts the reads made so far;
        False, without waiting, once the policy's attempts are spent.
        """
        if attempt >= self.policy.max_attempts:
            return False
        self.stats.retries += 1
        await self._sleep(self.policy.backoff(attempt, self._jitter()))
        return True

    def _decide(self, outcome: Outcome, attempt: int, idempotent: bool) -> float | None:
        return self.policy.decide(
            outcome, attempt, idempotent=idempotent, now=self._now(), jitter=self._jitter()
        )

    def _pause_budget(self, response: httpx.Response) -> None:
        if self.budget is None:
            return
        wait = parse_retry_after(response.headers.get("retry-after"), self._now())
        self.budget.pause_for(wait if wait is not None else self.policy.base_delay)

    async def aclose(self) -> None:
        await self.inner.aclose()
