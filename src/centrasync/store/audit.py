"""Statements for the audit log: what operators did in the console, who and when.

Entries are only ever added; the text is cleaned like every other free text the store
keeps, so a secret an operator pasted into a field never lands in the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from centrasync.store import schema
from centrasync.store.base import AuditEntry
from centrasync.store.sqlcore import Columns, Tx, check_text, clean

__all__ = ["add_audit", "list_audit"]

_AUDIT = Columns.of(schema.audit_log)
_NEW_ENTRY = _AUDIT.insert("at", "who", "action", "target", "detail")


def _to_entry(tx: Tx, values: Sequence[Any]) -> AuditEntry:
    row = _AUDIT.row(values)
    return AuditEntry(
        id=row["id"],
        at=tx.time(row["at"]),
        who=row["who"],
        action=row["action"],
        target=row["target"],
        detail=row["detail"],
    )


def add_audit(tx: Tx, who: str, action: str, target: str, detail: str | None) -> AuditEntry:
    record = f"audit {action} {target}"
    for field, value in (("who", who), ("action", action), ("target", target)):
        check_text(value, limit=_AUDIT.length(field), record=record, field=field)
    row = tx.rows(
        f"{_NEW_ENTRY} RETURNING {_AUDIT.listed}",
        {
            "at": tx.now,
            "who": who,
            "action": action,
            "target": clean(target),
            "detail": clean(detail),
        },
    )[0]
    return _to_entry(tx, row)


def list_audit(tx: Tx, target: str | None, limit: int) -> list[AuditEntry]:
    if target is None:
        rows = tx.rows(f"{_AUDIT.select} ORDER BY id DESC LIMIT :limit", {"limit": limit})
    else:
        rows = tx.rows(
            f"{_AUDIT.select} WHERE target = :target ORDER BY id DESC LIMIT :limit",
            {"target": target, "limit": limit},
        )
    return [_to_entry(tx, row) for row in rows]
