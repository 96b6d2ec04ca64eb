"""The SQL :class:`~centrasync.store.base.StateStore` for SQLite and PostgreSQL.

One class serves both backends. It owns transactions and the clock; the statements live
in ``ledger.py`` and ``coordination.py`` and run inside the
:class:`~centrasync.store.sqlcore.Tx` a backend (``backends.py``) hands them, which is
what lets :meth:`SqlStateStore.transaction` commit calls from both together.

Races on the same key are settled by the database, never by a read-then-insert in
Python: the insert that loses does nothing, and the loser re-reads the winner's row.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from centrasync.errors import LeaseLostError
from centrasync.store import analytics, audit, coordination, ledger, migrate
from centrasync.store.arrivals import InboxArrivals, InboxListener
from centrasync.store.backends import Backend, PostgresBackend, Session, SqliteBackend
from centrasync.store.base import (
    Abandon,
    AnalyticsClaim,
    AuditEntry,
    Cursor,
    DeadLetter,
    Effect,
    EffectBegin,
    FenceHolder,
    InboxItem,
    Json,
    Lease,
    LedgerRecord,
    Move,
    NewRecord,
    ParkedObject,
    RecordKind,
    RecordPage,
    RecordQuery,
    RecordRef,
    StateStore,
    Step,
    Transition,
    require_utc,
)
from centrasync.store.engine import (
    DEFAULT_POOL,
    DEFAULT_STALL_TIMEOUT,
    create_store_engine,
    sqlite_file,
)
from centrasync.store.sqlcore import Tx, translated

__all__ = ["Clock", "SqlStateStore", "open_store", "utc_now"]

Clock = Callable[[], datetime]
T = TypeVar("T")

# Ids of the stores whose transaction the current task is inside. Using the outer store
# there would wait forever on its own lock (SQLite) or its own row locks (PostgreSQL).
_OPEN_TRANSACTIONS: ContextVar[frozenset[int]] = ContextVar(
    "centrasync_store_transactions", default=frozenset()
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _conninfo(engine: AsyncEngine) -> str:
    """The engine's PostgreSQL URL as psycopg takes it, for a connection of its own."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


async def open_store(
    url: str,
    *,
    clock: Clock | None = None,
    pool_size: int = DEFAULT_POOL,
    stall_timeout: float = DEFAULT_STALL_TIMEOUT,
) -> StateStore:
    """Open the store at ``url``, migrating the database to the newest schema first.

    ``sqlite+aiosqlite:///state.sqlite`` (the embedded default),
    ``sqlite+aiosqlite:///:memory:`` (tests) or ``postgresql+psycopg://host:5432/db``.
    ``clock`` replaces the host's clock (tests move time with it); given one, PostgreSQL
    judges leases by it too instead of by the server's clock. ``pool_size``: PostgreSQL
    connections kept open (as many again at a peak); ``stall_timeout``: seconds a
    PostgreSQL transaction may sit idle before the server ends it (set it to the lease
    time, so a process stalled inside a transaction cannot hold a lease's row lock longer).
    """
    sqlite = sqlite_file(url)
    engine = (
        create_store_engine(url, pool_size=pool_size, stall_timeout=stall_timeout)
        if sqlite is None
        else sqlite.engine
    )
    backend: Backend = (
        PostgresBackend(
            engine,
            database_clock=clock is None,
            pool_size=pool_size,
            stall_timeout=stall_timeout,
        )
        if sqlite is None
        else SqliteBackend(sqlite.target, uri=sqlite.uri, wal=not sqlite.memory)
    )
    try:
        if isinstance(backend, SqliteBackend):
            # First, so an in-memory database lives as long as the store does.
            async with translated():
                await backend.open()
        async with translated():
            await migrate.upgrade(engine)
    except BaseException:
        await backend.close()
        await engine.dispose()
        raise
    return SqlStateStore(engine, clock=clock or utc_now, backend=backend)


@dataclass(frozen=True, slots=True)
class _Shared:
    """What every view of one store shares: engine, backend, clock and the SQLite lock,
    and who is told of new inbox events (store/arrivals.py)."""

    engine: AsyncEngine
    backend: Backend
    clock: Clock
    # SQLite has one writer at a time anyway and the store one connection; queueing
    # coroutines here beats making them spin on "database is locked".
    lock: asyncio.Lock | None
    arrivals: InboxArrivals
    # PostgreSQL's notifications (every process's inserts); None: this process's only.
    listener: InboxListener | None


class SqlStateStore:
    """:class:`StateStore` over an :class:`~sqlalchemy.ext.asyncio.AsyncEngine`.

    ``clock`` supplies "now" for timestamps, claims and lease expiry, so tests move time
    instead of sleeping. Without a ``backend`` (one for PostgreSQL is made from the
    engine), use :func:`open_store`, which also migrates.
    """

    def __init__(
        self, engine: AsyncEngine, *, clock: Clock = utc_now, backend: Backend | None = None
    ) -> None:
        sqlite = isinstance(backend, SqliteBackend)
        arrivals = InboxArrivals()
        listener = None if sqlite else InboxListener(_conninfo(engine), arrivals)
        self._shared = _Shared(
            engine,
            backend or PostgresBackend(engine),
            clock,
            asyncio.Lock() if sqlite else None,
            arrivals,
            listener,
        )
        self._session: Session | None = None
        self._holder: FenceHolder | None = None
        # Stores whose inbox got an event in this view's open transaction.
        self._arrived: set[str] = set()

    def _view(self, session: Session | None, holder: FenceHolder | None) -> SqlStateStore:
        store = SqlStateStore.__new__(SqlStateStore)
        store._shared = self._shared
        store._session = session
        store._holder = holder
        store._arrived = set()
        return store

    def fenced(self, holder: FenceHolder) -> StateStore:
        return self._view(self._session, holder)

    @property
    def engine(self) -> AsyncEngine:
        """The engine underneath, which migrates the database."""
        return self._shared.engine

    def __repr__(self) -> str:
        url = self._shared.engine.url.render_as_string(hide_password=True)
        scope = " (in transaction)" if self._session is not None else ""
        return f"<SqlStateStore {url}{scope}>"

    # -- transactions ---------------------------------------------------------------------

    @asynccontextmanager
    async def _exclusive(self) -> AsyncIterator[None]:
        shared = self._shared
        open_now = _OPEN_TRANSACTIONS.get()
        if id(shared) in open_now:
            raise RuntimeError(
                "state store used directly inside its own transaction(); "
                "call the store yielded by transaction() instead"
            )
        token = _OPEN_TRANSACTIONS.set(open_now | {id(shared)})
        guard: AbstractAsyncContextManager[Any] = shared.lock or nullcontext()
        try:
            async with guard:
                yield
        finally:
            _OPEN_TRANSACTIONS.reset(token)

    async def _call(self, work: Callable[[Tx], T], *, write: bool = True, fenced: bool = True) -> T:
        """Run one store call: in the enclosing transaction, or in one of its own.

        A fenced view's writes check the fence first, in the same transaction; the lease
        calls themselves (``fenced=False``) are what the fences are made of.
        """
        now = self._now()
        holder = self._holder if write and fenced else None
        if holder is not None:
            fence = holder.current_fence()
            unfenced = work

            def work(tx: Tx) -> T:
                coordination.check_fence(tx, fence)
                return unfenced(tx)

        try:
            if self._session is not None:
                return await self._session.run(work, now)
            async with self._exclusive():
                return await self._shared.backend.run(work, now, write=write)
        except LeaseLostError:
            if holder is not None:
                holder.fence_refused(fence)
            raise

    def _now(self) -> datetime:
        return require_utc(self._shared.clock(), record="state store clock", field="now")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[StateStore]:
        """Commit every call made on the yielded store together, or none of them."""
        if self._session is not None:
            yield self
            return
        async with self._exclusive(), self._shared.backend.begin() as session:
            view = self._view(session, self._holder)
            yield view
        # Committed: now a worker woken for these events finds them.
        for store in view._arrived:
            self._shared.arrivals.arrived(store)

    async def close(self) -> None:
        if self._shared.listener is not None:
            await self._shared.listener.close()
        await self._shared.backend.close()
        await self._shared.engine.dispose()

    # -- ledger ---------------------------------------------------------------------------

    async def upsert_record(
        self,
        ref: RecordRef,
        *,
        centra_id: str | None = None,
        wms_id: str | None = None,
        initial_state: str = "new",
        centra_order: str | None = None,
    ) -> LedgerRecord:
        return await self._call(
            partial(
                ledger.upsert_record,
                ref=ref,
                centra_id=centra_id,
                wms_id=wms_id,
                initial_state=initial_state,
                centra_order=centra_order,
            )
        )

    async def upsert_records(self, records: Sequence[NewRecord]) -> list[LedgerRecord]:
        return await self._call(partial(ledger.apply_moves, moves=records)) if records else []

    async def transition(
        self,
        ref: RecordRef,
        to_state: str,
        *,
        note: str | None = None,
        request: Json = None,
        response: Json = None,
        error: str | None = None,
    ) -> LedgerRecord:
        step = Step(ref, to_state, note=note, request=request, response=response, error=error)
        return await self._call(partial(ledger.transition, step=step))

    async def transition_records(self, steps: Sequence[Step | Abandon]) -> list[LedgerRecord]:
        return await self._call(partial(ledger.apply_moves, moves=steps)) if steps else []

    async def get_record(self, ref: RecordRef) -> LedgerRecord | None:
        return await self._call(partial(ledger.get_record, ref=ref), write=False)

    async def get_records(self, refs: Iterable[RecordRef]) -> dict[RecordRef, LedgerRecord]:
        wanted = list(refs)
        if not wanted:
            return {}
        return await self._call(partial(ledger.get_records, refs=wanted), write=False)

    async def list_records(
        self,
        store: str,
        *,
        kind: RecordKind | None = None,
        state: str | None = None,
        limit: int = 100,
        key_prefix: str | None = None,
    ) -> list[LedgerRecord]:
        return await self._call(
            partial(
                ledger.list_records,
                store=store,
                kind=kind,
                state=state,
                limit=limit,
                key_prefix=key_prefix,
            ),
            write=False,
        )

    async def scan_records(
        self,
        store: str,
        kind: RecordKind,
        states: Collection[str],
        *,
        after_key: str | None = None,
        key_prefix: str | None = None,
        limit: int = 1000,
    ) -> list[LedgerRecord]:
        return await self._call(
            partial(
                ledger.scan_records,
                store=store,
                kind=kind,
                states=sorted(states),
                after_key=after_key,
                key_prefix=key_prefix,
                limit=limit,
            ),
            write=False,
        )

    async def count_records(
        self, store: str, kind: RecordKind, *, states: Collection[str] | None = None
    ) -> dict[str, int]:
        wanted = None if states is None else sorted(states)
        return await self._call(
            partial(ledger.count_records, store=store, kind=kind, states=wanted), write=False
        )

    async def history(self, ref: RecordRef) -> list[Transition]:
        return await self._call(partial(ledger.history, ref=ref), write=False)

    async def note(self, ref: RecordRef, note: str, *, error: str | None = None) -> bool:
        return await self._call(partial(ledger.note, ref=ref, note=note, error=error))

    # -- effects --------------------------------------------------------------------------

    async def begin_effect(
        self, key: str, record: RecordRef, intent: Json, *, moves: Sequence[Move] = ()
    ) -> EffectBegin:
        def work(tx: Tx) -> EffectBegin:
            ledger.apply_moves(tx, moves)
            return ledger.begin_effect(tx, key, record, intent)

        return await self._call(work)

    async def complete_effect(
        self, key: str, outcome: Json, *, moves: Sequence[Move] = ()
    ) -> Effect:
        def work(tx: Tx) -> Effect:
            effect = ledger.complete_effect(tx, key, outcome)
            ledger.apply_moves(tx, moves)
            return effect

        return await self._call(work)

    async def fail_effect(self, key: str, error: str, *, counted: bool = True) -> Effect:
        return await self._call(partial(ledger.fail_effect, key=key, error=error, counted=counted))

    async def note_effect_error(self, key: str, error: str) -> Effect:
        return await self._call(partial(ledger.note_effect_error, key=key, error=error))

    async def abandon_effects(
        self, store: str, kind: RecordKind, key_prefix: str, reason: str
    ) -> int:
        return await self._call(
            partial(
                ledger.abandon_effects, store=store, kind=kind, key_prefix=key_prefix, reason=reason
            )
        )

    async def get_effect(self, key: str) -> Effect | None:
        return await self._call(partial(ledger.get_effect, key=key), write=False)

    # -- cursors --------------------------------------------------------------------------

    async def get_cursor(self, store: str, flow: str) -> Cursor | None:
        return await self._call(
            partial(coordination.get_cursor, store=store, flow=flow), write=False
        )

    async def advance_cursor(
        self, store: str, flow: str, value: datetime, boundary_ids: Sequence[str] = ()
    ) -> Cursor:
        return await self._call(
            partial(
                coordination.advance_cursor,
                store=store,
                flow=flow,
                value=value,
                boundary_ids=boundary_ids,
            )
        )

    # -- webhook inbox --------------------------------------------------------------------

    async def add_to_inbox(
        self, store: str, dedup_key: str, body: bytes, *, received_at: datetime | None = None
    ) -> bool:
        added = await self._call(
            partial(
                coordination.add_to_inbox,
                store=store,
                dedup_key=dedup_key,
                body=body,
                received_at=received_at,
            )
        )
        if added and self._shared.listener is None:
            if self._session is not None:
                self._arrived.add(store)
            else:
                self._shared.arrivals.arrived(store)
        return added

    async def wait_for_inbox(self, store: str, timeout: float) -> bool:
        listener = self._shared.listener
        if listener is not None:
            listener.start()
        return await self._shared.arrivals.wait(store, timeout)

    async def claim_inbox(
        self, store: str, limit: int, *, claim_for: timedelta = timedelta(minutes=5)
    ) -> list[InboxItem]:
        return await self._call(
            partial(coordination.claim_inbox, store=store, limit=limit, claim_for=claim_for)
        )

    async def mark_inbox_processed(self, item_ids: Collection[int]) -> None:
        if item_ids:
            await self._call(partial(coordination.mark_inbox_processed, item_ids=item_ids))

    async def mark_inbox_failed(self, item_id: int, error: str) -> None:
        await self._call(partial(coordination.mark_inbox_failed, item_id=item_id, error=error))

    async def inbox_backlog(self, store: str) -> int:
        return await self._call(partial(coordination.inbox_backlog, store=store), write=False)

    # -- analytics near real time ---------------------------------------------------------

    async def note_for_analytics(self, store: str, objects: Sequence[tuple[str, int]]) -> None:
        await self._call(partial(analytics.note_for_analytics, store=store, objects=objects))

    async def claim_analytics(
        self, store: str, limit: int, *, claim_for: timedelta = timedelta(minutes=5)
    ) -> AnalyticsClaim:
        return await self._call(
            partial(analytics.claim_analytics, store=store, limit=limit, claim_for=claim_for)
        )

    async def finish_analytics(self, claim: AnalyticsClaim) -> None:
        await self._call(partial(analytics.finish_analytics, claim=claim))

    async def release_analytics(self, claim: AnalyticsClaim, error: str) -> None:
        await self._call(partial(analytics.release_analytics, claim=claim, error=error))

    async def park_analytics(
        self, store: str, resource: str, object_id: int, error: str, payload: Json
    ) -> None:
        await self._call(
            partial(
                analytics.park_analytics,
                store=store,
                resource=resource,
                object_id=object_id,
                error=error,
                payload=payload,
            )
        )

    async def parked_analytics(self, store: str) -> list[ParkedObject]:
        return await self._call(partial(analytics.parked_analytics, store=store), write=False)

    async def retry_analytics(
        self, store: str, objects: Sequence[tuple[str, int]] | None = None
    ) -> int:
        return await self._call(partial(analytics.retry_analytics, store=store, objects=objects))

    async def pending_analytics(self, store: str) -> list[tuple[str, int]]:
        return await self._call(partial(analytics.pending_analytics, store=store), write=False)

    async def analytics_backlog(self, store: str) -> int:
        return await self._call(partial(analytics.analytics_backlog, store=store), write=False)

    async def record_digests(self, store: str, resource: str, digests: Mapping[str, str]) -> int:
        return await self._call(
            partial(analytics.record_digests, store=store, resource=resource, digests=digests)
        )

    async def known_digests(self, store: str, resource: str) -> int:
        return await self._call(
            partial(analytics.known_digests, store=store, resource=resource), write=False
        )

    # -- dead letters ---------------------------------------------------------------------

    async def park(
        self, record: RecordRef, reason: str, payload: Json = None, *, moves: Sequence[Move] = ()
    ) -> DeadLetter:
        def work(tx: Tx) -> DeadLetter:
            ledger.apply_moves(tx, moves)
            return coordination.park(tx, record, reason, payload)

        return await self._call(work)

    async def list_dead(
        self, store: str, *, include_resolved: bool = False, limit: int = 100
    ) -> list[DeadLetter]:
        return await self._call(
            partial(
                coordination.list_dead, store=store, include_resolved=include_resolved, limit=limit
            ),
            write=False,
        )

    async def resolve_dead(self, dead_letter_id: int) -> bool:
        return await self._call(partial(coordination.resolve_dead, dead_letter_id=dead_letter_id))

    # -- leases ---------------------------------------------------------------------------

    async def acquire_lease(
        self, name: str, owner: str, ttl: timedelta, *, token: int | None = None
    ) -> Lease | None:
        return await self._call(
            partial(coordination.acquire_lease, name=name, owner=owner, ttl=ttl, token=token),
            fenced=False,
        )

    async def renew_lease(
        self, name: str, owner: str, ttl: timedelta, *, token: int | None = None
    ) -> bool:
        return await self._call(
            partial(coordination.renew_lease, name=name, owner=owner, ttl=ttl, token=token),
            fenced=False,
        )

    async def release_lease(self, name: str, owner: str, *, token: int | None = None) -> bool:
        return await self._call(
            partial(coordination.release_lease, name=name, owner=owner, token=token),
            fenced=False,
        )

    async def list_leases(self) -> list[Lease]:
        return await self._call(coordination.list_leases, write=False)

    # -- diagnostics ----------------------------------------------------------------------

    async def store_names(self) -> list[str]:
        return await self._call(coordination.store_names, write=False)

    async def find_lease(self, name: str) -> Lease | None:
        return await self._call(partial(coordination.find_lease, name=name), write=False)

    async def dead_letters_of(
        self, record: RecordRef, *, include_resolved: bool = False
    ) -> list[DeadLetter]:
        return await self._call(
            partial(coordination.dead_letters_of, record=record, include_resolved=include_resolved),
            write=False,
        )

    async def dead_records(self, store: str) -> list[RecordRef]:
        return await self._call(partial(coordination.dead_records, store=store), write=False)

    async def count_open_dead(self, store: str) -> int:
        return await self._call(partial(coordination.count_open_dead, store=store), write=False)

    # -- the console ----------------------------------------------------------------------

    async def search_records(
        self, query: RecordQuery, *, after: str | None = None, limit: int = 50
    ) -> RecordPage:
        return await self._call(
            partial(ledger.search_records, query=query, after=after, limit=limit), write=False
        )

    async def effects_of(self, record: RecordRef) -> list[Effect]:
        return await self._call(partial(ledger.effects_of, record=record), write=False)

    async def latest_change(
        self, store: str, kind: RecordKind, *, excluding: Collection[str] = ()
    ) -> datetime | None:
        return await self._call(
            partial(ledger.latest_change, store=store, kind=kind, excluding=tuple(excluding)),
            write=False,
        )

    async def add_audit(
        self, who: str, action: str, target: str, detail: str | None = None
    ) -> AuditEntry:
        return await self._call(
            partial(audit.add_audit, who=who, action=action, target=target, detail=detail),
            fenced=False,
        )

    async def list_audit(self, *, target: str | None = None, limit: int = 100) -> list[AuditEntry]:
        return await self._call(partial(audit.list_audit, target=target, limit=limit), write=False)
