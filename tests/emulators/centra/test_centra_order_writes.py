"""Orders written through the Order API: update (PUT /orders) and create, as an ERP would."""

from __future__ import annotations

from typing import Any

import httpx
from centra_helpers import AUTH, free_eans, place_order

from centrasync.emulators.centra import CentraEmulator

ADDRESS = {
    "country": "SE",
    "firstName": "John",
    "lastName": "Smith",
    "address": "Storgatan 1",
    "coaddress": "c/o Peter",
    "zipcode": "111 22",
    "city": "Stockholm",
    "email": "x@example.com",
}


async def order_node(client: httpx.AsyncClient, number: int, uri: str = "wms") -> dict[str, Any]:
    (found,) = (await client.get(f"/api/{uri}/orders?order={number}", headers=AUTH)).json()[
        "orders"
    ]
    node: dict[str, Any] = found
    return node


async def test_update_appends_or_replaces_comments_and_sets_attributes(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    number = (await place_order(client, [(free_eans(emu, 1)[0], 1)], other_comment="Hi"))["number"]
    answer = await client.put(
        "/api/wms/orders",
        headers=AUTH,
        json={
            "order": number,
            "internalComment": "checked",
            "comment": "Ring twice",
            "extraAttributes": {"gift_message": "Happy birthday"},
        },
    )
    assert answer.json() == {"status": "ok", "order": number}
    node = await order_node(client, number)
    assert node["internalComment"] == "checked"
    assert node["otherComment"] == "Hi\nRing twice"
    await client.put(
        "/api/wms/orders",
        headers=AUTH,
        json={
            "order": number,
            "internalComment": "only this",
            "replaceInternalComment": True,
            "extraAttributes": {"gift_message": ""},
        },
    )
    assert (await order_node(client, number))["internalComment"] == "only this"
    view = (await client.get(f"/_emulator/orders/{number}")).json()
    assert view["extra_attributes"] == {}
    updates = (await client.get("/_emulator/writes/order_updates")).json()
    assert [u["extraAttributes"] for u in updates] == [
        {"gift_message": "Happy birthday"},
        {"gift_message": ""},
    ]


async def test_update_of_another_stores_order_is_in_the_wrong_market(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    us_order = next(o.number for o in emu.world.orders.values() if o.store_uri == "wms-us")
    answer = await client.put("/api/wms/orders", headers=AUTH, json={"order": us_order})
    assert answer.json() == {"status": "no", "msg": "order in wrong market", "order": us_order}


async def test_create_order_as_an_erp_would(client: httpx.AsyncClient, emu: CentraEmulator) -> None:
    ean, other = free_eans(emu, 2)
    sku = emu.world.find_size(other)
    assert sku is not None
    answer = await client.post(
        "/api/wms/order",
        headers=AUTH,
        json={
            "invoiceAddress": ADDRESS,
            "deliveryAddress": ADDRESS | {"country": "NO", "city": "Oslo"},
            "products": [
                {"qty": 2, "ean": ean, "unitPrice": 14.11, "originalPrice": 100.11},
                {"qty": 1, "sku": sku.physical_sku},
            ],
            "shippingValue": 49,
            "comment": "From the ERP",
            "internalComment": "erp import",
            "orderDate": "2025-01-10 09:30:00",
            "deliveryDate": "2025-01-20",
            "internalOrder": True,
            "payment": {"capture": {"status": 1, "transaction": "T-77", "method": "card"}},
            "sendEmail": False,
        },
    )
    body = answer.json()
    assert body["status"] == "ok" and len(body["orders"]) == 1
    number = body["orders"][0]
    assert type(number) is int
    node = await order_node(client, number)
    assert node["orderDate"] == "2025-01-10 09:30:00"
    assert node["preferredDeliveryDate"] == "2025-01-20 00:00:00"
    assert node["internalOrder"] == 1 and node["internalComment"] == "erp import"
    assert (node["billingName"], node["deliveryCity"]) == ("John Smith", "Oslo")
    assert (node["paymentReference"], node["paymentMethod"]) == ("T-77", "card")
    assert [(p["ean"], p["qty"], p["price"]) for p in node["products"]] == [
        (ean, 2, 14.11),
        (other, 1, sku.product.prices["SEK"]),
    ]
    # Paid elsewhere: its shipment needs no capture.
    shipment = await client.post(
        "/api/wms/shipments",
        headers=AUTH,
        json={"order": number, "products": {node["products"][0]["lineId"]: 2}, "capture": False},
    )
    listed = (await client.get(f"/_emulator/shipments/{shipment.json()['shipment']}")).json()
    assert listed["paid"] is True and listed["should_capture"] is False
    (created,) = (await client.get("/_emulator/writes/order_creations")).json()
    assert created["body"]["sendEmail"] is False


async def test_create_order_refusals_carry_the_documented_codes(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    ean = free_eans(emu, 1)[0]
    existing = next(iter(emu.world.orders))
    cases = {
        -1: {"invoiceAddress": ADDRESS, "products": [{"qty": 1, "ean": "0000000000000"}]},
        -2: {"invoiceAddress": ADDRESS, "products": [{"qty": 100_000, "ean": ean}]},
        -3: {"invoiceAddress": ADDRESS, "products": []},
        -4: {"invoiceAddress": {"country": "SE"}, "products": [{"qty": 1, "ean": ean}]},
        -5: {
            "invoiceAddress": ADDRESS,
            "orderNumber": existing,
            "products": [{"qty": 1, "ean": ean}],
        },
    }
    for code, body in cases.items():
        answer = (await client.post("/api/wms/order", headers=AUTH, json=body)).json()
        assert answer["status"] == "no" and answer["code"] == code, (code, answer)
        assert answer["msg"]
    assert (await client.get("/_emulator/writes/order_creations")).json() == []


async def test_batch_create_answers_per_name(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    ean = free_eans(emu, 1)[0]
    answer = await client.post(
        "/api/wms/orders",
        headers=AUTH,
        json={
            "x123": {"invoiceAddress": ADDRESS, "products": [{"qty": 1, "ean": ean}]},
            "a1": {"invoiceAddress": ADDRESS, "products": []},
        },
    )
    body = answer.json()
    assert body["x123"]["status"] == "ok" and len(body["x123"]["orders"]) == 1
    assert body["a1"]["status"] == "no" and body["a1"]["code"] == -3


async def test_create_only_then_complete(client: httpx.AsyncClient, emu: CentraEmulator) -> None:
    ean = free_eans(emu, 1)[0]
    created = await client.post(
        "/api/wms/order",
        headers=AUTH,
        json={"invoiceAddress": ADDRESS, "products": [{"qty": 2, "ean": ean}], "createOnly": 1},
    )
    number = created.json()["order"]
    assert created.json() == {"status": "ok", "order": number}
    listed = (await client.get(f"/api/wms/orders?order={number}", headers=AUTH)).json()
    assert listed["orders"] == [], "an incomplete order is not listed"
    stock = (await client.get(f"/_emulator/stock/{ean}")).json()["warehouses"][0]
    assert stock["allocated"] == 0
    done = await client.post(
        f"/api/wms/order/{number}", headers=AUTH, json={"comment": "Completed order"}
    )
    assert done.json() == {"orders": [str(number)], "status": "ok"}
    assert (await order_node(client, number))["otherComment"] == "Completed order"
    stock = (await client.get(f"/_emulator/stock/{ean}")).json()["warehouses"][0]
    assert stock["allocated"] == 2
