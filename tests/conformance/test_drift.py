"""The suite catches drift: an emulator answer altered on its way to the client fails it.

A transport between the client and the emulator rewrites chosen answers the way past
defects looked (issue 18): ids as strings, a null in-date, an unlisted status, FastAPI's
error shape, a time without offset, a route with no schema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.faults import EmulatorTransport
from centrasync.emulators.ongoing import OngoingEmulator
from centrasync.testing.conformance import ApiSchema, ConformanceRecorder
from fake_clock import FakeClock

Rewrite = Callable[[int, Any], tuple[int, Any]]


class DriftTransport(httpx.AsyncBaseTransport):
    """Answers as the emulator does, except that ``rewrite`` alters matching JSON answers."""

    def __init__(self, app: Any, pattern: str, rewrite: Rewrite) -> None:
        self._inner = EmulatorTransport(app)
        self._pattern = re.compile(pattern)
        self._rewrite = rewrite

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if not self._pattern.fullmatch(f"{request.method} {request.url.path}"):
            return response
        body = json.loads(await response.aread())
        status, body = self._rewrite(response.status_code, body)
        return httpx.Response(status, json=body, request=request)


def centra_client(
    recorder: ConformanceRecorder, pattern: str, rewrite: Rewrite
) -> httpx.AsyncClient:
    emu = CentraEmulator(seed="demo", clock=FakeClock(datetime(2025, 1, 15, 10, tzinfo=UTC)))
    return httpx.AsyncClient(
        transport=DriftTransport(emu.app, pattern, rewrite),
        base_url="http://centra.test",
        headers={"API-Authorization": "s3cret"},
        event_hooks={"response": [recorder.hook]},
    )


def ongoing_client(
    recorder: ConformanceRecorder, pattern: str, rewrite: Rewrite
) -> httpx.AsyncClient:
    emu = OngoingEmulator(password="pw", clock=FakeClock(datetime(2026, 3, 2, 9, 30, tzinfo=UTC)))
    return httpx.AsyncClient(
        transport=DriftTransport(emu.app, pattern, rewrite),
        base_url="http://ongoing.test",
        auth=("centrasync", "pw"),
        event_hooks={"response": [recorder.hook]},
    )


def problems(recorder: ConformanceRecorder) -> str:
    with pytest.raises(AssertionError) as failed:
        recorder.assert_conforming()
    return str(failed.value)


async def test_a_product_id_served_as_a_string_fails() -> None:
    def stringify(status: int, body: Any) -> tuple[int, Any]:
        body["products"][0]["productId"] = str(body["products"][0]["productId"])
        return status, body

    recorder = ConformanceRecorder(ApiSchema.load("centra-order-api"))
    async with centra_client(recorder, r"GET /api/wms/products", stringify) as client:
        assert (await client.get("/api/wms/products", params={"limit": 2})).status_code == 200
    assert "$.products[0].productId: '" in problems(recorder)
    assert "is not of type 'integer'" in problems(recorder)


async def test_fastapi_error_shape_on_an_unserved_route_fails() -> None:
    def fastapi(status: int, body: Any) -> tuple[int, Any]:
        return status, {"detail": "Not Found"}

    recorder = ConformanceRecorder(ApiSchema.load("centra-order-api"))
    async with centra_client(recorder, r"GET /api/wms/customers", fastapi) as client:
        assert (await client.get("/api/wms/customers")).status_code == 404
    assert "unmatched 404: $: 'status' is a required property" in problems(recorder)


async def test_a_route_the_document_lacks_fails() -> None:
    def served(status: int, body: Any) -> tuple[int, Any]:
        return 200, {"status": "ok", "customers": []}

    recorder = ConformanceRecorder(ApiSchema.load("centra-order-api"))
    async with centra_client(recorder, r"GET /api/wms/customers", served) as client:
        await client.get("/api/wms/customers")
        await client.get("/_emulator/seed-summary")
    assert "no schema for GET /api/wms/customers (status 200)" in problems(recorder)
    assert [seen.path for seen in recorder.seen] == ["/api/wms/customers"], "control API ignored"


async def ongoing_order_drift(rewrite: Rewrite) -> str:
    recorder = ConformanceRecorder(ApiSchema.load("ongoing-rest-v1"))
    async with ongoing_client(recorder, r"GET /demo/api/v1/orders/\d+", rewrite) as client:
        body = {
            "goodsOwnerId": 1,
            "orderNumber": "O1",
            "deliveryDate": "2026-03-03",
            "consignee": {"name": "Ada"},
            "orderLines": [{"rowNumber": "1", "articleNumber": "A1", "numberOfItems": 1}],
        }
        order_id = (await client.put("/demo/api/v1/orders", json=body)).json()["orderId"]
        for step in ("allocate", "pick", "ship"):
            await client.post(f"/_emulator/orders/O1/{step}")
        assert (await client.get(f"/demo/api/v1/orders/{order_id}")).status_code == 200
    return problems(recorder)


async def test_a_picked_item_without_in_date_fails() -> None:
    def no_in_date(status: int, body: Any) -> tuple[int, Any]:
        body["orderLines"][0]["pickedArticleItems"][0]["inDate"] = None
        return status, body

    found = await ongoing_order_drift(no_in_date)
    assert "$.orderLines[0].pickedArticleItems[0].inDate: None is not of type 'string'" in found


async def test_a_time_without_offset_fails_the_format_check() -> None:
    def naive(status: int, body: Any) -> tuple[int, Any]:
        body["orderInfo"]["createdDate"] = "2026-03-02T09:30:00"
        return status, body

    found = await ongoing_order_drift(naive)
    assert "$.orderInfo.createdDate: '2026-03-02T09:30:00' is not a 'date-time'" in found


async def test_an_unlisted_status_fails() -> None:
    def created(status: int, body: Any) -> tuple[int, Any]:
        return 201, body

    recorder = ConformanceRecorder(ApiSchema.load("ongoing-rest-v1"))
    async with ongoing_client(recorder, r"PUT /demo/api/v1/articles", created) as client:
        body = {"goodsOwnerId": 1, "articleNumber": "A1", "articleName": "A"}
        assert (await client.put("/demo/api/v1/articles", json=body)).status_code == 201
    assert "PUT /articles does not list status 201" in problems(recorder)
