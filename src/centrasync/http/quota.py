"""Pacing under quotas the server publishes: several token buckets, each refilled evenly.

For an API that states its limits and how much of them is left (Centra's Integration API:
requests, summed query complexity and mutations, each over 10 s and over an hour, shared by
every integration of an environment), waiting here is cheaper than finding the limit by
429s. The client tells the budget what the server reported (:meth:`QuotaBudget.sync`) and
what each answer cost (:meth:`QuotaBudget.settle`); :class:`PacedTransport` holds every
attempt back until each bucket can pay for it. A 429 (someone else spent the shared quota)
still pauses the budget for as long as ``Retry-After`` says, and marks it stale until the
client reads the server's figures again.

Costs travel with the request in ``request.extensions[COST]``: a mapping from bucket kind
(``"requests"``, ``"complexity"``, …) to amount. A kind no bucket has is free. The
transport notes in ``request.extensions[ANSWERED_AT]`` when (on the budget's clock) the
answer to the last attempt arrived: a report the answer carries is as of no later.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from .retry import parse_retry_after

__all__ = ["ANSWERED_AT", "COST", "BucketState", "PacedTransport", "QuotaBudget"]

COST = "centrasync.cost"
ANSWERED_AT = "centrasync.answered_at"
# Float rounding leaves slivers of a token, and the server's sum of the same refill may
# round the other way: a wait is taken half a millisecond longer and rounded up to the next
# millisecond, so it moves a clock of any resolution on and the server's bucket holds the
# token when the request arrives.
_SLIVER = 1e-9
_TICK = 1000
_MARGIN = 0.0005


@dataclass(frozen=True)
class BucketState:
    """One bucket as the budget sees it now: ``tokens`` of ``quota`` left."""

    kind: str
    seconds: float
    quota: float
    tokens: float


@dataclass
class _Bucket:
    kind: str
    seconds: float
    quota: float
    tokens: float
    at: float

    @property
    def rate(self) -> float:
        return self.quota / self.seconds

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.at)
        self.tokens = min(self.quota, self.tokens + elapsed * self.rate)
        self.at = now

    def wait_for(self, amount: float) -> float:
        """Seconds until ``amount`` is there; a cost above the quota waits for a full bucket,
        as the server lets such a request run then."""
        missing = min(amount, self.quota) - self.tokens
        return 0.0 if missing <= _SLIVER else missing / self.rate


class QuotaBudget:
    """Token buckets mirroring the server's, shared by every client of one environment.

    Until the first :meth:`sync` nothing is known and nothing waits. ``clock`` and
    ``sleep`` are injectable so tests drive time; waiters are served first come, first
    served. ``waited`` adds up the seconds callers spent held back.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[tuple[str, float], _Bucket] = {}
        self._paused_until = 0.0
        self._lock = asyncio.Lock()
        self.synced_at: float | None = None
        self.stale = False
        self.refreshing = asyncio.Lock()
        """Held by the client reading the server's figures for everyone sharing the budget."""
        self.waited = 0.0

    def now(self) -> float:
        """The budget's clock; :meth:`sync` takes times on it."""
        return self._clock()

    @property
    def known(self) -> bool:
        return bool(self._buckets)

    def sync(
        self,
        kind: str,
        seconds: float,
        quota: float,
        remaining: float,
        at: float,
        *,
        replace: bool = False,
    ) -> None:
        """What the server reported for one bucket, as of ``at`` (on :meth:`now`'s clock).

        Pass the time the answer *arrived*: the server counted no later than that, and its
        bucket refills from when it counted, so refilling ours from the arrival never
        overestimates (from the time it was asked, a full bucket would seem fuller).
        Within one quota the lower of the local count (our requests still in flight) and
        the report (everybody else's) wins, unless ``replace``: after a 429 the local count
        was emptied on a guess, and the report is better.
        """
        if seconds <= 0 or quota <= 0:
            raise ValueError("a bucket needs a positive quota and interval")
        now = self._clock()
        reported = _Bucket(kind, seconds, quota, min(remaining, quota), at)
        reported.refill(now)
        bucket = self._buckets.get((kind, seconds))
        if bucket is None or bucket.quota != quota or replace:
            self._buckets[kind, seconds] = reported
            return
        bucket.refill(now)
        bucket.tokens = min(bucket.tokens, reported.tokens)

    def state(self) -> list[BucketState]:
        """Every bucket, refilled to now."""
        now = self._clock()
        shown = []
        for bucket in self._buckets.values():
            bucket.refill(now)
            shown.append(BucketState(bucket.kind, bucket.seconds, bucket.quota, bucket.tokens))
        return shown

    def pause_for(self, seconds: float) -> None:
        """Send nothing for ``seconds``: the server refused a request (429)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def settle(self, kind: str, amount: float) -> None:
        """Charge (or, negative, give back) ``amount`` more of ``kind`` in every window:
        what an answer cost beyond what was reserved for it."""
        now = self._clock()
        for bucket in self._buckets.values():
            if bucket.kind == kind:
                bucket.refill(now)
                bucket.tokens -= amount

    def refused(self, cost: Mapping[str, float], pause: float) -> None:
        """The server answered 429: it took nothing, but some bucket of ours was wrong.

        Someone else spent the quota (it is shared), so every bucket this request draws on
        is taken as empty, nothing is sent for ``pause`` seconds, and the budget is
        :attr:`stale` until the next report replaces the guess.
        """
        now = self._clock()
        for bucket in self._buckets.values():
            if cost.get(bucket.kind):
                bucket.refill(now)
                bucket.tokens = min(bucket.tokens, 0.0)
        self.pause_for(pause)
        self.stale = True

    async def acquire(self, cost: Mapping[str, float]) -> None:
        """Wait until every bucket can pay ``cost``, then take it."""
        async with self._lock:
            while True:
                wait = self._wait_time(cost)
                if wait <= 0:
                    break
                delay = math.ceil((wait + _MARGIN) * _TICK) / _TICK
                self.waited += delay
                await self._sleep(delay)
            for kind, amount in cost.items():
                for bucket in self._buckets.values():
                    if bucket.kind == kind:
                        bucket.tokens -= amount

    def _wait_time(self, cost: Mapping[str, float]) -> float:
        now = self._clock()
        if now < self._paused_until:
            return self._paused_until - now
        wait = 0.0
        for bucket in self._buckets.values():
            amount = cost.get(bucket.kind)
            if amount:
                bucket.refill(now)
                wait = max(wait, bucket.wait_for(amount))
        return wait


class PacedTransport(httpx.AsyncBaseTransport):
    """Takes each attempt's ``COST`` from a :class:`QuotaBudget` before sending it.

    Wrap it in :class:`~centrasync.http.transports.ResilientTransport` so every retry is
    paced too. A 429 empties the buckets the request drew on and pauses the budget for its
    ``Retry-After`` (see :meth:`QuotaBudget.refused`).
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        budget: QuotaBudget,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        default_pause: float = 1.0,
    ) -> None:
        self.inner = inner
        self.budget = budget
        self._now = now
        self._default_pause = default_pause

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        cost: Mapping[str, float] = request.extensions.get(COST) or {}
        await self.budget.acquire(cost)
        response = await self.inner.handle_async_request(request)
        request.extensions[ANSWERED_AT] = self.budget.now()
        if response.status_code == 429:
            wait = parse_retry_after(response.headers.get("retry-after"), self._now())
            self.budget.refused(cost, wait if wait is not None else self._default_pause)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
