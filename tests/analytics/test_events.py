"""The events queue as the near-real-time trigger: re-read what changed, confirm every event."""

from __future__ import annotations

from pathlib import Path

from centrasync.analytics.events import events_pass, listen
from centrasync.analytics.source import sync_store
from centrasync.config import AnalyticsSettings
from centrasync.testing.centra import CentraHarness

from .conftest import rows as _rows

SETTINGS = AnalyticsSettings(destination="a.duckdb")


async def test_events_reload_the_changed_orders_and_are_all_confirmed(
    centra: CentraHarness, tmp_path: Path
) -> None:
    await listen(centra.client)
    await sync_store("se", centra.client, SETTINGS, base=tmp_path)
    # What the first load already holds was queued too: drain it.
    await events_pass("se", centra.client, SETTINGS, base=tmp_path)
    db = tmp_path / "a.duckdb"
    edited, cancelled = (n for (n,) in _rows(db, "SELECT order_number FROM $s.orders LIMIT 2"))
    patched = await centra.control.patch(
        f"/_emulator/orders/{edited}", json={"other_comment": "gift wrap"}
    )
    patched.raise_for_status()
    (await centra.control.post(f"/_emulator/orders/{cancelled}/cancel")).raise_for_status()
    before = _rows(db, "SELECT count(*) FROM $s.orders")

    done = await events_pass("se", centra.client, SETTINGS, base=tmp_path)

    assert done.read > 0 and done.confirmed == done.read
    assert done.loaded["orders"] == 2
    assert await centra.client.events() == []
    assert _rows(db, "SELECT count(*) FROM $s.orders") == before
    assert _rows(db, f"SELECT other_comment FROM $s.orders WHERE order_number = {edited}") == [
        ("gift wrap",)
    ]
    assert _rows(db, f"SELECT status FROM $s.orders WHERE order_number = {cancelled}") == [
        ("CANCELLED",)
    ]
