"""Statements for what the engine did: the per-record ledger, its history, and effects.

Each function runs inside the caller's :class:`~centrasync.store.sqlcore.Tx`, so the
facade in ``sql.py`` can combine them into one transaction. Writes return the row they
leave behind (``RETURNING``) instead of reading it again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from centrasync.errors import RecordValidationError
from centrasync.store import schema
from centrasync.store.base import (
    Abandon,
    BeginOutcome,
    Effect,
    EffectBegin,
    EffectStatus,
    Json,
    LedgerRecord,
    Move,
    NewRecord,
    RecordKind,
    RecordPage,
    RecordQuery,
    RecordRef,
    Step,
    Transition,
)
from centrasync.store.sqlcore import (
    LEDGER_RECORDS,
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
    "abandon_effects",
    "apply_moves",
    "begin_effect",
    "complete_effect",
    "count_records",
    "effects_of",
    "fail_effect",
    "get_effect",
    "get_record",
    "get_records",
    "history",
    "latest_change",
    "list_records",
    "note",
    "note_effect_error",
    "scan_records",
    "search_records",
    "transition",
    "upsert_record",
]

_RECORDS = LEDGER_RECORDS
_TRANSITIONS = Columns.of(schema.ledger_transitions)
_EFFECTS = Columns.of(schema.effects)
_NEW_RECORD = _RECORDS.insert(
    "store",
    "kind",
    "key",
    "centra_id",
    "wms_id",
    "centra_order",
    "state",
    "attempts",
    "created_at",
    "updated_at",
)
_ADD_STEP = _TRANSITIONS.insert("record_id", "from_state", "to_state", "at", "note")
_NEW_EFFECT = _EFFECTS.insert(
    "key",
    "store",
    "kind",
    "record_key",
    "status",
    "intent",
    "attempts",
    "created_at",
    "updated_at",
)
_STATE_LENGTH = _RECORDS.length("state")
# The record's columns where another table's share names (UPDATE … FROM … RETURNING).
_QUALIFIED_RECORD = ", ".join(f"r.{name}" for name in _RECORDS.names)
_THIS_RECORD = "store = :store AND kind = :kind AND key = :key"
# substr, not LIKE: exact and case-sensitive on both databases, no escaping.
_PREFIXED = "substr(key, 1, :prefix_length) = :key_prefix"


def _to_record(tx: Tx, values: Sequence[Any]) -> LedgerRecord:
    row = _RECORDS.row(values)
    return LedgerRecord(
        ref=RecordRef(row["store"], RecordKind(row["kind"]), row["key"]),
        state=row["state"],
        centra_id=row["centra_id"],
        wms_id=row["wms_id"],
        centra_order=row["centra_order"],
        last_request=tx.loaded(row["last_request"]),
        last_response=tx.loaded(row["last_response"]),
        last_error=row["last_error"],
        attempts=row["attempts"],
        created_at=tx.time(row["created_at"]),
        updated_at=tx.time(row["updated_at"]),
    )


def _to_effect(tx: Tx, values: Sequence[Any]) -> Effect:
    row = _EFFECTS.row(values)
    return Effect(
        key=row["key"],
        record=RecordRef(row["store"], RecordKind(row["kind"]), row["record_key"]),
        status=EffectStatus(row["status"]),
        intent=tx.loaded(row["intent"]),
        outcome=tx.loaded(row["outcome"]),
        error=row["error"],
        attempts=row["attempts"],
        created_at=tx.time(row["created_at"]),
        updated_at=tx.time(row["updated_at"]),
        completed_at=tx.maybe_time(row["completed_at"]),
    )


def _ref_params(ref: RecordRef) -> dict[str, str]:
    return {"store": ref.store, "kind": ref.kind.value, "key": ref.key}


# -- ledger -------------------------------------------------------------------------------


def upsert_record(
    tx: Tx,
    ref: RecordRef,
    *,
    centra_id: str | None,
    wms_id: str | None,
    initial_state: str,
    centra_order: str | None = None,
) -> LedgerRecord:
    """Create the record with its first history step, or fill in ids it lacked.

    The state is deliberately left alone for an existing record: states change only
    through :func:`transition`, so the history stays complete.
    """
    check_ref(ref)
    check_text(initial_state, limit=_STATE_LENGTH, record=str(ref), field="initial_state")
    values = {
        **_ref_params(ref),
        "centra_id": centra_id,
        "wms_id": wms_id,
        "centra_order": centra_order,
        "state": initial_state,
        "attempts": 0,
        "created_at": tx.now,
        "updated_at": tx.now,
    }
    created = tx.one_or_none(
        f"{_NEW_RECORD} ON CONFLICT (store, kind, key) DO NOTHING RETURNING {_RECORDS.listed}",
        values,
    )
    if created is not None:
        _add_step(tx, _RECORDS.row(created)["id"], None, initial_state, "created")
        return _to_record(tx, created)
    if centra_id is None and wms_id is None and centra_order is None:
        found = tx.one_or_none(f"{_RECORDS.select} WHERE {_THIS_RECORD}", values)
    else:
        found = tx.one_or_none(
            "UPDATE ledger_records SET centra_id = COALESCE(:centra_id, centra_id), "
            "wms_id = COALESCE(:wms_id, wms_id), "
            "centra_order = COALESCE(:centra_order, centra_order), updated_at = :updated_at "
            f"WHERE {_THIS_RECORD} RETURNING {_RECORDS.listed}",
            values,
        )
    if found is None:  # only if the row vanished between the two statements
        raise RecordValidationError(
            "record disappeared while upserting", record=str(ref), field="key"
        )
    return _to_record(tx, found)


def transition(tx: Tx, step: Step) -> LedgerRecord:
    """Move the record and append the step to its history in the same transaction.

    ``request``/``response`` replace the stored payloads only when given, and a given
    request counts as one more attempt. ``error`` always replaces the last error, so a
    successful step clears the alert a failed one left. A record in a state outside the
    step's ``only_from`` is returned unchanged.
    """
    ref = step.ref
    check_ref(ref)
    check_text(step.to_state, limit=_STATE_LENGTH, record=str(ref), field="to_state")
    assignments = ["state = :state", "last_error = :error", "updated_at = :now"]
    values: dict[str, Any] = {
        **_ref_params(ref),
        "state": step.to_state,
        "error": clean(step.error),
        "now": tx.now,
        "note": clean(step.note),
    }
    if step.request is not None:
        assignments += ["last_request = :request", "attempts = attempts + 1"]
        values["request"] = dumped(scrub(step.request))
    if step.response is not None:
        assignments.append("last_response = :response")
        values["response"] = dumped(scrub(step.response))
    if tx.postgres:
        moved = _transition_in_one_statement(tx, step, assignments, values)
        if moved is not None:
            return moved
    current = tx.one_or_none(
        f"SELECT id, state FROM ledger_records WHERE {_THIS_RECORD}{tx.for_update}",
        _ref_params(ref),
    )
    if current is None:
        raise RecordValidationError(
            "no such record; call upsert_record first", record=str(ref), field="key"
        )
    record_id, from_state = current
    if step.only_from is not None and from_state not in step.only_from:
        unchanged = tx.rows(f"{_RECORDS.select} WHERE id = :id", {"id": record_id})[0]
        return _to_record(tx, unchanged)
    row = tx.rows(
        f"UPDATE ledger_records SET {', '.join(assignments)} WHERE id = :id "
        f"RETURNING {_RECORDS.listed}",
        {**values, "id": record_id},
    )[0]
    _add_step(tx, record_id, from_state, step.to_state, clean(step.note))
    return _to_record(tx, row)


def _transition_in_one_statement(
    tx: Tx, step: Step, assignments: list[str], values: dict[str, Any]
) -> LedgerRecord | None:
    """PostgreSQL: lock, move and log the step in one round trip instead of three.

    None when nothing moved (no such record, or its state is outside ``only_from``): the
    caller's statement-by-statement path then says which, at the cost it always had.
    """
    only_from = ""
    if step.only_from is not None:
        names = [f"only_{index}" for index in range(len(step.only_from))]
        values.update(zip(names, step.only_from, strict=True))
        only_from = (
            f" AND old.state IN ({', '.join(f':{name}' for name in names)})"
            if names
            else " AND FALSE"
        )
    row = tx.one_or_none(
        f"WITH old AS (SELECT id, state FROM ledger_records WHERE {_THIS_RECORD} FOR UPDATE), "
        f"moved AS (UPDATE ledger_records r SET {', '.join(assignments)} FROM old "
        f"WHERE r.id = old.id{only_from} RETURNING old.state AS from_state, {_QUALIFIED_RECORD}), "
        "step AS (INSERT INTO ledger_transitions (record_id, from_state, to_state, at, note) "
        "SELECT id, from_state, :state, :now, :note FROM moved) "
        f"SELECT {_RECORDS.listed} FROM moved",
        values,
    )
    return None if row is None else _to_record(tx, row)


def note(tx: Tx, ref: RecordRef, note: str, error: str | None) -> bool:
    """A history entry and the last error, the state left as it is; False: no record."""
    check_ref(ref)
    current = tx.one_or_none(
        f"SELECT id, state FROM ledger_records WHERE {_THIS_RECORD}{tx.for_update}",
        _ref_params(ref),
    )
    if current is None:
        return False
    tx.run(
        "UPDATE ledger_records SET last_error = :error, updated_at = :now WHERE id = :id",
        {"id": current[0], "error": clean(error), "now": tx.now},
    )
    _add_step(tx, current[0], current[1], current[1], clean(note))
    return True


def _add_step(
    tx: Tx, record_id: int, from_state: str | None, to_state: str, note: str | None
) -> None:
    tx.run(
        _ADD_STEP,
        {
            "record_id": record_id,
            "from_state": from_state,
            "to_state": to_state,
            "at": tx.now,
            "note": note,
        },
    )


def apply_moves(tx: Tx, moves: Iterable[Move]) -> list[LedgerRecord]:
    """Upsert or transition each record in order; the records as they end up.

    An :class:`Abandon` settles the record's pending effects and adds no record.
    """
    done: list[LedgerRecord] = []
    for move in moves:
        if isinstance(move, Abandon):
            _abandon(
                tx,
                "store = :store AND kind = :kind AND record_key = :record_key",
                {"store": move.ref.store, "kind": move.ref.kind.value, "record_key": move.ref.key},
                move.reason,
            )
        elif isinstance(move, NewRecord):
            done.append(
                upsert_record(
                    tx,
                    move.ref,
                    centra_id=move.centra_id,
                    wms_id=move.wms_id,
                    initial_state=move.initial_state,
                    centra_order=move.centra_order,
                )
            )
        else:
            done.append(transition(tx, move))
    return done


def get_record(tx: Tx, ref: RecordRef) -> LedgerRecord | None:
    row = tx.one_or_none(f"{_RECORDS.select} WHERE {_THIS_RECORD}", _ref_params(ref))
    return None if row is None else _to_record(tx, row)


def get_records(tx: Tx, refs: Iterable[RecordRef]) -> dict[RecordRef, LedgerRecord]:
    """The existing records among ``refs``, read with one query per store, kind and 500 keys."""
    keys: dict[tuple[str, RecordKind], list[str]] = defaultdict(list)
    for ref in dict.fromkeys(refs):
        keys[ref.store, ref.kind].append(ref.key)
    found: dict[RecordRef, LedgerRecord] = {}
    for (store, kind), wanted in keys.items():
        for placeholders, params in in_chunks(wanted, "k"):
            rows = tx.rows(
                f"{_RECORDS.select} "
                f"WHERE store = :store AND kind = :kind AND key IN ({placeholders})",
                {"store": store, "kind": kind.value, **params},
            )
            for row in rows:
                record = _to_record(tx, row)
                found[record.ref] = record
    return found


def list_records(
    tx: Tx,
    store: str,
    *,
    kind: RecordKind | None,
    state: str | None,
    limit: int,
    key_prefix: str | None = None,
) -> list[LedgerRecord]:
    """Most recently changed first, which is what an operator looks for."""
    conditions = ["store = :store"]
    params: dict[str, Any] = {"store": store, "limit": limit}
    if key_prefix is not None:
        conditions.append(_PREFIXED)
        params["key_prefix"] = key_prefix
        params["prefix_length"] = len(key_prefix)
    if kind is not None:
        conditions.append("kind = :kind")
        params["kind"] = kind.value
    if state is not None:
        conditions.append("state = :state")
        params["state"] = state
    rows = tx.rows(
        f"{_RECORDS.select} WHERE {' AND '.join(conditions)} "
        "ORDER BY updated_at DESC, id DESC LIMIT :limit",
        params,
    )
    return [_to_record(tx, row) for row in rows]


def _in_states(states: Sequence[str]) -> tuple[str, dict[str, str]]:
    """`` AND state IN (…)`` and its parameters; ``states`` must not be empty."""
    names = [f"s{index}" for index in range(len(states))]
    placeholders = ", ".join(f":{name}" for name in names)
    return f" AND state IN ({placeholders})", dict(zip(names, states, strict=True))


def scan_records(
    tx: Tx,
    store: str,
    kind: RecordKind,
    states: Sequence[str],
    after_key: str | None,
    key_prefix: str | None,
    limit: int,
) -> list[LedgerRecord]:
    """Key order, so the last key of a page is where the next one starts."""
    if not states:
        return []
    more, in_params = _in_states(states)
    params: dict[str, Any] = {**in_params, "store": store, "kind": kind.value, "limit": limit}
    key = tx.unindexed("key")
    if after_key is not None:
        more += f" AND {key} > :after_key"
        params["after_key"] = after_key
    if key_prefix is not None:
        more += f" AND {_PREFIXED}"
        params |= {"key_prefix": key_prefix, "prefix_length": len(key_prefix)}
    rows = tx.rows(
        f"{_RECORDS.select} WHERE store = :store AND kind = :kind{more} "
        f"ORDER BY {key} LIMIT :limit",
        params,
    )
    return [_to_record(tx, row) for row in rows]


def count_records(
    tx: Tx, store: str, kind: RecordKind, states: Sequence[str] | None
) -> dict[str, int]:
    if states is not None and not states:
        return {}
    more, params = ("", {}) if states is None else _in_states(states)
    rows = tx.rows(
        "SELECT state, count(*) FROM ledger_records WHERE store = :store AND kind = :kind"
        f"{more} GROUP BY state",
        {**params, "store": store, "kind": kind.value},
    )
    return {str(row[0]): int(row[1]) for row in rows}


# Records whose key is a SKU: what the console's SKU search looks among.
_SKU_KINDS = (RecordKind.ARTICLE.value, RecordKind.STOCK.value)


def search_records(tx: Tx, query: RecordQuery, after: str | None, limit: int) -> RecordPage:
    """Newest change first, paged by ``(updated_at, id)``: a page starts where the last
    ended, on the (updated_at, id) index, so no page costs more than its own rows."""
    conditions: list[str] = []
    params: dict[str, Any] = {"limit": limit + 1}
    for column in ("store", "state", "wms_id"):
        value = getattr(query, column)
        if value is not None:
            conditions.append(f"{column} = :{column}")
            params[column] = value
    if query.kind is not None:
        conditions.append("kind = :kind")
        params["kind"] = query.kind.value
    if query.states:
        more, in_params = _in_states(sorted(query.states))
        conditions.append(more.removeprefix(" AND "))
        params |= in_params
    if query.stores and query.store is None and query.kind is not None:
        names = [f"st{index}" for index in range(len(query.stores))]
        conditions.append(f"store IN ({', '.join(f':{name}' for name in names)})")
        params |= dict(zip(names, query.stores, strict=True))
    if query.number is not None:
        # Two index lookups joined, rather than an OR that SQLite answers with a scan.
        conditions.append(
            "id IN (SELECT id FROM ledger_records WHERE key = :number "
            "UNION SELECT id FROM ledger_records WHERE centra_order = :number)"
        )
        params["number"] = query.number
    if query.sku is not None:
        conditions.append("kind IN (:sku_kind_0, :sku_kind_1) AND key = :sku")
        params |= {"sku": query.sku, "sku_kind_0": _SKU_KINDS[0], "sku_kind_1": _SKU_KINDS[1]}
    if query.since is not None:
        conditions.append("updated_at >= :since")
        params["since"] = query.since
    if query.until is not None:
        conditions.append("updated_at < :until")
        params["until"] = query.until
    if after is not None:
        params["after_at"], params["after_id"] = _position(after)
        conditions.append("(updated_at, id) < (:after_at, :after_id)")
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    rows = tx.rows(
        f"{_RECORDS.select}{where} ORDER BY updated_at DESC, id DESC LIMIT :limit", params
    )
    records = [_to_record(tx, row) for row in rows[:limit]]
    if len(rows) <= limit:
        return RecordPage(records, None)
    last = _RECORDS.row(rows[limit - 1])
    return RecordPage(records, f"{tx.time(last['updated_at']).isoformat()}|{last['id']}")


def _position(after: str) -> tuple[datetime, int]:
    """A page's start as :func:`search_records` wrote it; anything else is refused."""
    moment, _, record_id = after.partition("|")
    try:
        at = datetime.fromisoformat(moment)
        number = int(record_id)
    except ValueError:
        raise RecordValidationError(
            "not a page position", record=f"page {after[:40]!r}", field="after"
        ) from None
    if at.tzinfo is None:
        raise RecordValidationError(
            "not a page position", record=f"page {after[:40]!r}", field="after"
        )
    return at, number


def latest_change(
    tx: Tx, store: str, kind: RecordKind, excluding: Collection[str]
) -> datetime | None:
    """Walks the (updated_at, id) index from the newest end until a row qualifies."""
    params: dict[str, Any] = {"store": store, "kind": kind.value}
    more = ""
    if excluding:
        names = [f"x{index}" for index in range(len(excluding))]
        more = f" AND state NOT IN ({', '.join(f':{name}' for name in names)})"
        params |= dict(zip(names, sorted(excluding), strict=True))
    row = tx.one_or_none(
        "SELECT updated_at FROM ledger_records WHERE store = :store AND kind = :kind"
        f"{more} ORDER BY updated_at DESC, id DESC LIMIT 1",
        params,
    )
    return None if row is None else tx.time(row[0])


def effects_of(tx: Tx, record: RecordRef) -> list[Effect]:
    rows = tx.rows(
        f"{_EFFECTS.select} WHERE store = :store AND kind = :kind AND record_key = :key "
        "ORDER BY id",
        _ref_params(record),
    )
    return [_to_effect(tx, row) for row in rows]


def history(tx: Tx, ref: RecordRef) -> list[Transition]:
    rows = tx.rows(
        "SELECT t.from_state, t.to_state, t.at, t.note FROM ledger_transitions t "
        "JOIN ledger_records r ON r.id = t.record_id "
        "WHERE r.store = :store AND r.kind = :kind AND r.key = :key ORDER BY t.id",
        _ref_params(ref),
    )
    return [Transition(row[0], row[1], tx.time(row[2]), row[3]) for row in rows]


# -- effects ------------------------------------------------------------------------------


def _locked_effect(tx: Tx, key: str) -> Effect:
    row = tx.one_or_none(f"{_EFFECTS.select} WHERE key = :key{tx.for_update}", {"key": key})
    if row is None:
        raise RecordValidationError(
            "no such effect; call begin_effect first", record=f"effect {key}", field="key"
        )
    return _to_effect(tx, row)


def _update_effect(tx: Tx, key: str, assignments: str, values: dict[str, Any]) -> Effect:
    row = tx.rows(
        f"UPDATE effects SET {assignments}, updated_at = :now WHERE key = :key "
        f"RETURNING {_EFFECTS.listed}",
        {**values, "key": key, "now": tx.now},
    )[0]
    return _to_effect(tx, row)


def begin_effect(tx: Tx, key: str, record: RecordRef, intent: Json) -> EffectBegin:
    """Record the intent before the remote call; the answer says whether to make it.

    A pending effect found here was begun by a run that never confirmed it, so its
    original intent is kept: that is what the remote side may have applied. A key
    reused for a different record is refused, since it would make one record's effect
    look applied for another. Beginning counts no attempt: only an attempt known to have
    failed does (:func:`fail_effect`, :func:`note_effect_error`), so restarts of a process
    that died mid-call never add up to giving up on a call that may well have landed.
    """
    check_text(key, limit=_EFFECTS.length("key"), record=f"effect {key}", field="key")
    check_ref(record)
    created = tx.one_or_none(
        f"{_NEW_EFFECT} ON CONFLICT (key) DO NOTHING RETURNING {_EFFECTS.listed}",
        {
            "key": key,
            "store": record.store,
            "kind": record.kind.value,
            "record_key": record.key,
            "status": EffectStatus.PENDING.value,
            "intent": dumped(scrub(intent)),
            "attempts": 0,
            "created_at": tx.now,
            "updated_at": tx.now,
        },
    )
    if created is not None:
        return EffectBegin(BeginOutcome.NEW, _to_effect(tx, created))
    found = _locked_effect(tx, key)
    if found.record != record:
        raise RecordValidationError(
            f"key already belongs to {found.record}, not {record}",
            record=f"effect {key}",
            field="key",
        )
    if found.status is EffectStatus.SUCCEEDED:
        return EffectBegin(BeginOutcome.SUCCEEDED, found)
    if found.status is EffectStatus.ABANDONED:
        # Never confirmed: it may have applied, so it is in doubt again.
        revived = _update_effect(
            tx,
            key,
            "status = :status, completed_at = NULL",
            {"status": EffectStatus.PENDING.value},
        )
        return EffectBegin(BeginOutcome.IN_DOUBT, revived)
    if found.status is EffectStatus.FAILED:
        retried = _update_effect(
            tx,
            key,
            "status = :status, intent = :intent, completed_at = NULL",
            {"status": EffectStatus.PENDING.value, "intent": dumped(scrub(intent))},
        )
        return EffectBegin(BeginOutcome.RETRY, retried)
    return EffectBegin(BeginOutcome.IN_DOUBT, found)


def complete_effect(tx: Tx, key: str, outcome: Json) -> Effect:
    """Confirm the effect; a second confirmation keeps the first outcome.

    The update goes first and names the status it may replace, so the usual case is one
    statement; only when it changes nothing is the effect read, to tell why.
    """
    confirmed = tx.one_or_none(
        "UPDATE effects SET status = :status, outcome = :outcome, error = NULL, "
        "completed_at = :now, updated_at = :now WHERE key = :key AND status <> :status "
        f"RETURNING {_EFFECTS.listed}",
        {
            "key": key,
            "status": EffectStatus.SUCCEEDED.value,
            "outcome": dumped(scrub(outcome)),
            "now": tx.now,
        },
    )
    if confirmed is not None:
        return _to_effect(tx, confirmed)
    return _locked_effect(tx, key)


def fail_effect(tx: Tx, key: str, error: str, counted: bool) -> Effect:
    """Record that the effect certainly did not apply; the next begin retries it.

    A confirmed effect stays confirmed: a refusal after another holder applied it (the
    remote side refusing a repeat) says nothing against what was applied.
    """
    found = _locked_effect(tx, key)
    if found.status is EffectStatus.SUCCEEDED:
        return found
    count = ", attempts = attempts + 1" if counted else ""
    return _update_effect(
        tx,
        key,
        f"status = :status, error = :error, completed_at = :now{count}",
        {"status": EffectStatus.FAILED.value, "error": clean(error)},
    )


def note_effect_error(tx: Tx, key: str, error: str) -> Effect:
    """A retryable error ended an attempt: still in doubt, one more attempt counted."""
    found = _locked_effect(tx, key)
    if found.status is not EffectStatus.PENDING:
        return found
    return _update_effect(
        tx, key, "error = :error, attempts = attempts + 1", {"error": clean(error)}
    )


def abandon_effects(tx: Tx, store: str, kind: RecordKind, key_prefix: str, reason: str) -> int:
    return _abandon(
        tx,
        "store = :store AND kind = :kind AND substr(key, 1, :prefix_length) = :key_prefix",
        {
            "store": store,
            "kind": kind.value,
            "key_prefix": key_prefix,
            "prefix_length": len(key_prefix),
        },
        reason,
    )


def _abandon(tx: Tx, which: str, params: dict[str, Any], reason: str) -> int:
    return tx.run(
        "UPDATE effects SET status = :abandoned, error = :reason, completed_at = :now, "
        f"updated_at = :now WHERE status = :pending AND {which}",
        {
            **params,
            "abandoned": EffectStatus.ABANDONED.value,
            "pending": EffectStatus.PENDING.value,
            "reason": clean(reason),
            "now": tx.now,
        },
    )


def get_effect(tx: Tx, key: str) -> Effect | None:
    row = tx.one_or_none(f"{_EFFECTS.select} WHERE key = :key", {"key": key})
    return None if row is None else _to_effect(tx, row)
