"""What a client typed from Ongoing's specification expects of the emulator (issue #18).

The specification is the one the vendor's generated clients encode (field and type maps,
response codes); each test names the fact it checks.
"""

from __future__ import annotations

from datetime import datetime
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
