"""The Ongoing connector's HTTP behaviour, against small fake servers on httpx.MockTransport."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from centrasync.errors import (
    AuthenticationError,
    CentrasyncError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RecordValidationError,
    RemoteRefusedError,
    ServerError,
)
from centrasync.http import RetryPolicy
from centrasync.wms import Address, Article, CancelOutcome, OutboundOrder, OutboundOrderLine
from centrasync.wms.ongoing import OngoingWarehouse

BASE = "https://api.example.test/acme/api/v1/"
PASSWORD = "pa55-w0rd-secret"
Handler = Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]


def connector(
    handler: Handler, *, goods_owner_id: int = 7, page_size: int = 3, **kw: Any
) -> OngoingWarehouse:
    kw.setdefault("retry", RetryPolicy(max_attempts=1))
    return OngoingWarehouse(
        BASE,
        "api-user",
        PASSWORD,
        goods_owner_id,
        transport=httpx.MockTransport(handler),
        page_size=page_size,
        **kw,
    )


class Sleeps:
    """Records the waits the retry loop asked for, without waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def scripted(answers: list[httpx.Response]) -> Handler:
    """Answers each request with the next of ``answers``."""

    async def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0)

    return handler


def article_row(system_id: int, on_hand: float = 1.0) -> dict[str, Any]:
    return {
        "articleSystemId": system_id,
        "articleNumber": f"A{system_id}",
        "inventoryInfo": {"numberOfItems": on_hand, "sellableNumberOfItems": on_hand},
    }


class ArticleServer:
    """Serves ``GET /articles`` with a real ID cursor over ``ids``; records every request."""

    def __init__(self, ids: list[int], *, ignore_cursor: bool = False) -> None:
        self.ids = sorted(ids)
        self.ignore_cursor = ignore_cursor
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        params = request.url.params
        start = int(params.get("articleSystemIdFrom", "0"))
        size = int(params["maxArticlesToGet"])
        wanted = params.get_list("articleNumbers")
        rows = [
            i
            for i in self.ids
            if (self.ignore_cursor or i >= start) and (not wanted or f"A{i}" in wanted)
        ]
        return httpx.Response(200, json=[article_row(i) for i in rows[:size]])


def an_order(number: str = "1000-1") -> OutboundOrder:
    return OutboundOrder(
        order_number=number,
        ship_to=Address("Ada", "Road 1", "11122", "Stockholm", "SE"),
        lines=(OutboundOrderLine("L1", "A1", Decimal(1)),),
    )


# -- paging ---------------------------------------------------------------------------------


async def test_paging_follows_the_id_cursor_until_an_empty_page() -> None:
    server = ArticleServer([5, 1, 9, 3, 12, 7, 20])
    async with connector(server) as warehouse:
        levels = await warehouse.read_stock()
    assert [level.sku for level in levels] == ["A1", "A3", "A5", "A7", "A9", "A12", "A20"]
    cursors = [r.url.params.get("articleSystemIdFrom") for r in server.requests]
    assert cursors == [None, "6", "13", "21"]
    assert {r.url.params["maxArticlesToGet"] for r in server.requests} == {"3"}


@given(
    ids=st.sets(st.integers(min_value=1, max_value=10_000), max_size=40),
    page_size=st.integers(min_value=1, max_value=7),
)
@settings(max_examples=40, deadline=None)
def test_paging_returns_every_row_once_for_any_ids_and_page_size(
    ids: set[int], page_size: int
) -> None:
    server = ArticleServer(list(ids))

    async def read() -> list[str]:
        async with connector(server, page_size=page_size) as warehouse:
            return [level.sku for level in await warehouse.read_stock()]

    assert asyncio.run(read()) == [f"A{i}" for i in sorted(ids)]
    assert len(server.requests) == -(-len(ids) // page_size) + 1


async def test_paging_raises_when_the_server_ignores_the_cursor() -> None:
    server = ArticleServer([1, 2, 3, 4], ignore_cursor=True)
    async with connector(server) as warehouse:
        with pytest.raises(MalformedResponseError, match="cursor did not advance") as caught:
            await warehouse.read_stock()
    assert caught.value.endpoint == "GET articles"
    assert len(server.requests) == 2


async def test_paging_drops_rows_repeated_across_pages() -> None:
    pages = [[1, 2, 3], [3, 4], []]

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[article_row(i) for i in pages.pop(0)])

    async with connector(handler) as warehouse:
        levels = await warehouse.read_stock()
    assert [level.sku for level in levels] == ["A1", "A2", "A3", "A4"]


async def test_sku_filter_goes_out_as_repeated_keys() -> None:
    server = ArticleServer([1, 2, 3])
    async with connector(server) as warehouse:
        levels = await warehouse.read_stock(skus=["A1", "A3", "A1"])
    assert sorted(level.sku for level in levels) == ["A1", "A3"]
    first = server.requests[0]
    assert first.url.params.get_list("articleNumbers") == ["A1", "A3"]
    assert b"articleNumbers=A1&articleNumbers=A3" in first.url.query
    assert b"%2C" not in first.url.query


async def test_stock_delta_only_inside_the_24_hour_window() -> None:
    from datetime import UTC, datetime, timedelta

    server = ArticleServer([1])
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    async with connector(server, clock=lambda: now) as warehouse:
        await warehouse.read_stock(changed_since=now - timedelta(hours=2))
        recent = server.requests[-1].url.params.get("stockInfoChangedFrom")
        await warehouse.read_stock(changed_since=now - timedelta(hours=30))
        old = server.requests[-1].url.params.get("stockInfoChangedFrom")
        with pytest.raises(ValueError, match="timezone-aware"):
            await warehouse.read_stock(changed_since=datetime(2026, 3, 1))
    assert recent == "2026-03-01T10:00:00.000000Z"
    assert old is None


# -- auth and goods owner ------------------------------------------------------------------------


class RecordingServer:
    """Answers every endpoint the connector uses with a plausible minimal body."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/acme/api/v1/")
        if request.method == "PUT" and path == "articles":
            return httpx.Response(201, json={"articleSystemId": 1, "message": "ok"})
        if request.method == "PUT" and path == "orders":
            return httpx.Response(200, json={"orderId": 50, "message": "ok"})
        if request.method == "GET" and path == "orders":
            if request.url.params.get("orderIdFrom"):
                return httpx.Response(200, json=[])
            return httpx.Response(200, json=[order_row(50, status=200)])
        if request.method == "DELETE":
            return httpx.Response(200, json={"orderId": 50, "message": "cancelled"})
        return httpx.Response(200, json=[])


def order_row(
    order_id: int, *, status: int, picked: float = 0.0, number: str = "1000-1"
) -> dict[str, Any]:
    return {
        "orderInfo": {
            "orderId": order_id,
            "orderNumber": number,
            "orderStatus": {"number": status, "text": "x"},
        },
        "orderLines": [
            {
                "id": 1,
                "rowNumber": "L1",
                "article": {"articleSystemId": 1, "articleNumber": "A1"},
                "orderedNumberOfItems": 1.0,
                "pickedNumberOfItems": picked,
                "reportedNumberOfItems": None,
            }
        ],
    }


async def test_every_call_carries_basic_auth_and_the_goods_owner() -> None:
    server = RecordingServer()
    async with connector(server, goods_owner_id=42) as warehouse:
        await warehouse.upsert_articles([Article("A1", "Shirt")])
        await warehouse.upsert_outbound_order(an_order())
        await warehouse.read_stock()
        await warehouse.list_shipped_unreported()
        await warehouse.list_received_unreported()
        assert await warehouse.cancel_outbound_order("1000-1") is CancelOutcome.CANCELLED
    expected = "Basic " + base64.b64encode(f"api-user:{PASSWORD}".encode()).decode()
    assert {r.method for r in server.requests} == {"GET", "PUT", "DELETE"}
    for request in server.requests:
        assert request.headers["authorization"] == expected
        assert request.url.params["goodsOwnerId"] == "42"
        assert str(request.url).startswith(BASE)
        if request.method == "PUT":
            assert json.loads(request.content)["goodsOwnerId"] == 42


async def test_cancel_checks_status_before_deleting() -> None:
    deletes: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            deletes.append(request.url.path)
            return httpx.Response(200, json={})
        if request.url.params.get("orderIdFrom"):
            return httpx.Response(200, json=[])
        return httpx.Response(200, json=[order_row(50, status=400, picked=1.0)])

    async with connector(handler) as warehouse:
        assert await warehouse.cancel_outbound_order("1000-1") is CancelOutcome.TOO_LATE
    assert deletes == []


async def test_refused_delete_is_too_late_unless_the_order_is_cancelled() -> None:
    statuses = [200, 320]

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            return httpx.Response(400, json={"message": "Order cannot be cancelled"})
        if request.url.params.get("orderIdFrom"):
            return httpx.Response(200, json=[])
        return httpx.Response(200, json=[order_row(50, status=statuses.pop(0))])

    async with connector(handler) as warehouse:
        assert await warehouse.cancel_outbound_order("1000-1") is CancelOutcome.TOO_LATE


# -- documents that cannot be read ---------------------------------------------------------------


class DocumentServer:
    """Serves ``GET /orders`` and ``GET /purchaseOrders`` with a real id cursor over raw rows."""

    def __init__(
        self, orders: dict[int, Any], purchase_orders: dict[int, Any] | None = None
    ) -> None:
        self.rows = {"orders": orders, "purchaseOrders": purchase_orders or {}}

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        kind = request.url.path.rsplit("/", 1)[-1]
        cursor, size = {
            "orders": ("orderIdFrom", "maxOrdersToGet"),
            "purchaseOrders": ("purchaseOrderIdFrom", "maxPurchaseOrdersToGet"),
        }[kind]
        start = int(params.get(cursor, "0"))
        rows = self.rows[kind]
        ids = sorted(i for i in rows if i >= start)[: int(params[size])]
        return httpx.Response(200, json=[rows[i] for i in ids])


def shipped_row(order_id: int) -> dict[str, Any]:
    return order_row(order_id, status=450, picked=1.0, number=f"{1000 + order_id}-1")


def garble(row: dict[str, Any]) -> None:
    row["orderLines"][0]["pickedNumberOfItems"] = "two"


async def test_an_order_that_cannot_be_read_is_rejected_and_the_rest_listed() -> None:
    """Pages of three: order 4 in the middle of page two, order 6 ends it."""
    rows = {i: shipped_row(i) for i in range(1, 8)}
    garble(rows[4])
    rows[6]["orderInfo"]["orderStatus"] = "shipped"
    async with connector(DocumentServer(rows)) as warehouse:
        pages = [page async for page in warehouse.iter_shipped_unreported()]
        listing = await warehouse.list_shipped_unreported()

    assert [[o.order_number for o in page] for page in pages] == [
        ["1001-1", "1002-1", "1003-1"],
        ["1005-1"],
        ["1007-1"],
    ]
    assert [[u.number for u in page.rejected] for page in pages] == [[], ["1004-1", "1006-1"], []]
    assert [o.order_number for o in listing] == ["1001-1", "1002-1", "1003-1", "1005-1", "1007-1"]
    four, six = listing.rejected
    assert (four.error.record, four.error.field) == (
        "order '1004-1'",
        "orderLines.0.pickedNumberOfItems",
    )
    assert (six.error.record, six.error.field) == ("order '1006-1'", "orderInfo.orderStatus")
    assert four.error.endpoint == "GET orders"
    assert four.document == rows[4] and six.document == rows[6]


async def test_a_document_without_a_readable_number_is_named_by_id_or_position() -> None:
    rows = {1: shipped_row(1), 2: shipped_row(2)}
    rows[1]["orderInfo"]["orderNumber"] = None
    rows[2]["orderInfo"].update(orderNumber=["x"], orderId="2")
    async with connector(DocumentServer(rows)) as warehouse:
        listing = await warehouse.list_shipped_unreported()
    assert listing.items == ()
    assert [(u.number, u.error.record) for u in listing.rejected] == [
        (None, "order id 1"),
        (None, "order id 2"),
    ]


@given(
    ids=st.lists(st.integers(min_value=1, max_value=500), unique=True, max_size=25),
    data=st.data(),
    page_size=st.integers(min_value=1, max_value=6),
)
@settings(max_examples=40, deadline=None)
def test_every_order_is_listed_or_rejected_once_whatever_the_pages(
    ids: list[int], data: st.DataObject, page_size: int
) -> None:
    bad = data.draw(st.sets(st.sampled_from(ids))) if ids else set()
    rows = {i: shipped_row(i) for i in ids}
    for i in bad:
        garble(rows[i])

    async def read() -> tuple[list[str], list[str | None]]:
        async with connector(DocumentServer(rows), page_size=page_size) as warehouse:
            listing = await warehouse.list_shipped_unreported()
        return [o.order_number for o in listing], [u.number for u in listing.rejected]

    listed, rejected = asyncio.run(read())
    assert listed == [f"{1000 + i}-1" for i in sorted(set(ids) - bad)]
    assert rejected == [f"{1000 + i}-1" for i in sorted(bad)]


async def test_unreadable_returns_and_receipts_are_rejected_and_the_rest_listed() -> None:
    orders = {i: shipped_row(i) for i in (1, 2)}
    for row in orders.values():
        row["orderLines"][0]["returnedNumberOfItems"] = 1.0
    orders[1]["orderLines"][0]["returnedNumberOfItems"] = "one"
    receipts = {
        i: {
            "purchaseOrderInfo": {
                "purchaseOrderId": i,
                "purchaseOrderNumber": f"PO-{i}",
                "purchaseOrderStatus": {"number": 300},
            },
            "purchaseOrderLines": [
                {
                    "id": i,
                    "rowNumber": "R1",
                    "article": {"articleSystemId": 1, "articleNumber": "A1"},
                    "advisedNumberOfItems": 2.0,
                    "receivedNumberOfItems": 2.0,
                }
            ],
        }
        for i in (1, 2)
    }
    receipts[2]["purchaseOrderLines"][0]["article"] = None
    async with connector(DocumentServer(orders, receipts)) as warehouse:
        returns = await warehouse.list_returns_unreported()
        received = await warehouse.list_received_unreported()
    assert [o.order_number for o in returns] == ["1002-1"]
    [bad_return] = returns.rejected
    assert str(bad_return.error).startswith("ongoing GET orders: order '1001-1': field ")
    assert bad_return.error.field == "orderLines.0.returnedNumberOfItems"
    assert [o.in_order_number for o in received] == ["PO-1"]
    [bad_receipt] = received.rejected
    assert bad_receipt.number == "PO-2"
    assert (bad_receipt.error.record, bad_receipt.error.field) == (
        "purchase order 'PO-2'",
        "purchaseOrderLines.0.article",
    )


def return_order_row(return_order_id: int, returned: Any) -> dict[str, Any]:
    return {
        "returnOrderInfo": {
            "returnOrderId": return_order_id,
            "returnOrderNumber": f"R{return_order_id}",
        },
        "customerOrderInfo": {"orderId": 50, "orderNumber": f"{1000 + return_order_id}-1"},
        "returnOrderLines": [
            {
                "returnOrderLineId": 90 + return_order_id,
                "customerOrderLine": {"orderLineId": 40, "customerOrderRowNumber": "L1"},
                "article": {"articleSystemId": 1, "articleNumber": "A1"},
                "returnCause": {"code": "DAMAGED", "name": "Damaged"},
                "returnedNumberOfItems": returned,
                "returnedArticleItems": [],
            }
        ],
    }


async def test_return_orders_are_read_since_a_time_and_an_unreadable_one_is_set_apart() -> None:
    seen: list[httpx.URL] = []
    rows = [return_order_row(1, 2.0), return_order_row(2, "two"), return_order_row(3, 0.0)]

    async def serve(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json=rows)

    since = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    async with connector(serve) as warehouse:
        listing = await warehouse.list_return_orders(since)
    (url,) = seen
    assert url.path.endswith("/returnOrders")
    assert url.params["goodsReturnedFromDate"] == "2026-03-02T09:30:00.000000Z"
    (read,) = listing
    assert (read.order_number, read.return_order, read.wms_id) == ("1001-1", "R1", "1")
    (line,) = read.lines
    assert (line.line_key, line.returned, line.reported, line.causes) == (
        "L1",
        Decimal(2),
        Decimal(0),
        ("Damaged",),
    )
    (bad,) = listing.rejected
    assert bad.number == "1002-1"
    assert bad.error.field == "returnOrderLines.0.returnedNumberOfItems"


async def test_cancelling_an_order_that_cannot_be_read_names_the_field() -> None:
    rows = {5: order_row(5, status=200, number="1005-1")}
    rows[5]["orderLines"][0]["id"] = "first"
    async with connector(DocumentServer(rows)) as warehouse:
        with pytest.raises(RecordValidationError) as caught:
            await warehouse.cancel_outbound_order("1005-1")
    assert (caught.value.record, caught.value.field) == ("order '1005-1'", "orderLines.0.id")


# -- garbled answers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", [b"<html>gateway</html>", b'[{"articleSystemId": 1, "articleNum'], ids=["html", "cut"]
)
async def test_a_garbled_answer_to_a_read_is_read_again(body: bytes) -> None:
    answers = [
        httpx.Response(200, content=body),
        httpx.Response(200, json=[article_row(1)]),
        httpx.Response(200, json=[]),
    ]
    sleeps = Sleeps()
    retry = RetryPolicy(max_attempts=3)
    async with connector(scripted(answers), retry=retry, sleep=sleeps) as warehouse:
        assert [level.sku for level in await warehouse.read_stock()] == ["A1"]
    assert len(sleeps.calls) == 1 and answers == []


async def test_a_read_garbled_every_time_fails_after_the_policy_s_attempts() -> None:
    requests: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request.method)
        return httpx.Response(200, content=b"<html>gateway</html>")

    async with connector(handler, retry=RetryPolicy(max_attempts=3), sleep=Sleeps()) as warehouse:
        with pytest.raises(MalformedResponseError, match="not JSON"):
            await warehouse.read_stock()
        with pytest.raises(MalformedResponseError, match="not JSON"):
            await warehouse.upsert_outbound_order(an_order())
    assert requests == ["GET", "GET", "GET", "PUT"], "a write is never sent twice for it"


# -- write serialisation -----------------------------------------------------------------------


class SlowWriteServer:
    """Counts writes in flight; each write yields to the loop a few times before answering."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.max_in_flight = 0
        self.writes = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json=[])
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        for _ in range(5):
            await asyncio.sleep(0)
        self.in_flight -= 1
        self.writes += 1
        return httpx.Response(200, json={"articleSystemId": self.writes, "message": "ok"})


async def test_writes_for_one_goods_owner_never_overlap_across_connectors() -> None:
    server = SlowWriteServer()
    async with connector(server) as first, connector(server) as second:
        batches = [[Article(f"{name}{i}", "x") for i in range(4)] for name in "ABCD"]
        await asyncio.gather(
            first.upsert_articles(batches[0]),
            second.upsert_articles(batches[1]),
            first.upsert_articles(batches[2]),
            second.upsert_articles(batches[3]),
        )
    assert server.writes == 16
    assert server.max_in_flight == 1


async def test_writes_for_different_goods_owners_use_separate_lanes() -> None:
    server = SlowWriteServer()
    async with (
        connector(server, goods_owner_id=1) as one,
        connector(server, goods_owner_id=2) as two,
    ):
        await asyncio.gather(
            one.upsert_articles([Article("A", "x")]), two.upsert_articles([Article("B", "x")])
        )
    assert server.max_in_flight == 2


# -- error mapping ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (429, RateLimitedError),
        (500, ServerError),
        (503, ServerError),
        (400, RemoteRefusedError),
        (409, RemoteRefusedError),
        (422, RemoteRefusedError),
    ],
)
async def test_statuses_map_to_the_error_tree(status: int, error: type[Exception]) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            status, json={"message": f"nope {PASSWORD}"}, headers={"Retry-After": "3"}
        )

    async with connector(handler) as warehouse:
        with pytest.raises(error) as caught:
            await warehouse.upsert_outbound_order(an_order())
    assert isinstance(caught.value, CentrasyncError)
    assert caught.value.status == status
    assert caught.value.endpoint == "PUT orders"
    assert PASSWORD not in str(caught.value)


async def test_business_refusal_carries_the_remote_message() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"message": "Order O1 cannot be updated"})

    async with connector(handler) as warehouse:
        with pytest.raises(RemoteRefusedError) as caught:
            await warehouse.upsert_outbound_order(an_order())
    assert caught.value.remote_message == "Order O1 cannot be updated"
    assert caught.value.body is not None and "cannot be updated" in caught.value.body


async def test_rate_limit_carries_retry_after() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "7"})

    async with connector(handler) as warehouse:
        with pytest.raises(RateLimitedError) as caught:
            await warehouse.read_stock()
    assert caught.value.retry_after == 7.0


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("cut")],
)
async def test_transport_failures_become_network_errors(failure: httpx.HTTPError) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        raise failure

    async with connector(handler) as warehouse:
        with pytest.raises(NetworkError) as caught:
            await warehouse.list_shipped_unreported()
    assert caught.value.endpoint == "GET orders"


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"<html>gateway</html>", "not JSON"),
        (b'[{"orderInfo": {"orderId": "x"}}]', "no row of the page has a readable id"),
        (b'{"not": "a list"}', "unexpected JSON"),
        (b'[{"articleSystemId": 1, "articleNum', "not JSON"),
    ],
)
async def test_bodies_that_are_not_the_documented_json(body: bytes, match: str) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    async with connector(handler) as warehouse:
        with pytest.raises(MalformedResponseError, match=match) as caught:
            await warehouse.list_shipped_unreported()
    assert caught.value.endpoint == "GET orders"


async def test_a_bom_in_a_response_is_tolerated() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"\xef\xbb\xbf" + b'{"orderId": 9, "message": "m"}')

    async with connector(handler) as warehouse:
        ref = await warehouse.upsert_outbound_order(an_order())
    assert ref.wms_id == "9"


async def test_transient_failures_are_retried_with_the_injected_sleep() -> None:
    answers = [httpx.Response(503), httpx.Response(200, json={"orderId": 3, "message": "m"})]
    sleeps = Sleeps()
    retry = RetryPolicy(max_attempts=3)
    async with connector(scripted(answers), retry=retry, sleep=sleeps) as warehouse:
        ref = await warehouse.upsert_outbound_order(an_order())
    assert ref.wms_id == "3"
    assert len(sleeps.calls) == 1


async def test_one_refused_article_does_not_stop_the_batch() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content)["articleNumber"] == "BAD":
            return httpx.Response(400, json={"message": "Article number too long"})
        return httpx.Response(200, json={"articleSystemId": 1, "message": "ok"})

    async with connector(handler) as warehouse:
        result = await warehouse.upsert_articles([Article("A", "a"), Article("BAD", "b")])
    assert result.upserted == ("A",)
    assert [f.key for f in result.failed] == ["BAD"]
    assert "too long" in result.failed[0].reason


async def test_secrets_stay_out_of_repr_and_config_errors() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[])

    async with connector(handler) as warehouse:
        assert PASSWORD not in repr(warehouse)
    with pytest.raises(CentrasyncError, match="base URL"):
        OngoingWarehouse("ftp://x", "u", PASSWORD, 1)
