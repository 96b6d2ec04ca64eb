from __future__ import annotations

import httpx
from centra_helpers import AUTH, control_shipment, free_eans, place_order

from centrasync.emulators.centra import CentraEmulator
from fake_clock import FakeClock

COMPLETE = {"carrier": "PostNord", "service": "MyPack", "packages": 2, "tracking": "TR1"}


async def gtg_ids(client: httpx.AsyncClient, **params: str) -> list[str]:
    response = await client.get("/api/wms/shipments", headers=AUTH, params=params)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    return [s["shipmentId"] for s in body["shipments"]]


async def test_goodtogo_is_oldest_first_and_repeats_until_completed(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    response = await client.get("/api/wms/shipments", headers=AUTH)
    shipments = response.json()["shipments"]
    assert len(shipments) == 30
    dates = [s["orderDate"] for s in shipments]
    assert dates == sorted(dates)
    assert all(s["gtg"] == 1 and s["shouldCapture"] == 1 and s["paid"] == 0 for s in shipments)
    first = await gtg_ids(client)
    assert await gtg_ids(client) == first, "not a queue: every call lists the same shipments"

    target = emu.seed_summary["short_pick"]["shipment"]
    done = await client.put(
        "/api/wms/shipment", headers=AUTH, json={"order": target.split("-")[0], "shipment": target}
    )
    assert done.json() == {"status": "ok", "order": int(target.split("-")[0]), "shipment": target}
    after = await gtg_ids(client)
    assert target not in after
    assert after == [s for s in first if s != target]
    assert target in await gtg_ids(client, status="completed")


async def test_limit_offset_and_order_filter(client: httpx.AsyncClient) -> None:
    everything = await gtg_ids(client)
    assert await gtg_ids(client, limit="5", offset="3") == everything[3:8]
    number = everything[4].split("-")[0]
    assert await gtg_ids(client, order=number) == [everything[4]]


async def test_inprogress_until_good_to_go(client: httpx.AsyncClient, emu: CentraEmulator) -> None:
    order = await place_order(client, [(free_eans(emu, 1)[0], 1)])
    shipment = await control_shipment(client, order["number"], gtg=False)
    assert shipment["number"] in await gtg_ids(client, status="inprogress")
    assert shipment["number"] not in await gtg_ids(client)
    response = await client.put(
        f"/api/wms/shipments/{shipment['number']}", headers=AUTH, json={"gtg": 1}
    )
    assert response.json()["shipment"]["gtg"] == 1
    assert (await gtg_ids(client))[-1] == shipment["number"], "the newest comes last"


async def test_create_captures_by_default(client: httpx.AsyncClient, emu: CentraEmulator) -> None:
    order = await place_order(client, [(free_eans(emu, 1)[0], 2)])
    line = str(order["lines"][0]["line_id"])
    response = await client.post(
        "/api/wms/shipments",
        headers=AUTH,
        json={"order": order["number"], "products": {line: "2"}, "gtg": True},
    )
    body = response.json()
    number = f"{order['number']}-1"
    assert body["status"] == "ok"
    assert body["order"] == order["number"]
    assert body["shipment"] == number
    assert body["deliveryNote"].endswith(f"/delnote?shipment={number}")
    view = (await client.get(f"/_emulator/shipments/{number}")).json()
    assert view["captured"] and view["paid"] and not view["should_capture"]
    listed = next(
        s
        for s in (await client.get("/api/wms/shipments", headers=AUTH)).json()["shipments"]
        if s["shipmentId"] == number
    )
    assert (listed["paid"], listed["shouldCapture"], listed["orderId"]) == (
        1,
        0,
        str(order["number"]),
    )
    assert listed["products"][0]["lineId"] == line
    assert listed["products"][0]["qty"] == 2


async def test_declined_capture_on_create_creates_nothing(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    order = await place_order(client, [(free_eans(emu, 1)[0], 1)])
    number = order["number"]
    await client.put(f"/_emulator/orders/{number}/capture", json={"declines": True})
    line = str(order["lines"][0]["line_id"])
    response = await client.post(
        "/api/wms/shipments", headers=AUTH, json={"order": number, "products": {line: 1}}
    )
    assert response.status_code == 200
    assert response.json() == {"status": "no", "msg": "can not capture order", "order": str(number)}
    assert (await client.get(f"/_emulator/orders/{number}")).json()["shipments"] == []
    assert emu.world.written("shipment_creations") == []


async def test_unknown_order_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/wms/shipments", headers=AUTH, json={"order": 1337, "products": {"1": 1}}
    )
    assert response.json() == {"status": "no", "msg": "order does not exist", "order": "1337"}


async def test_complete_requires_paid_and_good_to_go(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    ean = free_eans(emu, 1)[0]
    order = await place_order(client, [(ean, 1)])
    shipment = (await control_shipment(client, order["number"], gtg=False))["number"]
    body = {"order": order["number"], "shipment": shipment, **COMPLETE}
    unpaid = await client.put("/api/wms/shipment", headers=AUTH, json=body | {"capture": 0})
    assert unpaid.json()["status"] == "no"
    assert unpaid.json()["msg"] == "shipment is not paid"
    not_gtg = await client.put("/api/wms/shipment", headers=AUTH, json=body)
    assert not_gtg.json()["msg"] == "shipment is not good to go"
    assert (await client.get(f"/_emulator/shipments/{shipment}")).json()["captured"]
    await client.post(f"/_emulator/shipments/{shipment}/good-to-go")
    before = (await client.get(f"/_emulator/stock/{ean}")).json()["warehouses"][0]
    done = await client.put("/api/wms/shipment", headers=AUTH, json=body)
    assert done.json() == {"status": "ok", "order": order["number"], "shipment": shipment}
    after = (await client.get(f"/_emulator/stock/{ean}")).json()["warehouses"][0]
    assert after["physical"] == before["physical"] - 1
    assert after["allocated"] == before["allocated"] - 1
    completion = (await client.get("/_emulator/writes/completions")).json()[-1]
    assert completion["carrier"] == "PostNord"
    assert completion["tracking"] == "TR1"
    assert completion["packages"] == 2
    orders = await client.get("/api/wms/orders", headers=AUTH, params={"order": order["number"]})
    node = orders.json()["orders"][0]
    assert node["orderStatus"] == "4"
    assert node["shipments"][0]["trackingId"] == "TR1"


async def test_declined_capture_on_complete(client: httpx.AsyncClient, emu: CentraEmulator) -> None:
    mark = emu.seed_summary["capture_declines"]
    body = {"order": str(mark["order"]), "shipment": mark["shipment"], "capture": 1, **COMPLETE}
    response = await client.put("/api/wms/shipment", headers=AUTH, json=body)
    assert response.json() == {
        "status": "no",
        "msg": "capture failed",
        "order": mark["order"],
        "shipment": mark["shipment"],
    }
    explicit = await client.put(
        "/api/wms/capture", headers=AUTH, json={"shipment": mark["shipment"]}
    )
    assert explicit.json()["msg"] == "capture failed"
    view = (await client.get(f"/_emulator/shipments/{mark['shipment']}")).json()
    assert not view["shipped"] and not view["captured"]
    outcomes = [w["outcome"] for w in (await client.get("/_emulator/writes/captures")).json()]
    assert outcomes == ["declined", "declined"]


async def test_update_refused_once_captured_or_sent(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    order = await place_order(client, [(free_eans(emu, 1)[0], 3)])
    line = str(order["lines"][0]["line_id"])
    created = await client.post(
        "/api/wms/shipments",
        headers=AUTH,
        json={"order": order["number"], "products": {line: 3}, "gtg": 1},
    )
    number = created.json()["shipment"]
    captured = await client.put(
        f"/api/wms/shipments/{number}", headers=AUTH, json={"products": {line: 2}}
    )
    assert captured.json() == {
        "status": "no",
        "msg": "shipment is captured and can not be updated",
        "shipment": number,
    }
    await client.put(
        "/api/wms/shipment", headers=AUTH, json={"order": order["number"], "shipment": number}
    )
    sent = await client.put(
        f"/api/wms/shipments/{number}", headers=AUTH, json={"products": {line: 1}}
    )
    assert sent.json()["msg"] == "shipment is sent and can not be updated"
    serial = await client.put(
        f"/api/wms/shipments/{number}",
        headers=AUTH,
        json={"products": {line: {"serialNumber": "SN-1"}}},
    )
    assert serial.json()["status"] == "ok"
    assert serial.json()["shipment"]["products"][0]["serialNumbers"] == ["SN-1"]


async def test_short_pick_lowers_quantity_and_frees_units(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    mark = emu.seed_summary["short_pick"]
    response = await client.put(
        f"/api/wms/shipments/{mark['shipment']}",
        headers=AUTH,
        json={"products": {str(mark["lineId"]): mark["pick"]}},
    )
    node = response.json()["shipment"]
    assert node["shipmentId"] == mark["shipment"]
    qty = {p["lineId"]: p["qty"] for p in node["products"]}
    assert qty[str(mark["lineId"])] == 1
    order = (await client.get(f"/_emulator/orders/{mark['order']}")).json()
    line = next(ln for ln in order["lines"] if ln["line_id"] == mark["lineId"])
    assert line["unshipped_qty"] == mark["ordered"] - mark["pick"]


async def test_delete_only_without_invoice(client: httpx.AsyncClient, emu: CentraEmulator) -> None:
    order = await place_order(client, [(free_eans(emu, 1)[0], 1)])
    shipment = (await control_shipment(client, order["number"]))["number"]
    await client.put("/api/wms/capture", headers=AUTH, json={"shipment": shipment})
    refused = await client.delete(f"/api/wms/shipments/{shipment}", headers=AUTH)
    assert refused.json() == {
        "status": "no",
        "msg": "shipment has invoices or creditnotes and could not be deleted.",
        "shipment": shipment,
    }
    other = await place_order(client, [(free_eans(emu, 1, offset=1)[0], 1)])
    loose = (await control_shipment(client, other["number"]))["number"]
    removed = await client.delete(f"/api/wms/shipments/{loose}", headers=AUTH)
    assert removed.json() == {
        "status": "ok",
        "msg": "shipment removed",
        "order": other["number"],
        "shipment": loose,
    }
    again = await control_shipment(client, other["number"])
    assert again["number"] == f"{other['number']}-2", "a deleted shipment number is not reused"


async def test_shipment_node_has_documented_fields(
    client: httpx.AsyncClient, emu: CentraEmulator, clock: FakeClock
) -> None:
    node = (await client.get("/api/wms/shipments", headers=AUTH)).json()["shipments"][0]
    for key in (
        "orderId", "shipmentId", "selectionId", "orderDate", "orderStore", "orderCurrency",
        "customerId", "accountId", "shippingList", "proforma", "deliveryNote", "paid",
        "shouldCapture", "grandTotalValue", "taxBreakdown", "deliveryCoaddress", "deliveryCell",
        "deliveryTele", "billingCoaddress", "otherComment", "marketplace_source", "products",
    ):  # fmt: skip
        assert key in node, key
    assert len(node["selectionId"]) == 32
    line = node["products"][0]
    assert isinstance(line["lineId"], str)
    assert line["warehouses"][0]["itemQty"] == str(line["qty"])
    assert line["weightUnit"] == "kg"


async def test_serial_number_for_a_line_not_on_the_shipment(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    first = next(iter(emu.world.shipments.values())).number
    response = await client.put(
        f"/api/wms/shipments/{first}",
        headers=AUTH,
        json={"products": {"1": {"serialNumber": "SN-9"}}},
    )
    assert response.json()["status"] == "no"
    assert response.json()["shipment"] == first
