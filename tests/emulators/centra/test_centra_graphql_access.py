"""Integration API access: tokens, permissions, store restriction, 400/403, rate limits."""

from __future__ import annotations

import httpx
from gql_helpers import gql, post, token

from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.centra.graphql import Quotas
from centrasync.http import parse_retry_after
from fake_clock import FakeClock


async def test_a_missing_permission_is_the_documented_top_level_error(
    client: httpx.AsyncClient,
) -> None:
    bearer = await token(client, ["Shipment:read"])
    response = await post(
        client,
        bearer,
        "{\n  orderConnection(last: 10) {\n    totalCount\n  }\n}",
    )
    body = response.json()
    assert response.status_code == 200
    assert body["errors"] == [
        {
            "message": "You need Order:read permission to access orderConnection.",
            "locations": [{"line": 2, "column": 3}],
            "path": ["orderConnection"],
            "extensions": {"category": "authorization"},
        }
    ]
    assert body["extensions"]["permissionsUsed"] == ["Order:read"]
    assert "complexity" in body["extensions"]


async def test_nested_permissions_guard_their_field_only(client: httpx.AsyncClient) -> None:
    bearer = await token(client, ["Order:read"])
    response = await post(
        client, bearer, "{ orders(limit: 1) { number shippingAddress { city } } }"
    )
    body = response.json()
    assert body["data"]["orders"] == [{"number": 1001, "shippingAddress": None}]
    assert body["errors"][0]["message"] == (
        "You need Order.shippingAddress:read permission to access shippingAddress."
    )
    assert body["errors"][0]["path"] == ["orders", 0, "shippingAddress"]
    assert body["extensions"]["permissionsUsed"] == ["Order:read", "Order.shippingAddress:read"]


async def test_the_cookie_authorizes_like_the_header(client: httpx.AsyncClient) -> None:
    bearer = await token(client, ["Warehouse:read"])
    client.cookies.set("graphql-access", bearer)
    response = await client.post("/graphql", json={"query": "{ warehouses { id } }"})
    assert response.status_code == 200 and len(response.json()["data"]["warehouses"]) == 3


async def test_a_missing_unknown_expired_or_revoked_token_answers_403(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    query = "{ warehouses { id } }"
    assert (await client.post("/graphql", json={"query": query})).status_code == 403
    assert (await post(client, "no-such-token", query)).status_code == 403
    short = await token(client, ["Warehouse:read"], ttl=60)
    assert (await post(client, short, query)).status_code == 200
    clock.advance(seconds=61)
    expired = await post(client, short, query)
    assert expired.status_code == 403
    assert "complexity" in expired.json()["extensions"]
    kept = await client.post("/_emulator/tokens", json={"permissions": ["Warehouse:read"]})
    assert (await post(client, kept.json()["token"], query)).status_code == 200
    revoked = await client.delete(f"/_emulator/tokens/{kept.json()['id']}")
    assert revoked.json()["revoked_at"] is not None and revoked.json()["token"] == "***"
    assert (await post(client, kept.json()["token"], query)).status_code == 403


async def test_tokens_are_listed_without_their_secret(client: httpx.AsyncClient) -> None:
    bearer = await token(client, ["Order:read"], name="erp", integration_name="erp")
    listed = (await client.get("/_emulator/tokens")).json()
    assert [(t["name"], t["token"], t["integration_name"]) for t in listed] == [
        ("erp", "***", "erp")
    ]
    assert bearer not in str(listed)
    bad = await client.post("/_emulator/tokens", json={"permissions": ["orders"]})
    assert bad.status_code == 422


async def test_a_store_restricted_token_sees_only_its_store(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    bearer = await token(client, store="wms-us")
    data = await gql(client, bearer, "{ orders(limit: 200) { number } stores { name } }")
    us_orders = {o.number for o in emu.world.orders.values() if o.store_uri == "wms-us"}
    assert {o["number"] for o in data["orders"]} == us_orders
    assert data["stores"] == [{"name": "us"}]
    se_shipment = next(s for s in emu.world.shipments.values() if s.order_number == 1001)
    result = await gql(
        client,
        bearer,
        f"mutation {{ captureShipment(id: {se_shipment.id}) {{ userErrors {{ message path }} }} }}",
    )
    assert result["captureShipment"]["userErrors"] == [
        {"message": "Shipment not found", "path": ["id"]}
    ]
    unknown_store = await client.post(
        "/_emulator/tokens", json={"permissions": ["Order:read"], "store": "nope"}
    )
    assert unknown_store.status_code == 422


async def test_bad_requests_answer_400_with_extensions(client: httpx.AsyncClient) -> None:
    bearer = await token(client)
    headers = {"Authorization": f"Bearer {bearer}"}
    syntax = await post(client, bearer, "{ orders { number ")
    assert syntax.status_code == 400 and syntax.json()["errors"][0]["message"].startswith(
        "Syntax Error"
    )
    unknown_field = await post(client, bearer, "{ orders { nope } }")
    assert unknown_field.status_code == 400
    missing_variable = await post(
        client, bearer, "query ($n: Int!) { orders(where: {number: [$n]}) { number } }"
    )
    assert missing_variable.status_code == 400
    not_json = await client.post("/graphql", content=b"{", headers=headers)
    assert not_json.status_code == 400
    for answer in (syntax, unknown_field, missing_variable, not_json):
        assert set(answer.json()["extensions"]) >= {"complexity", "permissionsUsed"}


async def test_the_request_bucket_answers_429_with_retry_after_until_it_refills(
    client: httpx.AsyncClient, emu: CentraEmulator, clock: FakeClock
) -> None:
    emu.integration_api.limiter.configure(Quotas(requests_10s=3))
    first = await token(client, ["Warehouse:read"])
    second = await token(client, ["Warehouse:read"])  # every token shares the buckets
    query = "{ warehouses { id } }"
    for bearer in (first, second, first):
        assert (await post(client, bearer, query)).status_code == 200
    refused = await post(client, second, query)
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["extensions"]["category"] == "rate-limit"
    retry_after = refused.headers["Retry-After"]
    # A Unix timestamp: one token of 3 per 10 s comes back after 3.33 s, rounded up.
    assert int(retry_after) == int(clock.now.timestamp()) + 4
    assert parse_retry_after(retry_after, clock.now) == 4
    clock.advance(seconds=3)
    assert (await post(client, first, query)).status_code == 429
    clock.advance(seconds=1)
    assert (await post(client, first, query)).status_code == 200


async def test_the_mutation_and_complexity_buckets(
    client: httpx.AsyncClient, emu: CentraEmulator, clock: FakeClock
) -> None:
    emu.integration_api.limiter.configure(Quotas(mutations_10s=1, complexity_10s=40))
    bearer = await token(client, integration_name="erp")
    mutation = (
        "mutation { setEventListeners(input: [{objectType: Order}]) { userErrors { message } } }"
    )
    assert (await post(client, bearer, mutation)).status_code == 200
    assert (await post(client, bearer, mutation)).status_code == 429
    assert (await post(client, bearer, "{ warehouses { id } }")).status_code == 200
    costly = await post(client, bearer, "{ warehouses(limit: 50) { id } }")  # 50 > 40 left
    assert costly.status_code == 429
    clock.advance(seconds=10)
    assert (await post(client, bearer, mutation)).status_code == 200


async def test_the_plan_is_configurable_over_the_control_api(client: httpx.AsyncClient) -> None:
    answer = await client.put("/_emulator/rate-limits", json={"plan": "enterprise"})
    assert answer.json()["quotas"]["requests_10s"] == 1500
    bearer = await token(client)
    data = await gql(client, bearer, "{ rateLimits { type intervalSeconds quota } }")
    assert {"type": "MUTATION_COUNT", "intervalSeconds": "ONE_HOUR", "quota": 25000} in data[
        "rateLimits"
    ]
    assert (await client.put("/_emulator/rate-limits", json={})).status_code == 422


async def test_reset_keeps_the_start_up_token_only(clock: FakeClock) -> None:
    emu = CentraEmulator(seed="demo", clock=clock, graphql_token="start-up")
    from centrasync.emulators.faults import EmulatorTransport

    async with httpx.AsyncClient(
        transport=EmulatorTransport(emu.app), base_url="http://centra.test"
    ) as client:
        made = await token(client, ["Warehouse:read"])
        await client.post("/_emulator/reset")
        assert (await post(client, made, "{ warehouses { id } }")).status_code == 403
        assert (await post(client, "start-up", "{ warehouses { id } }")).status_code == 200
