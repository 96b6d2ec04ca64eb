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
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

__all__ = ["for_each"]

T = TypeVar("T")


async def for_each(items: Iterable[T], work: Callable[[T], Awaitable[bool]], *, limit: int) -> int:
    """Await ``work(item)`` for every item, at most ``limit`` at once; count the True results.

    Lanes pull items one by one, so a listing of 10,000 shipments never becomes 10,000
    tasks. The first exception stops the lanes from taking new items; the records already
    in hand are finished (cancelling them would be a crash to their effects, which they
    survive, but a needless one) and then that exception is raised, as a one-at-a-time
    loop would have raised it.
    """
    pending = iter(items)
    done = 0
    failure: Exception | None = None

    async def lane() -> None:
        nonlocal done, failure
        for item in pending:
            if failure is not None:
                return
            if await work(item):
                done += 1

    async def guarded_lane() -> None:
        nonlocal failure
        try:
            await lane()
        except Exception as exc:
            if failure is None:
                failure = exc

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
    if failure is not None:
        raise failure
    return done
