"""The events queue as the near-real-time trigger: re-read what changed, confirm every event."""

from __future__ import annotations

from pathlib import Path

from centrasync.analytics.events import events_pass, listen
from centrasync.analytics.source import sync_store
from centrasync.config import AnalyticsSettings
from centrasync.testing.centra import CentraHarness

from .conftest import place_order
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


async def test_a_product_event_re_reads_the_product(centra: CentraHarness, tmp_path: Path) -> None:
    await listen(centra.client)
    await sync_store("se", centra.client, SETTINGS, base=tmp_path)
    await events_pass("se", centra.client, SETTINGS, base=tmp_path)
    db = tmp_path / "a.duckdb"
    ((product,),) = _rows(db, "SELECT product_id FROM $s.products ORDER BY product_id LIMIT 1")
    edited = await centra.control.patch(f"/_emulator/products/{product}", json={"name": "Renamed"})
    edited.raise_for_status()

    done = await events_pass("se", centra.client, SETTINGS, base=tmp_path)

    assert done.loaded["products"] == 1 and done.confirmed == done.read
    assert _rows(db, f"SELECT name FROM $s.products WHERE product_id = {product}") == [("Renamed",)]


async def test_a_deleted_event_removes_the_row_and_its_lines(
    centra: CentraHarness, tmp_path: Path
) -> None:
    client = centra.client
    number = await place_order(centra, 1)
    shipment = (await client.create_shipment(number)).value
    await listen(client)
    await sync_store("se", client, SETTINGS, base=tmp_path)
    await events_pass("se", client, SETTINGS, base=tmp_path)
    db = tmp_path / "a.duckdb"
    kept = _rows(db, "SELECT count(*) FROM $s.shipments")[0][0]
    deleted = await centra.control.delete(
        f"/api/{centra.store}/shipments/{shipment.number}", headers=centra.order_api_headers
    )
    deleted.raise_for_status()

    done = await events_pass("se", client, SETTINGS, base=tmp_path)

    assert done.confirmed == done.read and await client.events() == []
    assert _rows(db, f"SELECT count(*) FROM $s.shipments WHERE shipment_id = {shipment.id}") == [
        (0,)
    ]
    assert _rows(db, "SELECT count(*) FROM $s.shipments") == [(kept - 1,)]
    orphans = _rows(
        db,
        "SELECT count(*) FROM $s.shipments__lines l "
        "LEFT JOIN $s.shipments s ON l._dlt_parent_id = s._dlt_id WHERE s._dlt_id IS NULL",
    )
    assert orphans == [(0,)]
