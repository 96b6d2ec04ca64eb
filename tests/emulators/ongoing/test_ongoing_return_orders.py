"""Return orders (#18, item 6): ``/returnOrders`` and the warehouse taking goods back on them."""

from __future__ import annotations

from typing import Any

import httpx
from ongoing_helpers import API, OWNER, inventory, order_body, put_article, put_order

from fake_clock import FakeClock


async def shipped_order(client: httpx.AsyncClient, number: str = "O-1") -> dict[str, Any]:
    await put_article(client, "A", stock=10)
    await put_article(client, "B", stock=10)
    order_id = await put_order(client, order_body(number, [("A", 2), ("B", 1)]))
    assert (await client.post(f"/_emulator/orders/{number}/pick", json={"lines": None})).is_success
    assert (await client.post(f"/_emulator/orders/{number}/ship")).is_success
    order: dict[str, Any] = (await client.get(f"{API}/orders/{order_id}")).json()
    return order


def return_order_body(order: dict[str, Any], number: str, **quantities: float) -> dict[str, Any]:
    by_article = {line["article"]["articleNumber"]: line["id"] for line in order["orderLines"]}
    return {
        "goodsOwnerId": 1,
        "returnOrderNumber": number,
        "customerOrder": {"orderId": order["orderInfo"]["orderId"]},
        "returnOrderLines": [
            {
                "returnOrderRowNumber": str(index),
                "customerOrderLine": {"orderLineId": by_article[article]},
                "toBeReturnedNumberOfItems": quantity,
                "returnCause": {"code": "WRONG_SIZE"},
            }
            for index, (article, quantity) in enumerate(quantities.items(), start=1)
        ],
        "inDate": "2026-03-10",
    }


async def take_back(client: httpx.AsyncClient, number: str, **quantities: float) -> Any:
    lines = [
        {"article_number": a, "quantity": q, "cause": "Damaged"} for a, q in quantities.items()
    ]
    response = await client.post(f"/_emulator/return-orders/{number}/return", json={"lines": lines})
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_return_order_is_put_read_and_listed(client: httpx.AsyncClient) -> None:
    order = await shipped_order(client)
    put = await client.put(f"{API}/returnOrders", json=return_order_body(order, "RO-1", A=2))
    assert put.status_code == 200, put.text
    assert set(put.json()) == {"returnOrderId", "message"}
    again = await client.put(f"{API}/returnOrders", json=return_order_body(order, "RO-1", A=1))
    assert (again.status_code, again.json()["returnOrderId"]) == (200, put.json()["returnOrderId"])

    read = (await client.get(f"{API}/returnOrders/{put.json()['returnOrderId']}")).json()
    info = read["returnOrderInfo"]
    assert (info["returnOrderNumber"], info["returnOrderStatus"]["number"]) == ("RO-1", 100)
    assert info["inDate"] == "2026-03-10T00:00:00Z"
    assert read["customerOrderInfo"] == {
        "orderId": order["orderInfo"]["orderId"],
        "orderNumber": "O-1",
    }
    (line,) = read["returnOrderLines"]
    assert line["customerOrderLine"]["customerOrderRowNumber"] == "1"
    assert (line["toBeReturnedNumberOfItems"], line["returnedNumberOfItems"]) == (1.0, 0.0)
    assert line["returnCause"] == {"code": "WRONG_SIZE", "name": "Wrong size"}
    listed = await client.get(
        f"{API}/returnOrders", params={**OWNER, "customerOrderNumbers": "O-1"}
    )
    assert [r["returnOrderInfo"]["returnOrderNumber"] for r in listed.json()] == ["RO-1"]


async def test_statuses_and_return_causes_are_served(client: httpx.AsyncClient) -> None:
    statuses = (await client.get(f"{API}/returnOrders/statuses")).json()
    assert [s["number"] for s in statuses["returnOrderStatuses"]] == [100, 400, 500]
    causes = (await client.get(f"{API}/returnOrders/returnCauses", params=OWNER)).json()
    assert {c["code"] for c in causes["returnCauses"]} >= {"DAMAGED", "WRONG_SIZE"}
    assert all(isinstance(c["id"], int) for c in causes["returnCauses"])


async def test_a_return_order_must_name_a_real_order_and_its_lines(
    client: httpx.AsyncClient,
) -> None:
    order = await shipped_order(client)
    body = return_order_body(order, "RO-1", A=1)
    no_order = await client.put(
        f"{API}/returnOrders", json={**body, "customerOrder": {"orderId": 999}}
    )
    assert no_order.status_code == 400
    assert "customerOrder.orderId" in no_order.json()["message"]
    body["returnOrderLines"][0]["customerOrderLine"]["orderLineId"] = 999
    no_line = await client.put(f"{API}/returnOrders", json=body)
    assert no_line.status_code == 400
    assert "returnOrderLines.0.customerOrderLine.orderLineId" in no_line.json()["message"]
    missing = await client.put(f"{API}/returnOrders", json={"goodsOwnerId": 1})
    assert missing.status_code == 400


async def test_goods_taken_back_on_a_return_order_are_booked_there_not_on_the_order(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    order = await shipped_order(client)
    before = (await inventory(client, "A"))["numberOfItems"]
    await client.put(f"{API}/returnOrders", json=return_order_body(order, "RO-1", A=2, B=1))
    clock.advance(hours=1)
    partly = await take_back(client, "RO-1", A=1)
    assert partly["returnOrderInfo"]["returnOrderStatus"]["number"] == 400
    line_a = partly["returnOrderLines"][0]
    assert line_a["returnedNumberOfItems"] == 1.0
    (item,) = line_a["returnedArticleItems"]
    assert item["returnCause"] == {"code": "DAMAGED", "name": "Damaged"}
    assert item["returnTime"] == "2026-03-02T10:30:00Z"
    assert (await inventory(client, "A"))["numberOfItems"] == before + 1

    done = await client.post("/_emulator/return-orders/RO-1/return")
    assert done.json()["returnOrderInfo"]["returnOrderStatus"]["number"] == 500
    order_now = (await client.get(f"{API}/orders/{order['orderInfo']['orderId']}")).json()
    assert [line["returnedNumberOfItems"] for line in order_now["orderLines"]] == [0.0, 0.0]
    to_report = await client.get(
        f"{API}/orders", params={**OWNER, "onlyOrdersWithOrderLinesToReportReturned": "true"}
    )
    assert to_report.json() == [], "the order's own lines know nothing of it"

    since = {**OWNER, "goodsReturnedFromDate": "2026-03-02T10:00:00Z"}
    assert len((await client.get(f"{API}/returnOrders", params=since)).json()) == 1
    later = {**OWNER, "goodsReturnedFromDate": "2026-03-02T11:00:00Z"}
    assert (await client.get(f"{API}/returnOrders", params=later)).json() == []
    refused = await client.put(f"{API}/returnOrders", json=return_order_body(order, "RO-1", A=2))
    assert refused.status_code == 400, "no update once goods came back on it"


async def test_the_warehouse_opens_a_return_order_for_goods_that_came_back_unannounced(
    client: httpx.AsyncClient,
) -> None:
    await shipped_order(client)
    opened = await client.post(
        "/_emulator/orders/O-1/return-order",
        json={"lines": [{"article_number": "A", "quantity": 2, "cause": "Too small"}]},
    )
    assert opened.status_code == 200, opened.text
    body = opened.json()
    assert body["returnOrderInfo"]["returnOrderNumber"] == "O-1-R1"
    assert body["returnOrderInfo"]["returnOrderStatus"]["number"] == 500
    (line,) = body["returnOrderLines"]
    assert (line["toBeReturnedNumberOfItems"], line["returnedNumberOfItems"]) == (2.0, 2.0)
    assert line["returnCause"] == {"code": "Too small", "name": "Too small"}

    # Both roads share what went out: nothing of A is left to come back on the order itself.
    again = await client.post(
        "/_emulator/orders/O-1/return",
        json={"lines": [{"article_number": "A", "quantity": 1}]},
    )
    assert again.status_code == 409
    state = (await client.get("/_emulator/state")).json()
    assert [r["returnOrderInfo"]["returnOrderNumber"] for r in state["returnOrders"]] == ["O-1-R1"]
