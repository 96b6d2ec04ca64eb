"""Editing a product through the control API moves it into the ``modified`` delta."""

from __future__ import annotations

import httpx
from centra_helpers import AUTH

from centrasync.emulators.centra import CentraEmulator
from fake_clock import FakeClock


async def test_edit_changes_rows_and_enters_the_modified_delta(
    client: httpx.AsyncClient, emu: CentraEmulator, clock: FakeClock
) -> None:
    product = next(p for p in emu.world.products.values() if p.sku == "JKT1000")
    clock.advance(hours=1)
    since = "2025-01-15 11:30:00"  # Stockholm time, i.e. 10:30 UTC: after the seeding
    before = await client.get("/api/wms/products", headers=AUTH, params={"modified": since})
    assert before.json()["products"] == []

    response = await client.patch(
        f"/_emulator/products/{product.id}",
        json={"active": False, "weight": 850, "weight_unit": "g", "prices": {"SEK": 599}},
    )
    assert response.status_code == 200, response.text
    assert response.json()["sku"] == "JKT1000"

    after = await client.get("/api/wms/products", headers=AUTH, params={"modified": since})
    rows = after.json()["products"]
    sizes = sum(len(v.sizes) for v in product.variants)
    assert len(rows) == sizes and {r["sku"] for r in rows} == {"JKT1000"}
    assert (rows[0]["active"], rows[0]["weight"], rows[0]["weightUnit"]) == (0, 850, "g")
    assert [(p["currency"], p["price"]) for p in rows[0]["prices"]] == [("SEK", "599.00")]


async def test_edit_of_an_unknown_product_is_404_and_bad_values_are_422(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    assert (
        await client.patch("/_emulator/products/99999", json={"active": False})
    ).status_code == 404
    product_id = next(iter(emu.world.products))
    bad = await client.patch(f"/_emulator/products/{product_id}", json={"weight_unit": "oz"})
    assert bad.status_code == 422
