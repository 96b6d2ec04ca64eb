"""Analytics against the Centra emulator's GraphQL: every resource loads, edits merge, the
tables match the emulator's world row by row, and a refused token stops with a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from centrasync.analytics.source import RESOURCES, sync_store
from centrasync.config import AnalyticsSettings
from centrasync.errors import TokenInvalidError
from centrasync.testing.centra import CentraHarness

from .conftest import rows as _rows

SETTINGS = AnalyticsSettings(destination="a.duckdb")


async def _make_return(centra: CentraHarness) -> int:
    """A shipped order line returned: the demo world has no return of its own."""
    client = centra.client
    (size,) = await client.product_sizes_stock(limit=1)
    placed = await centra.control.post(
        "/_emulator/orders", json={"store": centra.store, "lines": [{"ean": size.ean, "qty": 1}]}
    )
    placed.raise_for_status()
    number = placed.json()["number"]
    shipment = (await client.create_shipment(number, good_to_go=True, capture=True)).value
    await client.complete_shipment(shipment.id)
    made = await client.create_return(shipment.id, {shipment.lines[0].id: 1}, stock="release")
    return made.value.id


async def test_every_resource_loads(centra: CentraHarness, tmp_path: Path) -> None:
    await _make_return(centra)
    result = await sync_store("se", centra.client, SETTINGS, base=tmp_path)
    assert set(result.read) == set(RESOURCES)
    for table in (
        "orders",
        "orders__lines",
        "shipments",
        "shipments__lines",
        "returns",
        "returns__lines",
        "stock",
        "in_deliveries",
        "in_deliveries__lines",
        "warehouses",
    ):
        assert result.tables.get(table, 0) > 0, table


async def test_tables_match_the_emulator_row_by_row(centra: CentraHarness, tmp_path: Path) -> None:
    await _make_return(centra)
    await sync_store("se", centra.client, SETTINGS, base=tmp_path)
    db = tmp_path / "a.duckdb"
    client = centra.client
    orders = [o async for page in client.all_orders() for o in page]
    assert _rows(
        db, "SELECT order_number, status, updated_at, grand_total FROM $s.orders ORDER BY 1"
    ) == sorted((o.number, o.status, o.updated_at, o.grand_total.value) for o in orders)
    assert _rows(
        db, "SELECT line_id, quantity, cancelled_quantity FROM $s.orders__lines ORDER BY 1"
    ) == sorted((ln.id, ln.quantity, ln.cancelled_quantity) for o in orders for ln in o.lines)
    returns = [r async for page in client.all_returns() for r in page]
    assert _rows(db, "SELECT return_id, status, total_quantity FROM $s.returns ORDER BY 1") == [
        (r.id, r.status, r.total_quantity) for r in sorted(returns, key=lambda r: r.id)
    ]
    sizes = [s async for page in client.all_product_sizes_stock() for s in page]
    assert _rows(
        db,
        "SELECT product_size_id, warehouse_id, physical_quantity, free_to_allocate_quantity,"
        " incoming_quantity FROM $s.stock ORDER BY 1, 2",
    ) == sorted(
        (
            s.id,
            w.warehouse.id,
            w.physical_quantity,
            w.free_to_allocate_quantity,
            w.incoming_quantity,
        )
        for s in sizes
        for w in s.stock
    )
    # Incoming is what the open supplier deliveries announce, in their warehouse.
    assert centra.emulator is not None
    world = centra.emulator.world
    announced: dict[tuple[int, int], int] = {}
    for delivery in world.supplier_deliveries.values():
        order = world.supplier_orders[delivery.order_id]
        if delivery.accepted_at is None and order.confirmed:
            for size, quantity in delivery.quantities.items():
                key = (size, order.warehouse_id)
                announced[key] = announced.get(key, 0) + quantity
    incoming = _rows(
        db,
        "SELECT product_size_id, warehouse_id, incoming_quantity FROM $s.stock WHERE"
        " incoming_quantity > 0 ORDER BY 1, 2",
    )
    assert incoming == sorted((size, w, q) for (size, w), q in announced.items() if q > 0)
    assert incoming, "the seed's supplier delivery announces goods"
    deliveries = [d async for page in client.purchase_order_delivery_pages() for d in page.nodes]
    assert _rows(
        db,
        "SELECT d.delivery_id, l.product_size_id, l.expected_quantity, l.received_quantity"
        " FROM $s.in_deliveries d JOIN $s.in_deliveries__lines l ON l._dlt_parent_id = d._dlt_id"
        " ORDER BY 1, 2",
    ) == sorted(
        (d.id, ln.product_size.id, ln.quantity, ln.delivered_quantity)
        for d in deliveries
        for ln in d.lines
    )


async def test_an_edited_order_is_updated_not_duplicated(
    centra: CentraHarness, tmp_path: Path
) -> None:
    first = await sync_store("se", centra.client, SETTINGS, base=tmp_path)
    db = tmp_path / "a.duckdb"
    (number, *_), *_ = _rows(db, "SELECT order_number FROM $s.orders ORDER BY 1")
    edited = await centra.control.patch(
        f"/_emulator/orders/{number}", json={"other_comment": "leave at the door"}
    )
    edited.raise_for_status()
    cancelled = next(n for (n,) in _rows(db, "SELECT order_number FROM $s.orders") if n != number)
    (await centra.control.post(f"/_emulator/orders/{cancelled}/cancel")).raise_for_status()

    second = await sync_store("se", centra.client, SETTINGS, base=tmp_path)

    assert second.tables["orders"] == first.tables["orders"]
    assert second.tables["orders__lines"] == first.tables["orders__lines"]
    assert _rows(db, f"SELECT other_comment FROM $s.orders WHERE order_number = {number}") == [
        ("leave at the door",)
    ]
    (status,) = _rows(db, f"SELECT status FROM $s.orders WHERE order_number = {cancelled}")
    [live] = [o async for page in centra.client.all_orders() for o in page if o.number == cancelled]
    assert status == (live.status,) and live.status in {"CANCELLED", "ARCHIVED"}


async def test_dlt_sends_no_telemetry(centra: CentraHarness, tmp_path: Path) -> None:
    from dlt.common.runtime import anon_tracker

    await sync_store("se", centra.client, SETTINGS, base=tmp_path)
    assert anon_tracker._ANON_TRACKER_ENDPOINT is None


async def test_full_reads_everything_again(centra: CentraHarness, tmp_path: Path) -> None:
    first = await sync_store("se", centra.client, SETTINGS, base=tmp_path)
    again = await sync_store("se", centra.client, SETTINGS, base=tmp_path, full=True)
    assert again.read["orders"] == first.read["orders"]
    assert again.tables == first.tables


async def test_a_refused_token_stops_analytics_with_a_clear_error(
    centra: CentraHarness, tmp_path: Path
) -> None:
    async with centra.open_client("revoked-token") as client:
        with pytest.raises(TokenInvalidError) as refused:
            await sync_store("se", client, SETTINGS, base=tmp_path)
    assert "token invalid or expired" in str(refused.value)
    assert "revoked-token" not in str(refused.value)
