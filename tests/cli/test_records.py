"""``records``, ``dead`` and ``retry`` on a SQLite state store filled through its API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest
from typer.testing import CliRunner, Result

from centrasync.cli import app
from centrasync.store import DeadLetter, RecordKind, RecordRef, StateStore
from centrasync.store.base import LedgerRecord, Transition
from centrasync.store.sql import open_store

T = TypeVar("T")
runner = CliRunner()

SENT = RecordRef("se", RecordKind.SHIPMENT, "1001-1")
FAILED = RecordRef("se", RecordKind.SHIPMENT, "1002-1")
WEBHOOK = RecordRef("se", RecordKind.ORDER, "webhook-5")
US_FAILED = RecordRef("us", RecordKind.SHIPMENT, "2001-1")
US_DONE = RecordRef("us", RecordKind.SHIPMENT, "2002-1")


def on_store(path: Path, work: Callable[[StateStore], Awaitable[T]]) -> T:
    async def run() -> T:
        state = await open_store(f"sqlite+aiosqlite:///{path}")
        try:
            return await work(state)
        finally:
            await state.close()

    return asyncio.run(run())


async def fill(state: StateStore) -> None:
    await state.upsert_record(SENT, centra_id="1001-1", wms_id="7")
    await state.transition(
        SENT,
        "sent",
        note="WMS order created",
        request={"orderNumber": "1001-1", "orderLines": [{"articleNumber": "SKU-1"}]},
        response={"wms_id": "7"},
    )
    for ref in (FAILED, US_FAILED):
        await state.upsert_record(ref, centra_id=ref.key)
        await state.transition(
            ref, "failed", note="attempt limit reached", error="ongoing PUT orders: HTTP 503"
        )
        await state.park(ref, f"{ref} kept failing: HTTP 503", {"shipment": ref.key})
    await state.upsert_record(WEBHOOK, initial_state="parked")
    await state.park(WEBHOOK, "webhook event kept failing after 8 attempts", {"inbox_id": 5})
    await state.upsert_record(US_DONE, centra_id="2002-1")
    await state.transition(US_DONE, "completed", note="shipment completed")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "state.sqlite"
    on_store(path, fill)
    return path


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args), env={"COLUMNS": "250"})


def record(db: Path, ref: RecordRef) -> LedgerRecord:
    async def get(state: StateStore) -> LedgerRecord:
        found = await state.get_record(ref)
        assert found is not None
        return found

    return on_store(db, get)


def history(db: Path, ref: RecordRef) -> list[Transition]:
    async def get(state: StateStore) -> list[Transition]:
        return await state.history(ref)

    return on_store(db, get)


def open_dead(db: Path, store: str) -> list[DeadLetter]:
    async def get(state: StateStore) -> list[DeadLetter]:
        return await state.list_dead(store)

    return on_store(db, get)


def listed_keys(result: Result) -> set[str]:
    keys = set()
    for line in result.stdout.splitlines():
        cells = [cell.strip() for cell in line.split("│")]
        if len(cells) > 3 and cells[1] in ("se", "us"):
            keys.add(f"{cells[1]}/{cells[2]}/{cells[3]}")
    return keys


# -- records ------------------------------------------------------------------------------


def test_records_lists_every_store_by_default(db: Path) -> None:
    result = invoke("records", "--database", str(db))

    assert result.exit_code == 0, result.output
    assert listed_keys(result) == {str(r) for r in (SENT, FAILED, WEBHOOK, US_FAILED, US_DONE)}
    assert "HTTP 503" in result.stdout
    assert "5 record(s)" in result.stdout


def test_records_filters_by_store_kind_and_state(db: Path) -> None:
    result = invoke(
        "records", "--database", str(db), "--store", "se", "--kind", "shipment", "--state", "failed"
    )

    assert result.exit_code == 0, result.output
    assert listed_keys(result) == {str(FAILED)}


def test_records_finds_the_database_through_the_config_without_store_secrets(
    db: Path, tmp_path: Path
) -> None:
    config = tmp_path / "centrasync.toml"
    config.write_text(f'[engine]\ndatabase_url = "sqlite+aiosqlite:///{db}"\n', encoding="utf-8")

    result = invoke("records", "--config", str(config), "--limit", "2")

    assert result.exit_code == 0, result.output
    assert len(listed_keys(result)) == 2


def test_records_refuses_an_unknown_kind(db: Path) -> None:
    result = invoke("records", "--database", str(db), "--kind", "parcel")

    assert result.exit_code == 2
    assert "unknown kind 'parcel'" in result.stderr


def test_a_missing_database_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nope.sqlite"
    result = invoke("records", "--database", str(missing))

    assert result.exit_code == 1
    assert f"no state store at {missing}" in result.stderr
    assert not missing.exists()


def test_records_show_prints_history_payloads_and_dead_letters(db: Path) -> None:
    sent = invoke("records", "show", str(SENT), "--database", str(db))
    failed = invoke("records", "show", str(FAILED), "--database", str(db))

    assert sent.exit_code == 0, sent.output
    assert '"articleNumber": "SKU-1"' in sent.stdout
    assert '"wms_id": "7"' in sent.stdout
    assert "WMS order created" in sent.stdout
    assert "open dead letters: none" in sent.stdout
    assert failed.exit_code == 0, failed.output
    assert "attempt limit reached" in failed.stdout
    assert "se/shipment/1002-1 kept failing: HTTP 503" in failed.stdout
    assert '"shipment": "1002-1"' in failed.stdout


def test_records_show_of_an_unknown_record_names_it(db: Path) -> None:
    result = invoke("records", "show", "se/shipment/9999-1", "--database", str(db))

    assert result.exit_code == 1
    assert "se/shipment/9999-1: field 'key': no such record" in result.stderr


def test_a_malformed_reference_names_the_field(db: Path) -> None:
    bad_kind = invoke("records", "show", "se/parcel/1", "--database", str(db))
    too_short = invoke("records", "show", "se/1001-1", "--database", str(db))

    assert bad_kind.exit_code == 1
    assert "se/parcel/1: field 'kind': unknown kind 'parcel'" in bad_kind.stderr
    assert too_short.exit_code == 1
    assert "field 'reference'" in too_short.stderr


# -- dead ---------------------------------------------------------------------------------


def test_dead_lists_open_dead_letters_and_all_with_resolved(db: Path) -> None:
    invoke("retry", str(FAILED), "--database", str(db))

    open_only = invoke("dead", "--database", str(db))
    everything = invoke("dead", "--database", str(db), "--all")
    us_only = invoke("dead", "--database", str(db), "--store", "us")

    assert open_only.exit_code == 0, open_only.output
    assert str(WEBHOOK) in open_only.stdout
    assert str(US_FAILED) in open_only.stdout
    assert str(FAILED) not in open_only.stdout
    assert str(FAILED) in everything.stdout
    assert str(WEBHOOK) not in us_only.stdout


# -- retry --------------------------------------------------------------------------------


def test_retry_resolves_dead_letters_and_hands_the_record_back(db: Path) -> None:
    result = invoke("retry", str(FAILED), "--database", str(db))

    assert result.exit_code == 0, result.output
    assert "se/shipment/1002-1: failed → retry" in result.stdout
    assert record(db, FAILED).state == "retry"
    last = history(db, FAILED)[-1]
    assert (last.from_state, last.to_state, last.note) == ("failed", "retry", "retry requested")
    assert [entry.record for entry in open_dead(db, "se")] == [WEBHOOK]
    logged = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert {"event": "retry requested", "record": str(FAILED)}.items() <= logged[-1].items()
    # The console's audit log shows retries from the shell too, under the shell's user.
    [entry] = on_store(db, lambda state: state.list_audit(target=str(FAILED)))
    assert entry.who.startswith("cli")
    assert (entry.action, entry.detail) == ("retry", "failed -> retry (dead letters resolved: 1)")


def test_retrying_twice_does_not_repeat_the_history(db: Path) -> None:
    invoke("retry", str(FAILED), "--database", str(db))
    again = invoke("retry", str(FAILED), "--database", str(db))

    assert again.exit_code == 0, again.output
    assert "already waiting for retry" in again.stdout
    assert [step.to_state for step in history(db, FAILED)].count("retry") == 1


def test_retry_dead_moves_every_dead_lettered_shipment(db: Path) -> None:
    result = invoke("retry", "--dead", "--database", str(db))

    assert record(db, FAILED).state == "retry"
    assert record(db, US_FAILED).state == "retry"
    assert open_dead(db, "us") == []
    # Nothing re-drives a webhook record: it stays parked for a person, and says so.
    assert [entry.record for entry in open_dead(db, "se")] == [WEBHOOK]
    assert record(db, WEBHOOK).state == "parked"
    assert "skipped se/order/webhook-5: field 'kind'" in result.stdout
    assert result.exit_code == 1


def test_retry_dead_of_one_store_leaves_the_others(db: Path) -> None:
    result = invoke("retry", "--dead", "--store", "us", "--database", str(db))

    assert result.exit_code == 0, result.output
    assert record(db, US_FAILED).state == "retry"
    assert record(db, FAILED).state == "failed"


def test_retry_of_an_unknown_record_names_it(db: Path) -> None:
    result = invoke("retry", "se/shipment/9999-1", "--database", str(db))

    assert result.exit_code == 1
    assert "se/shipment/9999-1: field 'key': no such record" in result.stderr


def test_retry_of_a_finished_record_is_refused(db: Path) -> None:
    result = invoke("retry", str(US_DONE), "--database", str(db))

    assert result.exit_code == 1
    assert "us/shipment/2002-1: field 'state': is completed" in result.stderr
    assert record(db, US_DONE).state == "completed"


def test_retry_needs_exactly_one_of_a_record_or_dead(db: Path) -> None:
    neither = invoke("retry", "--database", str(db))
    both = invoke("retry", str(FAILED), "--dead", "--database", str(db))
    store_alone = invoke("retry", str(FAILED), "--store", "se", "--database", str(db))

    assert (neither.exit_code, both.exit_code, store_alone.exit_code) == (2, 2, 2)
    assert record(db, FAILED).state == "failed"
