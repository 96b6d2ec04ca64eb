from __future__ import annotations

import json

import httpx
import pytest
from centra_helpers import AUTH


async def add_fault(client: httpx.AsyncClient, **rule: object) -> None:
    response = await client.post("/_emulator/faults", json=rule)
    assert response.status_code == 200


async def test_rate_limit_with_retry_after(client: httpx.AsyncClient) -> None:
    await add_fault(client, kind="rate_limit", path="/api/wms/shipments", retry_after="7", times=1)
    limited = await client.get("/api/wms/shipments", headers=AUTH)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "7"
    assert (await client.get("/api/wms/shipments", headers=AUTH)).status_code == 200


async def test_server_error_and_control_api_exempt(client: httpx.AsyncClient) -> None:
    await add_fault(client, kind="server_error", status=502)
    assert (await client.get("/api/wms/orders", headers=AUTH)).status_code == 502
    assert (await client.get("/_emulator/stores")).status_code == 200
    await client.delete("/_emulator/faults")
    assert (await client.get("/api/wms/orders", headers=AUTH)).status_code == 200


async def test_truncated_json(client: httpx.AsyncClient) -> None:
    await add_fault(client, kind="truncated", path="/api/wms/products")
    response = await client.get("/api/wms/products?limit=3", headers=AUTH)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


async def test_drop_becomes_remote_protocol_error(client: httpx.AsyncClient) -> None:
    await add_fault(client, kind="drop", method="PUT", path="/api/wms/capture")
    with pytest.raises(httpx.RemoteProtocolError):
        await client.put("/api/wms/capture", headers=AUTH, json={"shipment": "1001-1"})
    view = (await client.get("/_emulator/shipments/1001-1")).json()
    assert view["captured"] is False, "a drop before the app runs changes nothing"
