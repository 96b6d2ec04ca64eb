"""Shared helpers for the Ongoing emulator tests (raw HTTP, no connector)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

API = "/demo/api/v1"
OWNER: dict[str, str | int] = {"goodsOwnerId": 1}
START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def order_body(number: str, lines: list[tuple[str, float]], **extra: Any) -> dict[str, Any]:
    return {
        "goodsOwnerId": 1,
        "orderNumber": number,
        "deliveryDate": "2026-03-03",
        "consignee": {"customerNumber": "C1", "name": "Ada", "countryCode": "SE"},
        "orderLines": [
            {"rowNumber": str(i), "articleNumber": article, "numberOfItems": qty}
            for i, (article, qty) in enumerate(lines, start=1)
        ],
        **extra,
    }


def purchase_order_body(number: str, lines: list[tuple[str, float]]) -> dict[str, Any]:
    return {
        "goodsOwnerId": 1,
        "purchaseOrderNumber": number,
        "purchaseOrderLines": [
            {"rowNumber": str(i), "articleNumber": article, "numberOfItems": qty}
            for i, (article, qty) in enumerate(lines, start=1)
        ],
    }


async def put_article(client: httpx.AsyncClient, number: str, stock: float | None = None) -> int:
    response = await client.put(
        f"{API}/articles", json={"goodsOwnerId": 1, "articleNumber": number, "articleName": number}
    )
    assert response.status_code in (200, 201), response.text
    if stock is not None:
        adjusted = await client.post(
            "/_emulator/stock/adjust", json={"article_number": number, "number_of_items": stock}
        )
        assert adjusted.status_code == 200, adjusted.text
    return int(response.json()["articleSystemId"])


async def put_order(client: httpx.AsyncClient, body: dict[str, Any]) -> int:
    response = await client.put(f"{API}/orders", json=body)
    assert response.status_code in (200, 201), response.text
    return int(response.json()["orderId"])


async def inventory(client: httpx.AsyncClient, number: str) -> dict[str, Any]:
    response = await client.get(f"{API}/articles", params={**OWNER, "articleNumber": number})
    assert response.status_code == 200, response.text
    rows = response.json()
    assert len(rows) == 1
    info: dict[str, Any] = rows[0]["inventoryInfo"]
    return info
