"""Every answer of the Centra emulator's Order API and every webhook call, on the demo seed,
against the schema written from Centra's documentation.

The scenario leaves no list empty: shipments captured, completed, created, updated and
deleted; orders placed, created the ERP way, completed and updated; returns made and
completed; stock read and written; supplier deliveries accepted in parts; check-first offers
and allocation requests answered; and the error answers (401, 403, 404, 405, status "no").
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.faults import EmulatorTransport
from centrasync.testing.conformance import ApiSchema, ConformanceRecorder
from fake_clock import FakeClock

AUTH = {"API-Authorization": "s3cret"}
API = "/api/wms"
HOOK_URL = "http://receiver.test/hook"
ADDRESS = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "address": "Gatan 1",
    "zipcode": "11122",
    "city": "Stockholm",
    "country": "SE",
    "email": "ada@example.com",
}


@pytest.fixture
def schema() -> ApiSchema:
    return ApiSchema.load("centra-order-api")


@pytest.fixture
def recorder(schema: ApiSchema) -> ConformanceRecorder:
    return ConformanceRecorder(schema)


@pytest.fixture
def calls() -> list[httpx.Request]:
    return []


@pytest.fixture
def emu(calls: list[httpx.Request]) -> CentraEmulator:
    def receive(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json={})

    clock = FakeClock(datetime(2025, 1, 15, 10, 0, tzinfo=UTC))
    return CentraEmulator(seed="demo", clock=clock, webhook_transport=httpx.MockTransport(receive))


@pytest.fixture
async def client(
    emu: CentraEmulator, recorder: ConformanceRecorder
) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=EmulatorTransport(emu.app),
        base_url="http://centra.test",
        headers=AUTH,
        event_hooks={"response": [recorder.hook]},
    ) as http:
        yield http


async def ok(response: httpx.Response, status: str | None = "ok", code: int = 200) -> Any:
    assert response.status_code == code, response.text
    body = response.json()
    if status is not None:
        assert body.get("status") == status, body
    return body


def free_eans(emu: CentraEmulator, count: int) -> list[str]:
    ordered = {line.size_id for order in emu.world.orders.values() for line in order.lines}
    return [
        ref.size.ean
        for ref in emu.world.sizes.values()
        if ref.size.id not in ordered and not ref.product.is_bundle and ref.size.name
    ][:count]


async def place(client: httpx.AsyncClient, lines: list[tuple[str, int]], **extra: Any) -> int:
    body = {"store": "wms", "lines": [{"ean": e, "qty": q} for e, q in lines], **extra}
    placed = await client.post("/_emulator/orders", json=body)
    assert placed.status_code == 200, placed.text
    number: int = placed.json()["number"]
    return number


async def warehouse(client: httpx.AsyncClient, name: str, policy: str, ean: str) -> int:
    made = (
        await client.post("/_emulator/warehouses", json={"name": name, "allocation_policy": policy})
    ).json()
    await client.post(
        "/_emulator/stock", json={"ean": ean, "warehouse_id": made["id"], "physical": 5}
    )
    warehouse_id: int = made["id"]
    return warehouse_id


async def test_every_order_api_answer_conforms(
    client: httpx.AsyncClient,
    emu: CentraEmulator,
    recorder: ConformanceRecorder,
    calls: list[httpx.Request],
) -> None:
    c = client
    await c.put(
        "/_emulator/webhook",
        json={
            "url": HOOK_URL,
            "secret": "hook",
            "triggers": ["order", "shipment", "return", "check_first", "allocation_request"],
        },
    )
    # Shipments: read, capture, complete, a declined capture.
    shipments = (await ok(await c.get(f"{API}/shipments")))["shipments"]
    assert shipments
    await ok(await c.get(f"{API}/shipments", params={"status": "inprogress", "limit": 5}))
    first = shipments[0]
    await ok(await c.put(f"{API}/capture", json={"shipment": first["shipmentId"]}))
    await ok(
        await c.put(
            f"{API}/shipment",
            json={
                "order": first["orderId"],
                "shipment": first["shipmentId"],
                "carrier": "PostNord",
                "service": "MyPack",
                "packages": 1,
                "tracking": "T1",
                "returnSlipTracking": "R1",
            },
        )
    )
    await ok(await c.put(f"{API}/capture", json={"shipment": "1008-1"}), "no")
    await ok(await c.put(f"{API}/shipment", json={"order": 1008, "shipment": "1008-1"}), "no")
    await ok(await c.get(f"{API}/shipments", params={"status": "completed", "limit": 10}))
    # A shipment made, updated, deleted; one refused.
    eans = free_eans(emu, 6)
    number = await place(c, [(eans[0], 2), (eans[1], 1)])
    node = (await ok(await c.get(f"{API}/orders", params={"order": number})))["orders"][0]
    line = node["products"][0]["lineId"]
    made = await ok(
        await c.post(
            f"{API}/shipments", json={"order": number, "products": {line: 1}, "capture": False}
        )
    )
    await ok(
        await c.put(
            f"{API}/shipments/{made['shipment']}", json={"products": {line: 2}, "gtg": True}
        )
    )
    await ok(await c.delete(f"{API}/shipments/{made['shipment']}"))
    await ok(await c.post(f"{API}/shipments", json={"order": 999999, "products": {"1": 1}}), "no")
    fraud = await place(c, [(eans[5], 1)])
    await c.put(f"/_emulator/orders/{fraud}/capture", json={"declines": True})
    fraud_line = (await ok(await c.get(f"{API}/orders", params={"order": fraud})))["orders"][0][
        "products"
    ][0]["lineId"]
    declined = await ok(
        await c.post(f"{API}/shipments", json={"order": fraud, "products": {fraud_line: 1}}), "no"
    )
    assert declined["msg"] == "can not capture order"
    serial = await ok(
        await c.post(
            f"{API}/shipments", json={"order": number, "products": {line: 1}, "capture": False}
        )
    )
    await ok(
        await c.put(
            f"{API}/shipments/{serial['shipment']}",
            json={"products": {line: {"serialNumber": "SN-1", "qty": 1}}},
        )
    )
    await ok(await c.delete(f"{API}/shipments/{first['shipmentId']}"), "no")
    await ok(
        await c.put(f"{API}/shipments/{first['shipmentId']}", json={"products": {line: 1}}), "no"
    )
    # Orders: read, update, create the ERP way, complete a createOnly one.
    await ok(await c.get(f"{API}/orders", params={"limit": 50}))
    await ok(await c.put(f"{API}/orders", json={"order": number, "internalComment": "checked"}))
    await ok(await c.put(f"{API}/orders", json={"order": 999999}), "no")
    await ok(
        await c.post(
            f"{API}/order",
            json={"invoiceAddress": ADDRESS, "products": [{"qty": 1, "ean": eans[2]}]},
        )
    )
    only = await ok(
        await c.post(
            f"{API}/order",
            json={
                "invoiceAddress": ADDRESS,
                "products": [{"qty": 1, "ean": eans[3]}],
                "createOnly": 1,
            },
        )
    )
    await ok(await c.post(f"{API}/order/{only['order']}", json={"internalComment": "paid"}))
    await ok(await c.post(f"{API}/order", json={"invoiceAddress": ADDRESS, "products": []}), "no")
    several = await ok(
        await c.post(
            f"{API}/orders",
            json={
                "a": {"invoiceAddress": ADDRESS, "products": [{"qty": 1, "ean": eans[4]}]},
                "b": {"invoiceAddress": ADDRESS, "products": [{"qty": 1, "ean": "0000000000000"}]},
            },
        ),
        None,
    )
    assert several["a"]["status"] == "ok" and several["b"]["status"] == "no"
    # Returns on the completed shipment.
    lines = {p["lineId"]: 1 for p in first["products"]}
    made_return = await ok(
        await c.post(
            f"{API}/return",
            json={
                "shipment": first["shipmentId"],
                "products": lines,
                "returnStock": True,
                "comment": "Too small",
            },
        )
    )
    await ok(await c.post(f"{API}/return", json={"shipment": "1002-1", "products": {"1": 1}}), "no")
    returns = (await ok(await c.get(f"{API}/returns")))["returns"]
    assert returns
    await ok(await c.put(f"{API}/returns/{made_return['return']}", json={"completed": True}))
    await ok(await c.put(f"{API}/returns/100500", json={"completed": True}), "no")
    second = shipments[1]
    await ok(
        await c.put(
            f"{API}/shipment", json={"order": second["orderId"], "shipment": second["shipmentId"]}
        )
    )
    refunded = await ok(
        await c.post(
            f"{API}/return",
            json={
                "shipment": second["shipmentId"],
                "products": {p["lineId"]: 1 for p in second["products"]},
                "refund": {"refundPayment": True},
                "handlingCostFromShipment": True,
            },
        )
    )
    assert "refund" in refunded
    await ok(
        await c.get(f"{API}/returns", params={"limit": 1, "page": 2, "order": second["orderId"]})
    )
    await ok(
        await c.get(
            f"{API}/shipments",
            params={"newer_than": "2025-01-10", "status": "completed", "limit": 100},
        )
    )
    # Products and stock.
    await ok(await c.get(f"{API}/products", params={"limit": 5, "page": 2}))
    await ok(await c.get(f"{API}/products", params={"ean": eans[0]}))
    await ok(await c.get(f"{API}/stock", params={"limit": 5, "page": 3}))
    await ok(await c.get(f"{API}/stock", params={"limit": 5, "exclude": "physicalStock"}))
    await ok(
        await c.post(
            f"{API}/stock",
            json={
                "products": [
                    {
                        "product": eans[5],
                        "quantity": 7,
                        "costPrice": 12.5,
                        "costPriceCurrency": "SEK",
                    }
                ]
            },
        )
    )
    await ok(
        await c.post(f"{API}/stock", json={"products": [{"product": "nope", "quantity": 1}]}), "no"
    )
    # Supplier orders and deliveries.
    await ok(await c.get(f"{API}/supplier-orders"))
    await ok(await c.get(f"{API}/supplier-orders/951"))
    await ok(await c.get(f"{API}/supplier-orders/1"), "no")
    ref = "361"
    for prefix in ("supplier-deliveries", "supplier-delivery"):
        await ok(await c.get(f"{API}/{prefix}"))
        await ok(await c.get(f"{API}/{prefix}/{ref}/details"))
        item = (await ok(await c.get(f"{API}/{prefix}/{ref}")))["delivery"]["products"][0]
        by_ean = await ok(
            await c.post(f"{API}/{prefix}/{ref}", json={"products": {item["ean"]: 1}})
        )
        ref = by_ean["additionalDelivery"]["deliveryId"]
        sku = item["sku"] + item["variantSku"] + item["sizeSku"]
        by_sku = await ok(await c.post(f"{API}/{prefix}/{ref}/sku", json={"products": {sku: 1}}))
        ref = by_sku["additionalDelivery"]["id"]
    await ok(await c.get(f"{API}/supplier-deliveries/99999"), "no")
    # Check-first and allocation requests.
    spare = free_eans(emu, 10)[6:]
    malmo = await warehouse(c, "Store Malmö", "check_first", spare[0])
    offered = await place(c, [(spare[0], 1)], ship_from=[malmo])
    await ok(
        await c.post(
            f"{API}/check-first",
            json={"orderNumber": offered, "warehouseId": malmo, "accepted": True},
        )
    )
    await ok(await c.post(f"{API}/check-first", json={"orderNumber": "x"}), "no")
    lund = await warehouse(c, "Store Lund", "direct_then_confirm", spare[1])
    asked = await place(c, [(spare[1], 1)], ship_from=[lund])
    requests = (await ok(await c.get(f"{API}/allocation-requests", params={"status": "all"})))[
        "allocation_requests"
    ]
    assert requests
    await ok(await c.get(f"{API}/orders/{asked}/allocation-requests"))
    await ok(await c.get(f"{API}/orders/999999/allocation-requests"), "no")
    confirmed = await ok(
        await c.put(
            f"{API}/allocation-request", json={"id": requests[0]["id"], "status": "confirmed"}
        ),
        None,
    )
    assert confirmed["success"] is True
    await ok(
        await c.put(f"{API}/allocation-request", json={"id": requests[0]["id"], "status": "maybe"}),
        None,
    )
    # Error answers.
    await ok(await c.get(f"{API}/shipments", headers={"API-Authorization": "wrong"}), "no", 401)
    await ok(await c.get(f"{API}/customers"), "no", 404)
    await ok(await c.get("/api/nope/shipments"), "no", 404)
    for read in ("shipments", "orders", "products", "stock", "returns"):
        await ok(await c.get(f"{API}/{read}", params={"limit": "abc"}), "no")
    await ok(await c.put(f"{API}/shipments/abc", json={"gtg": True}), "no")
    await ok(await c.patch(f"{API}/shipments"), "no", 405)
    await c.put("/_emulator/stores/wms/allowed-endpoints", json={"endpoints": ["stock"]})
    await ok(await c.get(f"{API}/shipments"), "Not Allowed", 403)

    recorder.assert_conforming()
    answered = {served for served, status in recorder.covered() if status == 200}
    assert answered >= {op.key for op in recorder.schema.operations()}, "an operation never ran"

    await emu.webhooks.drain()
    assert calls
    problems = [
        p for call in calls for p in recorder.schema.check_webhook("integrationApi", call.content)
    ]
    assert problems == []
    assert all(call.url.path == "/hook" for call in calls)
    payloads = [json.loads(parse_qs(call.content.decode())["payload"][0]) for call in calls]
    types = {event["type"] for payload in payloads for event in payload["events"]}
    assert types >= {"order", "shipment", "return", "check_first", "allocation_request"}


@pytest.mark.parametrize(
    "mode", ["only_items", "items_in_bundles", "only_bundles", "bundles_and_items"]
)
async def test_bundle_modes_and_the_second_store_conform(
    client: httpx.AsyncClient, emu: CentraEmulator, recorder: ConformanceRecorder, mode: str
) -> None:
    """Each "Bundles in shipments / orders" mode changes the shape of products[]."""
    modes = {"bundles_in_shipments": mode, "bundles_in_orders": mode}
    assert (await client.patch("/_emulator/stores/wms", json=modes)).status_code == 200
    bundle = next(r.size.ean for r in emu.world.sizes.values() if r.product.is_bundle)
    number = await place(client, [(bundle, 1), (free_eans(emu, 1)[0], 1)])
    made = await client.post(f"/_emulator/orders/{number}/shipments", json={"gtg": True})
    assert made.status_code == 200, made.text
    shipments = (await ok(await client.get(f"{API}/shipments", params={"order": number})))[
        "shipments"
    ]
    assert shipments
    products = shipments[0]["products"]
    assert any(p.get("isBundle") or p.get("isPartOfBundle") for p in products)
    await ok(await client.get(f"{API}/orders", params={"order": number}))
    await ok(await client.get("/api/wms-us/shipments"))
    await ok(await client.get("/api/wms-us/orders", params={"limit": 100}))
    recorder.assert_conforming()


async def test_checkout_api_webhook_payloads_conform(
    client: httpx.AsyncClient,
    emu: CentraEmulator,
    schema: ApiSchema,
    calls: list[httpx.Request],
) -> None:
    """The Webhook plugin's older "Checkout API" version: ids as strings under field names."""
    plugin = {"url": HOOK_URL, "version": "legacy", "triggers": ["order", "shipment", "return"]}
    assert (await client.post("/_emulator/stores/wms/webhooks", json=plugin)).status_code == 200
    number = await place(client, [(free_eans(emu, 1)[0], 1)])
    await ok(await client.put(f"{API}/orders", json={"order": number, "comment": "hi"}))
    await emu.webhooks.drain()
    assert calls
    assert [p for call in calls for p in schema.check_webhook("checkoutApi", call.content)] == []
