"""The warehouse floor: inventory through allocate, pick, ship, receive, return, stock-take."""

from __future__ import annotations

import asyncio

import httpx
from ongoing_helpers import (
    API,
    OWNER,
    inventory,
    order_body,
    purchase_order_body,
    put_article,
    put_order,
)

from centrasync.emulators.faults import EmulatorTransport
from centrasync.emulators.ongoing import OngoingEmulator
from fake_clock import FakeClock


async def test_inventory_moves_through_allocate_pick_and_ship(client: httpx.AsyncClient) -> None:
    await put_article(client, "A", stock=10)
    start = await inventory(client, "A")
    assert (start["numberOfItems"], start["sellableNumberOfItems"]) == (10.0, 10.0)

    order_id = await put_order(client, order_body("O-1", [("A", 3)]))
    booked = await inventory(client, "A")
    assert booked["numberOfBookedItems"] == 3.0
    assert booked["sellableNumberOfItems"] == 7.0, "sellable drops as soon as the order exists"
    assert booked["numberOfItems"] == 10.0

    allocated = (await client.post("/_emulator/orders/O-1/allocate")).json()
    assert allocated["orderInfo"]["orderStatus"]["number"] == 320
    figures = await inventory(client, "A")
    assert figures["allocatedNumberOfItems"] == 3.0
    assert figures["numberOfItems"] == 10.0

    picked = await client.post(
        "/_emulator/orders/O-1/pick",
        json={"lines": [{"article_number": "A", "quantity": 3, "serial_numbers": ["S1", "S2"]}]},
    )
    assert picked.json()["orderInfo"]["orderStatus"] == {"number": 400, "text": "Picked"}
    figures = await inventory(client, "A")
    assert figures["allocatedNumberOfItems"] == 0.0
    assert figures["pickedToBeCollectedNumberOfItems"] == 3.0
    assert figures["numberOfItems"] == 10.0

    await client.post(
        "/_emulator/orders/O-1/ship",
        json={
            "parcels": [
                {"tracking_number": "TRK1", "tracking_url": "https://t.example/TRK1"},
                {"tracking_number": "TRK2", "parcel_number": "COLLI2", "weight": 1.5},
            ],
            "transporter_code": "PLAB",
            "service_code": "P19",
        },
    )
    figures = await inventory(client, "A")
    assert figures["numberOfItems"] == 7.0
    assert figures["pickedToBeCollectedNumberOfItems"] == 0.0
    assert figures["numberOfBookedItems"] == 0.0
    assert figures["sellableNumberOfItems"] == 7.0

    order = (await client.get(f"{API}/orders/{order_id}")).json()
    info = order["orderInfo"]
    assert info["orderStatus"]["number"] == 500
    assert info["shippedTime"].endswith("Z")
    assert info["wayBill"] == "TRK1"
    assert [t["waybill"] for t in order["tracking"]] == ["TRK1", "TRK2"]
    assert [p["parcelNumber"] for p in order["parcels"]][1] == "COLLI2"
    assert order["parcels"][0]["tracking"]["trackingUrl"] == "https://t.example/TRK1"
    assert order["transporter"]["code"] == "PLAB"
    assert order["transporter"]["serviceCode"] == "P19"
    items = order["orderLines"][0]["pickedArticleItems"]
    assert sorted(i["serial"] for i in items) == ["", "S1", "S2"]
    assert sum(i["numberOfItems"] for i in items) == 3.0


async def test_ship_without_parcels_invents_tracking_and_late_parcels_are_added(
    client: httpx.AsyncClient,
) -> None:
    await put_article(client, "A", stock=1)
    order_id = await put_order(client, order_body("O-1", [("A", 1)]))
    await client.post("/_emulator/orders/O-1/pick")
    await client.post("/_emulator/orders/O-1/ship")
    order = (await client.get(f"{API}/orders/{order_id}")).json()
    assert len(order["parcels"]) == 1
    assert order["tracking"][0]["waybill"]
    assert order["tracking"][0]["trackingUrl"].startswith("https://")
    late = await client.post(
        "/_emulator/orders/O-1/ship", json={"parcels": [{"tracking_number": "LATE1"}]}
    )
    assert late.status_code == 200
    assert [t["waybill"] for t in late.json()["tracking"]][-1] == "LATE1"
    assert (await inventory(client, "A"))["numberOfItems"] == 0.0, "stock leaves only once"


async def test_ship_before_pick_is_refused(client: httpx.AsyncClient) -> None:
    await put_order(client, order_body("O-1", [("A", 1)]))
    response = await client.post("/_emulator/orders/O-1/ship")
    assert response.status_code == 409
    assert "O-1" in response.json()["message"]


async def test_short_pick_reports_the_picked_quantity(client: httpx.AsyncClient) -> None:
    await put_article(client, "A", stock=5)
    order_id = await put_order(client, order_body("O-1", [("A", 4)]))
    await client.post(
        "/_emulator/orders/O-1/pick", json={"lines": [{"article_number": "A", "quantity": 3}]}
    )
    await client.post("/_emulator/orders/O-1/ship")
    line = (await client.get(f"{API}/orders/{order_id}")).json()["orderLines"][0]
    assert (line["orderedNumberOfItems"], line["pickedNumberOfItems"]) == (4.0, 3.0)
    figures = await inventory(client, "A")
    assert figures["numberOfItems"] == 2.0
    assert figures["numberOfBookedItems"] == 0.0


async def test_over_pick_and_unknown_order_are_refused(client: httpx.AsyncClient) -> None:
    await put_order(client, order_body("O-1", [("A", 1)]))
    over = await client.post(
        "/_emulator/orders/O-1/pick", json={"lines": [{"article_number": "A", "quantity": 2}]}
    )
    assert over.status_code == 409
    unknown = await client.post("/_emulator/orders/NOPE/allocate")
    assert unknown.status_code == 404


async def test_allocation_is_limited_to_free_stock(client: httpx.AsyncClient) -> None:
    await put_article(client, "A", stock=2)
    await put_order(client, order_body("O-1", [("A", 3)]))
    order = (await client.post("/_emulator/orders/O-1/allocate")).json()
    assert order["orderLines"][0]["allocatedNumberOfItems"] == 2.0
    figures = await inventory(client, "A")
    assert figures["allocatedNumberOfItems"] == 2.0
    assert figures["sellableNumberOfItems"] == -1.0, "sellable may go negative"


async def test_receiving_adds_stock_and_to_receive_shrinks(client: httpx.AsyncClient) -> None:
    await client.put(f"{API}/purchaseOrders", json=purchase_order_body("PO-1", [("A", 10)]))
    figures = await inventory(client, "A")
    assert (figures["numberOfItems"], figures["toReceiveNumberOfItems"]) == (0.0, 10.0)
    await client.post(
        "/_emulator/purchase-orders/PO-1/receive",
        json={"lines": [{"article_number": "A", "quantity": 4}]},
    )
    figures = await inventory(client, "A")
    assert (figures["numberOfItems"], figures["toReceiveNumberOfItems"]) == (4.0, 6.0)
    assert figures["lastInDate"].endswith("Z")
    await client.post("/_emulator/purchase-orders/PO-1/receive")
    figures = await inventory(client, "A")
    assert (figures["numberOfItems"], figures["toReceiveNumberOfItems"]) == (10.0, 0.0)
    nothing_left = await client.post("/_emulator/purchase-orders/PO-1/receive")
    assert nothing_left.status_code == 409


async def test_returns_put_goods_back_and_mark_picked_items(client: httpx.AsyncClient) -> None:
    await put_article(client, "A", stock=3)
    order_id = await put_order(client, order_body("O-1", [("A", 3)]))
    await client.post(
        "/_emulator/orders/O-1/pick",
        json={"lines": [{"article_number": "A", "quantity": 3, "serial_numbers": ["S1"]}]},
    )
    await client.post("/_emulator/orders/O-1/ship")
    assert (await inventory(client, "A"))["numberOfItems"] == 0.0
    early = await client.post(
        "/_emulator/orders/O-1/return",
        json={"lines": [{"article_number": "A", "quantity": 4, "cause": "Too big"}]},
    )
    assert early.status_code == 409
    await client.post(
        "/_emulator/orders/O-1/return",
        json={"lines": [{"article_number": "A", "quantity": 2, "cause": "Too big"}]},
    )
    assert (await inventory(client, "A"))["numberOfItems"] == 2.0
    line = (await client.get(f"{API}/orders/{order_id}")).json()["orderLines"][0]
    assert line["returnedNumberOfItems"] == 2.0
    returned = [i for i in line["pickedArticleItems"] if i["isReturned"]]
    assert sum(i["numberOfItems"] for i in returned) == 2.0
    assert all(i["returnCause"]["name"] == "Too big" and i["returnDate"] for i in returned)
    assert sum(i["numberOfItems"] for i in line["pickedArticleItems"]) == 3.0


async def test_return_on_unshipped_order_is_refused(client: httpx.AsyncClient) -> None:
    await put_order(client, order_body("O-1", [("A", 1)]))
    response = await client.post(
        "/_emulator/orders/O-1/return", json={"lines": [{"article_number": "A", "quantity": 1}]}
    )
    assert response.status_code == 409


async def test_stock_take_sets_physical_and_locked_counts(client: httpx.AsyncClient) -> None:
    await put_article(client, "A", stock=8)
    response = await client.post(
        "/_emulator/stock/adjust",
        json={"article_number": "A", "number_of_items": 5, "locked_number_of_items": 1},
    )
    assert response.status_code == 200
    figures = await inventory(client, "A")
    assert (figures["numberOfItems"], figures["numberOfLockedItems"]) == (5.0, 1.0)
    assert figures["sellableNumberOfItems"] == 4.0
    unknown = await client.post(
        "/_emulator/stock/adjust", json={"article_number": "NOPE", "number_of_items": 1}
    )
    assert unknown.status_code == 404


async def test_status_route_rejects_unknown_codes(client: httpx.AsyncClient) -> None:
    await put_order(client, order_body("O-1", [("A", 1)]))
    response = await client.post("/_emulator/orders/O-1/status", json={"status": 777})
    assert response.status_code == 400


async def test_reset_and_state_read_back(client: httpx.AsyncClient) -> None:
    await put_article(client, "A", stock=1)
    await put_order(client, order_body("O-1", [("A", 1)]))
    state = (await client.get("/_emulator/state")).json()
    assert [a["articleNumber"] for a in state["articles"]] == ["A"]
    assert [o["orderInfo"]["orderNumber"] for o in state["orders"]] == ["O-1"]
    assert (await client.post("/_emulator/reset")).status_code == 200
    state = (await client.get("/_emulator/state")).json()
    assert state["articles"] == state["orders"] == state["purchaseOrders"] == []


async def test_auto_operator_steps_one_action_at_a_time(
    client: httpx.AsyncClient, emu: OngoingEmulator
) -> None:
    await put_article(client, "A", stock=10)
    order_id = await put_order(client, order_body("O-1", [("A", 2)]))
    await put_order(client, order_body("O-short", [("A", 3)]))
    await client.put(f"{API}/purchaseOrders", json=purchase_order_body("PO-1", [("A", 5)]))
    configured = await client.put(
        "/_emulator/auto-operator", json={"interval": None, "short_pick_order_numbers": ["O-short"]}
    )
    assert configured.json() == {
        "interval": None,
        "shortPickOrderNumbers": ["O-short"],
        "heldOrderNumbers": [],
        "heldPurchaseOrderNumbers": [],
    }
    done = []
    while (step := await emu.state.operator_step()) is not None:
        done.append(step)
    assert done == [
        "allocated order O-1",
        "picked order O-1",
        "shipped order O-1",
        "allocated order O-short",
        "picked order O-short",
        "shipped order O-short",
        "received purchase order PO-1",
    ]
    orders = (await client.get(f"{API}/orders", params=OWNER)).json()
    assert [o["orderInfo"]["pickedNumberOfItems"] for o in orders] == [2.0, 2.0]
    assert orders[0]["orderInfo"]["orderId"] == order_id
    assert all(o["tracking"] for o in orders)
    assert (await inventory(client, "A"))["numberOfItems"] == 10.0 - 4.0 + 5.0
    idle = await client.post("/_emulator/auto-operator/step")
    assert idle.json() == {"did": None}


async def test_auto_operator_leaves_held_orders_alone_until_released(
    client: httpx.AsyncClient, emu: OngoingEmulator
) -> None:
    await put_article(client, "A", stock=10)
    held_id = await put_order(client, order_body("O-held", [("A", 1)]))
    await put_order(client, order_body("O-2", [("A", 1)]))
    held = await client.put(
        "/_emulator/auto-operator", json={"interval": None, "held_order_numbers": ["O-held"]}
    )
    assert held.json()["heldOrderNumbers"] == ["O-held"]
    done = []
    while (step := await emu.state.operator_step()) is not None:
        done.append(step)
    assert done == ["allocated order O-2", "picked order O-2", "shipped order O-2"]
    state = (await client.get("/_emulator/state")).json()
    assert state["autoOperator"]["heldOrderNumbers"] == ["O-held"]
    cancelled = await client.delete(f"{API}/orders/{held_id}", params=OWNER)
    assert cancelled.status_code == 200, "a held order is still open, so it can be cancelled"

    await client.put("/_emulator/auto-operator", json={"interval": None})
    assert await emu.state.operator_step() is None, "released, but cancelled: nothing to do"


async def test_auto_operator_runs_in_the_background_at_its_pace(
    client: httpx.AsyncClient, emu: OngoingEmulator
) -> None:
    await put_article(client, "A", stock=1)
    order_id = await put_order(client, order_body("O-1", [("A", 1)]))
    async with emu.running():
        await client.put("/_emulator/auto-operator", json={"interval": 0.005})
        for _ in range(400):
            order = (await client.get(f"{API}/orders/{order_id}")).json()
            if order["orderInfo"]["orderStatus"]["number"] == 500:
                break
            await asyncio.sleep(0.005)
        await client.put("/_emulator/auto-operator", json={"interval": None})
    assert order["orderInfo"]["orderStatus"]["number"] == 500


async def test_lifespan_starts_the_configured_auto_operator(clock: FakeClock) -> None:
    emu = OngoingEmulator(password="pw", clock=clock, auto_operator_interval=0.005)
    async with httpx.AsyncClient(
        transport=EmulatorTransport(emu.app),
        base_url="http://ongoing.test",
        auth=("centrasync", "pw"),
    ) as client:
        await client.put(f"{API}/purchaseOrders", json=purchase_order_body("PO-1", [("A", 2)]))
        async with emu.api.router.lifespan_context(emu.api):
            for _ in range(400):
                if (await inventory(client, "A"))["numberOfItems"] == 2.0:
                    break
                await asyncio.sleep(0.005)
    assert emu.state.articles["A"].number_of_items == 2.0


async def test_inventory_per_warehouse_follows_the_article_filters(
    client: httpx.AsyncClient,
) -> None:
    await put_article(client, "A", stock=4)
    await put_article(client, "B", stock=1)
    await put_order(client, order_body("O-1", [("A", 1)]))
    rows = (
        await client.get(
            f"{API}/articles/inventoryPerWarehouse",
            params=[("goodsOwnerId", "1"), ("articleNumbers", "A"), ("warehouseIds", "1")],
        )
    ).json()
    assert [row["articleNumber"] for row in rows] == ["A"]
    stock = rows[0]["inventoryPerWarehouse"][0]
    assert (stock["numberOfItems"], stock["sellableNumberOfItems"]) == (4.0, 3.0)
    other = await client.get(
        f"{API}/articles/inventoryPerWarehouse", params={**OWNER, "warehouseIds": 2}
    )
    assert other.json() == []


async def test_ship_open_ships_every_open_order_oldest_first(client: httpx.AsyncClient) -> None:
    """The whole queue at once; an order the warehouse already started on stays as it is."""
    await put_article(client, "A", stock=5)
    await put_article(client, "B", stock=10)
    for number, lines in [("O-1", [("A", 3)]), ("O-2", [("A", 3), ("B", 1)]), ("O-3", [("B", 2)])]:
        await put_order(client, order_body(number, lines))
    await client.post("/_emulator/orders/O-3/allocate")
    await client.post("/_emulator/orders/O-3/pick")

    answer = await client.post("/_emulator/orders/ship-open")

    assert answer.json() == {"shipped": 2, "orderNumbers": ["O-1", "O-2"]}
    state = (await client.get("/_emulator/state")).json()
    statuses = {
        o["orderInfo"]["orderNumber"]: o["orderInfo"]["orderStatus"]["number"]
        for o in state["orders"]
    }
    assert statuses == {"O-1": 500, "O-2": 500, "O-3": 400}
    # Shipped orders left the building; O-3, already picked, waits where it was.
    assert (await inventory(client, "A"))["numberOfBookedItems"] == 0.0
    figures_b = await inventory(client, "B")
    assert (figures_b["numberOfItems"], figures_b["pickedToBeCollectedNumberOfItems"]) == (9, 2)
