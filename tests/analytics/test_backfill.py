"""Key-set paging of a back-fill (:func:`pages_since`), against a fake ``orders`` list query
that filters ``updatedAt >= from``, sorts ascending (ties by key) and pages by offset, as
the emulator does; and a sync cut into several committed loads."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from centrasync.analytics.source import dataset_name, pages_since, sync_store
from centrasync.config import AnalyticsSettings
from centrasync.testing.centra import CentraHarness

T0 = datetime(2026, 1, 1, tzinfo=UTC)
LIMIT = 3


@dataclass(frozen=True)
class Row:
    key: int
    updated_at: datetime


class Listing:
    """The server's rows; ``edits`` (key per fetch, or None) are made after each fetch:
    an edited row moves to the end, as an order edited during a back-fill does."""

    def __init__(self, seconds: Sequence[int], edits: Sequence[int | None] = ()) -> None:
        self.rows = {key: T0 + timedelta(seconds=s) for key, s in enumerate(seconds)}
        self.edits = list(edits)
        self.clock = T0 + timedelta(seconds=max(seconds, default=0))
        self.at_last_fetch = dict(self.rows)

    def fetch(self, where: Mapping[str, Any], page: int) -> list[Row]:
        since: datetime = where["updatedAt"]["from"]
        self.at_last_fetch = dict(self.rows)
        ordered = sorted((at, key) for key, at in self.rows.items() if at >= since)
        found = [Row(key, at) for at, key in ordered[(page - 1) * LIMIT : page * LIMIT]]
        if self.edits:
            edited = self.edits.pop(0)
            if edited is not None and edited in self.rows:
                self.clock += timedelta(seconds=1)
                self.rows[edited] = self.clock
        return found


def read_all(listing: Listing, pages: int | None) -> list[list[Row]]:
    """Loads one after the other, each from the last moment the previous one read, as the
    cursor committed with each load makes a sync do; the rows of each load."""
    loads: list[list[Row]] = []
    since = T0 - timedelta(days=1)
    more = [True]
    while more:
        more.clear()
        rows = [
            row
            for page in pages_since(
                listing.fetch, lambda r: r.key, since, pages, lambda: more.append(True), LIMIT
            )
            for row in page
        ]
        loads.append(rows)
        since = max((row.updated_at for row in rows), default=since)
    return loads


@given(
    seconds=st.lists(st.integers(0, 5), max_size=40),
    pages=st.none() | st.integers(1, 4),
)
@settings(max_examples=200, deadline=None)
def test_every_row_once_per_load_even_with_many_rows_a_second(
    seconds: list[int], pages: int | None
) -> None:
    listing = Listing(seconds)
    loads = read_all(listing, pages)
    read = [row for rows in loads for row in rows]
    assert {row.key for row in read} == set(listing.rows)
    for rows in loads:
        assert len(rows) == len(set(rows)), "a load read a row twice"
    # A later load re-reads only the moment the previous one stopped at.
    for before, after in itertools.pairwise(loads):
        if before:
            last = max(row.updated_at for row in before)
            assert all(row.updated_at >= last for row in after)


@given(
    seconds=st.lists(st.integers(0, 1000), max_size=30, unique=True),
    edits=st.lists(st.none() | st.integers(0, 29), max_size=30),
    pages=st.none() | st.integers(1, 4),
)
@settings(max_examples=200, deadline=None)
def test_rows_edited_during_the_read_are_neither_skipped_nor_stale(
    seconds: list[int], edits: list[int | None], pages: int | None
) -> None:
    """Offset paging would skip the row that slides into an edited row's place. An edit
    after the last request is the next sync's."""
    listing = Listing(seconds, edits)
    read = [row for rows in read_all(listing, pages) for row in rows]
    latest = {row.key: row.updated_at for row in sorted(read, key=lambda r: r.updated_at)}
    assert latest == listing.at_last_fetch


async def test_a_long_read_commits_in_several_loads(centra: CentraHarness, tmp_path: Path) -> None:
    """Some 650 orders at one page per load: four loads, every order once."""
    await seed_orders(centra, 600)
    chunked = AnalyticsSettings(destination="a.duckdb", backfill_pages=1)
    result = await sync_store("se", centra.client, chunked, base=tmp_path)
    numbers = [o.number async for page in centra.client.all_orders() for o in page]
    with duckdb.connect(str(tmp_path / "a.duckdb"), read_only=True) as conn:
        schema = dataset_name("se")
        loaded = conn.execute(f"SELECT order_number FROM {schema}.orders").fetchall()
        loads = conn.execute(f"SELECT count(*) FROM {schema}._dlt_loads").fetchall()
    assert sorted(n for (n,) in loaded) == sorted(numbers) and len(numbers) > 600
    assert result.read["orders"] >= len(numbers)
    assert loads[0][0] >= 4


async def seed_orders(centra: CentraHarness, count: int) -> None:
    """``count`` orders of one line, a minute apart, through the bulk control route."""
    (size,) = await centra.client.product_sizes_stock(limit=1)
    summary = (await centra.control.get("/_emulator/seed-summary")).json()
    (warehouse,) = [
        s["primary_warehouse_id"] for s in summary["stores"] if s["uri"] == centra.store
    ]
    stocked = await centra.control.post(
        "/_emulator/stock", json={"ean": size.ean, "warehouse_id": warehouse, "physical": count}
    )
    stocked.raise_for_status()
    start = T0
    orders = [
        {
            "store": centra.store,
            "lines": [{"ean": size.ean, "qty": 1}],
            "created_at": (start + timedelta(minutes=i)).isoformat(),
        }
        for i in range(count)
    ]
    placed = await centra.control.post("/_emulator/orders/bulk", json={"orders": orders})
    placed.raise_for_status()
    assert placed.json()["placed"] == count
