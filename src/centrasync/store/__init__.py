"""Durable state of the engine: ledger, effects, cursors, inbox, dead letters, leases.

``open_store(url)`` returns a :class:`StateStore` on SQLite (embedded default) or
PostgreSQL, migrated to the newest schema.
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
from centrasync.store.sql import SqlStateStore, open_store

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
    "SqlStateStore",
    "StateStore",
    "Step",
    "StoreDiagnostics",
    "Transition",
    "dedup_key",
    "open_store",
    "require_utc",
]
