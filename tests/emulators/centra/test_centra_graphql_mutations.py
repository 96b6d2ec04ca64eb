"""Integration API mutations, and the Order API and GraphQL views of one world agreeing."""

from __future__ import annotations

from typing import Any

import httpx
from centra_helpers import AUTH, free_eans, place_order
from gql_helpers import gql, token

from centrasync.emulators.centra import CentraEmulator
from fake_clock import FakeClock

SHIPMENT = """id number isGoodToGo isShipped isPaid isCaptured trackingNumber numberOfPackages
    shippedAt carrierInformation { carrierName serviceName } additionalMessage
    lines { id quantity orderLine { id } }"""


async def _order(client: httpx.AsyncClient, emu: CentraEmulator, count: int = 2) -> dict[str, Any]:
    eans = free_eans(emu, count)
    return await place_order(client, [(ean, 2) for ean in eans])


async def _create(
    client: httpx.AsyncClient, bearer: str, number: int, extra: str = ""
) -> dict[str, Any]:
    data = await gql(
        client,
        bearer,
        f"""mutation {{ createShipment(input: {{order: {{number: {number}}}, isGoodToGo: true
            {extra}}}) {{ shipment {{ {SHIPMENT} }} userErrors {{ message path }}
            userWarnings {{ message path }} }} }}""",
    )
    payload: dict[str, Any] = data["createShipment"]
    return payload


async def test_create_shipment_with_a_declined_capture_warns_and_stays_uncaptured(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    bearer = await token(client)
    order = await _order(client, emu)
    await client.put(f"/_emulator/orders/{order['number']}/capture", json={"declines": True})
    payload = await _create(client, bearer, order["number"], "capture: true")
    assert payload["userErrors"] == []
    assert payload["userWarnings"] == [
        {
            "message": "Capture failed: the payment provider declined it",
            "path": ["input", "capture"],
        }
    ]
    assert payload["shipment"]["isCaptured"] is False
    assert payload["shipment"]["number"] == f"{order['number']}-1"
    # The Order API refuses the same create whole.
    rest = await client.post(
        "/api/wms/shipments",
        headers=AUTH,
        json={"order": order["number"], "products": {"1": 1}, "capture": True},
    )
    assert rest.json()["status"] == "no"


async def test_capture_shipment_fails_the_mutation_on_a_decline(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    bearer = await token(client)
    order = await _order(client, emu)
    shipment = (await _create(client, bearer, order["number"]))["shipment"]
    await client.put(f"/_emulator/shipments/{shipment['id']}/capture", json={"declines": True})
    query = f"""mutation {{ captureShipment(id: {shipment["id"]}) {{
        shipment {{ isCaptured }} paymentHistoryEntry {{ status entryType value {{ value }} }}
        userErrors {{ message path }} }} }}"""
    failed = (await gql(client, bearer, query))["captureShipment"]
    assert failed["userErrors"] == [{"message": "Capture failed", "path": ["id"]}]
    assert failed["paymentHistoryEntry"]["status"] == "FAILED"
    await client.put(f"/_emulator/shipments/{shipment['id']}/capture", json={"declines": False})
    done = (await gql(client, bearer, query))["captureShipment"]
    assert done["userErrors"] == [] and done["shipment"] == {"isCaptured": True}
    assert done["paymentHistoryEntry"]["status"] == "SUCCESS"
    assert done["paymentHistoryEntry"]["value"]["value"] > 0
    captures = (await client.get("/_emulator/writes/captures")).json()
    assert [c["outcome"] for c in captures] == ["declined", "captured"]


async def test_update_then_complete_a_shipment(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    bearer = await token(client, integration_name="wms")
    order = await _order(client, emu)
    shipment = (await _create(client, bearer, order["number"], "isPaid: true"))["shipment"]
    assert shipment["isPaid"] and not shipment["isCaptured"]
    update = f"""mutation {{ updateShipment(id: {shipment["id"]}, input: {{
        additionalMessage: "fragile", externalId: "WMS-1",
        shipmentInfo: {{carrier: "PostNord", service: "MyPack"}} }}) {{
        shipment {{ {SHIPMENT} }} userErrors {{ message }} }} }}"""
    updated = (await gql(client, bearer, update))["updateShipment"]["shipment"]
    assert updated["additionalMessage"] == "fragile"
    assert updated["carrierInformation"] == {"carrierName": "PostNord", "serviceName": "MyPack"}
    complete = f"""mutation {{ completeShipment(id: {shipment["id"]}, input: {{
        shippedAt: "2025-01-15 09:30:00",
        shipmentInfo: {{carrier: "PostNord", service: "MyPack", trackingNumber: "TRK1",
                        packagesNumber: 2}} }}) {{ shipment {{ {SHIPMENT} }}
        userErrors {{ message }} }} }}"""
    done = (await gql(client, bearer, complete))["completeShipment"]
    assert done["userErrors"] == []
    assert done["shipment"]["isShipped"] is True
    assert done["shipment"]["shippedAt"] == "2025-01-15T09:30:00+01:00"  # naive = merchant
    assert done["shipment"]["trackingNumber"] == "TRK1"
    assert done["shipment"]["numberOfPackages"] == 2
    again = (await gql(client, bearer, complete))["completeShipment"]
    assert again["userErrors"] == [{"message": "shipment is already completed"}]
    refused = (await gql(client, bearer, update))["updateShipment"]
    assert refused["userErrors"] == [{"message": "shipment is sent and can not be updated"}]
    conversions = await gql(
        client, bearer, "{ idConversions { objectType internalId externalId } }"
    )
    assert conversions["idConversions"] == [
        {"objectType": "Shipment", "internalId": shipment["id"], "externalId": "WMS-1"}
    ]


async def test_complete_needs_a_paid_shipment_and_no_future_date(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    bearer = await token(client)
    order = await _order(client, emu)
    shipment = (await _create(client, bearer, order["number"]))["shipment"]
    query = """mutation ($id: Int!, $at: DateTimeTz) { completeShipment(id: $id,
        input: {shippedAt: $at}) { userErrors { message path } } }"""
    unpaid = await gql(client, bearer, query, {"id": shipment["id"], "at": "now"})
    assert unpaid["completeShipment"]["userErrors"] == [
        {"message": "shipment is not paid", "path": ["id"]}
    ]
    future = await gql(client, bearer, query, {"id": shipment["id"], "at": "+1 day"})
    assert future["completeShipment"]["userErrors"][0]["path"] == ["input", "shippedAt"]


async def test_a_shipment_completed_over_rest_reads_shipped_over_graphql(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    """One world: REST lineId = OrderLine.id, shipmentId "N-k" = Shipment.number."""
    bearer = await token(client)
    rest = await client.get("/api/wms/shipments", headers=AUTH)
    node = rest.json()["shipments"][0]
    done = await client.put(
        "/api/wms/shipment",
        headers=AUTH,
        json={
            "order": node["orderId"],
            "shipment": node["shipmentId"],
            "carrier": "DHL",
            "service": "Parcel",
            "tracking": "JJD000123",
            "packages": 1,
        },
    )
    assert done.json()["status"] == "ok"
    query = f"""{{ shipments(where: {{number: ["{node["shipmentId"]}"]}}) {{
        number isShipped isCaptured trackingNumber carrierInformation {{ carrierName }}
        lines {{ quantity orderLine {{ id }} }} order {{ number status }} }} }}"""
    (shipment,) = (await gql(client, bearer, query))["shipments"]
    assert shipment["number"] == node["shipmentId"]
    assert shipment["isShipped"] is True and shipment["isCaptured"] is True
    assert shipment["trackingNumber"] == "JJD000123"
    assert shipment["carrierInformation"] == {"carrierName": "DHL"}
    assert [ln["orderLine"]["id"] for ln in shipment["lines"]] == [
        int(p["lineId"]) for p in node["products"]
    ]
    assert shipment["order"]["number"] == int(node["orderId"])


async def test_a_graphql_shipment_is_on_the_order_apis_pick_list(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    bearer = await token(client)
    order = await _order(client, emu)
    created = (await _create(client, bearer, order["number"]))["shipment"]
    rest = await client.get("/api/wms/shipments", headers=AUTH)
    node = next(s for s in rest.json()["shipments"] if s["shipmentId"] == created["number"])
    assert [int(p["lineId"]) for p in node["products"]] == [
        ln["orderLine"]["id"] for ln in created["lines"]
    ]


async def test_create_a_return_by_shipment_line(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    bearer = await token(client)
    order = await _order(client, emu)
    shipment = (await _create(client, bearer, order["number"], "isPaid: true"))["shipment"]
    await gql(
        client,
        bearer,
        f"""mutation {{ completeShipment(id: {shipment["id"]}, input: {{}}) {{
            userErrors {{ message }} }} }}""",
    )
    line, other = shipment["lines"]
    order_line = emu.world.line(emu.world.orders[order["number"]], line["orderLine"]["id"])
    assert order_line is not None
    before = emu.world.stock[3, order_line.size_id].physical
    query = f"""mutation {{ createReturn(input: {{ shipment: {{id: {shipment["id"]}}},
        lines: [{{shipmentLine: {{id: {line["id"]}}}, quantity: 1}},
                {{shipmentLine: {{id: {other["id"]}}}, quantity: 5}}],
        returnStockActionPolicy: {{sendItemsToDifferentWarehouse: {{id: 3}}}},
        comment: "too big" }}) {{
        return {{ id status returnedToStock comment returnWarehouse {{ id }}
                  lines {{ quantity shipmentLine {{ id }} orderLine {{ id }} }} }}
        userErrors {{ message }} userWarnings {{ message path }} }} }}"""
    payload = (await gql(client, bearer, query))["createReturn"]
    assert payload["userErrors"] == []
    made = payload["return"]
    assert made["status"] == "IN_PROGRESS" and made["returnedToStock"] is True
    assert made["returnWarehouse"] == {"id": 3}
    assert made["lines"] == [
        {"quantity": 1, "shipmentLine": {"id": line["id"]}, "orderLine": line["orderLine"]}
    ]
    assert payload["userWarnings"] == [
        {
            "message": "The line could not be returned: more than was shipped and not yet returned",
            "path": ["input", "lines", "1"],
        }
    ]
    assert emu.world.stock[3, order_line.size_id].physical == before + 1
    rest = await client.get("/api/wms/returns", headers=AUTH, params={"return": made["id"]})
    assert rest.json()["returns"][0]["returnId"] == made["id"]
    completed = await gql(
        client,
        bearer,
        f"mutation {{ completeReturn(id: {made['id']}) {{ return {{ status }} }} }}",
    )
    assert completed["completeReturn"]["return"] == {"status": "COMPLETED"}


async def test_set_and_change_stock(client: httpx.AsyncClient, emu: CentraEmulator) -> None:
    bearer = await token(client)
    ref = emu.world.size_by_ean(free_eans(emu, 1)[0], record="test")
    query = f"""mutation {{ setStock(input: {{ warehouse: {{id: 1}}, description: "count",
        stockQuantityType: PHYSICAL,
        productVariants: [{{ productVariant: {{id: {ref.variant.id}}},
            sizeStockLevels: [{{size: {{name: "{ref.size.name}"}}, quantity: 7}}] }}],
        productSizes: [{{ productSize: {{EAN: "{ref.size.ean}"}}, quantity: 9 }}] }}) {{
        stockChanges {{ id type comment lines {{ deliveredQuantity productSize {{ id }} }} }}
        userErrors {{ message }} userWarnings {{ message }} }} }}"""
    payload = (await gql(client, bearer, query))["setStock"]
    assert payload["userWarnings"] == [{"message": "Duplicate product size skipped"}]
    assert emu.world.stock[1, ref.size.id].physical == 7
    (change,) = payload["stockChanges"]
    assert change["type"] == "MANUAL" and change["comment"] == "count"
    moved = f"""mutation {{ changeStock(input: {{ description: "move",
        outFromWarehouse: {{id: 1}}, intoWarehouse: {{id: 2}},
        productSizes: [{{productSize: {{id: {ref.size.id}}}, deliveredQuantity: 3}}] }}) {{
        stockChange {{ type warehouse {{ id }} lines {{ deliveredQuantity }} }}
        userErrors {{ message }} }} }}"""
    before = emu.world.stock[2, ref.size.id].physical
    result = (await gql(client, bearer, moved))["changeStock"]
    assert result["stockChange"] == {
        "type": "TRANSFER",
        "warehouse": {"id": 2},
        "lines": [{"deliveredQuantity": 3}],
    }
    assert emu.world.stock[1, ref.size.id].physical == 4
    assert emu.world.stock[2, ref.size.id].physical == before + 3
    too_many = moved.replace("deliveredQuantity: 3", "deliveredQuantity: 50")
    refused = (await gql(client, bearer, too_many))["changeStock"]
    assert (
        refused["stockChange"] is None and "free to allocate" in refused["userErrors"][0]["message"]
    )
    rest = await client.get("/api/wms/stock", headers=AUTH, params={"ean": ref.size.ean})
    assert rest.json()["products"][0]["physicalStock"] == 4


async def test_confirm_order(client: httpx.AsyncClient, emu: CentraEmulator) -> None:
    bearer = await token(client)
    pending = await place_order(client, [(free_eans(emu, 1)[0], 1)], pending=True)
    query = f"""mutation {{ confirmOrder(input: {{order: {{number: {pending["number"]}}}}}) {{
        order {{ status }} userErrors {{ message }} userWarnings {{ message }} }} }}"""
    first = (await gql(client, bearer, query))["confirmOrder"]
    assert first == {"order": {"status": "CONFIRMED"}, "userErrors": [], "userWarnings": []}
    second = (await gql(client, bearer, query))["confirmOrder"]
    assert second["userWarnings"] == [{"message": "The order is already confirmed"}]
    missing = await gql(client, bearer, query.replace(str(pending["number"]), "999999"))
    assert missing["confirmOrder"]["userErrors"] == [{"message": "Order not found"}]


async def test_id_conversions_overwrite_on_collision(client: httpx.AsyncClient) -> None:
    bearer = await token(client, integration_name="erp")
    other = await token(client, integration_name="pim")
    set_ = """mutation ($e: String!, $i: Int!) { setIdConversions(input: [
        {objectType: Market, internalId: $i, externalId: $e}]) {
        idConversions { id internalId externalId integrationName } userErrors { message } } }"""
    await gql(client, bearer, set_, {"e": "A", "i": 1})
    await gql(client, bearer, set_, {"e": "B", "i": 1})
    listed = await gql(client, bearer, "{ idConversions { internalId externalId } }")
    assert listed["idConversions"] == [{"internalId": 1, "externalId": "B"}]
    assert (await gql(client, other, "{ idConversions { id } }"))["idConversions"] == []
    too_long = await gql(client, bearer, set_, {"e": "x" * 256, "i": 2})
    assert too_long["setIdConversions"]["userErrors"][0]["message"].startswith("externalId")
    unset = """mutation { unsetIdConversions(input: [{objectType: Market,
        idConversion: {externalId: "B"}}]) { userErrors { message } } }"""
    await gql(client, bearer, unset)
    assert (await gql(client, bearer, "{ idConversions { id } }"))["idConversions"] == []


async def test_delete_shipment_and_the_deleted_event(
    client: httpx.AsyncClient, emu: CentraEmulator, clock: FakeClock
) -> None:
    bearer = await token(client, integration_name="wms")
    await gql(
        client,
        bearer,
        "mutation { setEventListeners(input: [{objectType: Shipment, changeTypes: [DELETED]}]) "
        "{ userErrors { message } } }",
    )
    order = await _order(client, emu)
    shipment = (await _create(client, bearer, order["number"]))["shipment"]
    deleted = await gql(
        client,
        bearer,
        f"mutation {{ deleteShipment(id: {shipment['id']}) {{ userErrors {{ message }} }} }}",
    )
    assert deleted["deleteShipment"]["userErrors"] == []
    events = await gql(
        client, bearer, "{ events { objectType changeType objectReference object { __typename } } }"
    )
    assert events["events"] == [
        {
            "objectType": "Shipment",
            "changeType": "DELETED",
            "objectReference": shipment["id"],
            "object": None,
        }
    ]
