"""What a client typed from Ongoing's specification expects of the emulator (issue #18).

The specification is the one the vendor's generated clients encode (field and type maps,
response codes); each test names the fact it checks.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

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

from centrasync.emulators.ongoing import OngoingEmulator
from fake_clock import FakeClock

ITEMS = "pickedArticleItems"


def picked_items(order: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for line in order["orderLines"] for item in line[ITEMS]]


def utc_time(value: Any) -> datetime:
    """A spec date-time as the live API sends it: ISO 8601 in UTC, with ``Z``."""
    assert isinstance(value, str) and value.endswith("Z"), value
    return datetime.fromisoformat(value)


# -- 1. every stock lot has an in-date ----------------------------------------------------------


async def test_goods_counted_in_by_a_stock_take_or_an_opening_balance_have_an_in_date(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    """``pickedArticleItems[].inDate`` is a date-time, not nullable (GetOrderPickedArticleItem)."""
    await put_article(client, "COUNTED", stock=5)
    counted_at = clock()
    opening = await client.put("/_emulator/stock/opening", json={"articles": {"OPENING": 3}})
    assert opening.json() == {"counted": 0, "waiting": 1}
    clock.advance(minutes=5)
    await put_article(client, "OPENING")
    opened_at = clock()
    clock.advance(minutes=5)
    order_id = await put_order(client, order_body("O-1", [("COUNTED", 1), ("OPENING", 1)]))
    assert (await client.post("/_emulator/orders/O-1/pick", json={"lines": None})).is_success

    order = (await client.get(f"{API}/orders/{order_id}")).json()
    in_dates = {
        line["article"]["articleNumber"]: [utc_time(i["inDate"]) for i in line[ITEMS]]
        for line in order["orderLines"]
    }
    assert in_dates == {"COUNTED": [counted_at], "OPENING": [opened_at]}
    listed = (await client.get(f"{API}/orders", params=OWNER)).json()
    assert all(item["inDate"] is not None for o in listed for item in picked_items(o))


async def test_a_pick_of_goods_never_recorded_in_stock_still_has_an_in_date(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    """The operator is trusted (a pick is never refused for lack of stock): the goods get the
    article's creation as their in-date [I], never null."""
    order_id = await put_order(client, order_body("O-2", [("UNSTOCKED", 2)]))
    created = clock()
    clock.advance(hours=1)
    await client.post("/_emulator/orders/O-2/pick", json={"lines": None})
    await client.post("/_emulator/orders/O-2/ship")
    await client.post(
        "/_emulator/orders/O-2/return",
        json={"lines": [{"article_number": "UNSTOCKED", "quantity": 1, "cause": "Damaged"}]},
    )
    order = (await client.get(f"{API}/orders/{order_id}")).json()
    assert [utc_time(i["inDate"]) for i in picked_items(order)] == [created, created]


# -- 2. each write answers the codes its endpoint lists --------------------------------------


@pytest.mark.parametrize(
    ("collection", "first", "second", "codes"),
    [
        (
            "articles",
            {"goodsOwnerId": 1, "articleNumber": "A", "articleName": "Shirt"},
            {"goodsOwnerId": 1, "articleNumber": "A", "articleName": "Tee"},
            (200, 200),
        ),
        (
            "purchaseOrders",
            purchase_order_body("PO-1", [("A", 4)]),
            purchase_order_body("PO-1", [("A", 5)]),
            (200, 200),
        ),
        ("orders", order_body("O-1", [("A", 1)]), order_body("O-1", [("A", 2)]), (201, 200)),
    ],
    ids=["articles", "purchaseOrders", "orders"],
)
async def test_a_put_answers_only_the_codes_its_endpoint_lists(
    client: httpx.AsyncClient,
    collection: str,
    first: dict[str, Any],
    second: dict[str, Any],
    codes: tuple[int, int],
) -> None:
    """The spec lists only 200 for ``PUT /articles`` and ``PUT /purchaseOrders`` (a client
    generated from it finds no result in a 201 and loses the new id); 200 and 201 for
    ``PUT /orders``."""
    created = await client.put(f"{API}/{collection}", json=first)
    updated = await client.put(f"{API}/{collection}", json=second)
    assert (created.status_code, updated.status_code) == codes
    (id_field,) = set(created.json()) - {"message"}
    assert updated.json()[id_field] == created.json()[id_field]


# -- 3. every listed query parameter filters; any other is refused by name --------------------


async def numbers_of(client: httpx.AsyncClient, collection: str, **params: Any) -> list[str]:
    response = await client.get(f"{API}/{collection}", params={**OWNER, **params})
    assert response.status_code == 200, response.text
    rows = response.json()
    if collection == "articles":
        return [row["articleNumber"] for row in rows]
    if collection == "orders":
        return [row["orderInfo"]["orderNumber"] for row in rows]
    return [row["purchaseOrderInfo"]["purchaseOrderNumber"] for row in rows]


async def test_article_filters_product_code_bar_codes_and_name(client: httpx.AsyncClient) -> None:
    articles = [
        {"articleNumber": "A", "articleName": "Blue Shirt", "productCode": "P-1"},
        {
            "articleNumber": "B",
            "articleName": "Red shirt",
            "productCode": "P-2",
            "barCodeInfo": {"barCode": "700", "alternativeBarCodes": [{"barCode": "701"}]},
        },
        {"articleNumber": "C", "articleName": "Cap", "barCodeInfo": {"barCode": "702"}},
    ]
    for article in articles:
        put = await client.put(f"{API}/articles", json={"goodsOwnerId": 1, **article})
        assert put.status_code == 200, put.text
    assert await numbers_of(client, "articles", productCode="P-2") == ["B"]
    assert await numbers_of(client, "articles", barCodes=["701", "702"]) == ["B", "C"]
    assert await numbers_of(client, "articles", articleNameContains="SHIRT") == ["A", "B"]
    assert await numbers_of(client, "articles", articleClassIds=7) == []


async def test_order_filters_created_before_serial_and_parcel_number(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    for number in ("O-1", "O-2", "O-3"):
        await put_order(client, order_body(number, [("A", 1)], referenceNumber=f"R{number}"))
        clock.advance(hours=1)
    await client.post(
        "/_emulator/orders/O-2/pick",
        json={"lines": [{"article_number": "A", "quantity": 1, "serial_numbers": ["SN-9"]}]},
    )
    await client.post(
        "/_emulator/orders/O-2/ship",
        json={"parcels": [{"tracking_number": "T1", "parcel_number": "00370001"}]},
    )
    assert await numbers_of(client, "orders", orderCreatedTimeTo="2026-03-02T10:45:00Z") == [
        "O-1",
        "O-2",
    ]
    assert await numbers_of(client, "orders", serial="SN-9") == ["O-2"]
    assert await numbers_of(client, "orders", parcelNumber="00370001") == ["O-2"]
    assert await numbers_of(client, "orders", referenceNumbers=["RO-1", "RO-3"]) == ["O-1", "O-3"]
    assert await numbers_of(client, "orders", lastPickingTimeFrom="2026-03-02T09:00:00Z") == ["O-2"]
    shipped = (await client.get(f"{API}/orders", params={**OWNER, "orderNumber": "O-2"})).json()
    shipment = shipped[0]["shipmentInfo"]["shipmentId"]
    assert await numbers_of(client, "orders", shipmentId=shipment) == ["O-2"]
    assert await numbers_of(client, "orders", onlyIfTransportPrinted="true") == ["O-2"]


async def test_orders_updated_from_must_be_at_most_two_days_old(
    client: httpx.AsyncClient,
) -> None:
    """Spec text of ``orderUpdatedTimeFrom``: "this value must be at most 2 days old"."""
    old = await client.get(
        f"{API}/orders", params={**OWNER, "orderUpdatedTimeFrom": "2026-02-27T09:00:00Z"}
    )
    assert old.status_code == 400
    assert "orderUpdatedTimeFrom" in old.json()["message"]


async def test_not_pickable_orders_are_those_the_free_stock_cannot_cover(
    client: httpx.AsyncClient,
) -> None:
    await put_article(client, "A", stock=1)
    await put_order(client, order_body("O-1", [("A", 1)]))
    await put_order(client, order_body("O-2", [("A", 5)]))
    assert await numbers_of(client, "orders", pickable="NotPickable") == ["O-2"]
    assert await numbers_of(client, "orders", pickable="All") == ["O-1", "O-2"]
    wrong = await client.get(f"{API}/orders", params={**OWNER, "pickable": "Maybe"})
    assert wrong.status_code == 400


async def test_purchase_order_filter_in_date_from(client: httpx.AsyncClient) -> None:
    for number, day in (("PO-1", "2026-03-01"), ("PO-2", "2026-03-20"), ("PO-3", None)):
        body = purchase_order_body(number, [("A", 1)])
        if day is not None:
            body["inDate"] = day
        assert (await client.put(f"{API}/purchaseOrders", json=body)).status_code == 200
    assert await numbers_of(client, "purchaseOrders", inDateFrom="2026-03-10T00:00:00Z") == ["PO-2"]
    assert await numbers_of(client, "purchaseOrders", inDateTo="2026-03-10T00:00:00Z") == ["PO-1"]


async def test_every_rest_route_refuses_a_query_parameter_it_does_not_take(
    emu: OngoingEmulator, client: httpx.AsyncClient
) -> None:
    """A misspelt filter must not come back as the unfiltered list."""
    checked = []
    for path, operations in emu.api.openapi()["paths"].items():
        if not path.startswith(API):
            continue
        url = re.sub(r"\{[^}]+\}", "1", path)
        for method in sorted(m.upper() for m in operations):
            response = await client.request(
                method, url, params={**OWNER, "productCodez": "X"}, json={}
            )
            assert response.status_code == 400, (method, path, response.text)
            assert "productCodez" in response.json()["message"], (method, path)
            checked.append(f"{method} {path}")
    assert "GET /demo/api/v1/orders" in checked
    assert len(checked) >= 20


# -- 4. deliveryDate and inDate are date-times -------------------------------------------------


async def test_delivery_date_and_in_date_take_a_time_of_day_and_answer_utc_times(
    client: httpx.AsyncClient,
) -> None:
    """``PostOrderModel.deliveryDate``, ``PostPurchaseOrderModel.inDate`` and their read
    counterparts are date-times in the spec; a plain date is still taken (vendor examples)."""
    order_id = await put_order(
        client, order_body("O-1", [("A", 1)], deliveryDate="2026-03-04T15:30:00+01:00")
    )
    plain_id = await put_order(client, order_body("O-2", [("A", 1)]))
    body = {**purchase_order_body("PO-1", [("A", 1)]), "inDate": "2026-03-05T08:00:00Z"}
    put = await client.put(f"{API}/purchaseOrders", json=body)
    assert put.status_code == 200, put.text

    order = (await client.get(f"{API}/orders/{order_id}")).json()
    plain = (await client.get(f"{API}/orders/{plain_id}")).json()
    in_order = (await client.get(f"{API}/purchaseOrders/{put.json()['purchaseOrderId']}")).json()
    assert order["orderInfo"]["deliveryDate"] == "2026-03-04T14:30:00Z"
    assert plain["orderInfo"]["deliveryDate"] == "2026-03-03T00:00:00Z"
    assert in_order["purchaseOrderInfo"]["inDate"] == "2026-03-05T08:00:00Z"

    bad = await client.put(f"{API}/orders", json=order_body("O-3", [("A", 1)], deliveryDate=3))
    assert bad.status_code == 400
    assert "deliveryDate" in bad.json()["message"]


# -- 5. fields the spec's read models carry ------------------------------------------------------


async def test_an_order_reads_back_warehouse_consignee_id_classes_prices_and_line_type(
    client: httpx.AsyncClient,
) -> None:
    line = {
        "rowNumber": "1",
        "articleNumber": "A",
        "numberOfItems": 1,
        "lineType": {"code": "GIFT", "name": "Gift wrap"},
        "prices": {"linePrice": 199.0, "customerLinePrice": 249.0, "currencyCode": "SEK"},
    }
    body = {
        **order_body("O-1", []),
        "orderLines": [line],
        "classes": [{"code": "VIP", "name": "Important customer"}],
        "emailNotification": {"value": "ada@example.com"},
    }
    order_id = await put_order(client, body)
    again = await put_order(client, {**order_body("O-2", [("A", 1)])})
    order = (await client.get(f"{API}/orders/{order_id}")).json()
    other = (await client.get(f"{API}/orders/{again}")).json()

    info = order["orderInfo"]
    assert info["warehouse"] == {"id": 1, "code": "demo", "name": "demo"}
    assert info["emailNotification"] == {"toBeNotified": False, "value": "ada@example.com"}
    assert isinstance(order["consignee"]["id"], int)
    assert other["consignee"]["id"] == order["consignee"]["id"], "one customer number, one id"
    assert order["classes"] == [{"code": "VIP", "name": "Important customer"}]
    assert order["shipmentInfo"] is None
    (read_line,) = order["orderLines"]
    assert read_line["lineType"] == {"code": "GIFT", "name": "Gift wrap"}
    assert read_line["prices"] == {
        "linePrice": 199.0,
        "customerLinePrice": 249.0,
        "currencyCode": "SEK",
        "discountPercentage": None,
    }
    assert read_line["shouldBePicked"] is True


async def test_a_purchase_order_reads_back_line_ids_created_date_and_warehouse(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    body = purchase_order_body("PO-1", [("A", 4)])
    body["purchaseOrderLines"][0] |= {"externalOrderLineId": "7350000000054", "rowPrice": 120.0}
    put = await client.put(f"{API}/purchaseOrders", json=body)
    read = (await client.get(f"{API}/purchaseOrders/{put.json()['purchaseOrderId']}")).json()
    info = read["purchaseOrderInfo"]
    assert utc_time(info["createdDate"]) == clock()
    assert info["warehouse"] == {"id": 1, "code": "demo", "name": "demo"}
    (line,) = read["purchaseOrderLines"]
    assert (line["externalOrderLineId"], line["rowPrice"]) == ("7350000000054", 120.0)


async def test_an_article_reads_back_when_its_data_last_changed_and_whole_quantities(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    """``articleDataLastUpdated`` (its filter was served, the field never sent); the spec
    types quantityPerPackage, quantityPerPallet and stockLimit as integers."""
    body = {
        "goodsOwnerId": 1,
        "articleNumber": "A",
        "quantityPerPackage": "10",
        "quantityPerPallet": 150,
        "stockLimit": 3.0,
    }
    assert (await client.put(f"{API}/articles", json=body)).status_code == 200
    clock.advance(minutes=3)
    (article,) = (await client.get(f"{API}/articles", params=OWNER)).json()
    assert utc_time(article["articleDataLastUpdated"]) == clock() - timedelta(minutes=3)
    counts = [article[k] for k in ("quantityPerPackage", "quantityPerPallet", "stockLimit")]
    assert counts == [10, 150, 3]
    assert all(type(count) is int for count in counts)
    half = await client.put(f"{API}/articles", json={**body, "quantityPerPackage": 2.5})
    assert half.status_code == 400
    assert "quantityPerPackage" in half.json()["message"]


async def test_warehouses_have_an_address(client: httpx.AsyncClient) -> None:
    (warehouse,) = (await client.get(f"{API}/warehouses", params=OWNER)).json()
    assert (warehouse["id"], warehouse["code"]) == (1, "demo")
    address = warehouse["address"]
    assert address["countryCode"] == "SE" and address["city"] and address["postCode"]


# -- 7. routing, error shapes, reporting -------------------------------------------------------


async def test_vendor_type_and_class_lists_are_served_not_read_as_ids(
    client: httpx.AsyncClient,
) -> None:
    """They fell into the ``/{id}`` routes and answered 400 "should be a valid integer"."""
    await put_order(
        client, order_body("O-1", [("A", 1)], orderType={"code": "B2B", "name": "Shop"})
    )
    po = {**purchase_order_body("PO-1", [("A", 1)]), "purchaseOrderType": {"code": "RE"}}
    await client.put(f"{API}/purchaseOrders", json=po)
    types = await client.get(f"{API}/orders/types", params=OWNER)
    assert types.json() == {"orderTypes": [{"code": "B2B", "name": "Shop"}]}
    po_types = await client.get(f"{API}/purchaseOrders/types", params=OWNER)
    assert po_types.json() == {"purchaseOrderTypes": [{"code": "RE", "name": None}]}
    classes = await client.get(f"{API}/articles/classes", params=OWNER)
    assert classes.json() == {"articleClasses": []}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", f"{API}/nothingHere", 404),
        ("GET", f"{API}/orders/abc", 404),
        ("GET", f"{API}/orders/wayOfDeliveryTypes", 404),
        ("GET", f"{API}/purchaseOrders/files", 404),
        ("POST", f"{API}/orders", 405),
        ("GET", "/elsewhere", 404),
    ],
)
async def test_unknown_routes_answer_in_ongoings_error_shape(
    client: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    response = await client.request(method, path, params=OWNER)
    assert response.status_code == status
    assert set(response.json()) == {"message"}


async def test_the_control_api_keeps_fastapis_error_shape(client: httpx.AsyncClient) -> None:
    response = await client.get("/_emulator/nothing-here")
    assert response.status_code == 404
    assert set(response.json()) == {"detail"}


async def test_reporting_is_taken_as_sent_and_the_filters_compare_as_the_spec_says(
    client: httpx.AsyncClient,
) -> None:
    """Ongoing documents no refusal for a reported number (the PATCH "updates the reported
    number of items on a particular order line"), so any value >= 0 is kept, on any order.
    The filters' spec texts: orders with ReportedNumberOfItems < PickedNumberOfItems, and
    with ReportedReturnedNumberOfItems less than the returned number; purchase orders with
    ReportedNumberOfItems != ReceivedNumberOfItems."""
    order_id = await put_order(client, order_body("O-1", [("A", 2)]))
    await client.post(
        "/_emulator/orders/O-1/pick", json={"lines": [{"article_number": "A", "quantity": 1}]}
    )
    order = (await client.get(f"{API}/orders/{order_id}")).json()
    line_id = order["orderLines"][0]["id"]
    over = await client.patch(
        f"{API}/orders/{order_id}/lines/{line_id}/reportedNumberOfItems",
        json={"reportedNumberOfItems": 2},
    )
    assert over.status_code == 200
    assert await numbers_of(client, "orders", onlyOrdersWithOrderLinesToReport="true") == []

    cancelled_id = await put_order(client, order_body("O-2", [("A", 1)]))
    assert (await client.delete(f"{API}/orders/{cancelled_id}")).status_code == 200
    cancelled = (await client.get(f"{API}/orders/{cancelled_id}")).json()
    on_cancelled = await client.patch(
        f"{API}/orders/{cancelled_id}/lines/{cancelled['orderLines'][0]['id']}/"
        "reportedNumberOfItems",
        json={"reportedNumberOfItems": 0},
    )
    assert on_cancelled.status_code == 200

    put = await client.put(f"{API}/purchaseOrders", json=purchase_order_body("PO-1", [("A", 4)]))
    po_id = put.json()["purchaseOrderId"]
    await client.post(
        "/_emulator/purchase-orders/PO-1/receive",
        json={"lines": [{"article_number": "A", "quantity": 1}]},
    )
    po = (await client.get(f"{API}/purchaseOrders/{po_id}")).json()
    po_line = po["purchaseOrderLines"][0]["id"]
    above = await client.patch(
        f"{API}/purchaseOrders/{po_id}/lines/{po_line}/reportedNumberOfItems",
        json={"reportedNumberOfItems": 3},
    )
    assert above.status_code == 200
    listed = await numbers_of(
        client, "purchaseOrders", onlyPurchaseOrdersWithOrderLinesToReport="true"
    )
    assert listed == ["PO-1"], "reported above received still differs from it"
