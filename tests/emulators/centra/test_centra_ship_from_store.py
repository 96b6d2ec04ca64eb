"""Ship-from-store: check-first warehouses accept orders, direct-then-confirm ones confirm."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from centra_helpers import AUTH, free_eans, place_order

from centrasync.emulators.centra import CentraEmulator, WebhookSettings
from centrasync.emulators.centra.model import Event
from centrasync.emulators.faults import EmulatorTransport
from fake_clock import FakeClock


@pytest.fixture
def events(emu: CentraEmulator) -> list[Event]:
    seen: list[Event] = []
    emu.world.listeners.append(seen.append)
    return seen


async def store_warehouse(client: httpx.AsyncClient, name: str, policy: str, ean: str) -> int:
    """A ship-from-store warehouse holding 5 of ``ean``."""
    created = await client.post(
        "/_emulator/warehouses", json={"name": name, "allocation_policy": policy}
    )
    assert created.status_code == 200, created.text
    warehouse: int = created.json()["id"]
    stocked = await client.post(
        "/_emulator/stock", json={"ean": ean, "warehouse_id": warehouse, "physical": 5}
    )
    assert stocked.status_code == 200, stocked.text
    return warehouse


async def allocated(client: httpx.AsyncClient, ean: str) -> dict[int, int]:
    levels = (await client.get(f"/_emulator/stock/{ean}")).json()["warehouses"]
    return {lv["warehouse_id"]: lv["allocated"] for lv in levels}


async def check_first(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    answer: dict[str, Any] = (
        await client.post("/api/wms/check-first", headers=AUTH, json=body)
    ).json()
    return answer


def of_type(events: list[Event], type_: str) -> list[tuple[str, dict[str, Any] | None]]:
    return [(e.action, e.data) for e in events if e.type == type_]


# -- check first, then allocate -------------------------------------------------------------


async def test_check_first_accept_allocates_there_and_rejects_the_others(
    client: httpx.AsyncClient, emu: CentraEmulator, events: list[Event]
) -> None:
    ean = free_eans(emu, 1)[0]
    malmo = await store_warehouse(client, "Store Malmö", "check_first", ean)
    lund = await store_warehouse(client, "Store Lund", "check_first", ean)
    number = (await place_order(client, [(ean, 2)], ship_from=[malmo, lund]))["number"]
    assert (await client.get(f"/_emulator/orders/{number}")).json()["allocated"] is False
    assert sum((await allocated(client, ean)).values()) == 0, "nothing allocated yet"
    ((action, data),) = of_type(events, "check_first")
    assert action == "create" and data is not None
    assert [w["warehouseId"] for w in data["warehouses"]] == [malmo, lund]
    assert data["warehouses"][0]["expirationAt"] == "2025-01-15T12:00:00+01:00"
    waiting = await client.post(
        "/api/wms/shipments", headers=AUTH, json={"order": number, "products": {"1": 1}}
    )
    assert waiting.json()["status"] == "no", "no shipment before a warehouse accepts"

    assert await check_first(client, orderNumber=number, warehouseId=malmo, accepted=True) == {
        "status": "ok"
    }
    assert (await allocated(client, ean))[malmo] == 2
    assert of_type(events, "check_first")[1:] == [
        ("accepted", {"warehouseId": malmo}),
        ("rejected", {"warehouseId": lund}),
    ]
    again = await check_first(client, orderNumber=number, warehouseId=lund, accepted=True)
    assert again["status"] == "no", "accepting cannot be undone"
    view = (await client.get(f"/_emulator/orders/{number}")).json()
    shipment = await client.post(f"/_emulator/orders/{number}/shipments", json={})
    assert shipment.status_code == 200
    listed = (await client.get(f"/api/wms/shipments?order={number}", headers=AUTH)).json()
    assert listed["shipments"][0]["products"][0]["warehouses"][0]["name"] == "Store Malmö"
    assert [o["status"] for o in view["check_first"]] == ["accepted", "rejected"]


async def test_check_first_all_rejected_goes_the_regular_way(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    ean = free_eans(emu, 1)[0]
    store = await store_warehouse(client, "Store Malmö", "check_first", ean)
    number = (await place_order(client, [(ean, 1)], ship_from=[store]))["number"]
    before = (await allocated(client, ean))[1]
    assert await check_first(client, orderNumber=number, warehouseId=store, accepted=False) == {
        "status": "ok"
    }
    assert (await allocated(client, ean))[1] == before + 1, "the primary warehouse took it"


async def test_check_first_times_out(
    client: httpx.AsyncClient, emu: CentraEmulator, clock: FakeClock, events: list[Event]
) -> None:
    ean = free_eans(emu, 1)[0]
    store = await store_warehouse(client, "Store Malmö", "check_first", ean)
    number = (await place_order(client, [(ean, 1)], ship_from=[store]))["number"]
    clock.advance(hours=1)
    late = await check_first(client, orderNumber=number, warehouseId=store, accepted=True)
    assert late["status"] == "no"
    assert of_type(events, "check_first")[-1] == ("timeout", {"warehouseId": store})
    assert (await client.get(f"/_emulator/orders/{number}")).json()["allocated"] is True


async def test_check_first_refusals(client: httpx.AsyncClient, emu: CentraEmulator) -> None:
    assert await check_first(client) == {
        "status": "no",
        "msg": {"orderNumber": "required", "warehouseId": "required", "accepted": "required"},
    }
    assert (await check_first(client, orderNumber="x", warehouseId=2, accepted="maybe"))["msg"] == {
        "orderNumber": "invalid value",
        "accepted": "invalid value",
    }
    assert await check_first(client, orderNumber=999999, warehouseId=2, accepted=True) == {
        "status": "no",
        "msg": "order does not exist",
    }
    ean, other = free_eans(emu, 2)
    store = await store_warehouse(client, "Store Malmö", "check_first", other)
    number = (await place_order(client, [(ean, 1)], ship_from=[store]))["number"]
    assert await check_first(client, orderNumber=number, warehouseId=store, accepted=1) == {
        "status": "no",
        "msg": "failed to allocate stock",
    }


# -- direct, then confirm -------------------------------------------------------------------


async def requests(client: httpx.AsyncClient, query: str = "") -> list[dict[str, Any]]:
    answer = (await client.get(f"/api/wms/allocation-requests{query}", headers=AUTH)).json()
    assert answer["status"] == "ok"
    found: list[dict[str, Any]] = answer["allocation_requests"]
    return found


async def answer(client: httpx.AsyncClient, request_id: Any, status: str) -> dict[str, Any]:
    body = {"id": request_id, "status": status}
    found: dict[str, Any] = (
        await client.put("/api/wms/allocation-request", headers=AUTH, json=body)
    ).json()
    return found


async def test_allocation_requests_listed_and_confirmed_elsewhere(
    client: httpx.AsyncClient, emu: CentraEmulator, events: list[Event]
) -> None:
    ean = free_eans(emu, 1)[0]
    first = await store_warehouse(client, "Store Malmö", "direct_then_confirm", ean)
    second = await store_warehouse(client, "Store Lund", "direct_then_confirm", ean)
    order = await place_order(client, [(ean, 2)], ship_from=[first, second])
    assert (await allocated(client, ean))[first] == 2, "allocated at once in the first"
    listed = await requests(client)
    assert [(r["warehouseId"], r["status"]) for r in listed] == [
        (first, "allocated"),
        (second, "sent"),
    ]
    item = listed[0]
    assert type(item["id"]) is int and item["warehouseName"] == "Store Malmö"
    assert item["order"] == {"id": order["selection_id"], "number": order["number"]}
    assert item["lines"] == [
        {
            "lineId": order["lines"][0]["line_id"],
            "quantity": 2,
            "stockItemId": order["lines"][0]["size_id"],
        }
    ]
    assert item["createdAt"] == "2025-01-15T11:00:00+01:00"
    assert item["expirationDate"] == "2025-01-15T12:00:00+01:00"
    assert [r["id"] for r in await requests(client, "?warehouse=Store%20Lund")] == [listed[1]["id"]]

    assert await answer(client, listed[1]["id"], "confirmed") == {
        "success": True,
        "errorMessages": [],
    }
    stock = await allocated(client, ean)
    assert (stock[first], stock[second]) == (0, 2), "the allocation moved to the confirmer"
    assert await requests(client) == []
    every = await requests(client, "?status=all")
    assert [r["status"] for r in every] == ["outdated", "confirmed"]
    creates = [e for e in events if e.type == "allocation_request" and e.action == "create"]
    assert creates[0].data is not None
    assert creates[0].data["lines"] == {
        str(order["lines"][0]["line_id"]): {
            "lineId": order["lines"][0]["line_id"],
            "quantity": 2,
            "stockItemId": order["lines"][0]["size_id"],
        }
    }
    assert creates[0].data["expirationDate"]["timezone"] == "Europe/Stockholm"
    assert await answer(client, listed[1]["id"], "rejected") == {
        "success": False,
        "errorMessages": ["You can't update allocation request, which is in status confirmed."],
    }


async def test_allocation_request_refusals_and_rejection(
    client: httpx.AsyncClient, emu: CentraEmulator, clock: FakeClock
) -> None:
    ean, other = free_eans(emu, 2)
    holder = await store_warehouse(client, "Store Malmö", "direct_then_confirm", ean)
    empty = await store_warehouse(client, "Store Lund", "direct_then_confirm", other)
    number = (await place_order(client, [(ean, 1)], ship_from=[holder, empty]))["number"]
    held, sent = await requests(client)
    assert await answer(client, 999999, "confirmed") == {
        "success": False,
        "errorMessages": ["Allocation request not found"],
    }
    assert await answer(client, held["id"], "maybe") == {
        "success": False,
        "errorMessages": {"status": "invalid value, expected 'confirmed' or 'rejected'"},
    }
    assert await answer(client, sent["id"], "confirmed") == {
        "success": False,
        "errorMessages": ["Warehouse doesn't have sufficient stock to allocate the request."],
    }
    primary = (await allocated(client, ean))[1]
    assert (await answer(client, held["id"], "rejected"))["success"] is True
    stock = await allocated(client, ean)
    assert (stock[holder], stock[1]) == (0, primary + 1), "rejected: the primary takes it"
    assert (await client.get(f"/_emulator/orders/{number}")).json()["allocated"] is True
    clock.advance(hours=2)
    assert [r["status"] for r in await requests(client)] == ["timed-out"]


async def test_request_times_out_and_the_primary_takes_the_goods(
    client: httpx.AsyncClient, emu: CentraEmulator, clock: FakeClock
) -> None:
    ean = free_eans(emu, 1)[0]
    holder = await store_warehouse(client, "Store Malmö", "direct_then_confirm", ean)
    await place_order(client, [(ean, 1)], ship_from=[holder])
    clock.advance(minutes=61)
    (request,) = await requests(client)
    assert request["status"] == "timed-out"
    assert (await allocated(client, ean))[holder] == 0
    # Timed out, it can still be confirmed while the warehouse has the goods.
    assert (await answer(client, request["id"], "confirmed"))["success"] is True
    assert (await allocated(client, ean))[holder] == 1


async def test_per_order_list_and_an_unknown_order(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    ean = free_eans(emu, 1)[0]
    holder = await store_warehouse(client, "Store Malmö", "direct_then_confirm", ean)
    number = (await place_order(client, [(ean, 1)], ship_from=[holder]))["number"]
    found = (await client.get(f"/api/wms/orders/{number}/allocation-requests", headers=AUTH)).json()
    assert [r["order"]["number"] for r in found["allocation_requests"]] == [number]
    unknown = (await client.get("/api/wms/orders/1095/allocation-requests", headers=AUTH)).json()
    assert unknown == {"status": "no", "msg": "Unknown order id: 1095"}


async def test_ship_from_events_reach_the_webhook_with_their_data(clock: FakeClock) -> None:
    received: list[dict[str, Any]] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        received.append(json.loads(parse_qs(request.content.decode())["payload"][0]))
        return httpx.Response(200, json={})

    emu = CentraEmulator(seed="demo", clock=clock, webhook_transport=httpx.MockTransport(receiver))
    emu.webhooks.configure(
        WebhookSettings(url="https://hooks.example.com/c", triggers=["allocation_request"])
    )
    async with httpx.AsyncClient(
        transport=EmulatorTransport(emu.app), base_url="http://centra.test"
    ) as client:
        ean = free_eans(emu, 1)[0]
        holder = await store_warehouse(client, "Store Malmö", "direct_then_confirm", ean)
        await place_order(client, [(ean, 1)], ship_from=[holder])
        await emu.webhooks.drain()
    (event,) = [e for payload in received for e in payload["events"]]
    assert event["type"] == "allocation_request" and event["action"] == "create"
    assert event["data"]["status"] == "allocated" and event["data"]["warehouseId"] == holder
    await emu.aclose()
