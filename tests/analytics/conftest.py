"""Shared by the analytics tests: a fresh emulator world without quota pacing, and SQL
against a store's dataset in a loaded DuckDB file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from centrasync.analytics.source import dataset_name
from centrasync.testing.centra import CentraHarness, centra_harness


@pytest.fixture
async def centra() -> AsyncIterator[CentraHarness]:
    async with centra_harness() as harness:
        # The quota is not under test here: the Growth plan would pace the stock read.
        answer = await harness.control.put("/_emulator/rate-limits", json={"plan": "enterprise"})
        answer.raise_for_status()
        yield harness


def rows(db: Path, sql: str, store: str = "se") -> list[tuple[Any, ...]]:
    """``sql`` with ``$s`` standing for the store's dataset."""
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql.replace("$s", dataset_name(store))).fetchall()


async def place_order(centra: CentraHarness, qty: int = 1) -> int:
    """A new order in the emulator for a size with stock to spare; its number."""
    (size, *_) = [
        s
        async for page in centra.client.all_product_sizes_stock()
        for s in page
        if s.ean and s.stock_totals.free_to_allocate_quantity > 5
    ]
    body = {"store": centra.store, "lines": [{"ean": size.ean, "qty": qty}]}
    placed = await centra.control.post("/_emulator/orders", json=body)
    placed.raise_for_status()
    number: int = placed.json()["number"]
    return number
