"""Statements for what the engine did: the per-record ledger, its history, and effects.

Each function runs inside the caller's :class:`~centrasync.store.sqlcore.Tx`, so the
facade in ``sql.py`` can combine them into one transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Row, and_, insert, select, update

from centrasync.errors import RecordValidationError
from centrasync.store.base import (
    BeginOutcome,
    Effect,
    EffectBegin,
    EffectStatus,
    Json,
    LedgerRecord,
    RecordKind,
    RecordRef,
    Transition,
)
from centrasync.store.schema import effects, ledger_records, ledger_transitions
from centrasync.store.sqlcore import Tx, check_ref, check_text, clean, ref_of, scrub

__all__ = [
    "begin_effect",
    "complete_effect",
    "fail_effect",
    "get_effect",
    "get_record",
    "history",
    "list_records",
    "transition",
    "upsert_record",
]


def _to_record(row: Row[Any]) -> LedgerRecord:
    return LedgerRecord(
        ref=ref_of(row, "key"),
        state=row.state,
        centra_id=row.centra_id,
        wms_id=row.wms_id,
        last_request=row.last_request,
        last_response=row.last_response,
        last_error=row.last_error,
        attempts=row.attempts,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _to_effect(row: Row[Any]) -> Effect:
    return Effect(
        key=row.key,
        record=ref_of(row, "record_key"),
        status=EffectStatus(row.status),
        intent=row.intent,
        outcome=row.outcome,
        error=row.error,
        attempts=row.attempts,
        created_at=row.created_at,
        updated_at=row.updated_at,
        completed_at=row.completed_at,
    )


def _is(ref: RecordRef) -> ColumnElement[bool]:
    return and_(
        ledger_records.c.store == ref.store,
        ledger_records.c.kind == ref.kind.value,
        ledger_records.c.key == ref.key,
    )


async def _read_record(tx: Tx, ref: RecordRef) -> LedgerRecord:
    return _to_record((await tx.conn.execute(select(ledger_records).where(_is(ref)))).one())


# -- ledger -------------------------------------------------------------------------------


async def upsert_record(
    tx: Tx, ref: RecordRef, *, centra_id: str | None, wms_id: str | None, initial_state: str
) -> LedgerRecord:
    """Create the record with its first history step, or fill in ids it lacked.

    The state is deliberately left alone for an existing record: states change only
    through :func:`transition`, so the history stays complete.
    """
    check_ref(ref)
    check_text(initial_state, limit=64, record=str(ref), field="initial_state")
    created = tx.insert_ignoring(
        ledger_records,
        ("store", "kind", "key"),
        {
            "store": ref.store,
            "kind": ref.kind.value,
            "key": ref.key,
            "centra_id": centra_id,
            "wms_id": wms_id,
            "state": initial_state,
            "attempts": 0,
            "created_at": tx.now,
            "updated_at": tx.now,
        },
    ).returning(ledger_records.c.id)
    record_id = (await tx.conn.execute(created)).scalar_one_or_none()
    if record_id is not None:
        await tx.conn.execute(
            insert(ledger_transitions).values(
                record_id=record_id,
                from_state=None,
                to_state=initial_state,
                at=tx.now,
                note="created",
            )
        )
    else:
        ids = {"centra_id": centra_id, "wms_id": wms_id}
        known = {name: value for name, value in ids.items() if value is not None}
        if known:
            await tx.conn.execute(
                update(ledger_records).where(_is(ref)).values(**known, updated_at=tx.now)
            )
    return await _read_record(tx, ref)


async def transition(
    tx: Tx,
    ref: RecordRef,
    to_state: str,
    *,
    note: str | None,
    request: Json,
    response: Json,
    error: str | None,
) -> LedgerRecord:
    """Move the record and append the step to its history in the same transaction.

    ``request``/``response`` replace the stored payloads only when given, and a given
    request counts as one more attempt. ``error`` always replaces the last error, so a
    successful step clears the alert a failed one left.
    """
    check_ref(ref)
    check_text(to_state, limit=64, record=str(ref), field="to_state")
    row = await tx.one_or_none(tx.locked(select(ledger_records).where(_is(ref))))
    if row is None:
        raise RecordValidationError(
            "no such record; call upsert_record first", record=str(ref), field="key"
        )
    values: dict[str, Any] = {"state": to_state, "last_error": clean(error), "updated_at": tx.now}
    if request is not None:
        values["last_request"] = scrub(request)
        values["attempts"] = ledger_records.c.attempts + 1
    if response is not None:
        values["last_response"] = scrub(response)
    await tx.conn.execute(
        update(ledger_records).where(ledger_records.c.id == row.id).values(values)
    )
    await tx.conn.execute(
        insert(ledger_transitions).values(
            record_id=row.id,
            from_state=row.state,
            to_state=to_state,
            at=tx.now,
            note=clean(note),
        )
    )
    return await _read_record(tx, ref)


async def get_record(tx: Tx, ref: RecordRef) -> LedgerRecord | None:
    row = await tx.one_or_none(select(ledger_records).where(_is(ref)))
    return None if row is None else _to_record(row)


async def list_records(
    tx: Tx, store: str, *, kind: RecordKind | None, state: str | None, limit: int
) -> list[LedgerRecord]:
    """Most recently changed first, which is what an operator looks for."""
    query = select(ledger_records).where(ledger_records.c.store == store)
    if kind is not None:
        query = query.where(ledger_records.c.kind == kind.value)
    if state is not None:
        query = query.where(ledger_records.c.state == state)
    query = query.order_by(ledger_records.c.updated_at.desc(), ledger_records.c.id.desc())
    rows = (await tx.conn.execute(query.limit(limit))).all()
    return [_to_record(row) for row in rows]


async def history(tx: Tx, ref: RecordRef) -> list[Transition]:
    query = (
        select(ledger_transitions)
        .join(ledger_records, ledger_records.c.id == ledger_transitions.c.record_id)
        .where(_is(ref))
        .order_by(ledger_transitions.c.id)
    )
    rows = (await tx.conn.execute(query)).all()
    return [Transition(row.from_state, row.to_state, row.at, row.note) for row in rows]


# -- effects ------------------------------------------------------------------------------


async def _locked_effect(tx: Tx, key: str) -> Row[Any]:
    row = await tx.one_or_none(tx.locked(select(effects).where(effects.c.key == key)))
    if row is None:
        raise RecordValidationError(
            "no such effect; call begin_effect first", record=f"effect {key}", field="key"
        )
    return row


async def begin_effect(tx: Tx, key: str, record: RecordRef, intent: Json) -> EffectBegin:
    """Record the intent before the remote call; the answer says whether to make it.

    A pending effect found here was begun by a run that never confirmed it, so its
    original intent is kept: that is what the remote side may have applied. A key
    reused for a different record is refused, since it would make one record's effect
    look applied for another.
    """
    check_text(key, limit=255, record=f"effect {key}", field="key")
    check_ref(record)
    created = tx.insert_ignoring(
        effects,
        ("key",),
        {
            "key": key,
            "store": record.store,
            "kind": record.kind.value,
            "record_key": record.key,
            "status": EffectStatus.PENDING.value,
            "intent": scrub(intent),
            "attempts": 1,
            "created_at": tx.now,
            "updated_at": tx.now,
        },
    ).returning(effects.c.id)
    if (await tx.conn.execute(created)).scalar_one_or_none() is not None:
        return EffectBegin(BeginOutcome.NEW, _to_effect(await _locked_effect(tx, key)))
    row = await _locked_effect(tx, key)
    owner = ref_of(row, "record_key")
    if owner != record:
        raise RecordValidationError(
            f"key already belongs to {owner}, not {record}", record=f"effect {key}", field="key"
        )
    status = EffectStatus(row.status)
    if status is EffectStatus.SUCCEEDED:
        return EffectBegin(BeginOutcome.SUCCEEDED, _to_effect(row))
    values: dict[str, Any] = {"attempts": effects.c.attempts + 1, "updated_at": tx.now}
    if status is EffectStatus.FAILED:
        values.update(status=EffectStatus.PENDING.value, intent=scrub(intent), completed_at=None)
    await tx.conn.execute(update(effects).where(effects.c.id == row.id).values(values))
    outcome = BeginOutcome.RETRY if status is EffectStatus.FAILED else BeginOutcome.IN_DOUBT
    return EffectBegin(outcome, _to_effect(await _locked_effect(tx, key)))


async def complete_effect(tx: Tx, key: str, outcome: Json) -> Effect:
    """Confirm the effect; a second confirmation keeps the first outcome."""
    row = await _locked_effect(tx, key)
    if row.status == EffectStatus.SUCCEEDED.value:
        return _to_effect(row)
    await tx.conn.execute(
        update(effects)
        .where(effects.c.id == row.id)
        .values(
            status=EffectStatus.SUCCEEDED.value,
            outcome=scrub(outcome),
            error=None,
            updated_at=tx.now,
            completed_at=tx.now,
        )
    )
    return _to_effect(await _locked_effect(tx, key))


async def fail_effect(tx: Tx, key: str, error: str) -> Effect:
    """Record that the effect certainly did not apply; the next begin retries it."""
    row = await _locked_effect(tx, key)
    if row.status == EffectStatus.SUCCEEDED.value:
        raise RecordValidationError(
            "already succeeded; a confirmed effect cannot fail",
            record=f"effect {key}",
            field="status",
        )
    await tx.conn.execute(
        update(effects)
        .where(effects.c.id == row.id)
        .values(
            status=EffectStatus.FAILED.value,
            error=clean(error),
            updated_at=tx.now,
            completed_at=tx.now,
        )
    )
    return _to_effect(await _locked_effect(tx, key))


async def get_effect(tx: Tx, key: str) -> Effect | None:
    row = await tx.one_or_none(select(effects).where(effects.c.key == key))
    return None if row is None else _to_effect(row)
