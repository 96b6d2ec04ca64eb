"""Working through a flow's records a few at a time.

Most of a shipment's time is spent waiting for Centra and the WMS, so a store's passes work
on up to ``[engine] concurrency`` records at once. Each record's steps still run one after
the other under the record's own lock, and every effect is keyed and recorded as before, so
working on several records at once changes how long a pass takes, never what it does.

The Ongoing connector still sends a goods owner's writes one at a time (the WMS executes
them sequentially anyway); concurrency overlaps those writes with the reads, the Centra
calls and the state store's work of the other records.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import TypeVar

__all__ = ["KeyedLocks", "for_each"]

T = TypeVar("T")


async def for_each(
    items: Iterable[T] | AsyncIterable[T], work: Callable[[T], Awaitable[bool]], *, limit: int
) -> int:
    """Await ``work(item)`` for every item, at most ``limit`` at once; count the True results.

    Lanes pull items one by one, so a listing of 10,000 shipments never becomes 10,000
    tasks. Items may come from an async iterable, such as a listing read page by page:
    the lanes start on the first page while the next is read, instead of standing idle
    until the last page is in (a warehouse that shipped 10,000 orders answers in 100
    pages). One lane at a time asks it for the next item. The first exception stops the
    lanes from taking new items; the records already in hand are finished (cancelling
    them would be a crash to their effects, which they survive, but a needless one) and
    then that exception is raised, as a one-at-a-time loop would have raised it.
    """
    take = _taker(items)
    done = 0
    failure: Exception | None = None

    async def lane() -> None:
        nonlocal done, failure
        while failure is None:
            taken = await take()
            if taken is None:
                return
            if await work(taken[0]):
                done += 1

    async def guarded_lane() -> None:
        nonlocal failure
        try:
            await lane()
        except Exception as exc:
            if failure is None:
                failure = exc

    try:
        if limit <= 1:
            await lane()
            return done
        lanes = [asyncio.create_task(guarded_lane()) for _ in range(limit)]
        try:
            await asyncio.gather(*lanes)
        except BaseException:
            # Cancelled, or the process is going down: no lane may outlive the pass.
            for running in lanes:
                running.cancel()
            await asyncio.gather(*lanes, return_exceptions=True)
            raise
    finally:
        closing = getattr(items, "aclose", None)
        if closing is not None:
            # A listing left part read (a failure, a cancellation) lets go of its reads.
            await closing()
    if failure is not None:
        raise failure
    return done


def _taker(items: Iterable[T] | AsyncIterable[T]) -> Callable[[], Awaitable[tuple[T] | None]]:
    """The next item (in a 1-tuple), or None at the end: from an iterator at once, from an
    async iterable one lane at a time."""
    if isinstance(items, AsyncIterable):
        source = aiter(items)
        turn = asyncio.Lock()

        async def take_async() -> tuple[T] | None:
            async with turn:
                try:
                    return (await anext(source),)
                except StopAsyncIteration:
                    return None

        return take_async
    pending = iter(items)

    async def take() -> tuple[T] | None:
        try:
            return (next(pending),)
        except StopIteration:
            return None

    return take


class KeyedLocks:
    """One lock per key, kept only while somebody holds or waits for it.

    A lock per record lets the lanes of a pass, the webhook handler and the next pass meet
    on one record safely; a plain dict of locks would keep one for every record the
    process ever touched.
    """

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        """Keys held or waited for now."""
        return len(self._locks)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)
