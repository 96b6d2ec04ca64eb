"""Rich tables for the operations commands; every function prints to the console it is given."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from rich.console import Console
from rich.table import Table

from centrasync.store import DeadLetter, Json, LedgerRecord

from .check import CheckResult, Outcome
from .records import RecordView

__all__ = ["print_checks", "print_dead_letters", "print_record", "print_records"]

_ERROR_WIDTH = 80
_STYLE = {Outcome.OK: "green", Outcome.WARN: "yellow", Outcome.FAIL: "bold red"}


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _short(text: str | None) -> str:
    if not text:
        return ""
    line = text.splitlines()[0]
    return line if len(line) <= _ERROR_WIDTH else line[: _ERROR_WIDTH - 1] + "…"


def print_checks(console: Console, results: Sequence[CheckResult]) -> None:
    table = Table("store", "system", "result", "detail", title="centrasync check")
    for result in results:
        outcome = f"[{_STYLE[result.outcome]}]{result.outcome.value}[/]"
        table.add_row(result.store, result.system, outcome, result.detail)
    console.print(table)


def print_records(console: Console, records: Sequence[LedgerRecord]) -> None:
    table = Table(
        "store", "kind", "key", "state", "centra id", "wms id", "attempts", "updated", "last error"
    )
    for record in records:
        table.add_row(
            record.ref.store,
            record.ref.kind.value,
            record.ref.key,
            record.state,
            record.centra_id or "",
            record.wms_id or "",
            str(record.attempts),
            _when(record.updated_at),
            _short(record.last_error),
        )
    console.print(table)
    console.print(f"{len(records)} record(s)")


def _payload(console: Console, title: str, payload: Json) -> None:
    console.print(f"[bold]{title}[/]")
    if payload is None:
        console.print("  (none)")
    else:
        console.print_json(json.dumps(payload))


def print_record(console: Console, view: RecordView) -> None:
    record = view.record
    summary = Table.grid(padding=(0, 2))
    for label, value in (
        ("record", str(record.ref)),
        ("state", record.state),
        ("centra id", record.centra_id or ""),
        ("wms id", record.wms_id or ""),
        ("attempts", str(record.attempts)),
        ("created", _when(record.created_at)),
        ("updated", _when(record.updated_at)),
        ("last error", record.last_error or ""),
    ):
        summary.add_row(f"[bold]{label}[/]", value)
    console.print(summary)

    history = Table("from", "to", "at", "note", title="history")
    for step in view.history:
        history.add_row(step.from_state or "", step.to_state, _when(step.at), step.note or "")
    console.print(history)

    _payload(console, "last request", record.last_request)
    _payload(console, "last response", record.last_response)

    if not view.dead_letters:
        console.print("[bold]open dead letters[/]: none")
        return
    print_dead_letters(console, view.dead_letters, title="open dead letters")
    for entry in view.dead_letters:
        _payload(console, f"dead letter {entry.id} payload", entry.payload)


def print_dead_letters(
    console: Console, entries: Sequence[DeadLetter], *, title: str = "dead letters"
) -> None:
    table = Table("id", "record", "reason", "parked at", "resolved", title=title)
    for entry in entries:
        table.add_row(
            str(entry.id),
            str(entry.record),
            entry.reason,
            _when(entry.parked_at),
            _when(entry.resolved_at) or "no",
        )
    console.print(table)
