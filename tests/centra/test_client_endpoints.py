"""Request shapes, paging and batching of the Order API client, on MockTransport servers."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from centrasync.centra import SerialNumber, StockUpdate
from centrasync.centra.client import OrderApiClient
from centrasync.errors import MalformedResponseError, NotFoundError, RemoteRefusedError
from centrasync.http import Priority, RateBudget
from centrasync.http.transports import IDEMPOTENT, PRIORITY


class Recorder:
    """A tiny scripted server: answers by path, remembers every request."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[request.url.path.removeprefix("/api/wms/")]
        body = answer(request) if callable(answer) else answer
        return httpx.Response(200, json=body)

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


def client_for(server: Recorder, zone: str = "Europe/Stockholm") -> OrderApiClient:
    return OrderApiClient(
        "http://centra.test/api/wms/", "secret", zone, transport=httpx.MockTransport(server)
    )


async def test_shipment_filters_are_rendered_in_the_merchant_zone() -> None:
    server = Recorder({"shipments": {"status": "ok", "shipments": []}})
    async with client_for(server, "America/New_York") as client:
        await client.list_shipments(
            "completed",
            limit=50,
            offset=100,
            newer_than=datetime(2024, 7, 1, 4, 0, tzinfo=UTC),
            older_than=date(2024, 7, 2),
            order=83651,
        )
    params = server.requests[0].url.params
    assert params["newer_than"] == "2024-07-01 00:00:00"
    assert params["older_than"] == "2024-07-02"
    assert (params["status"], params["limit"], params["offset"], params["order"]) == (
        "completed",
        "50",
        "100",
        "83651",
    )
    assert server.requests[0].extensions[IDEMPOTENT] is True
    assert server.requests[0].extensions[PRIORITY] is Priority.ORDER_FLOW


async def test_shipment_limit_outside_range_is_refused_before_sending() -> None:
    server = Recorder({})
    async with client_for(server) as client:
        with pytest.raises(ValueError, match="limit"):
            await client.list_shipments("completed", limit=500)
    assert server.requests == []


async def test_fulfilment_writes_send_documented_bodies() -> None:
    server = Recorder(
        {
            "shipments": {"status": "ok", "order": 83651, "shipment": "83651-1", "proforma": "p"},
            "shipments/83651-1": lambda r: (
                {"status": "ok", "shipment": {"orderId": 83651, "shipmentId": "83651-1"}}
                if r.method == "PUT"
                else {
                    "status": "ok",
                    "msg": "shipment removed",
                    "order": 83651,
                    "shipment": "83651-1",
                }
            ),
            "capture": {"status": "ok", "order": 83651, "shipment": "83651-1"},
            "shipment": {"status": "ok", "order": 83651, "shipment": "83651-1"},
        }
    )
    async with client_for(server) as client:
        created = await client.create_shipment("83651", {"43243": 1}, gtg=True, capture=False)
        assert (created.order, created.shipment, created.proforma) == ("83651", "83651-1", "p")
        assert server.body() == {
            "order": 83651,
            "products": {"43243": 1},
            "gtg": True,
            "capture": False,
            "shipped": False,
        }
        assert server.requests[-1].extensions[IDEMPOTENT] is False

        updated = await client.update_shipment(
            "83651-1", quantities={"43243": 1}, serial_numbers={"43244": SerialNumber("SN9", 1)}
        )
        assert updated.shipment_id == "83651-1"
        assert server.body() == {
            "products": {"43243": 1, "43244": {"serialNumber": "SN9", "qty": 1}}
        }

        await client.capture_shipment("83651-1")
        assert server.body() == {"shipment": "83651-1"}
        assert server.requests[-1].extensions[IDEMPOTENT] is False

        done = await client.complete_shipment(
            "83651",
            "83651-1",
            carrier="Fedex",
            service="Express",
            packages=1,
            tracking="TRTTET5",
            return_slip_tracking="TRTTET6",
            send_email=False,
        )
        assert (done.order, done.shipment) == ("83651", "83651-1")
        assert server.body() == {
            "order": 83651,
            "shipment": "83651-1",
            "carrier": "Fedex",
            "service": "Express",
            "packages": 1,
            "tracking": "TRTTET5",
            "returnSlipTracking": "TRTTET6",
            "sendEmail": False,
        }
        assert server.requests[-1].method == "PUT"

        removed = await client.delete_shipment("83651-1")
        assert removed.order == "83651" and server.requests[-1].method == "DELETE"


async def test_get_order_not_visible_is_not_found() -> None:
    server = Recorder({"orders": {"status": "ok", "orders": []}})
    async with client_for(server) as client:
        with pytest.raises(NotFoundError, match="order 9"):
            await client.get_order(9)
    assert server.requests[0].url.params["order"] == "9"


def _paged(pages: dict[str, dict[str, Any]]) -> Any:
    def answer(request: httpx.Request) -> dict[str, Any]:
        return pages[request.url.params.get("page", "1")]

    return answer


async def test_products_follow_next_until_absent_and_keep_filters() -> None:
    pages = {
        "1": {
            "status": "ok",
            "products": [{"sku": "A", "stockItemId": 1}],
            "next": "?limit=1&page=2",
        },
        "2": {
            "status": "ok",
            "products": [{"sku": "B", "stockItemId": 2}],
            "previous": "?limit=1&page=1",
            "next": "?limit=1&page=3",
        },
        "3": {"status": "ok", "products": [{"sku": "C", "stockItemId": 3}], "previous": "?page=2"},
    }
    server = Recorder({"products": _paged(pages)})
    async with client_for(server, "Asia/Tokyo") as client:
        skus = [
            row.sku
            async for page in client.iter_products(
                modified_since=datetime(2024, 1, 1, tzinfo=UTC), limit=1
            )
            for row in page
        ]
    assert skus == ["A", "B", "C"]
    assert [r.url.params.get("page") for r in server.requests] == [None, "2", "3"]
    assert {r.url.params["modified"] for r in server.requests} == {"2024-01-01 09:00:00"}
    assert server.requests[0].extensions[PRIORITY] is Priority.CATALOGUE


async def test_repeated_next_is_a_loop_not_an_endless_read() -> None:
    pages = {
        "1": {"status": "ok", "products": [{"sku": "A"}], "next": "?page=2"},
        "2": {"status": "ok", "products": [{"sku": "B"}], "next": "?page=2"},
    }
    server = Recorder({"stock": _paged(pages)})
    seen: list[str] = []
    async with client_for(server) as client:
        with pytest.raises(MalformedResponseError, match="paging loop") as caught:
            async for page in client.iter_stock(stock_modified_since=date(2024, 1, 1)):
                seen.extend(row.sku for row in page)
    assert seen == ["A", "B"]
    assert caught.value.endpoint == "GET /stock"
    assert server.requests[0].url.params["stock_modified"] == "2024-01-01"


async def test_stock_updates_go_in_batches_and_surface_skipped_items() -> None:
    def answer(request: httpx.Request) -> dict[str, Any]:
        products = json.loads(request.content)["products"]
        missing = [p["product"] for p in products if p["product"].startswith("X")]
        bundles = [p["product"] for p in products if p["product"].startswith("B")]
        if not missing and not bundles:
            return {"status": "ok"}
        return {
            "status": "no",
            "msg": "Some of the products were not updated",
            "errors": {"productsNotFound": missing, "productsAreBundles": bundles},
        }

    server = Recorder({"stock": answer})
    items = [StockUpdate(f"EAN{i}", i) for i in range(5)] + [
        StockUpdate("X1", 3),
        StockUpdate("B1", 1, cost_price=Decimal("12.54"), cost_price_currency="SEK"),
    ]
    async with client_for(server) as client:
        result = await client.update_stock(items, batch_size=3)
    assert (result.sent, result.batches) == (7, 3)
    assert [len(server.body(i)["products"]) for i in range(3)] == [3, 3, 1]
    assert result.products_not_found == ("X1",)
    assert result.products_are_bundles == ("B1",)
    assert not result.ok
    assert server.body(2)["products"][0] == {
        "product": "B1",
        "quantity": 1,
        "costPrice": 12.54,
        "costPriceCurrency": "SEK",
    }


async def test_stock_refusal_without_item_lists_is_raised() -> None:
    server = Recorder({"stock": {"status": "no", "msg": "warehouse is not configured"}})
    async with client_for(server) as client:
        with pytest.raises(RemoteRefusedError, match="warehouse is not configured"):
            await client.update_stock([StockUpdate("EAN1", 1)])


async def test_returns_create_and_list() -> None:
    server = Recorder(
        {
            "return": {
                "status": "ok",
                "return": 5397,
                "returnCompleted": False,
                "returnedItems": ["268871"],
            },
            "returns": {
                "status": "ok",
                "returns": [
                    {"returnId": 2, "date": "2024-02-02 10:00:00"},
                    {"returnId": 1, "date": "2024-01-01 10:00:00"},
                ],
            },
        }
    )
    async with client_for(server) as client:
        created = await client.create_return(
            "120276-1",
            {"43243": 1},
            return_stock=True,
            comment="damaged",
            created_at=datetime(2024, 1, 1, 12, tzinfo=UTC),
        )
        assert server.body() == {
            "shipment": "120276-1",
            "products": {"43243": 1},
            "returnStock": True,
            "comment": "damaged",
            "createdAt": "2024-01-01 13:00:00",
        }
        assert (created.return_id, created.completed, created.returned_items) == (
            "5397",
            False,
            ("268871",),
        )
        page = await client.list_returns(limit=2, page=1, shipment="120276-1")
    assert [r.return_id for r in page] == ["2", "1"]
    assert server.requests[-1].url.params["page"] == "1"


async def test_supplier_endpoints() -> None:
    delivery = {
        "id": "364",
        "orderId": "957",
        "deliveryId": "957-1",
        "ETA": "2019-01-28 01:15",
        "products": [{"ean": "1234", "quantity": "10", "cost": "5.50"}],
    }
    server = Recorder(
        {
            "supplier-orders": {
                "status": "ok",
                "orders": [{"orderId": "957", "created": "2019-01-28 01:15"}],
            },
            "supplier-orders/957": {"status": "ok", "order": {"orderId": "957", "products": []}},
            "supplier-deliveries": {"status": "ok", "deliveries": [delivery]},
            "supplier-deliveries/957-1": {"status": "ok", "delivery": delivery},
            "supplier-deliveries/364/details": {
                "status": "ok",
                "delivery": {**delivery, "orders": [{"orderId": "1"}]},
            },
            "supplier-deliveries/364": {
                "status": "ok",
                "additionalDelivery": {**delivery, "id": "365", "deliveryId": "957-2"},
            },
            "supplier-deliveries/364/sku": {"status": "ok"},
        }
    )
    async with client_for(server) as client:
        assert [o.order_id for o in await client.list_supplier_orders()] == ["957"]
        assert (await client.get_supplier_order(957)).order_id == "957"
        (listed,) = await client.list_supplier_deliveries()
        assert listed.products[0].quantity == 10 and listed.products[0].cost == Decimal("5.50")
        assert (await client.get_supplier_delivery("957-1")).id == "364"
        assert (await client.get_supplier_delivery(364, details=True)).orders[0].order_id == "1"
        accepted = await client.accept_supplier_delivery(364, {"1234": 8})
        assert server.body() == {"products": {"1234": 8}, "insertStock": True}
        assert accepted.additional_delivery is not None
        assert accepted.additional_delivery.delivery_id == "957-2"
        by_sku = await client.accept_supplier_delivery(
            364, {"SKU1": 1}, by="sku", insert_stock=False
        )
        assert by_sku.additional_delivery is None
        assert server.requests[-1].extensions[IDEMPOTENT] is False


async def test_calls_take_budget_tokens_in_their_priority_lane() -> None:
    server = Recorder(
        {
            "shipments": {"status": "ok", "shipments": []},
            "products": {"status": "ok", "products": []},
        }
    )
    budget = RateBudget(rate=1000, burst=1000)
    async with OrderApiClient(
        "http://centra.test/api/wms",
        "secret",
        "UTC",
        transport=httpx.MockTransport(server),
        budget=budget,
    ) as client:
        await client.list_shipments()
        pages = [page async for page in client.iter_products()]
    assert len(pages) == 1
    assert budget.granted[Priority.ORDER_FLOW] == 1
    assert budget.granted[Priority.CATALOGUE] == 1


async def test_success_without_the_new_id_is_malformed() -> None:
    server = Recorder({"shipments": {"status": "ok", "order": 1}, "return": {"status": "ok"}})
    async with client_for(server) as client:
        with pytest.raises(MalformedResponseError, match="shipment"):
            await client.create_shipment(1, {"1": 1})
        with pytest.raises(MalformedResponseError, match="POST /return"):
            await client.create_return("1-1", {"1": 1})
        with pytest.raises(ValueError, match="limit"):
            await client.list_shipments("goodtogo", limit=0)
