"""JSON types as in Centra's examples: a client generated from them must parse every answer."""

from __future__ import annotations

from typing import Any

import httpx
from centra_helpers import AUTH

from centrasync.emulators.centra import CentraEmulator

ID_KEYS = ("productId", "variantId", "stockItemId")


def assert_catalogue_row(row: dict[str, Any]) -> None:
    for key in ID_KEYS:
        assert type(row[key]) is int, (key, row[key])
    assert isinstance(row["upc"], str), row["upc"]


async def test_product_and_stock_rows_carry_numeric_ids_and_a_string_upc(
    client: httpx.AsyncClient,
) -> None:
    for endpoint in ("products", "stock"):
        rows = (await client.get(f"/api/wms/{endpoint}?limit=5", headers=AUTH)).json()["products"]
        assert rows
        for row in rows:
            assert_catalogue_row(row)


async def test_supplier_rows_carry_numeric_ids(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    delivery = emu.seed_summary["supplier_delivery"]
    order = (await client.get("/api/wms/supplier-orders/951", headers=AUTH)).json()["order"]
    found = (
        await client.get(f"/api/wms/supplier-deliveries/{delivery['id']}", headers=AUTH)
    ).json()
    for row in [*order["products"], *found["delivery"]["products"]]:
        assert_catalogue_row(row)


async def test_order_node_types_and_tax_fields(client: httpx.AsyncClient) -> None:
    (order,) = (await client.get("/api/wms/orders?limit=1", headers=AUTH)).json()["orders"]
    assert type(order["marketId"]) is int and type(order["pricelistId"]) is int
    assert isinstance(order["paymentReference"], str) and order["paymentReference"]
    assert order["paymentMethod"] == "adyen", "the provider's name for adyen_drop_in"
    assert order["taxAdded"] == 0 and order["taxDeducted"] == 0
    for line in order["products"]:
        assert type(line["productId"]) is int and type(line["stockItemId"]) is int
        assert isinstance(line["upc"], str)


async def test_payment_reference_is_stable_per_order(client: httpx.AsyncClient) -> None:
    first = (await client.get("/api/wms/orders?limit=2", headers=AUTH)).json()["orders"]
    again = (await client.get("/api/wms/orders?limit=2", headers=AUTH)).json()["orders"]
    assert [o["paymentReference"] for o in first] == [o["paymentReference"] for o in again]
    assert first[0]["paymentReference"] != first[1]["paymentReference"]
