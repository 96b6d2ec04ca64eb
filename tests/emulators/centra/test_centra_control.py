from __future__ import annotations

import httpx
from centra_helpers import AUTH, free_eans, place_order

from centrasync.emulators.centra import CentraEmulator


async def test_control_routes_are_in_openapi(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in (
        "/_emulator/reset", "/_emulator/seed", "/_emulator/seed-summary", "/_emulator/stores",
        "/_emulator/orders", "/_emulator/orders/{number}/shipments",
        "/_emulator/shipments/{ref}/good-to-go", "/_emulator/shipments/{ref}/cancel",
        "/_emulator/shipments/{ref}/capture", "/_emulator/orders/{number}/capture",
        "/_emulator/webhook", "/_emulator/webhook/deliveries", "/_emulator/writes/{kind}",
        "/_emulator/supplier-orders", "/_emulator/faults",
    ):  # fmt: skip
        assert path in paths, path


async def test_b2b_ingrid_order_shows_on_the_shipment(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    eans = free_eans(emu, 2)
    order = await place_order(
        client,
        [(eans[0], 2), (eans[1], 1)],
        account_id=501,
        account_name="Shop AB",
        po_number="PO-1",
        other_comment="Ring twice",
        billing={"name": "Anna", "company": "Shop AB", "country": "SE", "cell": "+4670"},
        delivery={"name": "Dock 4", "coaddress": "c/o Lager", "country": "SE", "tele": "+468"},
        shipwallet={"method": "pnl-mpc", "pickup": "123456", "id": "a" * 32},
    )
    await client.post(f"/_emulator/orders/{order['number']}/shipments", json={})
    listed = (await client.get("/api/wms/shipments", headers=AUTH)).json()["shipments"][-1]
    assert listed["orderId"] == str(order["number"])
    assert listed["accountId"] == "501"
    assert listed["poNumber"] == "PO-1"
    assert listed["deliveryCoaddress"] == "c/o Lager"
    assert listed["deliveryTele"] == "+468"
    assert listed["otherComment"] == "Ring twice"
    assert listed["shipwallet_pickup"] == "123456"
    assert listed["shipwallet_method"] == "pnl-mpc"
    assert len(listed["products"]) == 2


async def test_bad_order_names_record_and_field(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    response = await client.post(
        "/_emulator/orders", json={"store": "wms", "lines": [{"ean": "1234567890128"}]}
    )
    assert response.status_code == 422
    assert "line 1" in response.json()["detail"] and "'ean'" in response.json()["detail"]
    greedy = await client.post(
        "/_emulator/orders",
        json={"store": "wms", "lines": [{"ean": free_eans(emu, 1)[0], "qty": 10_000}]},
    )
    assert greedy.status_code == 422
    assert "'qty'" in greedy.json()["detail"]
    unknown = await client.get("/_emulator/orders/99999")
    assert unknown.status_code == 404


async def test_new_store_and_read_back_of_writes(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/_emulator/stores",
        json={
            "uri": "pos-no",
            "secret": "other",
            "timezone": "Europe/Oslo",
            "primary_warehouse_id": 3,
        },
    )
    assert created.status_code == 200
    assert (await client.get("/api/pos-no/orders", headers={"API-Authorization": "other"})).json()[
        "orders"
    ] == []
    assert (await client.get("/api/pos-no/orders", headers=AUTH)).status_code == 401
    writes = (await client.get("/_emulator/writes")).json()
    assert set(writes) >= {"captures", "completions", "shipment_updates", "returns",
                           "stock_writes", "supplier_acceptances"}  # fmt: skip
    assert all(v == [] for v in writes.values()), "the seed leaves no integration writes"
