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

The writes are sent by one task of the lane's own, not by their callers. The lane is a
busy warehouse's bottleneck, and handing it from caller to caller cost an event-loop turn
per write: the next caller was only woken after the loop had run everything else that was
ready (measured in docs/performance.md). The lane's task sends the next write as soon as
the previous answer is in. A caller that
is cancelled while its write is on the wire cancels that write, as it would its own call.
The write runs in the lane task's context, an empty one, so it must not rely on the
caller's context variables; the one exception is the caller's send check
(:mod:`centrasync.http.guard`), captured with the write and asked just before it is sent:
a caller whose lease lapsed while its write waited (the process was paused, say) must not
have it sent.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from centrasync.http.guard import SendCheck, current_send_check

__all__ = ["URGENT_RUN", "WriteLane"]

URGENT_RUN = 8
T = TypeVar("T")


@dataclass(eq=False)
class _Turn:
    send: Callable[[], Awaitable[Any]]
    answer: asyncio.Future[Any]
    check: SendCheck | None
    abandoned: bool = field(default=False)


class WriteLane:
    """Two queues of writes and the task that sends them: :meth:`run` queues one and waits."""

    def __init__(self) -> None:
        self._urgent: deque[_Turn] = deque()
        self._routine: deque[_Turn] = deque()
        self._urgent_run = 0
        self._sender: asyncio.Task[None] | None = None
        self._current: _Turn | None = None

    @property
    def busy(self) -> bool:
        return self._sender is not None

    async def run(self, send: Callable[[], Awaitable[T]], *, urgent: bool = True) -> T:
        """Queue ``send`` (a write, called when the lane is free) and return its result."""
        loop = asyncio.get_running_loop()
        turn = _Turn(send, loop.create_future(), current_send_check())
        queue = self._urgent if urgent else self._routine
        queue.append(turn)
        if self._sender is None:
            # Not in this caller's context: the lane outlives it and serves others too.
            self._sender = loop.create_task(self._drain(), context=contextvars.Context())
        try:
            result: T = await turn.answer
        except asyncio.CancelledError:
            if turn in queue:
                queue.remove(turn)
            elif self._current is turn and self._sender is not None:
                turn.abandoned = True
                self._sender.cancel()
            raise
        return result

    def _next(self) -> _Turn | None:
        """The next write to send, urgent first unless routine is owed a turn."""
        routine_owed = self._urgent_run >= URGENT_RUN
        order = (self._routine, self._urgent) if routine_owed else (self._urgent, self._routine)
        for queue in order:
            while queue:
                turn = queue.popleft()
                if turn.answer.done():
                    # Its caller was cancelled and has yet to take it off the queue.
                    continue
                passed_over = queue is self._urgent and bool(self._routine)
                self._urgent_run = self._urgent_run + 1 if passed_over else 0
                return turn
        self._urgent_run = 0
        return None

    async def _drain(self) -> None:
        turn: _Turn | None = None
        try:
            while (turn := self._next()) is not None:
                self._current = turn
                try:
                    if turn.check is not None:
                        turn.check()
                    result = await turn.send()
                except asyncio.CancelledError:
                    if not turn.abandoned:
                        raise
                    # Only this write's caller gave up; the lane goes on with the next.
                    _uncancel()
                    continue
                except Exception as exc:
                    if not turn.answer.done():
                        turn.answer.set_exception(exc)
                    continue
                except BaseException as exc:
                    # The process is going down (SystemExit, KeyboardInterrupt): the caller
                    # hears of it as from its own call, and nothing more is sent.
                    if not turn.answer.done():
                        turn.answer.set_exception(exc)
                    self._give_up_queued()
                    return
                finally:
                    self._current = None
                if turn.abandoned:
                    # The write finished in spite of the cancellation.
                    _uncancel()
                elif not turn.answer.done():
                    turn.answer.set_result(result)
        except asyncio.CancelledError:
            # The lane's task itself was stopped (the loop is closing): nobody will send
            # what is queued, so its callers must not wait for it.
            if turn is not None:
                turn.answer.cancel()
            self._give_up_queued()
            raise
        finally:
            self._sender = None

    def _give_up_queued(self) -> None:
        for waiting in (*self._urgent, *self._routine):
            waiting.answer.cancel()
        self._urgent.clear()
        self._routine.clear()


def _uncancel() -> None:
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()
