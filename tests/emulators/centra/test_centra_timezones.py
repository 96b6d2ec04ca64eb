from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
from centra_helpers import AUTH, control_shipment, free_eans, place_order

from centrasync.emulators.centra import CentraEmulator
from fake_clock import FakeClock


async def test_same_instant_is_naive_local_in_each_store(
    client: httpx.AsyncClient, emu: CentraEmulator, clock: FakeClock
) -> None:
    eans = free_eans(emu, 2)
    se = await place_order(client, [(eans[0], 1)], store="wms")
    us = await place_order(client, [(eans[1], 1)], store="wms-us")
    nodes = {}
    for uri, order in (("wms", se), ("wms-us", us)):
        response = await client.get(
            f"/api/{uri}/orders", headers=AUTH, params={"order": order["number"]}
        )
        nodes[uri] = response.json()["orders"][0]
    assert nodes["wms"]["orderDate"] == "2025-01-15 11:00:00"  # UTC+1 in January
    assert nodes["wms-us"]["orderDate"] == "2025-01-15 05:00:00"  # UTC-5
    expected = clock.now.astimezone(ZoneInfo("America/New_York")).strftime("%Y-%m-%d %H:%M:%S")
    assert nodes["wms-us"]["orderDate"] == expected
    assert nodes["wms"]["shipments"] == []


async def test_unset_times_and_summer_offset(
    client: httpx.AsyncClient, emu: CentraEmulator, clock: FakeClock
) -> None:
    clock.now = datetime(2025, 7, 1, 12, 0, tzinfo=ZoneInfo("UTC"))
    order = await place_order(client, [(free_eans(emu, 1)[0], 1)])
    await control_shipment(client, order["number"])
    node = (
        await client.get("/api/wms/orders", headers=AUTH, params={"order": order["number"]})
    ).json()["orders"][0]
    assert node["orderDate"] == "2025-07-01 14:00:00"  # UTC+2 in July
    assert node["shipments"][0]["shippedDate"] == "0000-00-00 00:00:00"
    assert node["cancelDate"] == "0000-00-00 00:00:00"


async def test_time_filters_read_in_store_zone(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    shipments = (await client.get("/api/wms-us/shipments", headers=AUTH)).json()["shipments"]
    pivot = shipments[5]["orderDate"]
    newer = await client.get("/api/wms-us/orders", headers=AUTH, params={"newer_than": pivot})
    numbers = [o["orderId"] for o in newer.json()["orders"]]
    assert numbers[0] == shipments[5]["orderId"], "newer_than is inclusive, in store time"
    older = await client.get(
        "/api/wms-us/orders", headers=AUTH, params={"older_than": pivot, "limit": 100}
    )
    assert [o["orderId"] for o in older.json()["orders"]] == [s["orderId"] for s in shipments[:5]]
