"""The events queue fed by everything the world does, and the webhook carrying the same."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import httpx
from centra_helpers import AUTH, free_eans, place_order
from gql_helpers import gql, token, unlimited

from centrasync.emulators.centra import CentraEmulator, WebhookSettings
from centrasync.emulators.faults import EmulatorTransport
from fake_clock import FakeClock

EVENTS = """{ events { id objectType changeType objectReference createdAt
    store { id } object { __typename ...on Shipment { number isShipped }
    ...on Order { orderNumber: number } ...on StockChange { type } } } }"""


def _delivered(emu: CentraEmulator) -> dict[str, int]:
    """The demo's open supplier delivery, received in full."""
    delivery = emu.world.supplier_deliveries[361]
    return {emu.world.sizes[k].size.ean: v for k, v in delivery.quantities.items()}


async def _listen(client: httpx.AsyncClient, bearer: str, listeners: str) -> None:
    data = await gql(
        client,
        bearer,
        f"mutation {{ setEventListeners(input: [{listeners}]) {{ userErrors {{ message }} }} }}",
    )
    assert data["setEventListeners"]["userErrors"] == []


async def _events(client: httpx.AsyncClient, bearer: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = (await gql(client, bearer, EVENTS))["events"]
    return events


async def test_order_api_writes_reach_the_queue_until_confirmed(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    unlimited(emu)
    bearer = await token(client, integration_name="erp")
    await _listen(client, bearer, "{objectType: Shipment, changeTypes: [COMPLETED]}")
    rest = (await client.get("/api/wms/shipments", headers=AUTH)).json()["shipments"][0]
    await client.put(
        "/api/wms/shipment",
        headers=AUTH,
        json={"order": rest["orderId"], "shipment": rest["shipmentId"], "tracking": "T1"},
    )
    first = await _events(client, bearer)
    assert [(e["objectType"], e["changeType"]) for e in first] == [("Shipment", "COMPLETED")]
    assert first[0]["object"] == {
        "__typename": "DirectToConsumerShipment",
        "number": rest["shipmentId"],
        "isShipped": True,
    }
    assert first[0]["objectReference"] == emu.world.find_shipment(rest["shipmentId"]).id  # type: ignore[union-attr]
    assert first[0]["createdAt"].endswith("+01:00")
    assert await _events(client, bearer) == first  # the same until confirmed
    confirm = f"""mutation {{ confirmEvents(input: {{eventsIds: [{first[0]["id"]}, 999]}}) {{
        events {{ id }} userWarnings {{ message }} }} }}"""
    confirmed = (await gql(client, bearer, confirm))["confirmEvents"]
    assert confirmed["events"] == [{"id": first[0]["id"]}]
    assert confirmed["userWarnings"] == [{"message": "Event 999 is not in the queue"}]
    assert await _events(client, bearer) == []


async def test_order_events_carry_the_number_and_show_the_current_state(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    unlimited(emu)
    bearer = await token(client, integration_name="erp")
    await _listen(client, bearer, "{objectType: Order}")
    placed = await place_order(client, [(free_eans(emu, 1)[0], 1)])
    await client.post(f"/_emulator/orders/{placed['number']}/cancel")
    events = await _events(client, bearer)
    assert [(e["changeType"], e["objectReference"]) for e in events] == [
        ("CREATED", placed["number"]),
        ("UPDATED", placed["number"]),
    ]
    state = f"{{ orders(where: {{number: {placed['number']}}}) {{ status }} }}"
    assert (await gql(client, bearer, state))["orders"] == [{"status": "CANCELLED"}]
    assert events[0]["store"] == {"id": emu.world.stores["wms"].market_id}


async def test_stock_changes_from_every_api_are_events(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    unlimited(emu)
    bearer = await token(client, integration_name="pim")
    await _listen(client, bearer, "{objectType: StockChange}")
    ean = free_eans(emu, 1)[0]
    await client.post(
        "/api/wms/stock", headers=AUTH, json={"products": [{"product": ean, "quantity": 3}]}
    )
    await client.post("/_emulator/stock", json={"ean": ean, "warehouse_id": 2, "physical": 4})
    await client.post(
        "/api/wms/supplier-deliveries/951-1", headers=AUTH, json={"products": _delivered(emu)}
    )
    kinds = [e["object"]["type"] for e in await _events(client, bearer)]
    assert kinds == ["MANUAL", "MANUAL", "SUPPLIER_DELIVERY"]
    changes = await gql(
        client,
        bearer,
        "{ stockChanges(sort: [id_DESC], limit: 3) { comment warehouse { id } } }",
    )
    assert changes["stockChanges"] == [
        {"comment": "Supplier delivery 951-1", "warehouse": {"id": 1}},
        {"comment": "Stock set in the admin", "warehouse": {"id": 2}},
        {"comment": "Order API stock update", "warehouse": {"id": 1}},
    ]


async def test_unsetting_a_listener_deletes_its_queued_events(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    unlimited(emu)
    bearer = await token(client, integration_name="erp")
    other = await token(client, integration_name="wms")
    await _listen(
        client, bearer, "{objectType: Order}, {objectType: Order, changeTypes: [CREATED]}"
    )
    await _listen(client, other, "{objectType: Order, changeTypes: [CREATED]}")
    listeners = await gql(client, bearer, "{ eventListeners { objectType changeTypes } }")
    assert listeners["eventListeners"][0]["changeTypes"] == [
        "CREATED",
        "UPDATED",
        "DELETED",
        "COMPLETED",
        "DEPENDENT_DATA_CHANGED",
    ]
    await place_order(client, [(free_eans(emu, 1)[0], 1)])
    assert len(await _events(client, bearer)) == 1
    unset = """mutation { unsetEventListeners(input: [{objectType: Order}]) {
        eventListeners { objectType } userErrors { message } } }"""
    assert (await gql(client, bearer, unset))["unsetEventListeners"]["eventListeners"] == []
    assert await _events(client, bearer) == []
    assert len(await _events(client, other)) == 1  # another integration's queue is its own


async def test_the_queue_needs_an_integration_name(client: httpx.AsyncClient) -> None:
    bearer = await token(client)
    response = await client.post(
        "/graphql",
        json={"query": "{ events { id } }"},
        headers={"Authorization": f"Bearer {bearer}"},
    )
    assert response.json()["errors"][0]["message"] == "The access token has no integration name"
    data = await gql(
        client,
        bearer,
        "mutation { setEventListeners(input: [{objectType: Order}]) { userErrors { message } } }",
    )
    assert data["setEventListeners"]["userErrors"] == [
        {"message": "The access token has no integration name"}
    ]


async def test_the_integration_api_webhook_carries_the_same_events(clock: FakeClock) -> None:
    calls: list[dict[str, Any]] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        calls.append(json.loads(parse_qs(request.content.decode())["payload"][0]))
        return httpx.Response(200, json={})

    emu = CentraEmulator(seed="demo", clock=clock, webhook_transport=httpx.MockTransport(receiver))
    emu.webhooks.configure(
        WebhookSettings(
            url="https://erp.example.com/hook",
            triggers=["order", "shipment", "return", "stock_change", "purchase_order_delivery"],
        )
    )
    async with httpx.AsyncClient(
        transport=EmulatorTransport(emu.app), base_url="http://centra.test"
    ) as client:
        bearer = await token(client, integration_name="erp")
        await _listen(
            client,
            bearer,
            "{objectType: Shipment}, {objectType: Return}, {objectType: StockChange}, "
            "{objectType: PurchaseOrderDelivery}",
        )
        rest = (await client.get("/api/wms/shipments", headers=AUTH)).json()["shipments"][0]
        await client.put(
            "/api/wms/shipment",
            headers=AUTH,
            json={"order": rest["orderId"], "shipment": rest["shipmentId"]},
        )
        await client.post(
            "/api/wms/return",
            headers=AUTH,
            json={
                "shipment": rest["shipmentId"],
                "products": {rest["products"][0]["lineId"]: 1},
                "returnStock": True,
            },
        )
        await client.post(
            "/api/wms/supplier-deliveries/951-1", headers=AUTH, json={"products": _delivered(emu)}
        )
        queued = await _events(client, bearer)
        await emu.webhooks.drain()
    sent = [(e["type"], e["action"], e["id"]) for call in calls for e in call["events"]]
    names = {
        "Shipment": "shipment",
        "Return": "return",
        "StockChange": "stock_change",
        "PurchaseOrderDelivery": "purchase_order_delivery",
    }
    expected = {(names[e["objectType"]], e["objectReference"]) for e in queued}
    assert {(kind, ident) for kind, _, ident in sent if kind != "order"} == expected
    assert ("return", "create") in {(kind, action) for kind, action, _ in sent}
    # The Order API's completion captures first (UPDATED), then ships (COMPLETED).
    changes = [e["changeType"] for e in queued if e["objectType"] == "Shipment"]
    assert changes == ["UPDATED", "COMPLETED"]
    await emu.aclose()
