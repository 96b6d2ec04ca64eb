"""Statements that coordinate work: cursors, the webhook inbox, dead letters and leases.

Each function runs inside the caller's :class:`~centrasync.store.sqlcore.Tx`, so the
facade in ``sql.py`` can combine them into one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, delete, func, insert, or_, select, update

from centrasync.errors import RecordValidationError
from centrasync.store.base import Cursor, DeadLetter, InboxItem, Json, RecordRef, require_utc
from centrasync.store.schema import cursors, dead_letters, inbox, leases
from centrasync.store.sqlcore import Tx, check_ref, check_text, clean, ref_of, scrub

__all__ = [
    "acquire_lease",
    "add_to_inbox",
    "advance_cursor",
    "claim_inbox",
    "get_cursor",
    "inbox_backlog",
    "list_dead",
    "park",
    "release_lease",
    "renew_lease",
    "resolve_dead",
    "update_inbox_item",
]


def _to_cursor(row: Row[Any]) -> Cursor:
    return Cursor(
        store=row.store,
        flow=row.flow,
        value=row.value,
        boundary_ids=frozenset(row.boundary_ids),
        updated_at=row.updated_at,
    )


def _to_inbox_item(row: Row[Any]) -> InboxItem:
    return InboxItem(
        id=row.id,
        store=row.store,
        dedup_key=row.dedup_key,
        body=bytes(row.body),
        received_at=row.received_at,
        processed_at=row.processed_at,
        attempts=row.attempts,
        error=row.error,
    )


def _to_dead_letter(row: Row[Any]) -> DeadLetter:
    return DeadLetter(
        id=row.id,
        record=ref_of(row, "record_key"),
        reason=row.reason,
        payload=row.payload,
        parked_at=row.parked_at,
        resolved_at=row.resolved_at,
    )


# -- cursors ------------------------------------------------------------------------------


async def get_cursor(tx: Tx, store: str, flow: str) -> Cursor | None:
    row = await tx.one_or_none(
        select(cursors).where(cursors.c.store == store, cursors.c.flow == flow)
    )
    return None if row is None else _to_cursor(row)


async def advance_cursor(
    tx: Tx, store: str, flow: str, value: datetime, boundary_ids: Sequence[str]
) -> Cursor:
    """Move forward only; return the cursor as stored afterwards.

    A later value replaces the boundary ids; the same value adds to them (more records
    share the boundary timestamp); an earlier value changes nothing, because re-reading
    an overlap window legitimately reports older positions.
    """
    name = f"cursor {store}:{flow}"
    check_text(store, limit=64, record=name, field="store")
    check_text(flow, limit=64, record=name, field="flow")
    value = require_utc(value, record=name, field="value")
    ids = {str(i) for i in boundary_ids}
    this = and_(cursors.c.store == store, cursors.c.flow == flow)
    created = tx.insert_ignoring(
        cursors,
        ("store", "flow"),
        {
            "store": store,
            "flow": flow,
            "value": value,
            "boundary_ids": sorted(ids),
            "updated_at": tx.now,
        },
    ).returning(cursors.c.store)
    if (await tx.conn.execute(created)).scalar_one_or_none() is None:
        row = (await tx.conn.execute(tx.locked(select(cursors).where(this)))).one()
        if value > row.value:
            changes = {"value": value, "boundary_ids": sorted(ids)}
        elif value == row.value and not ids <= set(row.boundary_ids):
            changes = {"boundary_ids": sorted(ids | set(row.boundary_ids))}
        else:
            return _to_cursor(row)
        await tx.conn.execute(update(cursors).where(this).values(**changes, updated_at=tx.now))
    return _to_cursor((await tx.conn.execute(select(cursors).where(this))).one())


# -- webhook inbox ------------------------------------------------------------------------


async def add_to_inbox(
    tx: Tx, store: str, dedup_key: str, body: bytes, received_at: datetime | None
) -> bool:
    name = f"inbox {store}:{dedup_key}"
    check_text(store, limit=64, record=name, field="store")
    check_text(dedup_key, limit=128, record=name, field="dedup_key")
    at = (
        tx.now
        if received_at is None
        else require_utc(received_at, record=name, field="received_at")
    )
    added = tx.insert_ignoring(
        inbox,
        ("store", "dedup_key"),
        {"store": store, "dedup_key": dedup_key, "body": body, "received_at": at, "attempts": 0},
    ).returning(inbox.c.id)
    return (await tx.conn.execute(added)).scalar_one_or_none() is not None


async def claim_inbox(tx: Tx, store: str, limit: int, claim_for: timedelta) -> list[InboxItem]:
    """Oldest first; a claim neither processed nor failed lapses after ``claim_for``.

    On PostgreSQL, rows another claimer holds are skipped rather than waited for, so
    several runners can drain one inbox without handing out an event twice.
    """
    query = (
        select(inbox)
        .where(
            inbox.c.store == store,
            inbox.c.processed_at.is_(None),
            or_(inbox.c.claimed_until.is_(None), inbox.c.claimed_until <= tx.now),
        )
        .order_by(inbox.c.id)
        .limit(limit)
    )
    rows = (await tx.conn.execute(tx.locked(query, skip_locked=True))).all()
    if not rows:
        return []
    ids = [row.id for row in rows]
    await tx.conn.execute(
        update(inbox)
        .where(inbox.c.id.in_(ids))
        .values(claimed_until=tx.now + claim_for, attempts=inbox.c.attempts + 1)
    )
    claimed = (await tx.conn.execute(select(inbox).where(inbox.c.id.in_(ids)))).all()
    return [_to_inbox_item(row) for row in sorted(claimed, key=lambda r: int(r.id))]


async def update_inbox_item(tx: Tx, item_id: int, values: Mapping[str, Any]) -> None:
    result = await tx.conn.execute(update(inbox).where(inbox.c.id == item_id).values(values))
    if result.rowcount == 0:
        raise RecordValidationError(
            "no such inbox item", record=f"inbox item {item_id}", field="id"
        )


async def inbox_backlog(tx: Tx, store: str) -> int:
    query = select(func.count()).where(inbox.c.store == store, inbox.c.processed_at.is_(None))
    return int((await tx.conn.execute(query)).scalar_one())


# -- dead letters -------------------------------------------------------------------------


async def park(tx: Tx, record: RecordRef, reason: str, payload: Json) -> DeadLetter:
    """Park the record; an unresolved entry for it is refreshed rather than duplicated.

    One open entry per record keeps the dead-letter list (and the alerts built on it)
    free of repeats when the same record fails on every run.
    """
    check_ref(record)
    check_text(reason, limit=10_000, record=str(record), field="reason")
    values = {"reason": clean(reason), "payload": scrub(payload), "parked_at": tx.now}
    open_entry = tx.locked(
        select(dead_letters.c.id)
        .where(
            dead_letters.c.store == record.store,
            dead_letters.c.kind == record.kind.value,
            dead_letters.c.record_key == record.key,
            dead_letters.c.resolved_at.is_(None),
        )
        .order_by(dead_letters.c.id)
        .limit(1)
    )
    entry_id = (await tx.conn.execute(open_entry)).scalar_one_or_none()
    if entry_id is None:
        new_entry = (
            insert(dead_letters)
            .values(store=record.store, kind=record.kind.value, record_key=record.key, **values)
            .returning(dead_letters.c.id)
        )
        entry_id = (await tx.conn.execute(new_entry)).scalar_one()
    else:
        await tx.conn.execute(
            update(dead_letters).where(dead_letters.c.id == entry_id).values(values)
        )
    query = select(dead_letters).where(dead_letters.c.id == entry_id)
    return _to_dead_letter((await tx.conn.execute(query)).one())


async def list_dead(tx: Tx, store: str, *, include_resolved: bool, limit: int) -> list[DeadLetter]:
    query = select(dead_letters).where(dead_letters.c.store == store)
    if not include_resolved:
        query = query.where(dead_letters.c.resolved_at.is_(None))
    query = query.order_by(dead_letters.c.parked_at.desc(), dead_letters.c.id.desc())
    rows = (await tx.conn.execute(query.limit(limit))).all()
    return [_to_dead_letter(row) for row in rows]


async def resolve_dead(tx: Tx, dead_letter_id: int) -> bool:
    """``False`` when the entry does not exist or was already resolved."""
    result = await tx.conn.execute(
        update(dead_letters)
        .where(dead_letters.c.id == dead_letter_id, dead_letters.c.resolved_at.is_(None))
        .values(resolved_at=tx.now)
    )
    return result.rowcount > 0


# -- leases -------------------------------------------------------------------------------


def _expiry(tx: Tx, name: str, owner: str, ttl: timedelta) -> datetime:
    record = f"lease {name}"
    check_text(name, limit=128, record=record, field="name")
    check_text(owner, limit=128, record=record, field="owner")
    if ttl <= timedelta(0):
        raise RecordValidationError(f"must be positive, got {ttl}", record=record, field="ttl")
    return tx.now + ttl


async def acquire_lease(tx: Tx, name: str, owner: str, ttl: timedelta) -> bool:
    """Take the lease if it is free, expired or already ours; never wait.

    On PostgreSQL the existing row is read with ``FOR UPDATE SKIP LOCKED``: a row that
    another acquirer is deciding about right now counts as taken, so two concurrent
    acquirers cannot both win and neither blocks.
    """
    expires_at = _expiry(tx, name, owner, ttl)
    taken = tx.insert_ignoring(
        leases, ("name",), {"name": name, "owner": owner, "expires_at": expires_at}
    ).returning(leases.c.name)
    if (await tx.conn.execute(taken)).scalar_one_or_none() is not None:
        return True
    row = await tx.one_or_none(
        tx.locked(select(leases).where(leases.c.name == name), skip_locked=True)
    )
    if row is None or (row.owner != owner and row.expires_at > tx.now):
        return False
    await tx.conn.execute(
        update(leases).where(leases.c.name == name).values(owner=owner, expires_at=expires_at)
    )
    return True


async def renew_lease(tx: Tx, name: str, owner: str, ttl: timedelta) -> bool:
    """Extend a lease still held; an expired lease must be acquired again.

    Refusing to revive an expired lease tells a worker that stalled past its ttl that
    another may have run meanwhile, so it re-checks its work before continuing.
    """
    expires_at = _expiry(tx, name, owner, ttl)
    result = await tx.conn.execute(
        update(leases)
        .where(leases.c.name == name, leases.c.owner == owner, leases.c.expires_at > tx.now)
        .values(expires_at=expires_at)
    )
    return result.rowcount > 0


async def release_lease(tx: Tx, name: str, owner: str) -> bool:
    result = await tx.conn.execute(
        delete(leases).where(leases.c.name == name, leases.c.owner == owner)
    )
    return result.rowcount > 0
