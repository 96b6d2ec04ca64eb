"""Durable state of the engine: ledger, effects, cursors, inbox, dead letters, leases.

The protocols and value objects; the SQL store itself is in :mod:`centrasync.store.sql`
(``open_store(url)`` returns a :class:`StateStore` on SQLite, the embedded default, or
PostgreSQL, migrated to the newest schema), so importing these does not load SQLAlchemy.
"""

from __future__ import annotations

from centrasync.store.base import (
    Abandon,
    BeginOutcome,
    Cursor,
    CursorStore,
    DeadLetter,
    DeadLetterStore,
    Effect,
    EffectBegin,
    EffectStatus,
    EffectStore,
    Fence,
    FenceHolder,
    InboxItem,
    InboxStore,
    Json,
    Lease,
    LeaseStore,
    LedgerRecord,
    LedgerStore,
    Move,
    NewRecord,
    RecordKind,
    RecordRef,
    StateStore,
    Step,
    StoreDiagnostics,
    Transition,
    dedup_key,
    require_utc,
)

__all__ = [
    "Abandon",
    "BeginOutcome",
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
    "RecordKind",
    "RecordRef",
    "StateStore",
    "Step",
    "StoreDiagnostics",
    "Transition",
    "dedup_key",
    "require_utc",
]
