"""One goods owner's writes, one at a time, orders before catalogue writes.

Ongoing executes a goods owner's writes sequentially; parallel calls queue on its side and
can time out (reference §8), so the connector sends them one by one. An initial article
import is a long run of such writes, and behind a plain lock every order, cancellation and
reported quantity would wait for all of it: a catalogue of 100,000 sizes would hold orders
for an hour. So the lane serves urgent writes first and routine ones (articles) when no
urgent write waits; each kind in the order it arrived. Routine writes only wait while the
urgent ones keep the lane busy all the time, which is when the warehouse is saturated
anyway.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

__all__ = ["WriteLane"]


class WriteLane:
    """A lock with two queues: :meth:`turn` waits for the lane and holds it."""

    def __init__(self) -> None:
        self._busy = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._routine: deque[asyncio.Future[None]] = deque()

    @property
    def busy(self) -> bool:
        return self._busy

    @asynccontextmanager
    async def turn(self, *, urgent: bool = True) -> AsyncIterator[None]:
        if self._busy or self._urgent or self._routine:
            waiting: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            queue = self._urgent if urgent else self._routine
            queue.append(waiting)
            try:
                await waiting
            except asyncio.CancelledError:
                if waiting.done() and not waiting.cancelled():
                    # Handed the lane just as it was cancelled: pass it on.
                    self._hand_on()
                else:
                    queue.remove(waiting)
                raise
        else:
            self._busy = True
        try:
            yield
        finally:
            self._hand_on()

    def _hand_on(self) -> None:
        """Give the lane to the next waiter, urgent first, or leave it free."""
        for queue in (self._urgent, self._routine):
            while queue:
                waiting = queue.popleft()
                if not waiting.done():
                    waiting.set_result(None)
                    return
        self._busy = False
