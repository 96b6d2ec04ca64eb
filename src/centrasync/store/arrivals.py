"""Waking a store's worker when its webhook inbox gets an event, instead of at its next tick.

:class:`InboxArrivals` holds one flag per store: raised when an event may have arrived,
lowered when the worker wakes for it. On SQLite the store raises it itself after an insert
commits, so only a worker in the same process wakes early. On PostgreSQL a trigger
(migration 0007) notifies on every insert, whichever process made it, and an
:class:`InboxListener` (one connection per process, opened by the first worker that waits)
raises the flag; the receiving process's own inserts come back the same way. A lost
notification or a listener that cannot connect costs latency, never an event: the worker
still drains its inbox every tick.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress

import psycopg
import structlog

__all__ = ["CHANNEL", "InboxArrivals", "InboxListener"]

_log = structlog.get_logger(__name__)

CHANNEL = "centrasync_inbox"
"""The channel migration 0007's trigger notifies on; the payload is ``<schema>:<store>``."""


class InboxArrivals:
    """Per store, whether an inbox event may have arrived since its worker last woke."""

    def __init__(self) -> None:
        self._flags: dict[str, asyncio.Event] = {}

    def _flag(self, store: str) -> asyncio.Event:
        return self._flags.setdefault(store, asyncio.Event())

    def arrived(self, store: str) -> None:
        self._flag(store).set()

    def arrived_anywhere(self) -> None:
        """Raise every store's flag: events may have come while nobody was listening."""
        for flag in self._flags.values():
            flag.set()

    async def wait(self, store: str, timeout: float) -> bool:
        """True as soon as ``store``'s flag is up (and lower it); False after ``timeout``."""
        flag = self._flag(store)
        if not flag.is_set():
            try:
                await asyncio.wait_for(flag.wait(), timeout)
            except TimeoutError:
                return False
        flag.clear()
        return True


class InboxListener:
    """``LISTEN`` on :data:`CHANNEL` over a connection of its own; raises the arrivals' flags.

    ``conninfo`` is the store's own database (with its ``search_path``): the listener keeps
    the notifications of the schema that connection works in. A dropped connection is
    opened again after ``retry`` seconds; meanwhile the workers fall back on their tick.
    """

    def __init__(self, conninfo: str, arrivals: InboxArrivals, *, retry: float = 1.0) -> None:
        self._conninfo = conninfo
        self._arrivals = arrivals
        self._retry = retry
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()

    def start(self) -> None:
        """Listen from now on (once; later calls do nothing)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="centrasync inbox listener")

    async def _run(self) -> None:
        while True:
            try:
                await self._listen()
            except (psycopg.Error, OSError) as exc:
                _log.warning(
                    "inbox listener lost its connection; workers wake on their tick meanwhile",
                    error=type(exc).__name__,
                    retry_in=self._retry,
                )
            self.listening.clear()
            await asyncio.sleep(self._retry)

    async def _listen(self) -> None:
        async with await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True) as conn:
            schema = (await (await conn.execute("SELECT current_schema()")).fetchone() or [""])[0]
            await conn.execute(f"LISTEN {CHANNEL}")
            prefix = f"{schema}:"
            self.listening.set()
            # Whatever was inserted before LISTEN took effect went unnoticed.
            self._arrivals.arrived_anywhere()
            async for note in conn.notifies():
                if note.payload.startswith(prefix):
                    self._arrivals.arrived(note.payload[len(prefix) :])

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None
