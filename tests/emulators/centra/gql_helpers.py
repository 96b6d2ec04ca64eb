"""Plain-httpx helpers for the Integration API tests: tokens and one GraphQL request."""

from __future__ import annotations

from typing import Any

import httpx

from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.centra.graphql.schema import permissions

EVERYTHING = sorted(permissions())

# The reference's §3.7 examples as Centra's docs write them; where the docs elide a
# selection with "…", the first documented field of that type stands in for it.
EXAMPLES = {
    "order by number": """
        { orders(where: { number: 1001 }) { number status isOnHold shippingAddress { firstName }
          ...on DirectToConsumerOrder { customer { id email } } } }""",
    "orders created in a range": """
        query ($from: DateTimeTz!, $to: DateTimeTz!, $page: Int) {
          orders(where: {createdAt: {from: $from, to: $to}, storeType: DIRECT_TO_CONSUMER},
                 limit: 100, page: $page, sort: [number_ASC]) { number } }""",
    "wholesale connection": """
        { orderConnection(last: 10, where: {storeType: WHOLESALE, status: CONFIRMED},
                          sort: orderDate_ASC) {
            totalCount pageInfo { hasPreviousPage startCursor } edges { node { number } } } }""",
    "returns": "{ returns { id status lines { shipmentLine { id } } } }",
    "retail warehouses": """
        { warehouses(where: {name: {contains: "Retail"}}, sort: [id_ASC]) { id name status } }""",
    "active products": """
        query ($page: Int) {
          products(where: {status: [ACTIVE]}, sort: [updatedAt_DESC], limit: 10, page: $page) {
            id productNumber variants { id variantNumber productSizes {
              id SKU GTIN sizeNumber stockTotals { freeToAllocateQuantity } } } } }""",
    "counters": "query ($status: [Status!]) { counters { products(where: {status: $status}) } }",
    "rate limits": "{ rateLimits { type intervalSeconds quota usedQuota remainingQuota } }",
    "events": """
        { events(where: {objectType: [Order, Shipment, Return], changeType: [COMPLETED],
                         storeId: 1, marketId: 2}, limit: 200) {
            id objectType changeType objectReference createdAt
            object { __typename ...on Order { id } } } }""",
    "id conversions": """
        { idConversions(where: {objectType: Market, externalId: {equals: "A"}}) {
            id internalId externalId objectType integrationName } }""",
    "pick list": """
        { shipments(where: {isGoodToGo: true, isShipped: false}, sort: [id_ASC], limit: 100,
                    page: 1) {
            id number lines { id quantity orderLine { id productSize { SKU EAN } } }
            shippingAddress { firstName } order { number } } }""",
}
VARIABLES = {
    "orders created in a range": {
        "from": "2025-01-01 00:00:00",
        "to": "2025-01-15 23:59:59",
        "page": 1,
    },
    "active products": {"page": 2},
    "counters": {"status": ["ACTIVE"]},
}


async def token(
    client: httpx.AsyncClient,
    permissions: list[str] | None = None,
    **extra: Any,
) -> str:
    """A token made through the control API (every permission unless told)."""
    body = {"permissions": permissions or EVERYTHING, **extra}
    response = await client.post("/_emulator/tokens", json=body)
    assert response.status_code == 200, response.text
    made: str = response.json()["token"]
    return made


async def post(
    client: httpx.AsyncClient,
    bearer: str,
    query: str,
    variables: dict[str, Any] | None = None,
) -> httpx.Response:
    return await client.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {bearer}"},
    )


async def gql(
    client: httpx.AsyncClient,
    bearer: str,
    query: str,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``data`` of a request that must succeed without errors."""
    response = await post(client, bearer, query, variables)
    body: dict[str, Any] = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def unlimited(emu: CentraEmulator) -> None:
    """Quotas no test run reaches, for tests that make many requests."""
    from centrasync.emulators.centra.graphql import PLANS

    emu.integration_api.limiter.configure(
        PLANS["enterprise"].model_copy(update={"requests_10s": 100_000, "mutations_10s": 100_000})
    )
