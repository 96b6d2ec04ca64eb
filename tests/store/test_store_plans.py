"""The ledger's state-filtered reads go through its state index on SQLite.

SQLite plans without statistics of how the rows spread over states, so a read of a few
states could walk the whole ledger in key order instead; on a large ledger that costs
every shipment round a scan of every row (the re-drive reads state ``retry`` each tick).
PostgreSQL plans by its statistics (``benchmarks/metrics_scrape.py`` measures both).
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from centrasync.store import RecordKind
from centrasync.store.ledger import count_records, scan_records
from centrasync.store.sql import open_store
from centrasync.store.sqlcore import SqliteTx

STATE_INDEX = "ix_ledger_records_store_kind_state_key"


class Explaining(SqliteTx):
    """Runs each statement, and notes how SQLite plans to run it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__(conn, datetime.now(UTC))
        self.plans: list[str] = []

    def rows(self, sql: str, params: Mapping[str, Any]) -> list[Sequence[Any]]:
        self.plans += [str(row[3]) for row in super().rows(f"EXPLAIN QUERY PLAN {sql}", params)]
        return super().rows(sql, params)


@pytest.fixture
async def explaining(tmp_path: Path) -> AsyncIterator[Explaining]:
    path = tmp_path / "state.sqlite"
    store = await open_store(f"sqlite+aiosqlite:///{path}")
    await store.close()
    conn = sqlite3.connect(path)
    try:
        yield Explaining(conn)
    finally:
        conn.close()


@pytest.mark.parametrize("prefix", [None, "1042-"])
def test_a_scan_of_some_states_searches_the_state_index(
    explaining: Explaining, prefix: str | None
) -> None:
    scan_records(explaining, "se", RecordKind.SHIPMENT, ["retry"], "1000-1", prefix, 1000)

    assert any(
        f"USING INDEX {STATE_INDEX} (store=? AND kind=? AND state=?)" in plan
        for plan in explaining.plans
    ), explaining.plans


def test_counting_some_states_reads_the_state_index_alone(explaining: Explaining) -> None:
    count_records(explaining, "se", RecordKind.SHIPMENT, ["new", "sent"])

    assert explaining.plans == [
        f"SEARCH ledger_records USING COVERING INDEX {STATE_INDEX} (store=? AND kind=? AND state=?)"
    ]
