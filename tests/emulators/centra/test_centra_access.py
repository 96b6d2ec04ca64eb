from __future__ import annotations

import httpx
from centra_helpers import AUTH

from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.centra.specs import StoreSpec


async def test_wrong_or_missing_secret_is_refused(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"API-Authorization": "nope"}, {"API-Authorization": "s3cret "}):
        response = await client.get("/api/wms/shipments", headers=headers)
        assert response.status_code == 401
        assert response.json() == {"status": "no", "msg": "Unauthorized"}


async def test_right_secret_is_accepted_on_both_stores(client: httpx.AsyncClient) -> None:
    for uri in ("wms", "wms-us"):
        response = await client.get(f"/api/{uri}/shipments", headers=AUTH)
        assert response.status_code == 200
        assert response.json()["status"] == "ok"


async def test_unknown_plugin_uri(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/nope/shipments", headers=AUTH)
    assert response.status_code == 404


async def test_allow_list_answers_403_not_allowed(client: httpx.AsyncClient) -> None:
    set_list = await client.put(
        "/_emulator/stores/wms/allowed-endpoints",
        json={"endpoints": ["shipments", "supplier-deliveries"]},
    )
    assert set_list.json()["allowed_endpoints"] == ["shipments", "supplier-deliveries"]
    assert (await client.get("/api/wms/shipments", headers=AUTH)).status_code == 200
    for path in ("/api/wms/stock", "/api/wms/orders", "/api/wms/products"):
        denied = await client.get(path, headers=AUTH)
        assert denied.status_code == 403
        assert denied.json() == {"status": "Not Allowed"}
    singular = await client.get("/api/wms/supplier-delivery/361", headers=AUTH)
    assert singular.status_code == 200, "both spellings share one allow-list entry"
    other_store = await client.get("/api/wms-us/stock", headers=AUTH, params={"limit": 1})
    assert other_store.status_code == 200, "the allow list belongs to one plugin instance"
    await client.put("/_emulator/stores/wms/allowed-endpoints", json={"endpoints": None})
    assert (await client.get("/api/wms/orders", headers=AUTH)).status_code == 200


async def test_secret_check_comes_before_the_allow_list(client: httpx.AsyncClient) -> None:
    await client.put("/_emulator/stores/wms/allowed-endpoints", json={"endpoints": []})
    assert (await client.get("/api/wms/stock")).status_code == 401
    assert (await client.get("/api/wms/stock", headers=AUTH)).status_code == 403


async def test_bad_json_body_is_a_business_error(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/wms/stock", headers=AUTH, content=b"{not json")
    assert response.status_code == 200
    assert response.json()["status"] == "no"


def test_secrets_stay_out_of_repr(emu: CentraEmulator) -> None:
    store = emu.world.stores["wms"]
    assert "s3cret" not in repr(store)
    assert "s3cret" not in repr(emu)
    spec = StoreSpec(uri="x", secret="hush-hush", primary_warehouse_id=1)
    assert "hush-hush" not in repr(spec)
