"""``centrasync demo`` end to end: real uvicorn servers, the engine and a fresh SQLite file."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from centrasync.cli import app
from centrasync.emulators.centra import CentraEmulator
from centrasync.store import RecordKind, RecordRef, open_store
from centrasync.sync.shipments import ShipmentState

runner = CliRunner()
SEED = CentraEmulator(seed="demo").seed_summary
DECLINED = SEED["capture_declines"]["shipment"]
CANCELLED = SEED["to_cancel"]["shipment"]
SHORT = SEED["short_pick"]["shipment"]


@dataclass(frozen=True)
class Ledger:
    states: dict[str, str]
    short_path: list[str]
    dead: list[str]


async def read_ledger(database: Path) -> Ledger:
    state = await open_store(f"sqlite+aiosqlite:///{database}")
    try:
        states = {}
        for store in ("wms", "wms-us"):
            for record in await state.list_records(store, kind=RecordKind.SHIPMENT, limit=1000):
                states[record.ref.key] = record.state
        short = await state.history(RecordRef("wms", RecordKind.SHIPMENT, SHORT))
        dead = await state.list_dead("wms")
        return Ledger(
            states, [step.to_state for step in short], [letter.record.key for letter in dead]
        )
    finally:
        await state.close()


def summary_rows(stdout: str) -> dict[str, list[int]]:
    """The numbers of each store's row in the final "Summary per store" table."""
    table = stdout.split("Summary per store", 1)[1]
    rows = {}
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip("│ ").split("│")]
        if len(cells) == 8 and cells[1].isdigit():
            rows[cells[0]] = [int(cell) for cell in cells[1:]]
    return rows


def test_demo_brings_every_seeded_shipment_to_its_intended_end_state(tmp_path: Path) -> None:
    assert {SEED[case]["store"] for case in ("capture_declines", "to_cancel", "short_pick")} == {
        "wms"
    }, "the expected table below assumes the three special cases share the store wms"
    database = tmp_path / "state.sqlite"

    result = runner.invoke(
        app, ["--log-level", "warning", "demo", "--database", str(database), "--timeout", "60"]
    )

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "OK: every seeded shipment reached its intended end state" in out
    assert f"{CANCELLED}: cancelled in Centra while the warehouse holds its order" in out
    # taken, sent, captured, shipped, completed, cancelled, parked. In wms the declined
    # capture was shipped by the WMS but neither captured nor completed, and the
    # cancellation reached the WMS but was never shipped.
    assert summary_rows(out) == {
        "wms": [30, 30, 28, 29, 28, 1, 1],
        "wms-us": [20, 20, 20, 20, 20, 0, 0],
    }
    assert f"centrasync records --database sqlite+aiosqlite:///{database}" in out

    ledger = asyncio.run(read_ledger(database))
    assert len(ledger.states) == 50
    assert ledger.states.pop(DECLINED) == ShipmentState.CAPTURE_DECLINED
    assert ledger.states.pop(CANCELLED) == ShipmentState.CANCELLED
    assert set(ledger.states.values()) == {ShipmentState.COMPLETED}
    assert ledger.dead == [DECLINED]
    assert ledger.short_path[-2:] == [ShipmentState.QUANTITIES_UPDATED, ShipmentState.COMPLETED]


def test_demo_that_runs_out_of_time_exits_1_and_lists_what_is_missing(tmp_path: Path) -> None:
    database = tmp_path / "state.sqlite"

    # One second cannot be enough: the warehouse alone needs ~8 s for its 150 floor steps.
    result = runner.invoke(
        app, ["--log-level", "warning", "demo", "--database", str(database), "--timeout", "1"]
    )

    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "FAILED:" in out
    assert "OK:" not in out
    assert "expected completed in Centra with tracking; ledger" in out
    assert "Summary per store" in out, "the summary is printed whatever the verdict"


def test_demo_refuses_a_database_that_already_exists(tmp_path: Path) -> None:
    database = tmp_path / "state.sqlite"
    database.write_bytes(b"someone's data")

    result = runner.invoke(app, ["demo", "--database", str(database)])

    assert result.exit_code == 1
    assert f"{database} already exists" in result.stderr
    assert result.stdout == ""
    assert database.read_bytes() == b"someone's data"
