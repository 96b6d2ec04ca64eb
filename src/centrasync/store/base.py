"""The state store contract: what the engine may ask of durable state, backend-free.

The engine's exactly-once guarantee rests on a handful of atomic primitives kept here:
an *effect* is recorded before a side effect is attempted and confirmed after it, so a
process killed at any instant finds, on restart, either nothing (never attempted), a
pending intent (look remotely before trying again) or a confirmed outcome (skip). The
store only offers those primitives; deciding what to do with them is the callers' job.

Every datetime crossing this contract is aware and in UTC; naive values are refused
with an error naming the record and the field, because a naive cursor silently shifts
by the host's offset (lessons-from-peers §4.3).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol, TypeAlias

from centrasync.errors import RecordValidationError

__all__ = [
    "Abandon",
    "AnalyticsClaim",
    "AnalyticsQueueStore",
    "AuditEntry",
    "BeginOutcome",
    "ConsoleStore",
    "Cursor",
    "CursorStore",
    "DeadLetter",
    "DeadLetterStore",
    "Effect",
    "EffectBegin",
    "EffectStatus",
    "EffectStore",
    "Fence",
    "FenceHolder",
    "InboxItem",
    "InboxStore",
    "Json",
    "Lease",
    "LeaseStore",
    "LedgerRecord",
    "LedgerStore",
    "Move",
    "NewRecord",
    "ParkedObject",
    "RecordKind",
    "RecordPage",
    "RecordQuery",
    "RecordRef",
    "StateStore",
    "Step",
    "StoreDiagnostics",
    "Transition",
    "dedup_key",
    "records_in",
    "require_utc",
]

# Recursive through string forward references, so it also works at runtime.
Json: TypeAlias = bool | int | float | str | list["Json"] | dict[str, "Json"] | None


class RecordKind(StrEnum):
    """What sort of business object a ledger row, effect or dead letter is about."""

    SHIPMENT = "shipment"
    ORDER = "order"
    IN_DELIVERY = "in_delivery"
    RETURN = "return"
    ARTICLE = "article"
    STOCK = "stock"


class EffectStatus(StrEnum):
    """Where a side effect stands: intent recorded, confirmed, or known to have failed."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABANDONED = "abandoned"
    """Never confirmed, and no longer wanted: its record finished another way (a shipment
    cancelled while its WMS order was in doubt) or a later pass superseded it. Begun again,
    it is in doubt, as it may have applied."""


class BeginOutcome(StrEnum):
    """What :meth:`EffectStore.begin_effect` found, i.e. what the caller must do next."""

    NEW = "new"
    """First time this key is seen: the intent is recorded, make the call."""
    RETRY = "retry"
    """An earlier attempt failed for certain: the effect is pending again, make the call."""
    IN_DOUBT = "in_doubt"
    """An earlier attempt never confirmed (crash, or still in flight elsewhere): the remote
    side may or may not have applied it, so look before calling again."""
    SUCCEEDED = "succeeded"
    """Already applied: do not call; the recorded outcome is in the effect."""


def require_utc(value: datetime, *, record: str, field: str) -> datetime:
    """Return ``value`` converted to UTC, refusing naive datetimes.

    The error names the record and field because a naive value is always a bug at the
    caller's edge (a Centra timestamp that skipped the merchant-zone conversion).
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise RecordValidationError(
            f"naive datetime {value.isoformat()} refused; pass an aware UTC datetime",
            record=record,
            field=field,
        )
    return value.astimezone(UTC)


def dedup_key(*parts: str) -> str:
    """A stable key for an inbound event that carries no id of its own.

    Centra webhooks hold only type, action, id and date, so a hash of those fields is
    the event's identity [I]; the unit separator keeps ``("a b", "c")`` and
    ``("a", "b c")`` apart.
    """
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class RecordRef:
    """Identity of one business record: the store, its kind and its business key.

    ``key`` is the id the engine derives idempotency from, usually the Centra id
    (shipment number, purchase order id, SKU); WMS-originated records use the WMS id.
    """

    store: str
    kind: RecordKind
    key: str

    def __str__(self) -> str:
        return f"{self.store}/{self.kind.value}/{self.key}"


@dataclass(frozen=True, slots=True)
class LedgerRecord:
    """The engine's last word on one record, with the raw payloads of its latest call.

    ``centra_order`` is the Centra order the record belongs to, where it has one.
    """

    ref: RecordRef
    state: str
    centra_id: str | None
    wms_id: str | None
    centra_order: str | None
    last_request: Json
    last_response: Json
    last_error: str | None
    attempts: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NewRecord:
    """The arguments of :meth:`LedgerStore.upsert_record` as a value, for a batch of them."""

    ref: RecordRef
    centra_id: str | None = None
    wms_id: str | None = None
    initial_state: str = "new"
    centra_order: str | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """The arguments of :meth:`LedgerStore.transition` as a value, for a batch of them.

    ``only_from``: the states the record may move from; in any other the step is left out
    (no change, no history), which is how a flow keeps a record from moving backwards: a
    late "sent" never undoes "completed".
    """

    ref: RecordRef
    to_state: str
    note: str | None = None
    request: Json = None
    response: Json = None
    error: str | None = None
    only_from: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class Abandon:
    """Settle every pending effect of ``ref`` as abandoned, noting ``reason``.

    Rides along with the step that finishes a record, so no effect of a finished record is
    left looking as if it were still on its way.
    """

    ref: RecordRef
    reason: str


Move: TypeAlias = NewRecord | Step | Abandon
"""A ledger change that can ride along with an effect's intent or outcome."""


@dataclass(frozen=True, slots=True)
class Transition:
    """One step in a record's history; ``from_state`` is ``None`` for the creation step."""

    from_state: str | None
    to_state: str
    at: datetime
    note: str | None


@dataclass(frozen=True, slots=True)
class Effect:
    """A side effect keyed for exactly-once application, with its intent and outcome.

    ``attempts`` counts attempts known to have failed (an error, a refusal); one cut short
    by the process dying is no failure of the remote call and is not counted.
    """

    key: str
    record: RecordRef
    status: EffectStatus
    intent: Json
    outcome: Json
    error: str | None
    attempts: int
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class EffectBegin:
    """The answer of :meth:`EffectStore.begin_effect`: what was found, and the effect now."""

    outcome: BeginOutcome
    effect: Effect


@dataclass(frozen=True, slots=True)
class Cursor:
    """An incremental position: everything up to ``value`` is handled.

    ``boundary_ids`` are the ids of records whose cursor field equals ``value`` exactly;
    the next run re-reads from ``value`` inclusive (closed start) and drops them.
    """

    store: str
    flow: str
    value: datetime
    boundary_ids: frozenset[str]
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class InboxItem:
    """A received event, persisted before it was acknowledged and processed later."""

    id: int
    store: str
    dedup_key: str
    body: bytes
    received_at: datetime
    processed_at: datetime | None
    attempts: int
    error: str | None


@dataclass(frozen=True, slots=True)
class AnalyticsClaim:
    """Objects analytics took to re-read at ``at``: (resource, id) pairs; ``attempts`` is
    the most any of them has had, this one included."""

    store: str
    at: datetime
    objects: tuple[tuple[str, int], ...]
    attempts: int


@dataclass(frozen=True, slots=True)
class ParkedObject:
    """An object analytics could not load (bad data): ``error`` names the field,
    ``payload`` is what Centra sent for it; it waits for a retry or a new change."""

    store: str
    resource: str
    object_id: int
    error: str
    payload: Json
    parked_at: datetime


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record the engine gave up on until a person looks; ``reason`` names the field."""

    id: int
    record: RecordRef
    reason: str
    payload: Json
    parked_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class Lease:
    """A lease someone holds: by whom, until when unless renewed, under which token.

    ``token`` grows by one every time the lease changes hands (or is taken again by a
    holder that did not present the token it had), so a holder that stalled and resumed
    holds an older token than whoever took over meanwhile.
    """

    name: str
    owner: str
    expires_at: datetime
    token: int

    @property
    def fence(self) -> Fence:
        return Fence(self.name, self.token)


@dataclass(frozen=True, slots=True)
class Fence:
    """A lease as one holder got it: writes carrying it are refused once a newer holder
    exists (a larger token, or the lease released)."""

    lease: str
    token: int


class FenceHolder(Protocol):
    """Where a fenced view of the store (:meth:`StateStore.fenced`) gets its fence."""

    def current_fence(self) -> Fence:
        """The fence to write under; raises :class:`LeaseLostError` when none is held."""
        ...

    def fence_refused(self, fence: Fence) -> None:
        """The store refused a write under ``fence``: a newer holder exists."""
        ...


class LedgerStore(Protocol):
    """The per-record ledger: each record's state, its history and its latest payloads."""

    async def upsert_record(
        self,
        ref: RecordRef,
        *,
        centra_id: str | None = None,
        wms_id: str | None = None,
        initial_state: str = "new",
        centra_order: str | None = None,
    ) -> LedgerRecord:
        """Create the record in ``initial_state`` if absent; otherwise fill in given ids.

        ``centra_order``: the Centra order the record belongs to (a shipment's, a return's).
        """
        ...

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
        """Move the record to ``to_state`` and append the step to its history."""
        ...

    async def get_record(self, ref: RecordRef) -> LedgerRecord | None: ...

    async def get_records(self, refs: Iterable[RecordRef]) -> dict[RecordRef, LedgerRecord]:
        """The records of ``refs`` that exist, read at once; absent ones are left out.

        For a flow that looks at a whole page of records: one read instead of one per
        record.
        """
        ...

    async def upsert_records(self, records: Sequence[NewRecord]) -> list[LedgerRecord]:
        """:meth:`upsert_record` for each of ``records``, in order, in one transaction."""
        ...

    async def transition_records(self, steps: Sequence[Step | Abandon]) -> list[LedgerRecord]:
        """:meth:`transition` for each of ``steps``, in order, in one transaction.

        All or nothing: a step naming an unknown record refuses the whole batch. An
        :class:`Abandon` among them settles its record's pending effects.
        """
        ...

    async def list_records(
        self,
        store: str,
        *,
        kind: RecordKind | None = None,
        state: str | None = None,
        limit: int = 100,
        key_prefix: str | None = None,
    ) -> list[LedgerRecord]:
        """``key_prefix``: only records whose key starts with it (one order's shipments)."""
        ...

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
        """Records of ``kind`` in any of ``states``, in key order, after ``after_key``.

        ``key_prefix``: only records whose key starts with it (one order's shipments).

        For a flow that must see every record in some states however many there are:
        page with the last key of each answer. Filtered by the database on its
        (store, kind, state, key) index, never in Python.
        """
        ...

    async def count_records(
        self, store: str, kind: RecordKind, *, states: Collection[str] | None = None
    ) -> dict[str, int]:
        """How many records of ``kind`` are in each state (states with none left out).

        ``states``: count only those, on the (store, kind, state, key) index, so the count
        costs what the records counted do, not what the whole ledger does.
        """
        ...

    async def history(self, ref: RecordRef) -> list[Transition]: ...

    async def note(self, ref: RecordRef, note: str, *, error: str | None = None) -> bool:
        """Add ``note`` (and ``error`` as the last error) to the record's history, leaving
        its state; ``False`` when there is no such record."""
        ...


class EffectStore(Protocol):
    """Side effects keyed for exactly-once application (see the module docstring)."""

    async def begin_effect(
        self, key: str, record: RecordRef, intent: Json, *, moves: Sequence[Move] = ()
    ) -> EffectBegin:
        """Record the intent to apply effect ``key`` before making the remote call.

        ``moves`` (upserts and transitions, applied in order whatever the answer) commit
        with the intent: a record marked as being written costs no transaction of its own.
        """
        ...

    async def complete_effect(
        self, key: str, outcome: Json, *, moves: Sequence[Move] = ()
    ) -> Effect:
        """Confirm the effect; ``moves`` commit with the outcome (see :meth:`begin_effect`)."""
        ...

    async def fail_effect(self, key: str, error: str, *, counted: bool = True) -> Effect:
        """Record that an attempt certainly did not apply; the next begin retries it.

        ``counted`` attempts count towards giving up; one refused before it could act
        (credentials, an allow list) does not. An effect that succeeded meanwhile (another
        holder confirmed it) stays succeeded and is returned as it is.
        """
        ...

    async def note_effect_error(self, key: str, error: str) -> Effect:
        """An attempt ended in a retryable error: it may or may not have applied, so the
        effect stays pending (in doubt), and the attempt counts towards giving up."""
        ...

    async def get_effect(self, key: str) -> Effect | None: ...

    async def abandon_effects(
        self, store: str, kind: RecordKind, key_prefix: str, reason: str
    ) -> int:
        """Settle the pending effects of ``store`` and ``kind`` whose key starts with
        ``key_prefix`` as abandoned (see :class:`EffectStatus`); how many."""
        ...


class CursorStore(Protocol):
    """Incremental positions, one per store and flow."""

    async def get_cursor(self, store: str, flow: str) -> Cursor | None: ...

    async def advance_cursor(
        self, store: str, flow: str, value: datetime, boundary_ids: Sequence[str] = ()
    ) -> Cursor:
        """Move the cursor forward to ``value``; an older value leaves it unchanged."""
        ...


class InboxStore(Protocol):
    """Received webhook events, persisted before they are acknowledged."""

    async def add_to_inbox(
        self, store: str, dedup_key: str, body: bytes, *, received_at: datetime | None = None
    ) -> bool:
        """Persist an event; ``False`` when the same event is already in the inbox."""
        ...

    async def claim_inbox(
        self, store: str, limit: int, *, claim_for: timedelta = timedelta(minutes=5)
    ) -> list[InboxItem]:
        """Hand out unprocessed events, hiding them from other claimers for ``claim_for``."""
        ...

    async def mark_inbox_processed(self, item_ids: Collection[int]) -> None:
        """Mark events handled, all in one statement (a claim's, once acted on)."""
        ...

    async def mark_inbox_failed(self, item_id: int, error: str) -> None:
        """Record why processing failed and make the event claimable again."""
        ...

    async def inbox_backlog(self, store: str) -> int: ...

    async def wait_for_inbox(self, store: str, timeout: float) -> bool:
        """Wait until an event may have been added to ``store``'s inbox; False after
        ``timeout`` seconds.

        True once per arrival (or batch of them) since the last True: a worker waits here
        between its ticks instead of only polling. Added by this process, or on PostgreSQL
        by any process; a notification can be lost, so keep polling as well.
        """
        ...


class AnalyticsQueueStore(Protocol):
    """What analytics must still re-read (noted by the webhook receiver, cleared after the
    merge), and a digest of every row it loaded (what reconciliation compares against)."""

    async def note_for_analytics(self, store: str, objects: Sequence[tuple[str, int]]) -> None:
        """(resource, id) pairs changed in Centra; noting one already waiting refreshes it."""
        ...

    async def claim_analytics(
        self, store: str, limit: int, *, claim_for: timedelta = timedelta(minutes=5)
    ) -> AnalyticsClaim: ...

    async def finish_analytics(self, claim: AnalyticsClaim) -> None:
        """Merged: forget the claimed objects, except those noted again since the claim."""
        ...

    async def release_analytics(self, claim: AnalyticsClaim, error: str) -> None: ...

    async def park_analytics(
        self, store: str, resource: str, object_id: int, error: str, payload: Json
    ) -> None:
        """The object's data cannot be loaded: keep it with its payload and the error, out
        of the claims, until :meth:`retry_analytics` or a new note for it."""
        ...

    async def parked_analytics(self, store: str) -> list[ParkedObject]: ...

    async def retry_analytics(
        self, store: str, objects: Sequence[tuple[str, int]] | None = None
    ) -> int:
        """Put parked objects (all of the store's, or these) back in line; how many."""
        ...

    async def pending_analytics(self, store: str) -> list[tuple[str, int]]:
        """Every (resource, id) waiting to be re-read, claimed or not."""
        ...

    async def analytics_backlog(self, store: str) -> int:
        """Objects waiting to be re-read, parked ones left out."""
        ...

    async def record_digests(self, store: str, resource: str, digests: Mapping[str, str]) -> int:
        """Keep the rows' digests (row key to digest); how many were new or changed."""
        ...

    async def known_digests(self, store: str, resource: str) -> int: ...


class DeadLetterStore(Protocol):
    """Records the engine gave up on until a person looks."""

    async def park(
        self, record: RecordRef, reason: str, payload: Json = None, *, moves: Sequence[Move] = ()
    ) -> DeadLetter:
        """Park a record; re-parking an unresolved record refreshes its entry.

        ``moves`` (the record's parked state) commit with the dead letter: a parked state
        is never retried by the engine, so one without its dead letter would be a record
        nobody hears of.
        """
        ...

    async def list_dead(
        self, store: str, *, include_resolved: bool = False, limit: int = 100
    ) -> list[DeadLetter]: ...

    async def resolve_dead(self, dead_letter_id: int) -> bool: ...


class LeaseStore(Protocol):
    """Leases that keep one process at a time on a flow, with fencing tokens."""

    async def acquire_lease(
        self, name: str, owner: str, ttl: timedelta, *, token: int | None = None
    ) -> Lease | None:
        """Take the lease if it is free, expired or already ours; ``None`` if not.

        Presenting the ``token`` this holder got last time extends the lease under it;
        any other acquisition gives the lease a new, larger token (see :class:`Lease`).
        Expiry is judged by the database's clock where it has one.
        """
        ...

    async def renew_lease(
        self, name: str, owner: str, ttl: timedelta, *, token: int | None = None
    ) -> bool:
        """Extend a lease still held (under ``token`` when given); never revive an expired one."""
        ...

    async def release_lease(self, name: str, owner: str, *, token: int | None = None) -> bool:
        """Give the lease up; with ``token``, only if nobody took it over meanwhile."""
        ...

    async def list_leases(self) -> list[Lease]:
        """Every lease held now (expired ones left out), by name."""
        ...


class StoreDiagnostics(Protocol):
    """Read-only questions an operator's commands ask; no flow needs them.

    Each is answered by the database (filtered, grouped, ordered there), so none reads
    more rows than it returns.
    """

    async def store_names(self) -> list[str]:
        """Names of the stores with ledger records or dead letters, sorted."""
        ...

    async def find_lease(self, name: str) -> Lease | None:
        """Lease ``name`` as it stands, expired or not: who holds it, until when."""
        ...

    async def dead_letters_of(
        self, record: RecordRef, *, include_resolved: bool = False
    ) -> list[DeadLetter]:
        """The record's dead letters, newest first."""
        ...

    async def dead_records(self, store: str) -> list[RecordRef]:
        """The records of ``store`` with an open dead letter, most recently parked first."""
        ...


@dataclass(frozen=True, slots=True)
class RecordQuery:
    """What the console's records list filters by; ``None`` leaves a filter out.

    ``stores``: with a ``kind`` and no ``store``, any of these (the configured ones: with
    them the database finds a rare kind through its (store, kind, …) index instead of
    reading the whole ledger); ``states``: any of these (the parked ones of a kind);
    ``number`` is a record's key or its Centra order (a shipment number, an order
    number, a purchase order id); ``sku`` the key of an article or stock record;
    ``since``/``until`` bound the last change, ``until`` exclusive.
    """

    store: str | None = None
    stores: tuple[str, ...] = ()
    kind: RecordKind | None = None
    state: str | None = None
    states: tuple[str, ...] = ()
    number: str | None = None
    wms_id: str | None = None
    sku: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class RecordPage:
    """One page of a records search, newest change first.

    ``after`` is where the next page starts (pass it back as is), ``None`` on the last
    page: paging by position in the order, never by an offset, costs the same on the
    thousandth page as on the first.
    """

    records: list[LedgerRecord]
    after: str | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One action an operator took in the console: who, when, what, on which target."""

    id: int
    at: datetime
    who: str
    action: str
    target: str
    detail: str | None


class ConsoleStore(Protocol):
    """What the operator's console asks besides the diagnostics; no flow needs it."""

    async def search_records(
        self, query: RecordQuery, *, after: str | None = None, limit: int = 50
    ) -> RecordPage:
        """The records ``query`` matches, newest change first, ``limit`` at a time.

        Filtered and ordered by the database on its indexes; ``after`` is the
        :attr:`RecordPage.after` of the page before.
        """
        ...

    async def effects_of(self, record: RecordRef) -> list[Effect]:
        """Every effect recorded for ``record``, in the order they were begun."""
        ...

    async def latest_change(
        self, store: str, kind: RecordKind, *, excluding: Collection[str] = ()
    ) -> datetime | None:
        """When the most recently changed record of ``kind`` changed, leaving out records
        in the ``excluding`` states (the parked ones, to ask for the last success)."""
        ...

    async def count_open_dead(self, store: str) -> int:
        """How many of ``store``'s dead letters are not resolved."""
        ...

    async def add_audit(
        self, who: str, action: str, target: str, detail: str | None = None
    ) -> AuditEntry:
        """Write down an operator's action; ``detail`` has its outcome."""
        ...

    async def list_audit(self, *, target: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """The newest entries first, those about ``target`` only when given."""
        ...


class StateStore(
    LedgerStore,
    EffectStore,
    CursorStore,
    InboxStore,
    AnalyticsQueueStore,
    DeadLetterStore,
    LeaseStore,
    StoreDiagnostics,
    ConsoleStore,
    Protocol,
):
    """Durable state of the engine; one implementation per backend family.

    The concerns are protocols of their own, so code that needs one (the webhook receiver
    only the inbox) says so. Every method is atomic on its own. To make several changes
    atomic together (a cursor advance with the ledger transition of the page it covers)
    use :meth:`transaction` and call the methods of the store it yields; the outer store
    must not be used inside.
    """

    def transaction(self) -> AbstractAsyncContextManager[StateStore]:
        """Run the calls made on the yielded store in one transaction (nested calls join)."""
        ...

    async def close(self) -> None:
        """Release connections; the data stays."""
        ...

    def fenced(self, holder: FenceHolder) -> StateStore:
        """A view of this store whose every write carries ``holder``'s current fence.

        Each write checks the fence in its own transaction and is refused with
        :class:`LeaseLostError` (after telling the holder) once the lease has a newer
        holder, so a process that stalled past its lease cannot change anything another
        process has taken over. Reads are not fenced.
        """
        ...


async def records_in(
    state: LedgerStore,
    store: str,
    kind: RecordKind,
    states: Collection[str],
    *,
    key_prefix: str | None = None,
    page: int = 1000,
) -> AsyncIterator[LedgerRecord]:
    """Every record of ``kind`` in one of ``states``, read ``page`` at a time in key order."""
    after: str | None = None
    while True:
        found = await state.scan_records(
            store, kind, states, after_key=after, key_prefix=key_prefix, limit=page
        )
        for record in found:
            yield record
        if len(found) < page:
            return
        after = found[-1].ref.key
