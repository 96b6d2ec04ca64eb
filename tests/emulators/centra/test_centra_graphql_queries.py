"""Integration API queries on the demo world: Centra's example queries, lists, filters, dates."""

from __future__ import annotations

import httpx
import pytest
from gql_helpers import EVERYTHING, EXAMPLES, VARIABLES, gql, post, token

from centrasync.emulators.centra import CentraEmulator
from fake_clock import FakeClock


@pytest.mark.parametrize("name", sorted(EXAMPLES))
async def test_the_docs_example_queries_run_unchanged(client: httpx.AsyncClient, name: str) -> None:
    bearer = await token(client, integration_name="docs")
    response = await post(client, bearer, EXAMPLES[name], VARIABLES.get(name))
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    assert body["extensions"]["complexity"] > 0 or name == "returns"


async def test_the_pick_list_is_the_order_apis_good_to_go_list(
    client: httpx.AsyncClient,
) -> None:
    bearer = await token(client)
    data = await gql(client, bearer, EXAMPLES["pick list"])
    rest = await client.get("/api/wms/shipments", headers={"API-Authorization": "s3cret"})
    rest_us = await client.get("/api/wms-us/shipments", headers={"API-Authorization": "s3cret"})
    numbers = {s["shipmentId"] for s in rest.json()["shipments"] + rest_us.json()["shipments"]}
    assert {s["number"] for s in data["shipments"]} == numbers
    first = data["shipments"][0]
    rest_node = next(s for s in rest.json()["shipments"] if s["shipmentId"] == first["number"])
    assert [ln["orderLine"]["id"] for ln in first["lines"]] == [
        int(p["lineId"]) for p in rest_node["products"]
    ]
    assert first["lines"][0]["orderLine"]["productSize"]["EAN"] == rest_node["products"][0]["ean"]


async def test_rate_limits_report_the_growth_plan_and_this_request(
    client: httpx.AsyncClient,
) -> None:
    bearer = await token(client)
    data = await gql(client, bearer, EXAMPLES["rate limits"])
    limits = {(r["type"], r["intervalSeconds"]): r for r in data["rateLimits"]}
    assert len(limits) == 6
    assert limits["REQUEST_COUNT", "TEN_SECONDS"]["quota"] == 60
    assert limits["REQUEST_COUNT", "ONE_HOUR"]["quota"] == 5000
    assert limits["MUTATION_COUNT", "ONE_HOUR"]["quota"] == 1800
    assert limits["QUERY_COMPLEXITY", "TEN_SECONDS"]["quota"] == 250_000
    assert limits["REQUEST_COUNT", "TEN_SECONDS"]["usedQuota"] == 1
    # Docs: rateLimits costs 10 and the request pays for itself.
    assert limits["QUERY_COMPLEXITY", "ONE_HOUR"]["usedQuota"] == 10
    for row in limits.values():
        assert row["quota"] == row["usedQuota"] + row["remainingQuota"]


async def test_complexity_reproduces_the_documented_figure(client: httpx.AsyncClient) -> None:
    bearer = await token(client)
    query = """{ orderConnection(last: 10, where: {storeType: WHOLESALE}) {
        totalCount pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
        edges { node { number status grandTotal { value currency { code } } orderDate }
                cursor } } }"""
    response = await post(client, bearer, query)
    assert response.json()["extensions"]["complexity"] == 50
    assert response.json()["extensions"]["permissionsUsed"] == ["Order:read"]


async def test_datetimes_carry_the_merchant_zones_offset_and_take_php_formats(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    bearer = await token(client)
    order = emu.world.orders[1001]
    query = """{ orders(where: {number: 1001}) { createdAt
        day: createdAt(format: "Y-m-d") compact: createdAt(format: "YmdHis O")
        week: createdAt(format: "D, W \\\\W") } }"""
    data = await gql(client, bearer, query)
    row = data["orders"][0]
    local = order.created_at.astimezone(emu.integration_api.zone)
    assert row["createdAt"] == local.strftime("%Y-%m-%dT%H:%M:%S+01:00")  # January: CET
    assert row["day"] == local.strftime("%Y-%m-%d")
    assert row["compact"] == local.strftime("%Y%m%d%H%M%S +0100")
    assert row["week"] == f"{local.strftime('%a')}, {local.isocalendar().week:02d} W"


async def test_summer_times_show_summer_offsets(
    client: httpx.AsyncClient, emu: CentraEmulator, clock: FakeClock
) -> None:
    bearer = await token(client, ttl=365 * 24 * 3600)
    clock.advance(days=180)  # mid July
    emu.world.update_order(1001, hold=True)
    data = await gql(client, bearer, "{ orders(where: {number: 1001}) { updatedAt } }")
    assert data["orders"][0]["updatedAt"].endswith("+02:00")


async def test_naive_filter_dates_are_read_in_the_merchant_zone(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    bearer = await token(client)
    order = emu.world.orders[1001]
    local = order.created_at.astimezone(emu.integration_api.zone)
    naive = local.strftime("%Y-%m-%d %H:%M:%S")
    query = """query ($at: DateTimeTz!) {
        orders(where: {createdAt: {from: $at, to: $at}}) { number } }"""
    data = await gql(client, bearer, query, {"at": naive})
    assert [o["number"] for o in data["orders"]] == [1001]
    # The same wall time read as UTC is another instant: nothing was created then.
    as_utc = await gql(client, bearer, query, {"at": local.strftime("%Y-%m-%dT%H:%M:%S+00:00")})
    assert as_utc["orders"] == []


async def test_list_limits_must_be_1_to_200(client: httpx.AsyncClient) -> None:
    bearer = await token(client)
    for limit in (0, 201):
        response = await post(client, bearer, f"{{ orders(limit: {limit}) {{ number }} }}")
        assert response.json()["errors"][0]["message"] == "Limit must be in range 1 - 200"
    data = await gql(client, bearer, "{ orders(limit: 200) { number } }")
    assert len(data["orders"]) == 50


async def test_list_pages_walk_every_row_once(client: httpx.AsyncClient) -> None:
    bearer = await token(client)
    query = "query ($page: Int) { orders(limit: 7, page: $page, sort: [number_DESC]) { number } }"
    seen: list[int] = []
    for page in range(1, 10):
        rows = (await gql(client, bearer, query, {"page": page}))["orders"]
        seen += [row["number"] for row in rows]
        if len(rows) < 7:
            break
    assert seen == sorted(range(1001, 1051), reverse=True)


async def test_filters_narrow_the_lists(client: httpx.AsyncClient, emu: CentraEmulator) -> None:
    bearer = await token(client)
    wholesale = {o.number for o in emu.world.orders.values() if o.account_id}
    data = await gql(
        client,
        bearer,
        """{ orders(where: {storeType: WHOLESALE}, limit: 200) {
            number ...on WholesaleOrder { purchaseOrderNumber } } }""",
    )
    assert {o["number"] for o in data["orders"]} == wholesale
    assert all(o["purchaseOrderNumber"].startswith("PO-") for o in data["orders"])
    us_store = emu.world.stores["wms-us"].market_id
    data = await gql(
        client, bearer, f"{{ counters {{ orders(where: {{storeId: [{us_store}]}}) }} }}"
    )
    assert data["counters"]["orders"] == 20
    data = await gql(
        client,
        bearer,
        """{ productSizes(where: {EAN: {equals: "7350000014839"}}) {
            SKU EAN productVariant { product { productNumber } } } }""",
    )
    assert data["productSizes"] == [
        {
            "SKU": "JKT1192SNDXS",
            "EAN": "7350000014839",
            "productVariant": {"product": {"productNumber": "JKT1192"}},
        }
    ]


async def test_a_string_match_takes_exactly_one_way(client: httpx.AsyncClient) -> None:
    bearer = await token(client)
    response = await post(
        client, bearer, '{ warehouses(where: {name: {contains: "a", equals: "b"}}) { id } }'
    )
    assert "Exactly one input field" in response.json()["errors"][0]["message"]


async def test_stock_is_per_warehouse_and_totals_add_up(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    bearer = await token(client)
    ref = next(r for r in emu.world.sizes.values() if not r.product.is_bundle)
    query = f"""{{ productSizes(where: {{id: [{ref.size.id}]}}) {{
        stock {{ warehouse {{ id }} freeToAllocateQuantity allocatedQuantity physicalQuantity }}
        stockTotals {{ freeToAllocateQuantity physicalQuantity }} }} }}"""
    size = (await gql(client, bearer, query))["productSizes"][0]
    for row in size["stock"]:
        level = emu.world.stock[row["warehouse"]["id"], ref.size.id]
        assert row["physicalQuantity"] == level.physical
        assert row["freeToAllocateQuantity"] == level.physical - level.allocated
    totals = size["stockTotals"]
    assert totals["physicalQuantity"] == sum(r["physicalQuantity"] for r in size["stock"])


async def test_expensive_stock_quantities_cost_more_than_free_to_allocate(
    client: httpx.AsyncClient,
) -> None:
    bearer = await token(client)
    cheap = await post(
        client, bearer, "{ productSizes(limit: 5) { stockTotals { freeToAllocateQuantity } } }"
    )
    dear = await post(
        client,
        bearer,
        "{ productSizes(limit: 5) { stockTotals { freeToAllocateQuantity availableQuantity } } }",
    )
    assert dear.json()["extensions"]["complexity"] > cheap.json()["extensions"]["complexity"]


async def test_purchase_orders_and_deliveries(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    bearer = await token(client)
    query = """{ purchaseOrders { id status supplier { id name } preferredWarehouse { id }
        createdAt deliveries { id number status lines { quantity deliveredQuantity } } }
        purchaseOrderDeliveries { id number status createdAt purchaseOrder { id } } }"""
    data = await gql(client, bearer, query)
    (order,) = data["purchaseOrders"]
    assert order["status"] == "CONFIRMED"
    assert order["supplier"] == {"id": 1, "name": "Emulated Supplier AB"}
    assert order["createdAt"].endswith("+0100")  # PurchaseOrder dates default to O, not P
    (delivery,) = order["deliveries"]
    assert delivery["number"] == "951-1" and delivery["status"] == "PENDING"
    assert data["purchaseOrderDeliveries"][0]["purchaseOrder"] == {"id": order["id"]}


async def test_a_selection_left_out_by_include_costs_nothing_and_needs_no_permission(
    client: httpx.AsyncClient,
) -> None:
    query = """query ($attributes: Boolean!) { orders(limit: 50) { number
        attributes @include(if: $attributes) { type { name } elements { key } } } }"""
    everything = await token(client)
    lacking = await token(
        client, permissions=[p for p in EVERYTHING if p != "Order.attributes:read"]
    )
    full = await post(client, everything, query, {"attributes": True})
    lean = await post(client, lacking, query, {"attributes": False})
    assert "errors" not in lean.json(), lean.json()
    assert lean.json()["extensions"]["complexity"] < full.json()["extensions"]["complexity"]
    assert "Order.attributes:read" not in lean.json()["extensions"]["permissionsUsed"]
    refused = await post(client, lacking, query, {"attributes": True})
    assert "Order.attributes:read" in refused.json()["errors"][0]["message"]
