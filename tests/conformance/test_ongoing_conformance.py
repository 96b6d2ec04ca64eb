"""Every answer of the Ongoing emulator, along a whole lifecycle, against the vendor schema.

The lifecycle leaves no list empty: articles with stock, orders placed, picked with serials,
shipped, reported and returned (on the order and on return orders), purchase orders
received in parts and reported, and the error answers (400, 401, 403, 404, 405).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from centrasync.emulators.faults import EmulatorTransport
from centrasync.emulators.ongoing import OngoingEmulator
from centrasync.testing.conformance import ApiSchema, ConformanceRecorder
from fake_clock import FakeClock

API = "/demo/api/v1"
OWNER = {"goodsOwnerId": 1}


@pytest.fixture
def recorder() -> ConformanceRecorder:
    return ConformanceRecorder(ApiSchema.load("ongoing-rest-v1"))


@pytest.fixture
async def client(recorder: ConformanceRecorder) -> AsyncIterator[httpx.AsyncClient]:
    emu = OngoingEmulator(password="pw", clock=FakeClock(datetime(2026, 3, 2, 9, 30, tzinfo=UTC)))
    async with httpx.AsyncClient(
        transport=EmulatorTransport(emu.app),
        base_url="http://ongoing.test",
        auth=("centrasync", "pw"),
        event_hooks={"response": [recorder.hook]},
    ) as http:
        yield http


async def ok(response: httpx.Response, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200,)), response.text
    return response.json()


def order(number: str, lines: list[tuple[str, float]], **extra: Any) -> dict[str, Any]:
    return {
        **OWNER,
        "orderNumber": number,
        "deliveryDate": "2026-03-03T10:00:00Z",
        "consignee": {
            "customerNumber": "C1",
            "name": "Ada",
            "address1": "Gatan 1",
            "postCode": "11122",
            "city": "Stockholm",
            "countryCode": "SE",
        },
        "orderType": {"code": "B2C", "name": "Consumer"},
        "orderLines": [
            {"rowNumber": str(i), "articleNumber": a, "numberOfItems": q}
            for i, (a, q) in enumerate(lines, start=1)
        ],
        **extra,
    }


async def test_every_answer_conforms(
    client: httpx.AsyncClient, recorder: ConformanceRecorder
) -> None:
    c = client
    for path in (
        "/orders/statuses",
        "/purchaseOrders/statuses",
        "/returnOrders/statuses",
        "/returnOrders/returnCauses",
        "/transporterContracts",
        "/warehouses",
    ):
        await ok(await c.get(API + path, params=OWNER))
    for number in ("A1", "A2", "A3"):
        body = {
            **OWNER,
            "articleNumber": number,
            "articleName": f"Article {number}",
            "productCode": "P" + number,
            "barCodeInfo": {"barCode": "735000" + number},
        }
        await ok(await c.put(f"{API}/articles", json=body))
        await ok(
            await c.post(
                "/_emulator/stock/adjust", json={"article_number": number, "number_of_items": 20}
            )
        )
    await ok(
        await c.put(f"{API}/articles", json={**OWNER, "articleNumber": "A1", "articleName": "New"})
    )
    articles = await ok(await c.get(f"{API}/articles", params=OWNER))
    assert articles
    await ok(await c.get(f"{API}/articles/{articles[0]['articleSystemId']}"))
    await ok(await c.get(f"{API}/articles/inventoryPerWarehouse", params=OWNER))
    await ok(await c.get(f"{API}/articles/classes", params=OWNER))

    first = (await ok(await c.put(f"{API}/orders", json=order("O1", [("A1", 2), ("A2", 1)])), 201))[
        "orderId"
    ]
    await ok(await c.put(f"{API}/orders", json=order("O1", [("A1", 2), ("A2", 1)])))
    second = (await ok(await c.put(f"{API}/orders", json=order("O2", [("A3", 1)])), 201))["orderId"]
    await ok(await c.delete(f"{API}/orders/{second}"))
    await ok(await c.put(f"{API}/orders", json=order("O3", [("A3", 3)])), 201)
    await ok(await c.get(f"{API}/orders/types", params=OWNER))
    for number in ("O1", "O3"):
        await ok(await c.post(f"/_emulator/orders/{number}/allocate"))
    await ok(
        await c.post(
            "/_emulator/orders/O1/pick",
            json={
                "lines": [
                    {"article_number": "A1", "quantity": 2, "serial_numbers": ["SN1", "SN2"]},
                    {"article_number": "A2", "quantity": 1},
                ]
            },
        )
    )
    await ok(await c.post("/_emulator/orders/O3/pick", json={"lines": None}))
    await ok(await c.post("/_emulator/orders/O1/ship"))
    await ok(await c.post("/_emulator/orders/O3/ship"))
    shipped = await ok(await c.get(f"{API}/orders/{first}"))
    line = shipped["orderLines"][0]["id"]
    await ok(
        await c.patch(
            f"{API}/orders/{first}/lines/{line}/reportedNumberOfItems",
            json={"reportedNumberOfItems": 2},
        )
    )
    await ok(await c.patch(f"{API}/orders/{first}/setReportedNumberOfItemsToPickedNumberOfItems"))
    await ok(
        await c.post(
            "/_emulator/orders/O1/return",
            json={"lines": [{"article_number": "A1", "quantity": 1, "cause": "Too small"}]},
        )
    )
    await ok(
        await c.patch(
            f"{API}/orders/{first}/lines/{line}/reportedReturnedNumberOfItems",
            json={"reportedReturnedNumberOfItems": 1},
        )
    )
    await ok(
        await c.patch(
            f"{API}/orders/{first}/setReportedReturnedNumberOfItemsToReturnedNumberOfItems"
        )
    )
    await ok(
        await c.post(
            "/_emulator/orders/O1/return-order",
            json={
                "return_order_number": None,
                "lines": [{"article_number": "A2", "quantity": 1, "cause": "DAMAGED"}],
            },
        )
    )
    third = (await ok(await c.get(f"{API}/orders", params={**OWNER, "orderNumber": "O3"})))[0]
    await ok(
        await c.put(
            f"{API}/returnOrders",
            json={
                **OWNER,
                "returnOrderNumber": "RO-3",
                "customerOrder": {"orderId": third["orderInfo"]["orderId"]},
                "returnOrderLines": [
                    {
                        "returnOrderRowNumber": "1",
                        "customerOrderLine": {"orderLineId": third["orderLines"][0]["id"]},
                        "toBeReturnedNumberOfItems": 2,
                    }
                ],
            },
        )
    )
    await ok(
        await c.post(
            "/_emulator/return-orders/RO-3/return",
            json={"lines": [{"article_number": "A3", "quantity": 1, "cause": "Too small"}]},
        )
    )
    assert len(await ok(await c.get(f"{API}/orders", params=OWNER))) == 3
    return_orders = await ok(await c.get(f"{API}/returnOrders", params=OWNER))
    assert len(return_orders) == 2
    await ok(
        await c.get(f"{API}/returnOrders/{return_orders[0]['returnOrderInfo']['returnOrderId']}")
    )
    await ok(await c.get(f"{API}/returnOrders/returnCauses", params=OWNER))

    po = {
        **OWNER,
        "purchaseOrderNumber": "PO1",
        "inDate": "2026-03-04",
        "purchaseOrderType": {"code": "STD", "name": "Standard"},
        "purchaseOrderLines": [
            {"rowNumber": "1", "articleNumber": "A1", "numberOfItems": 10},
            {"rowNumber": "2", "articleNumber": "A2", "numberOfItems": 5},
        ],
    }
    po_id = (await ok(await c.put(f"{API}/purchaseOrders", json=po)))["purchaseOrderId"]
    await ok(await c.put(f"{API}/purchaseOrders", json={**po, "purchaseOrderNumber": "PO2"}))
    await ok(
        await c.post(
            "/_emulator/purchase-orders/PO1/receive",
            json={"lines": [{"article_number": "A1", "quantity": 7}]},
        )
    )
    received = await ok(await c.get(f"{API}/purchaseOrders/{po_id}"))
    po_line = received["purchaseOrderLines"][0]["id"]
    await ok(
        await c.patch(
            f"{API}/purchaseOrders/{po_id}/lines/{po_line}/reportedNumberOfItems",
            json={"reportedNumberOfItems": 7},
        )
    )
    await ok(
        await c.patch(
            f"{API}/purchaseOrders/{po_id}/setReportedNumberOfItemsToReceivedNumberOfItems"
        )
    )
    pos = await ok(await c.get(f"{API}/purchaseOrders", params=OWNER))
    await ok(
        await c.delete(f"{API}/purchaseOrders/{pos[1]['purchaseOrderInfo']['purchaseOrderId']}")
    )
    await ok(await c.get(f"{API}/purchaseOrders/types", params=OWNER))

    # Error answers.
    await ok(await c.get(f"{API}/orders"), 400)
    await ok(await c.get(f"{API}/orders", params={"goodsOwnerId": 2}), 403)
    await ok(await c.get(f"{API}/orders/999999"), 404)
    await ok(await c.get(f"{API}/orders/abc"), 404)
    await ok(await c.get(f"{API}/inventoryAdjustments", params=OWNER), 404)
    await ok(await c.put(f"{API}/orders/{first}", json={}), 405)
    await ok(await c.put(f"{API}/orders", json={**OWNER, "orderNumber": "bad"}), 400)
    await ok(await c.delete(f"{API}/orders/{first}"), 400)
    await ok(await c.get(f"{API}/orders", params=OWNER, auth=("centrasync", "wrong")), 401)
    await ok(
        await c.put(f"{API}/orders", content=b"x", headers={"content-type": "text/plain"}), 415
    )
    await ok(
        await c.put(f"{API}/orders", content=b"{", headers={"content-type": "application/json"}),
        400,
    )
    await ok(await c.get(f"{API}/articles", params={**OWNER, "page": 2}), 400)
    await ok(
        await c.get(
            f"{API}/articles", params={**OWNER, "stockInfoChangedFrom": "2020-01-01T00:00:00Z"}
        ),
        400,
    )
    await ok(
        await c.get(f"{API}/orders", params={**OWNER, "orderIdFrom": first, "maxOrdersToGet": 1})
    )

    recorder.assert_conforming()
    answered = {served for served, status in recorder.covered() if status < 300}
    assert answered >= {op.key for op in recorder.schema.operations()}, "an operation never ran"
