"""One goods owner's writes, one at a time, orders before catalogue writes.

Ongoing executes a goods owner's writes sequentially; parallel calls queue on its side and
can time out (reference §8), so the connector sends them one by one. An initial article
import is a long run of such writes, and behind a plain lock every order, cancellation and
reported quantity would wait for all of it: a catalogue of 100,000 sizes would hold orders
for an hour. So the lane serves urgent writes first and routine ones (articles) when no
urgent write waits; each kind in the order it arrived. Routine writes may not starve,
though: an order for a new product needs its article, and a saturated warehouse (a
backlog after a restart, a sale) keeps urgent writes queued for minutes. So after
``URGENT_RUN`` urgent turns in a row while a routine write waits, that routine write goes
next: orders keep most of the lane and the catalogue still moves.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

__all__ = ["URGENT_RUN", "WriteLane"]

URGENT_RUN = 8


class WriteLane:
    """A lock with two queues: :meth:`turn` waits for the lane and holds it."""

    def __init__(self) -> None:
        self._busy = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._routine: deque[asyncio.Future[None]] = deque()
        self._urgent_run = 0

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
        """Give the lane to the next waiter, urgent first unless routine is owed, or free it."""
        routine_owed = self._urgent_run >= URGENT_RUN
        order = (self._routine, self._urgent) if routine_owed else (self._urgent, self._routine)
        for queue in order:
            while queue:
                waiting = queue.popleft()
                if not waiting.done():
                    passed_over = queue is self._urgent and bool(self._routine)
                    self._urgent_run = self._urgent_run + 1 if passed_over else 0
                    waiting.set_result(None)
                    return
        self._urgent_run = 0
        self._busy = False
