"""Statements that coordinate work: cursors, the webhook inbox, dead letters and leases.

Each function runs inside the caller's :class:`~centrasync.store.sqlcore.Tx`, so the
facade in ``sql.py`` can combine them into one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from centrasync.errors import LeaseLostError, RecordValidationError
from centrasync.store import schema
from centrasync.store.base import (
    Cursor,
    DeadLetter,
    Fence,
    InboxItem,
    Json,
    Lease,
    RecordKind,
    RecordRef,
    require_utc,
)
from centrasync.store.sqlcore import (
    Columns,
    Tx,
    check_ref,
    check_text,
    clean,
    dumped,
    in_chunks,
    scrub,
)

__all__ = [
    "acquire_lease",
    "add_to_inbox",
    "advance_cursor",
    "check_fence",
    "claim_inbox",
    "count_open_dead",
    "dead_letters_of",
    "dead_records",
    "find_lease",
    "get_cursor",
    "inbox_backlog",
    "list_dead",
    "list_leases",
    "mark_inbox_failed",
    "mark_inbox_processed",
    "park",
    "release_lease",
    "renew_lease",
    "resolve_dead",
    "store_names",
]

_CURSORS = Columns.of(schema.cursors)
_INBOX = Columns.of(schema.inbox)
_DEAD = Columns.of(schema.dead_letters)
_LEASES = Columns.of(schema.leases)
_NEW_CURSOR = _CURSORS.insert("store", "flow", "value", "boundary_ids", "updated_at")
_NEW_EVENT = _INBOX.insert("store", "dedup_key", "body", "received_at", "attempts")
_NEW_DEAD = _DEAD.insert("store", "kind", "record_key", "reason", "payload", "parked_at")
_NEW_LEASE = _LEASES.insert("name", "owner", "expires_at", "token")
# Free text, unbounded in the schema; bounded here so one runaway message stays readable.
_REASON_LENGTH = 10_000


def _to_cursor(tx: Tx, values: Sequence[Any]) -> Cursor:
    row = _CURSORS.row(values)
    ids = tx.loaded(row["boundary_ids"])
    return Cursor(
        store=row["store"],
        flow=row["flow"],
        value=tx.time(row["value"]),
        boundary_ids=frozenset(str(i) for i in ids) if isinstance(ids, list) else frozenset(),
        updated_at=tx.time(row["updated_at"]),
    )


def _to_inbox_item(tx: Tx, values: Sequence[Any]) -> InboxItem:
    row = _INBOX.row(values)
    return InboxItem(
        id=row["id"],
        store=row["store"],
        dedup_key=row["dedup_key"],
        body=bytes(row["body"]),
        received_at=tx.time(row["received_at"]),
        processed_at=tx.maybe_time(row["processed_at"]),
        attempts=row["attempts"],
        error=row["error"],
    )


def _to_dead_letter(tx: Tx, values: Sequence[Any]) -> DeadLetter:
    row = _DEAD.row(values)
    return DeadLetter(
        id=row["id"],
        record=RecordRef(row["store"], RecordKind(row["kind"]), row["record_key"]),
        reason=row["reason"],
        payload=tx.loaded(row["payload"]),
        parked_at=tx.time(row["parked_at"]),
        resolved_at=tx.maybe_time(row["resolved_at"]),
    )


# -- cursors ------------------------------------------------------------------------------


def get_cursor(tx: Tx, store: str, flow: str) -> Cursor | None:
    row = tx.one_or_none(
        f"{_CURSORS.select} WHERE store = :store AND flow = :flow",
        {"store": store, "flow": flow},
    )
    return None if row is None else _to_cursor(tx, row)


def advance_cursor(
    tx: Tx, store: str, flow: str, value: datetime, boundary_ids: Sequence[str]
) -> Cursor:
    """Move forward only; return the cursor as stored afterwards.

    A later value replaces the boundary ids; the same value adds to them (more records
    share the boundary timestamp); an earlier value changes nothing, because re-reading
    an overlap window legitimately reports older positions.
    """
    name = f"cursor {store}:{flow}"
    check_text(store, limit=_CURSORS.length("store"), record=name, field="store")
    check_text(flow, limit=_CURSORS.length("flow"), record=name, field="flow")
    value = require_utc(value, record=name, field="value")
    ids = {str(i) for i in boundary_ids}
    this = {"store": store, "flow": flow, "now": tx.now}
    created = tx.one_or_none(
        f"{_NEW_CURSOR} ON CONFLICT (store, flow) DO NOTHING RETURNING {_CURSORS.listed}",
        {
            "store": store,
            "flow": flow,
            "value": value,
            "boundary_ids": json.dumps(sorted(ids)),
            "updated_at": tx.now,
        },
    )
    if created is not None:
        return _to_cursor(tx, created)
    row = tx.rows(
        f"{_CURSORS.select} WHERE store = :store AND flow = :flow{tx.for_update}",
        this,
    )[0]
    stored = _to_cursor(tx, row)
    if value > stored.value:
        changes: dict[str, Any] = {"value": value, "ids": json.dumps(sorted(ids))}
        assignments = "value = :value, boundary_ids = :ids"
    elif value == stored.value and not ids <= stored.boundary_ids:
        changes = {"ids": json.dumps(sorted(ids | stored.boundary_ids))}
        assignments = "boundary_ids = :ids"
    else:
        return stored
    row = tx.rows(
        f"UPDATE cursors SET {assignments}, updated_at = :now "
        f"WHERE store = :store AND flow = :flow RETURNING {_CURSORS.listed}",
        {**this, **changes},
    )[0]
    return _to_cursor(tx, row)


# -- webhook inbox ------------------------------------------------------------------------


def add_to_inbox(
    tx: Tx, store: str, dedup_key: str, body: bytes, received_at: datetime | None
) -> bool:
    name = f"inbox {store}:{dedup_key}"
    check_text(store, limit=_INBOX.length("store"), record=name, field="store")
    check_text(dedup_key, limit=_INBOX.length("dedup_key"), record=name, field="dedup_key")
    at = (
        tx.now
        if received_at is None
        else require_utc(received_at, record=name, field="received_at")
    )
    added = tx.one_or_none(
        f"{_NEW_EVENT} ON CONFLICT (store, dedup_key) DO NOTHING RETURNING id",
        {"store": store, "dedup_key": dedup_key, "body": body, "received_at": at, "attempts": 0},
    )
    return added is not None


def claim_inbox(tx: Tx, store: str, limit: int, claim_for: timedelta) -> list[InboxItem]:
    """Oldest first; a claim neither processed nor failed lapses after ``claim_for``.

    On PostgreSQL, rows another claimer holds are skipped rather than waited for, so
    several runners can drain one inbox without handing out an event twice.
    """
    ids = [
        row[0]
        for row in tx.rows(
            "SELECT id FROM inbox WHERE store = :store AND processed_at IS NULL "
            "AND (claimed_until IS NULL OR claimed_until <= :now) "
            f"ORDER BY id LIMIT :limit{tx.for_update_skip_locked}",
            {"store": store, "now": tx.now, "limit": limit},
        )
    ]
    claimed: list[InboxItem] = []
    for placeholders, params in in_chunks(ids, "i"):
        rows = tx.rows(
            "UPDATE inbox SET claimed_until = :until, attempts = attempts + 1 "
            f"WHERE id IN ({placeholders}) RETURNING {_INBOX.listed}",
            {**params, "until": tx.now + claim_for},
        )
        claimed += (_to_inbox_item(tx, row) for row in rows)
    return sorted(claimed, key=lambda item: item.id)


def mark_inbox_processed(tx: Tx, item_ids: Collection[int]) -> None:
    """One statement for a claim's handled events, not one each."""
    ids = sorted(set(item_ids))
    for placeholders, params in in_chunks(ids, "i"):
        changed = tx.rows(
            "UPDATE inbox SET processed_at = :now, claimed_until = NULL, error = NULL "
            f"WHERE id IN ({placeholders}) RETURNING id",
            {**params, "now": tx.now},
        )
        missing = set(params.values()) - {row[0] for row in changed}
        if missing:
            raise RecordValidationError(
                "no such inbox item", record=f"inbox item {min(missing)}", field="id"
            )


def mark_inbox_failed(tx: Tx, item_id: int, error: str) -> None:
    _update_inbox_item(tx, item_id, "claimed_until = NULL, error = :error", {"error": clean(error)})


def _update_inbox_item(tx: Tx, item_id: int, assignments: str, values: dict[str, Any]) -> None:
    changed = tx.run(f"UPDATE inbox SET {assignments} WHERE id = :id", {**values, "id": item_id})
    if changed == 0:
        raise RecordValidationError(
            "no such inbox item", record=f"inbox item {item_id}", field="id"
        )


def inbox_backlog(tx: Tx, store: str) -> int:
    row = tx.rows(
        "SELECT count(*) FROM inbox WHERE store = :store AND processed_at IS NULL",
        {"store": store},
    )[0]
    return int(row[0])


# -- dead letters -------------------------------------------------------------------------


def park(tx: Tx, record: RecordRef, reason: str, payload: Json) -> DeadLetter:
    """Park the record; an unresolved entry for it is refreshed rather than duplicated.

    One open entry per record keeps the dead-letter list (and the alerts built on it)
    free of repeats when the same record fails on every run.
    """
    check_ref(record)
    check_text(reason, limit=_REASON_LENGTH, record=str(record), field="reason")
    values = {
        "store": record.store,
        "kind": record.kind.value,
        "record_key": record.key,
        "reason": clean(reason),
        "payload": dumped(scrub(payload)),
        "parked_at": tx.now,
    }
    entry = tx.one_or_none(
        "SELECT id FROM dead_letters WHERE store = :store AND kind = :kind "
        "AND record_key = :record_key AND resolved_at IS NULL "
        f"ORDER BY id LIMIT 1{tx.for_update}",
        values,
    )
    if entry is None:
        row = tx.rows(f"{_NEW_DEAD} RETURNING {_DEAD.listed}", values)[0]
    else:
        row = tx.rows(
            "UPDATE dead_letters SET reason = :reason, payload = :payload, "
            f"parked_at = :parked_at WHERE id = :id RETURNING {_DEAD.listed}",
            {**values, "id": entry[0]},
        )[0]
    return _to_dead_letter(tx, row)


def list_dead(tx: Tx, store: str, *, include_resolved: bool, limit: int) -> list[DeadLetter]:
    unresolved = "" if include_resolved else " AND resolved_at IS NULL"
    rows = tx.rows(
        f"{_DEAD.select} WHERE store = :store{unresolved} "
        "ORDER BY parked_at DESC, id DESC LIMIT :limit",
        {"store": store, "limit": limit},
    )
    return [_to_dead_letter(tx, row) for row in rows]


def dead_letters_of(tx: Tx, record: RecordRef, *, include_resolved: bool) -> list[DeadLetter]:
    unresolved = "" if include_resolved else " AND resolved_at IS NULL"
    rows = tx.rows(
        f"{_DEAD.select} WHERE store = :store AND kind = :kind AND record_key = :record_key"
        f"{unresolved} ORDER BY parked_at DESC, id DESC",
        {"store": record.store, "kind": record.kind.value, "record_key": record.key},
    )
    return [_to_dead_letter(tx, row) for row in rows]


def count_open_dead(tx: Tx, store: str) -> int:
    rows = tx.rows(
        "SELECT count(*) FROM dead_letters WHERE store = :store AND resolved_at IS NULL",
        {"store": store},
    )
    return int(rows[0][0])


def dead_records(tx: Tx, store: str) -> list[RecordRef]:
    rows = tx.rows(
        "SELECT kind, record_key FROM dead_letters WHERE store = :store AND resolved_at IS NULL "
        "GROUP BY kind, record_key ORDER BY max(parked_at) DESC, max(id) DESC",
        {"store": store},
    )
    return [RecordRef(store, RecordKind(row[0]), row[1]) for row in rows]


def store_names(tx: Tx) -> list[str]:
    rows = tx.rows(
        "SELECT store FROM ledger_records UNION SELECT store FROM dead_letters "
        "UNION SELECT store FROM analytics_pending ORDER BY store",
        {},
    )
    return [row[0] for row in rows]


def resolve_dead(tx: Tx, dead_letter_id: int) -> bool:
    """``False`` when the entry does not exist or was already resolved."""
    changed = tx.run(
        "UPDATE dead_letters SET resolved_at = :now WHERE id = :id AND resolved_at IS NULL",
        {"id": dead_letter_id, "now": tx.now},
    )
    return changed > 0


# -- leases ---------------------------------------------------------------------------


def _to_lease(tx: Tx, values: Sequence[Any]) -> Lease:
    row = _LEASES.row(values)
    return Lease(
        name=row["name"],
        owner=row["owner"],
        expires_at=tx.time(row["expires_at"]),
        token=int(row["token"]),
    )


def _checked(name: str, owner: str, ttl: timedelta) -> None:
    record = f"lease {name}"
    check_text(name, limit=_LEASES.length("name"), record=record, field="name")
    check_text(owner, limit=_LEASES.length("owner"), record=record, field="owner")
    if ttl <= timedelta(0):
        raise RecordValidationError(f"must be positive, got {ttl}", record=record, field="ttl")


def acquire_lease(
    tx: Tx, name: str, owner: str, ttl: timedelta, token: int | None = None
) -> Lease | None:
    """Take the lease if it is free, expired or already ours; never wait.

    The token stays only for the holder that presents it; every other acquisition, a
    restarted process under the same owner name included, makes it one larger, which
    fences off whoever held it before. On PostgreSQL the existing row is read with
    ``FOR UPDATE SKIP LOCKED``: a row that another acquirer is deciding about, or that a
    holder's write is checking its fence against, counts as taken, so two concurrent
    acquirers cannot both win and neither blocks.
    """
    _checked(name, owner, ttl)
    now = tx.lease_now()
    values: dict[str, Any] = {"name": name, "owner": owner, "expires_at": now + ttl}
    created = tx.one_or_none(
        f"{_NEW_LEASE} ON CONFLICT (name) DO NOTHING RETURNING {_LEASES.listed}",
        {**values, "token": 1},
    )
    if created is not None:
        return _to_lease(tx, created)
    row = tx.one_or_none(
        f"SELECT owner, expires_at, token FROM leases WHERE name = :name"
        f"{tx.for_update_skip_locked}",
        values,
    )
    if row is None or (row[0] != owner and tx.time(row[1]) > now):
        return None
    kept = row[0] == owner and token is not None and int(row[2]) == token
    updated = tx.rows(
        "UPDATE leases SET owner = :owner, expires_at = :expires_at, token = :token "
        f"WHERE name = :name RETURNING {_LEASES.listed}",
        {**values, "token": int(row[2]) if kept else int(row[2]) + 1},
    )
    return _to_lease(tx, updated[0])


def renew_lease(tx: Tx, name: str, owner: str, ttl: timedelta, token: int | None = None) -> bool:
    """Extend a lease still held; an expired lease must be acquired again.

    Refusing to revive an expired lease tells a worker that stalled past its ttl that
    another may have run meanwhile, so it re-checks its work before continuing.
    """
    _checked(name, owner, ttl)
    now = tx.lease_now()
    same_token = "" if token is None else " AND token = :token"
    changed = tx.run(
        "UPDATE leases SET expires_at = :expires_at "
        f"WHERE name = :name AND owner = :owner AND expires_at > :now{same_token}",
        {"name": name, "owner": owner, "expires_at": now + ttl, "now": now, "token": token},
    )
    return changed > 0


def release_lease(tx: Tx, name: str, owner: str, token: int | None = None) -> bool:
    same_token = "" if token is None else " AND token = :token"
    changed = tx.run(
        f"DELETE FROM leases WHERE name = :name AND owner = :owner{same_token}",
        {"name": name, "owner": owner, "token": token},
    )
    return changed > 0


def list_leases(tx: Tx) -> list[Lease]:
    rows = tx.rows(
        f"{_LEASES.select} WHERE expires_at > :now ORDER BY name",
        {"now": tx.lease_now()},
    )
    return [_to_lease(tx, row) for row in rows]


def find_lease(tx: Tx, name: str) -> Lease | None:
    row = tx.one_or_none(f"{_LEASES.select} WHERE name = :name", {"name": name})
    return None if row is None else _to_lease(tx, row)


def check_fence(tx: Tx, fence: Fence) -> None:
    """Refuse the transaction's writes unless ``fence`` is still the lease's newest holder.

    On PostgreSQL the lease row stays share-locked until the transaction ends, so nobody
    can take the lease over between this check and the commit of the writes it guards.
    """
    row = tx.one_or_none(
        f"SELECT token FROM leases WHERE name = :name{tx.for_share}", {"name": fence.lease}
    )
    if row is None or int(row[0]) != fence.token:
        newer = "released" if row is None else f"now under token {row[0]}"
        raise LeaseLostError(
            f"lease {fence.lease} (token {fence.token}) was {newer}: another process may be "
            "doing this work; stopping",
            system="state store",
        )
