"""A token-bucket rate budget shared by everything that talks to one remote account.

Centra's limits are per environment and shared by every integration, so one budget object
is built per account and handed to every client for it. Waiters are served by priority
(order flow before catalogue before analytics), then first come, first served, so a long
catalogue import never delays a shipment by more than one token.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from enum import IntEnum

__all__ = ["Priority", "RateBudget"]


class Priority(IntEnum):
    """Lower value is served first."""

    ORDER_FLOW = 0
    CATALOGUE = 1
    ANALYTICS = 2


class RateBudget:
    """``rate`` tokens per second, up to ``burst`` saved; ``pause_for`` honours a 429.

    ``clock`` is injectable so tests can drive time; sleeping uses asyncio.
    """

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._clock = clock
        self._tokens = self.burst
        self._updated = clock()
        self._paused_until = 0.0
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._sequence = itertools.count()
        self._pump_task: asyncio.Task[None] | None = None
        self.granted: dict[Priority, int] = dict.fromkeys(Priority, 0)

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def pause_for(self, seconds: float) -> None:
        """Stop granting tokens for ``seconds``: the remote side said it is overloaded."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
        self._tokens = min(self._tokens, 0.0)

    def _wait_time(self) -> float:
        now = self._clock()
        if now < self._paused_until:
            return self._paused_until - now
        self._refill()
        if self._tokens >= 1:
            return 0.0
        return (1 - self._tokens) / self.rate

    async def acquire(self, priority: Priority = Priority.ORDER_FLOW) -> None:
        """Wait until one token is granted to this caller."""
        if not self._waiters and self._wait_time() == 0.0:
            self._tokens -= 1
            self.granted[priority] += 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (int(priority), next(self._sequence), future))
        if self._pump_task is None or self._pump_task.done():
            self._pump_task = asyncio.create_task(self._pump())
        try:
            await future
        except asyncio.CancelledError:
            if not future.done():
                future.cancel()
            raise
        self.granted[priority] += 1

    async def _pump(self) -> None:
        while self._waiters:
            _, _, future = self._waiters[0]
            if future.done():
                heapq.heappop(self._waiters)
                continue
            delay = self._wait_time()
            if delay > 0:
                await asyncio.sleep(delay)
                continue
            heapq.heappop(self._waiters)
            self._tokens -= 1
            future.set_result(None)
