"""Count the state store's work in this process: calls, statements and PostgreSQL round trips.

Installed by the benchmarks that report store work per shipment (``webhook_latency.py
--count-store``, ``outbound.py --count-store``); it wraps the store's own seams, so
it counts what the engine asks of the database, not what the database does:

- a *call* is one :meth:`SqlStateStore._call` (one transaction of its own, or one step of an
  enclosing one);
- a *statement* is one ``Tx.rows``/``Tx.run`` (the fence check included);
- a PostgreSQL *round trip* is a statement (its answer is waited for), the ``COMMIT`` of a
  writing call (its ``BEGIN`` travels with its first statement), and the ``BEGIN`` and
  ``COMMIT`` of an enclosing transaction; a reading call runs in autocommit, with neither.

Counting costs a few microseconds a statement, so a run that counts is not a run whose CPU
time is quoted.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from centrasync.store import sqlcore
from centrasync.store.backends import PostgresBackend
from centrasync.store.sql import SqlStateStore

__all__ = ["counting"]


@contextmanager
def counting() -> Iterator[Counter[str]]:
    """Count store work while the block runs; the counter's keys: ``calls``, ``writes``,
    ``statements``, ``round_trips`` (PostgreSQL only), and ``call NAME`` per statement
    function (``coordination.py``, ``ledger.py``)."""
    counts: Counter[str] = Counter()
    originals: list[tuple[type, str, Any]] = []

    def wrap(owner: type, name: str, make: Callable[[Any], Any]) -> None:
        original = owner.__dict__[name]
        originals.append((owner, name, original))
        setattr(owner, name, functools.wraps(original)(make(original)))

    def call(original: Any) -> Any:
        async def counted(self: Any, work: Any, *, write: bool = True, fenced: bool = True) -> Any:
            counts["calls"] += 1
            counts[f"call {getattr(work, 'func', work).__name__}"] += 1
            counts["writes"] += write
            return await original(self, work, write=write, fenced=fenced)

        return counted

    def statement(kind: str, trips: Callable[[Any], int]) -> Callable[[Any], Any]:
        def make(original: Any) -> Any:
            def counted(self: Any, *args: Any) -> Any:
                counts["statements"] += 1
                counts[kind] += 1
                counts["round_trips"] += trips(self)
                return original(self, *args)

            return counted

        return make

    def pg_run(original: Any) -> Any:
        async def counted(self: Any, work: Any, now: Any, *, write: bool, last_try: bool) -> Any:
            counts["round_trips"] += write  # COMMIT; BEGIN went with the first statement
            return await original(self, work, now, write=write, last_try=last_try)

        return counted

    def pg_begin(original: Any) -> Any:
        @asynccontextmanager
        async def counted(self: Any) -> AsyncIterator[Any]:
            counts["round_trips"] += 2  # BEGIN and COMMIT
            async with original(self) as session:
                yield session

        return counted

    wrap(SqlStateStore, "_call", call)
    wrap(sqlcore.SqliteTx, "rows", statement("answered", lambda _: 0))
    wrap(sqlcore.SqliteTx, "run", statement("answered", lambda _: 0))
    wrap(sqlcore.PostgresTx, "rows", statement("answered", lambda _: 1))
    wrap(sqlcore.PostgresTx, "run", statement("answered", lambda _: 1))
    wrap(PostgresBackend, "_run", pg_run)
    wrap(PostgresBackend, "begin", pg_begin)
    try:
        yield counts
    finally:
        for owner, name, original in reversed(originals):
            setattr(owner, name, original)
