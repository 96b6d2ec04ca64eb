"""The REST surface: auth, goods owner, upserts, statuses, cancels, paging, filters."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from ongoing_helpers import (
    API,
    OWNER,
    order_body,
    purchase_order_body,
    put_article,
    put_order,
)

from centrasync.emulators.faults import EmulatorTransport
from centrasync.emulators.ongoing import OngoingEmulator
from fake_clock import FakeClock


async def test_bad_or_missing_credentials_get_401_with_basic_challenge(
    client: httpx.AsyncClient,
) -> None:
    wrong = await client.get(f"{API}/orders", params=OWNER, auth=("centrasync", "nope"))
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"].startswith("Basic")
    assert "message" in wrong.json()
    missing = await client.get(f"{API}/orders", params=OWNER, auth=None, headers={})
    assert missing.status_code == 401
    garbage = await client.get(
        f"{API}/orders", params=OWNER, auth=None, headers={"Authorization": "Basic !!!"}
    )
    assert garbage.status_code == 401


async def test_password_never_appears_in_repr_or_error_bodies(clock: FakeClock) -> None:
    secret = "S3cret-Pa55word"
    emu = OngoingEmulator(password=secret, clock=clock)
    async with httpx.AsyncClient(
        transport=EmulatorTransport(emu.app), base_url="http://ongoing.test"
    ) as client:
        wrong = await client.get(f"{API}/orders", params=OWNER, auth=("centrasync", secret + "x"))
        state = await client.get("/_emulator/state")
    assert secret not in repr(emu)
    assert secret not in wrong.text
    assert secret not in state.text


async def test_unknown_warehouse_name_is_not_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/other/api/v1/orders", params=OWNER)
    assert response.status_code == 404


async def test_goods_owner_id_is_required_and_enforced(client: httpx.AsyncClient) -> None:
    missing = await client.get(f"{API}/articles")
    assert missing.status_code == 400
    assert "goodsOwnerId" in missing.json()["message"]
    foreign = await client.get(f"{API}/articles", params={"goodsOwnerId": 2})
    assert foreign.status_code == 403
    body = order_body("O-1", [("A", 1)])
    body["goodsOwnerId"] = 2
    refused = await client.put(f"{API}/orders", json=body)
    assert refused.status_code == 403
    assert (await client.get(f"{API}/orders", params=OWNER)).json() == []


async def test_put_article_upserts_by_article_number(client: httpx.AsyncClient) -> None:
    first = await client.put(
        f"{API}/articles",
        json={"goodsOwnerId": 1, "articleNumber": "SKU-1", "articleName": "Shirt", "weight": 2},
    )
    assert first.status_code == 200
    assert set(first.json()) == {"articleSystemId", "message"}
    again = await client.put(
        f"{API}/articles", json={"goodsOwnerId": 1, "articleNumber": "SKU-1", "articleName": "Tee"}
    )
    assert again.status_code == 200
    assert again.json()["articleSystemId"] == first.json()["articleSystemId"]
    rows = (await client.get(f"{API}/articles", params=OWNER)).json()
    assert len(rows) == 1
    assert rows[0]["articleName"] == "Tee"
    assert rows[0]["weight"] is None, "a PUT replaces the document: a thinner re-push blanks"


async def test_put_order_upserts_and_answers_order_id_and_message(
    client: httpx.AsyncClient,
) -> None:
    created = await client.put(f"{API}/orders", json=order_body("O-1", [("A", 2)]))
    assert created.status_code == 201
    assert set(created.json()) == {"orderId", "message"}
    updated = await client.put(f"{API}/orders", json=order_body("O-1", [("A", 3), ("B", 1)]))
    assert updated.status_code == 200
    order_id = created.json()["orderId"]
    assert updated.json()["orderId"] == order_id
    order = (await client.get(f"{API}/orders/{order_id}")).json()
    assert order["orderInfo"]["orderStatus"] == {"number": 200, "text": "Open"}
    assert [line["orderedNumberOfItems"] for line in order["orderLines"]] == [3.0, 1.0]
    assert order["orderLines"][0]["reportedNumberOfItems"] is None


async def test_bad_order_body_names_record_and_field(client: httpx.AsyncClient) -> None:
    body = order_body("O-9", [("A", 1)])
    del body["consignee"]
    body["orderLines"][0]["numberOfItems"] = -1
    response = await client.put(f"{API}/orders", json=body)
    assert response.status_code == 400
    message = response.json()["message"]
    assert "O-9" in message
    assert "consignee" in message
    assert "orderLines.0.numberOfItems" in message
    duplicate = order_body("O-9", [("A", 1), ("B", 1)])
    duplicate["orderLines"][1]["rowNumber"] = "1"
    response = await client.put(f"{API}/orders", json=duplicate)
    assert response.status_code == 400
    assert "rowNumber '1'" in response.json()["message"]


async def test_non_json_bodies_are_refused(client: httpx.AsyncClient) -> None:
    broken = await client.put(
        f"{API}/orders", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400
    xml = await client.put(
        f"{API}/orders", content=b"<order/>", headers={"content-type": "application/xml"}
    )
    assert xml.status_code == 415


async def test_statuses_endpoints_list_codes_and_texts(client: httpx.AsyncClient) -> None:
    orders = (await client.get(f"{API}/orders/statuses")).json()["orderStatuses"]
    assert {s["number"]: s["text"] for s in orders} == {
        150: "Error",
        200: "Open",
        300: "Released",
        320: "Allocated",
        400: "Picked",
        450: "Sent",
        500: "Collected",
        1000: "Cancelled",
    }
    purchase = (await client.get(f"{API}/purchaseOrders/statuses")).json()["orderStatuses"]
    assert [s["number"] for s in purchase] == [100, 200, 300, 400, 500, 900]


async def test_order_cannot_change_or_cancel_once_started(client: httpx.AsyncClient) -> None:
    order_id = await put_order(client, order_body("O-1", [("A", 1)]))
    assert (await client.post("/_emulator/orders/O-1/allocate")).status_code == 200
    update = await client.put(f"{API}/orders", json=order_body("O-1", [("A", 5)]))
    assert update.status_code == 400
    assert "started" in update.json()["message"]
    cancel = await client.delete(f"{API}/orders/{order_id}")
    assert cancel.status_code == 400
    assert "O-1" in cancel.json()["message"]
    back_to_open = await client.post("/_emulator/orders/O-1/status", json={"status": 200})
    assert back_to_open.status_code == 200
    assert back_to_open.json()["orderLines"][0]["allocatedNumberOfItems"] == 0.0
    assert (await client.delete(f"{API}/orders/{order_id}")).status_code == 200


async def test_cancel_sets_status_1000_and_repeating_it_succeeds(
    client: httpx.AsyncClient,
) -> None:
    order_id = await put_order(client, order_body("O-1", [("A", 1)]))
    first = await client.delete(f"{API}/orders/{order_id}")
    assert first.status_code == 200
    again = await client.delete(f"{API}/orders/{order_id}")
    assert again.status_code == 200
    order = (await client.get(f"{API}/orders/{order_id}")).json()
    assert order["orderInfo"]["orderStatus"] == {"number": 1000, "text": "Cancelled"}
    missing = await client.delete(f"{API}/orders/999999")
    assert missing.status_code == 404


async def test_purchase_order_cannot_change_or_cancel_once_receiving_started(
    client: httpx.AsyncClient,
) -> None:
    created = await client.put(
        f"{API}/purchaseOrders", json=purchase_order_body("PO-1", [("A", 4)])
    )
    assert created.status_code == 200
    assert set(created.json()) == {"purchaseOrderId", "message"}
    po_id = created.json()["purchaseOrderId"]
    receipt = await client.post(
        "/_emulator/purchase-orders/PO-1/receive",
        json={"lines": [{"article_number": "A", "quantity": 1}]},
    )
    assert receipt.status_code == 200
    update = await client.put(f"{API}/purchaseOrders", json=purchase_order_body("PO-1", [("A", 9)]))
    assert update.status_code == 400
    cancel = await client.delete(f"{API}/purchaseOrders/{po_id}")
    assert cancel.status_code == 400
    other = await client.put(f"{API}/purchaseOrders", json=purchase_order_body("PO-2", [("A", 1)]))
    other_id = other.json()["purchaseOrderId"]
    assert (await client.delete(f"{API}/purchaseOrders/{other_id}")).status_code == 200
    status = (await client.get(f"{API}/purchaseOrders/{other_id}")).json()["purchaseOrderInfo"][
        "purchaseOrderStatus"
    ]
    assert status == {"number": 900, "text": "Cancelled"}


async def test_articles_page_by_id_cursor_and_end_on_an_empty_page(
    client: httpx.AsyncClient,
) -> None:
    ids = [await put_article(client, f"SKU-{n}") for n in range(5)]
    seen: list[int] = []
    cursor = 0
    while True:
        page = (
            await client.get(
                f"{API}/articles",
                params={**OWNER, "articleSystemIdFrom": cursor, "maxArticlesToGet": 2},
            )
        ).json()
        if not page:
            break
        page_ids = [row["articleSystemId"] for row in page]
        assert page_ids == sorted(page_ids)
        seen.extend(page_ids)
        cursor = max(page_ids) + 1
    assert seen == ids


async def test_orders_page_by_id_cursor(client: httpx.AsyncClient) -> None:
    ids = [await put_order(client, order_body(f"O-{n}", [("A", 1)])) for n in range(3)]
    first = (
        await client.get(f"{API}/orders", params={**OWNER, "orderIdFrom": 0, "maxOrdersToGet": 2})
    ).json()
    assert [o["orderInfo"]["orderId"] for o in first] == ids[:2]
    rest = (
        await client.get(
            f"{API}/orders", params={**OWNER, "orderIdFrom": ids[1] + 1, "maxOrdersToGet": 2}
        )
    ).json()
    assert [o["orderInfo"]["orderId"] for o in rest] == ids[2:]
    end = (
        await client.get(
            f"{API}/orders", params={**OWNER, "orderIdFrom": ids[2] + 1, "maxOrdersToGet": 2}
        )
    ).json()
    assert end == []


async def test_page_and_page_size_are_refused_by_name_not_ignored(
    client: httpx.AsyncClient,
) -> None:
    """The live system ignores them and answers the full list every time (reference §11),
    which loops a client that pages with them forever; the emulator names them [I]."""
    for n in range(3):
        await put_article(client, f"SKU-{n}")
    page_two = await client.get(f"{API}/articles", params={**OWNER, "page": 2, "pageSize": 1})
    assert page_two.status_code == 400
    assert "page, pageSize" in page_two.json()["message"]


async def test_array_parameters_are_repeated_keys_and_comma_form_matches_nothing(
    client: httpx.AsyncClient,
) -> None:
    for number in ("A", "B", "C"):
        await put_article(client, number)
        await put_order(client, order_body(f"O-{number}", [(number, 1)]))
    repeated = await client.get(
        f"{API}/articles",
        params=[("goodsOwnerId", "1"), ("articleNumbers", "A"), ("articleNumbers", "C")],
    )
    assert [a["articleNumber"] for a in repeated.json()] == ["A", "C"]
    comma = await client.get(f"{API}/articles", params={**OWNER, "articleNumbers": "A,C"})
    assert comma.json() == []
    orders = await client.get(
        f"{API}/orders",
        params=[("goodsOwnerId", "1"), ("orderNumbers", "O-A"), ("orderNumbers", "O-B")],
    )
    assert [o["orderInfo"]["orderNumber"] for o in orders.json()] == ["O-A", "O-B"]
    comma_orders = await client.get(f"{API}/orders", params={**OWNER, "orderNumbers": "O-A,O-B"})
    assert comma_orders.json() == []


async def test_stock_info_changed_from_older_than_24_hours_is_a_400(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    await put_article(client, "A", stock=3)
    old = (clock.now - timedelta(hours=25)).isoformat()
    refused = await client.get(f"{API}/articles", params={**OWNER, "stockInfoChangedFrom": old})
    assert refused.status_code == 400
    assert "24 hours" in refused.json()["message"]


async def test_stock_info_changed_from_returns_only_recent_stock_changes(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    await put_article(client, "A", stock=3)
    await put_article(client, "B", stock=3)
    clock.advance(hours=2)
    mark = clock.now.isoformat()
    clock.advance(minutes=1)
    await client.post("/_emulator/stock/adjust", json={"article_number": "B", "number_of_items": 1})
    changed = await client.get(f"{API}/articles", params={**OWNER, "stockInfoChangedFrom": mark})
    assert changed.status_code == 200
    assert [a["articleNumber"] for a in changed.json()] == ["B"]
    data_changed = await client.get(
        f"{API}/articles", params={**OWNER, "articleDataLastUpdatedFrom": mark}
    )
    assert data_changed.json() == []


async def test_times_are_utc_with_z_and_unencoded_plus_is_refused(
    client: httpx.AsyncClient,
) -> None:
    order_id = await put_order(client, order_body("O-1", [("A", 1)]))
    created = (await client.get(f"{API}/orders/{order_id}")).json()["orderInfo"]["createdDate"]
    assert created.endswith("Z")
    raw = f"{API}/orders?goodsOwnerId=1&orderCreatedTimeFrom=2026-03-02T08:00:00+00:00"
    response = await client.get(raw)
    assert response.status_code == 400
    assert "orderCreatedTimeFrom" in response.json()["message"]


async def test_status_range_and_shipped_time_filters(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    await put_article(client, "A", stock=5)
    await put_order(client, order_body("O-open", [("A", 1)]))
    await put_order(client, order_body("O-sent", [("A", 1)]))
    await client.post("/_emulator/orders/O-sent/pick", json=None)
    mark = clock.now.isoformat()
    clock.advance(minutes=5)
    await client.post("/_emulator/orders/O-sent/ship")
    shipped = await client.get(f"{API}/orders", params={**OWNER, "shippedTimeFrom": mark})
    assert [o["orderInfo"]["orderNumber"] for o in shipped.json()] == ["O-sent"]
    open_only = await client.get(
        f"{API}/orders", params={**OWNER, "orderStatusFrom": 200, "orderStatusTo": 299}
    )
    assert [o["orderInfo"]["orderNumber"] for o in open_only.json()] == ["O-open"]


async def test_reported_number_patches_drive_the_to_report_filter(
    client: httpx.AsyncClient,
) -> None:
    await put_article(client, "A", stock=10)
    await put_article(client, "B", stock=10)
    order_id = await put_order(client, order_body("O-1", [("A", 3), ("B", 2)]))
    to_report = {**OWNER, "onlyOrdersWithOrderLinesToReport": "true"}
    assert (await client.get(f"{API}/orders", params=to_report)).json() == []
    await client.post(
        "/_emulator/orders/O-1/pick", json={"lines": [{"article_number": "A", "quantity": 2}]}
    )
    listed = (await client.get(f"{API}/orders", params=to_report)).json()
    assert [o["orderInfo"]["orderId"] for o in listed] == [order_id]
    line_a = listed[0]["orderLines"][0]
    patched = await client.patch(
        f"{API}/orders/{order_id}/lines/{line_a['id']}/reportedNumberOfItems",
        json={"reportedNumberOfItems": 2},
    )
    assert patched.status_code == 200
    assert (await client.get(f"{API}/orders", params=to_report)).json() == []
    await client.post(
        "/_emulator/orders/O-1/pick", json={"lines": [{"article_number": "B", "quantity": 2}]}
    )
    assert len((await client.get(f"{API}/orders", params=to_report)).json()) == 1
    set_all = await client.patch(
        f"{API}/orders/{order_id}/setReportedNumberOfItemsToPickedNumberOfItems"
    )
    assert set_all.status_code == 200
    assert (await client.get(f"{API}/orders", params=to_report)).json() == []
    lines = (await client.get(f"{API}/orders/{order_id}")).json()["orderLines"]
    assert [line["reportedNumberOfItems"] for line in lines] == [2.0, 2.0]


async def test_returned_reporting_and_its_filter(client: httpx.AsyncClient) -> None:
    await put_article(client, "A", stock=10)
    order_id = await put_order(client, order_body("O-1", [("A", 2)]))
    await client.post("/_emulator/orders/O-1/pick", json={"lines": None})
    await client.post("/_emulator/orders/O-1/ship")
    params = {**OWNER, "onlyOrdersWithOrderLinesToReportReturned": "true"}
    assert (await client.get(f"{API}/orders", params=params)).json() == []
    await client.post(
        "/_emulator/orders/O-1/return",
        json={"lines": [{"article_number": "A", "quantity": 1, "cause": "Too small"}]},
    )
    listed = (await client.get(f"{API}/orders", params=params)).json()
    line = listed[0]["orderLines"][0]
    assert line["returnedNumberOfItems"] == 1.0
    assert line["reportedReturnedNumberOfItems"] is None
    response = await client.patch(
        f"{API}/orders/{order_id}/lines/{line['id']}/reportedReturnedNumberOfItems",
        json={"reportedReturnedNumberOfItems": 1},
    )
    assert response.status_code == 200
    assert (await client.get(f"{API}/orders", params=params)).json() == []
    await client.post(
        "/_emulator/orders/O-1/return", json={"lines": [{"article_number": "A", "quantity": 1}]}
    )
    assert len((await client.get(f"{API}/orders", params=params)).json()) == 1
    await client.patch(
        f"{API}/orders/{order_id}/setReportedReturnedNumberOfItemsToReturnedNumberOfItems"
    )
    assert (await client.get(f"{API}/orders", params=params)).json() == []


async def test_purchase_order_reporting_and_its_filter(client: httpx.AsyncClient) -> None:
    created = await client.put(
        f"{API}/purchaseOrders", json=purchase_order_body("PO-1", [("A", 10), ("B", 2)])
    )
    po_id = created.json()["purchaseOrderId"]
    params = {**OWNER, "onlyPurchaseOrdersWithOrderLinesToReport": "true"}
    assert (await client.get(f"{API}/purchaseOrders", params=params)).json() == []
    await client.post(
        "/_emulator/purchase-orders/PO-1/receive",
        json={"lines": [{"article_number": "A", "quantity": 7}]},
    )
    listed = (await client.get(f"{API}/purchaseOrders", params=params)).json()
    assert listed[0]["purchaseOrderInfo"]["purchaseOrderStatus"]["number"] == 400
    line = listed[0]["purchaseOrderLines"][0]
    assert (line["advisedNumberOfItems"], line["receivedNumberOfItems"]) == (10.0, 7.0)
    response = await client.patch(
        f"{API}/purchaseOrders/{po_id}/lines/{line['id']}/reportedNumberOfItems",
        json={"reportedNumberOfItems": 7},
    )
    assert response.status_code == 200
    assert (await client.get(f"{API}/purchaseOrders", params=params)).json() == []
    await client.post("/_emulator/purchase-orders/PO-1/receive", json={"lines": None})
    assert len((await client.get(f"{API}/purchaseOrders", params=params)).json()) == 1
    await client.patch(
        f"{API}/purchaseOrders/{po_id}/setReportedNumberOfItemsToReceivedNumberOfItems"
    )
    assert (await client.get(f"{API}/purchaseOrders", params=params)).json() == []
    done = (await client.get(f"{API}/purchaseOrders/{po_id}")).json()
    assert done["purchaseOrderInfo"]["purchaseOrderStatus"] == {"number": 500, "text": "Received"}


async def test_purchase_orders_page_by_id_cursor(client: httpx.AsyncClient) -> None:
    ids = []
    for n in range(3):
        response = await client.put(
            f"{API}/purchaseOrders", json=purchase_order_body(f"PO-{n}", [("A", 1)])
        )
        ids.append(response.json()["purchaseOrderId"])
    page = (
        await client.get(
            f"{API}/purchaseOrders",
            params={**OWNER, "purchaseOrderIdFrom": ids[1], "maxPurchaseOrdersToGet": 5},
        )
    ).json()
    assert [p["purchaseOrderInfo"]["purchaseOrderId"] for p in page] == ids[1:]


async def test_reference_data(client: httpx.AsyncClient) -> None:
    contracts = (await client.get(f"{API}/transporterContracts", params=OWNER)).json()
    codes = {c["transporterCode"] for c in contracts}
    assert "PLAB" in codes
    assert all(c["transporterServices"] for c in contracts)
    warehouses = (await client.get(f"{API}/warehouses")).json()
    assert warehouses[0]["code"] == "demo"


async def test_writes_are_serialised_per_goods_owner(clock: FakeClock) -> None:
    emu = OngoingEmulator(password="pw", clock=clock, write_delay=0.02)
    async with httpx.AsyncClient(
        transport=EmulatorTransport(emu.app),
        base_url="http://ongoing.test",
        auth=("centrasync", "pw"),
    ) as client:
        loop = asyncio.get_running_loop()
        started = loop.time()
        responses = await asyncio.gather(
            *(put_article(client, f"SKU-{n}") for n in range(5)),
        )
        elapsed = loop.time() - started
    assert len(set(responses)) == 5
    assert elapsed >= 5 * 0.02 * 0.9, "five writes with a 20 ms lane must take ~100 ms"


@pytest.mark.parametrize("path", ["/orders/12345", "/purchaseOrders/12345"])
async def test_unknown_ids_are_404_with_a_message(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(f"{API}{path}")
    assert response.status_code == 404
    assert "12345" in response.json()["message"]
