"""Reading the ledger and asking for retries: what ``records``, ``dead`` and ``retry`` do.

A retry does not call anything remote. It resolves the record's open dead letters and
moves the record to ``retry`` in one transaction; the engine's worker picks records in
that state up and re-drives them from wherever their effects say they stand, so a step
that already succeeded is not repeated.
"""

from __future__ import annotations

import getpass
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import structlog
from pydantic import ValidationError

from centrasync.config import EngineSettings
from centrasync.errors import ConfigError, RecordValidationError
from centrasync.runtime import open_state
from centrasync.store import (
    DeadLetter,
    DeadLetterStore,
    LedgerRecord,
    RecordKind,
    RecordRef,
    StateStore,
    Transition,
)
from centrasync.store.engine import locate
from centrasync.sync.shipments import ShipmentState

__all__ = [
    "RecordView",
    "RetryDone",
    "Skipped",
    "cli_operator",
    "database_url_from_config",
    "list_dead_letters",
    "open_existing_store",
    "parse_ref",
    "retry_dead",
    "retry_record",
    "retry_records",
    "retry_refusal",
    "store_url",
    "view_record",
]

_log = structlog.get_logger(__name__)

# Only the shipment, article and stock flows look for records in ``retry``;
# moving any other kind there would resolve its dead letter and then do nothing.
REDRIVEN_KINDS = frozenset({RecordKind.SHIPMENT, RecordKind.ARTICLE, RecordKind.STOCK})
_FINISHED = frozenset({ShipmentState.COMPLETED, ShipmentState.CANCELLED})
RETRY_NOTE = "retry requested"


def parse_ref(text: str) -> RecordRef:
    """``store/kind/key``, split on the first two slashes so a key may contain more."""
    parts = text.split("/", 2)
    if len(parts) != 3 or not all(parts):
        raise RecordValidationError(
            "expected store/kind/key, e.g. se/shipment/1001-1", record=text, field="reference"
        )
    store, kind, key = parts
    try:
        return RecordRef(store, RecordKind(kind), key)
    except ValueError:
        known = ", ".join(k.value for k in RecordKind)
        raise RecordValidationError(
            f"unknown kind {kind!r} (one of {known})", record=text, field="kind"
        ) from None


def database_url_from_config(path: Path) -> str:
    """The ``[engine] database_url`` of a configuration file, reading nothing else.

    The ledger commands only need the database, and the shell an operator runs them in
    often lacks the stores' secrets, which loading the whole file would demand.
    """
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"configuration file {path} not found (or point at a state store with --database)"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return EngineSettings.model_validate(document.get("engine", {})).database_url
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"engine.{where}: {first['msg']}") from None


def store_url(value: str) -> str:
    """A database URL as given, or a bare file path read as a SQLite file."""
    if "://" in value:
        return value
    return f"sqlite+aiosqlite:///{Path(value).expanduser().resolve()}"


async def open_existing_store(url: str) -> StateStore:
    """Open the state store, refusing to create a SQLite file that is not there.

    Reading an empty, just-created database would only say "no records" about a path
    that is most likely mistyped.
    """
    missing = locate(url).missing_file
    if missing is not None:
        raise ConfigError(f"no state store at {missing} (serve or demo creates it)")
    return await open_state(url)


@dataclass(frozen=True, slots=True)
class RecordView:
    record: LedgerRecord
    history: list[Transition]
    dead_letters: list[DeadLetter]


async def view_record(state: StateStore, ref: RecordRef) -> RecordView:
    record = await state.get_record(ref)
    if record is None:
        raise RecordValidationError(
            "no such record in the state store", record=str(ref), field="key"
        )
    return RecordView(record, await state.history(ref), await state.dead_letters_of(ref))


async def list_dead_letters(
    state: DeadLetterStore, stores: Sequence[str], *, include_resolved: bool, limit: int
) -> list[DeadLetter]:
    """Every store's dead letters, newest first; ``limit`` applies per store."""
    entries: list[DeadLetter] = []
    for store in stores:
        entries.extend(await state.list_dead(store, include_resolved=include_resolved, limit=limit))
    return sorted(entries, key=lambda entry: (entry.parked_at, entry.id), reverse=True)


@dataclass(frozen=True, slots=True)
class RetryDone:
    ref: RecordRef
    from_state: str
    resolved: tuple[int, ...]
    already_waiting: bool


def cli_operator() -> str:
    """Who runs an operations command from the shell, as the audit log names them."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def retry_refusal(record: LedgerRecord) -> str | None:
    """Why :func:`retry_record` would refuse ``record``, or ``None`` when it would not.

    The console shows it before an operator confirms, from the same rule the retry uses.
    """
    if record.ref.kind not in REDRIVEN_KINDS:
        return (
            f"the engine re-drives only {', '.join(sorted(REDRIVEN_KINDS))} records; "
            "this one needs a person"
        )
    if record.state in _FINISHED:
        return f"is {record.state}; there is nothing left to retry"
    return None


async def retry_record(
    state: StateStore, ref: RecordRef, *, by: str | None = None, action: str = "retry"
) -> RetryDone:
    """Resolve the record's open dead letters and move it to ``retry``, atomically.

    A record already in ``retry`` is left as it is (its dead letters are still resolved),
    so running the command twice does not double the history. ``by`` names who asked
    (an operator, ``cli:<user>``): the request is written to the audit log as ``action``
    in the same transaction.
    """
    record = await state.get_record(ref)
    if record is None:
        raise RecordValidationError(
            "no such record in the state store", record=str(ref), field="key"
        )
    refusal = retry_refusal(record)
    if refusal is not None:
        field = "kind" if ref.kind not in REDRIVEN_KINDS else "state"
        raise RecordValidationError(refusal, record=str(ref), field=field)
    already = record.state == ShipmentState.RETRY
    async with state.transaction() as tx:
        entries = await tx.dead_letters_of(ref)
        for entry in entries:
            await tx.resolve_dead(entry.id)
        if not already:
            await tx.transition(ref, ShipmentState.RETRY, note=RETRY_NOTE)
        if by is not None:
            resolved_ids = ", ".join(str(entry.id) for entry in entries) or "none"
            await tx.add_audit(
                by,
                action,
                str(ref),
                f"{record.state} -> retry (dead letters resolved: {resolved_ids})",
            )
    resolved = tuple(entry.id for entry in entries)
    _log.info("retry requested", record=str(ref), from_state=record.state, resolved=resolved, by=by)
    return RetryDone(ref, record.state, resolved, already)


@dataclass(frozen=True, slots=True)
class Skipped:
    ref: RecordRef
    reason: str


async def retry_dead(
    state: StateStore, stores: Sequence[str], *, by: str | None = None
) -> tuple[list[RetryDone], list[Skipped]]:
    """:func:`retry_record` for every record with an open dead letter in ``stores``."""
    refs = [ref for store in stores for ref in await state.dead_records(store)]
    return await retry_records(state, refs, by=by)


async def retry_records(
    state: StateStore, refs: Sequence[RecordRef], *, by: str | None = None, action: str = "retry"
) -> tuple[list[RetryDone], list[Skipped]]:
    """:func:`retry_record` for each of ``refs``; those it refuses are skipped, with why."""
    done: list[RetryDone] = []
    skipped: list[Skipped] = []
    for ref in refs:
        try:
            done.append(await retry_record(state, ref, by=by, action=action))
        except RecordValidationError as exc:
            skipped.append(Skipped(ref, exc.message))
    return done, skipped
