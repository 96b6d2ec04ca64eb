from __future__ import annotations

from typing import Any

import httpx
from centra_helpers import AUTH, control_shipment, free_eans, place_order

from centrasync.emulators.centra import CentraEmulator
from fake_clock import FakeClock


async def shipped_order(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> tuple[dict[str, Any], str]:
    order = await place_order(client, [(e, 2) for e in free_eans(emu, 2)])
    shipment = (await control_shipment(client, order["number"], capture=True))["number"]
    done = await client.put(
        "/api/wms/shipment", headers=AUTH, json={"order": order["number"], "shipment": shipment}
    )
    assert done.json()["status"] == "ok"
    return order, shipment


async def test_return_created_even_if_some_lines_fail(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    order, shipment = await shipped_order(client, emu)
    good, bad = (str(ln["line_id"]) for ln in order["lines"])
    response = await client.post(
        "/api/wms/return",
        headers=AUTH,
        json={"shipment": shipment, "returnStock": 1, "products": {good: "1", bad: "9"}},
    )
    body = response.json()
    assert body["status"] == "ok"
    assert body["returnCompleted"] is False
    assert body["returnedItems"] == [good]
    assert isinstance(body["return"], int)
    nothing = await client.post(
        "/api/wms/return", headers=AUTH, json={"shipment": shipment, "products": {bad: 9}}
    )
    assert nothing.json() == {"status": "no", "msg": "return could not be created."}


async def test_return_to_stock_adds_physical(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    order, shipment = await shipped_order(client, emu)
    ean = order["lines"][0]["ean"]
    before = (await client.get(f"/_emulator/stock/{ean}")).json()["warehouses"][0]["physical"]
    line = str(order["lines"][0]["line_id"])
    await client.post(
        "/api/wms/return",
        headers=AUTH,
        json={"shipment": shipment, "returnStock": True, "products": {line: 2}},
    )
    after = (await client.get(f"/_emulator/stock/{ean}")).json()["warehouses"][0]["physical"]
    assert after == before + 2


async def test_returns_newest_first_and_paged(
    client: httpx.AsyncClient, emu: CentraEmulator, clock: FakeClock
) -> None:
    order, shipment = await shipped_order(client, emu)
    ids = []
    for line in order["lines"]:
        clock.advance(minutes=5)
        created = await client.post(
            "/api/wms/return",
            headers=AUTH,
            json={"shipment": shipment, "products": {str(line["line_id"]): 1}, "comment": "size"},
        )
        ids.append(created.json()["return"])
    listed = (await client.get("/api/wms/returns", headers=AUTH)).json()["returns"]
    assert [r["returnId"] for r in listed] == ids[::-1]
    first = listed[0]
    assert first["shipment"] == shipment
    assert isinstance(first["shipmentId"], int)
    assert first["orderId"] == order["number"]
    assert first["createdFrom"] == "Order API"
    assert first["products"][0]["orderLineId"] == order["lines"][1]["line_id"]
    page2 = await client.get("/api/wms/returns", headers=AUTH, params={"limit": 1, "page": 2})
    assert [r["returnId"] for r in page2.json()["returns"]] == [ids[0]]
    updated = await client.put(f"/api/wms/returns/{ids[0]}", headers=AUTH, json={"completed": True})
    assert updated.json()["return"]["completed"] is True
    missing = await client.put("/api/wms/returns/100500", headers=AUTH, json={"completed": True})
    assert missing.json() == {"status": "no", "msg": "Return with id=100500 does not exist"}


async def test_supplier_orders_and_deliveries_listed(client: httpx.AsyncClient) -> None:
    orders = (await client.get("/api/wms/supplier-orders", headers=AUTH)).json()["orders"]
    assert orders[0]["orderId"] == "951"
    assert len(orders[0]["created"]) == len("2019-01-28 01:15")
    one = (await client.get("/api/wms/supplier-orders/951", headers=AUTH)).json()["order"]
    assert one["products"][0]["quantity"] == 24
    assert one["products"][0]["cost"] == "120.00"
    deliveries = (await client.get("/api/wms/supplier-deliveries", headers=AUTH)).json()
    assert [d["deliveryId"] for d in deliveries["deliveries"]] == ["951-1"]
    by_id = (await client.get("/api/wms/supplier-deliveries/361", headers=AUTH)).json()
    by_number = (await client.get("/api/wms/supplier-deliveries/951-1", headers=AUTH)).json()
    assert by_id == by_number
    details = (await client.get("/api/wms/supplier-delivery/951-1/details", headers=AUTH)).json()
    assert details["delivery"]["orders"] == []
    other = (await client.get("/api/wms-us/supplier-deliveries", headers=AUTH)).json()
    assert other["deliveries"] == [], "listed only for the Supplier Delivery Warehouse"


async def test_delivery_accepted_once_with_additional_delivery(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    delivery = (await client.get("/api/wms/supplier-deliveries/361", headers=AUTH)).json()
    items = delivery["delivery"]["products"]
    received = {items[0]["ean"]: 24, items[1]["ean"]: 20}
    before = (await client.get(f"/_emulator/stock/{items[1]['ean']}")).json()["warehouses"][0]
    accepted = await client.post(
        "/api/wms/supplier-deliveries/361", headers=AUTH, json={"products": received}
    )
    body = accepted.json()
    assert body["status"] == "ok"
    extra = body["additionalDelivery"]
    assert extra["deliveryId"] == "951-2"
    remaining = {p["ean"]: p["quantity"] for p in extra["products"]}
    assert remaining[items[1]["ean"]] == 4
    assert remaining[items[2]["ean"]] == 24
    assert items[0]["ean"] not in remaining
    after = (await client.get(f"/_emulator/stock/{items[1]['ean']}")).json()["warehouses"][0]
    assert after["physical"] == before["physical"] + 20
    again = await client.post(
        "/api/wms/supplier-delivery/361", headers=AUTH, json={"products": received}
    )
    assert again.json()["status"] == "no"
    listed = (await client.get("/api/wms/supplier-deliveries", headers=AUTH)).json()
    assert [d["deliveryId"] for d in listed["deliveries"]] == ["951-2"]
    ref = emu.world.find_size(items[1]["ean"])
    assert ref is not None
    by_sku = await client.post(
        "/api/wms/supplier-delivery/951-2/sku",
        headers=AUTH,
        json={"products": {ref.physical_sku: 4}, "insertStock": False},
    )
    assert by_sku.json()["additionalDelivery"]["deliveryId"] == "951-3"
    logged = (await client.get("/_emulator/writes/supplier_acceptances")).json()
    assert [w["delivery"] for w in logged] == ["951-1", "951-2"]
