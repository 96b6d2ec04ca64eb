"""One lookup in flight at a time; what is asked meanwhile goes together in the next.

The webhook inbox resolves shipment events' ids through the Integration API, whose quota is
small and shared (Centra's Growth plan: 60 requests per 10 s, 5,000 an hour). Claims are
handled beside each other, so without this each claim would send its own lookup; with it,
a claim's ids join the next lookup while one is out, and when the quota budget holds a
lookup back, the next one simply grows instead of more requests queueing behind it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Generic, TypeVar

__all__ = ["CoalescedLookup"]

T = TypeVar("T")


class CoalescedLookup(Generic[T]):
    """``lookup(ids)`` answers a mapping of the ids it found; at most ``most`` ids a call."""

    def __init__(self, lookup: Callable[[list[int]], Awaitable[Mapping[int, T]]], most: int):
        self._lookup = lookup
        self._most = most
        self._asked: list[tuple[Sequence[int], asyncio.Future[dict[int, T]]]] = []
        self._sending: asyncio.Task[None] | None = None

    async def __call__(self, ids: Sequence[int]) -> dict[int, T]:
        """What ``ids`` name (an unknown id is left out); the lookup's error, if it failed."""
        answer: asyncio.Future[dict[int, T]] = asyncio.get_running_loop().create_future()
        self._asked.append((ids, answer))
        if self._sending is None or self._sending.done():
            # A task of the first asker's context: its sends carry that asker's lease hold.
            self._sending = asyncio.create_task(self._send())
        return await answer

    async def _send(self) -> None:
        while self._asked:
            batch = self._asked[: self._fitting()]
            del self._asked[: len(batch)]
            wanted = sorted({key for ids, _ in batch for key in ids})
            try:
                found = await self._lookup(wanted)
            except asyncio.CancelledError:
                for _, answer in [*batch, *self._asked]:
                    answer.cancel()
                self._asked.clear()
                raise
            except Exception as exc:
                for _, answer in batch:
                    if not answer.done():
                        answer.set_exception(exc)
                continue
            for ids, answer in batch:
                if not answer.done():
                    answer.set_result({key: found[key] for key in ids if key in found})

    def _fitting(self) -> int:
        """How many of the waiting askers one call can answer (at least one)."""
        total = 0
        for count, (ids, _) in enumerate(self._asked):
            total += len(ids)
            if total > self._most and count:
                return count
        return len(self._asked)
