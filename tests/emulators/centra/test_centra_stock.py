from __future__ import annotations

import httpx
from centra_helpers import AUTH, free_eans, place_order

from centrasync.emulators.centra import CentraEmulator


async def stock_row(client: httpx.AsyncClient, ean: str, uri: str = "wms") -> dict[str, object]:
    response = await client.get(f"/api/{uri}/stock", headers=AUTH, params={"ean": ean})
    rows = response.json()["products"]
    assert len(rows) == 1
    row: dict[str, object] = rows[0]
    return row


async def test_stock_write_clamps_to_allocated(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    ean = free_eans(emu, 1)[0]
    await place_order(client, [(ean, 3)])
    before = await stock_row(client, ean)
    assert before["allocatedStock"] == 3
    response = await client.post(
        "/api/wms/stock", headers=AUTH, json={"products": [{"product": ean, "quantity": 1}]}
    )
    assert response.json() == {"status": "ok"}
    after = await stock_row(client, ean)
    assert (after["physicalStock"], after["allocatedStock"], after["availableStock"]) == (3, 3, 0)
    write = (await client.get("/_emulator/writes/stock_writes")).json()[-1]
    assert write["requested"] == 1 and write["physical"] == 3 and write["clamped"] is True


async def test_stock_write_reports_not_found_and_bundles(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    ean = free_eans(emu, 1)[0]
    bundle = next(r.size.ean for r in emu.world.sizes.values() if r.product.is_bundle)
    response = await client.post(
        "/api/wms/stock",
        headers=AUTH,
        json={
            "products": [
                {"product": ean, "quantity": 17, "costPrice": 12.5, "costPriceCurrency": "SEK"},
                {"product": "0000000000000", "quantity": 5},
                {"product": bundle, "quantity": 5},
            ]
        },
    )
    assert response.json() == {
        "status": "no",
        "msg": "Some of the products were not updated",
        "errors": {"productsNotFound": ["0000000000000"], "productsAreBundles": [bundle]},
    }
    assert (await stock_row(client, ean))["physicalStock"] == 17, "the good row is written"


async def test_stock_write_keys_and_primary_warehouse(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    ref = emu.world.find_size(free_eans(emu, 1)[0])
    assert ref is not None
    gift = next(r for r in emu.world.sizes.values() if r.product.sku == "M411-740")
    response = await client.post(
        "/api/wms-us/stock",
        headers=AUTH,
        json={
            "products": [
                {"product": ref.physical_sku, "quantity": 41},
                {"product": gift.size.ean, "quantity": 9},
            ]
        },
    )
    assert response.json() == {"status": "ok"}
    levels = (await client.get(f"/_emulator/stock/{ref.size.ean}")).json()["warehouses"]
    by_wh = {lv["warehouse_id"]: lv["physical"] for lv in levels}
    assert by_wh[2] == 41, "store 2 writes its primary warehouse only"
    assert by_wh[1] != 41 or by_wh[3] != 41
    assert (await stock_row(client, ref.size.ean, "wms-us"))["physicalStock"] == 41


async def test_products_page_through_next(client: httpx.AsyncClient, emu: CentraEmulator) -> None:
    seen: list[str] = []
    query = "?limit=250"
    pages = 0
    while query:
        response = await client.get(f"/api/wms/products{query}", headers=AUTH)
        body = response.json()
        seen.extend(row["stockItemId"] for row in body["products"])
        pages += 1
        if pages == 2:
            assert body["previous"] == "?limit=250&page=1"
        query = body.get("next", "")
    assert pages == -(-len(emu.world.sizes) // 250)
    assert len(seen) == len(set(seen)) == len(emu.world.sizes)


async def test_stock_pages_keep_filters(client: httpx.AsyncClient) -> None:
    first = (await client.get("/api/wms/stock?sku=JKT1000&limit=2", headers=AUTH)).json()
    assert first["next"] == "?sku=JKT1000&limit=2&page=2"
    assert "previous" not in first
    rows = first["products"]
    assert all(r["sku"] == "JKT1000" for r in rows)
    assert all(r["physicalStock"] == r["allocatedStock"] + r["availableStock"] for r in rows)
    lean = (await client.get("/api/wms/stock?limit=1&exclude=physicalStock", headers=AUTH)).json()
    assert "physicalStock" not in lean["products"][0]


async def test_modified_filters_in_store_time(client: httpx.AsyncClient) -> None:
    future = await client.get("/api/wms/products", headers=AUTH, params={"modified": "2030-01-01"})
    assert future.json()["products"] == []
    past = await client.get(
        "/api/wms/products", headers=AUTH, params={"created": "2020-01-01 00:00:00", "limit": 3}
    )
    assert len(past.json()["products"]) == 3
    bad = await client.get("/api/wms/products", headers=AUTH, params={"modified": "yesterday"})
    assert bad.json()["status"] == "no"


async def test_product_rows_carry_documented_fields(client: httpx.AsyncClient) -> None:
    row = (await client.get("/api/wms/products?limit=1", headers=AUTH)).json()["products"][0]
    for key in ("sku", "variantSku", "sizeSku", "ean", "weight", "weightUnit", "harmCode",
                "countryOfOrigin", "active", "prices", "stockItemId", "productId"):  # fmt: skip
        assert key in row, key
    assert row["active"] == 1
    assert {p["currency"] for p in row["prices"]} == {"SEK", "USD"}
