"""Fields Centra documents on shipments and orders: wholesale terms and the bundle modes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from centra_helpers import AUTH, control_shipment, free_eans, place_order

from centrasync.emulators.centra import CentraEmulator

SHIPPING_TERMS = {"id": 5, "name": "DAP", "description": "Delivered at place"}
PAYMENT_TERMS = {"id": 10, "name": "Net 30", "description": "30 days net"}


async def shipment_of(client: httpx.AsyncClient, order: int) -> dict[str, Any]:
    (node,) = (await client.get(f"/api/wms/shipments?order={order}", headers=AUTH)).json()[
        "shipments"
    ]
    found: dict[str, Any] = node
    return found


async def order_of(client: httpx.AsyncClient, order: int) -> dict[str, Any]:
    (node,) = (await client.get(f"/api/wms/orders?order={order}", headers=AUTH)).json()["orders"]
    found: dict[str, Any] = node
    return found


async def test_wholesale_terms_on_shipment_and_order(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    b2b = await place_order(
        client,
        [(free_eans(emu, 1)[0], 2)],
        account_id=501,
        shipping_terms=SHIPPING_TERMS,
        payment_terms=PAYMENT_TERMS,
    )
    await control_shipment(client, b2b["number"])
    shipment = await shipment_of(client, b2b["number"])
    assert shipment["shippingTerms"] == SHIPPING_TERMS
    assert shipment["paymentTerms"] == PAYMENT_TERMS
    assert (await order_of(client, b2b["number"]))["paymentTerms"] == PAYMENT_TERMS
    b2c = await place_order(client, [(free_eans(emu, 1, offset=1)[0], 1)])
    await control_shipment(client, b2c["number"])
    assert "shippingTerms" not in await shipment_of(client, b2c["number"])


async def test_the_demo_seeds_wholesale_shipments_with_terms(client: httpx.AsyncClient) -> None:
    shipments = (await client.get("/api/wms/shipments", headers=AUTH)).json()["shipments"]
    wholesale = [s for s in shipments if s["accountId"] != "0"]
    assert wholesale
    assert all(s["shippingTerms"]["id"] == 5 and s["paymentTerms"]["id"] == 10 for s in wholesale)


# -- bundles ------------------------------------------------------------------------------


@pytest.fixture
def bundle(emu: CentraEmulator) -> dict[str, Any]:
    """The demo's bundle: its EAN, product id, price and items' EANs (1 and 2 per bundle)."""
    ref = next(r for r in emu.world.sizes.values() if r.product.is_bundle)
    items = [emu.world.sizes[size_id] for size_id, _ in ref.product.bundle_items]
    return {
        "ean": ref.size.ean,
        "id": str(ref.product.id),
        "price": ref.product.prices["SEK"],
        "items": [item.size.ean for item in items],
        "per": [per for _, per in ref.product.bundle_items],
    }


async def bundle_order(client: httpx.AsyncClient, bundle: dict[str, Any], qty: int = 1) -> int:
    order = await place_order(client, [(bundle["ean"], qty)])
    number: int = order["number"]
    return number


async def set_modes(client: httpx.AsyncClient, **modes: str) -> None:
    answer = await client.patch("/_emulator/stores/wms", json=modes)
    assert answer.status_code == 200, answer.text


async def test_bundle_items_are_allocated_and_shipped_not_the_bundle(
    client: httpx.AsyncClient, bundle: dict[str, Any]
) -> None:
    before = {e: (await client.get(f"/_emulator/stock/{e}")).json() for e in bundle["items"]}
    number = await bundle_order(client, bundle, qty=2)
    for ean, per in zip(bundle["items"], bundle["per"], strict=True):
        after = (await client.get(f"/_emulator/stock/{ean}")).json()
        assert after["warehouses"][0]["allocated"] == (
            before[ean]["warehouses"][0]["allocated"] + 2 * per
        )
    await control_shipment(client, number)
    # "Only containing items", the default: the items alone, each naming its bundle.
    products = (await shipment_of(client, number))["products"]
    assert [p["ean"] for p in products] == bundle["items"]
    assert [p["qty"] for p in products] == [2 * per for per in bundle["per"]]
    assert all(p["isPartOfBundle"] == bundle["id"] and p["isBundle"] is False for p in products)
    share = sum(p["price"] * p["qty"] for p in products) / 2
    assert share == pytest.approx(bundle["price"], abs=0.05), "items split the bundle's price"


@pytest.mark.parametrize(
    ("mode", "layout"),
    [
        ("items_in_bundles", [("bundle", "price")]),
        ("only_bundles", [("bundle", 0)]),
        ("bundles_and_items", [("bundle", 0), ("item", None), ("item", None)]),
    ],
)
async def test_bundle_modes_in_shipments(
    client: httpx.AsyncClient,
    bundle: dict[str, Any],
    mode: str,
    layout: list[tuple[str, Any]],
) -> None:
    number = await bundle_order(client, bundle)
    await control_shipment(client, number)
    await set_modes(client, bundles_in_shipments=mode)
    products = (await shipment_of(client, number))["products"]
    assert [("bundle" if p["isBundle"] else "item") for p in products] == [k for k, _ in layout]
    head = products[0]
    assert head["ean"] == bundle["ean"] and head["qty"] == 1
    assert head["originalPrice"] == bundle["price"]
    assert head["price"] == (bundle["price"] if layout[0][1] == "price" else 0)
    assert "isPartOfBundle" not in head
    nested = head.get("bundle", [])
    if mode == "items_in_bundles":
        assert [p["ean"] for p in nested] == bundle["items"]
        assert all(p["isPartOfBundle"] == bundle["id"] for p in nested)
    else:
        assert nested == []


async def test_bundle_mode_in_orders_is_its_own_setting(
    client: httpx.AsyncClient, bundle: dict[str, Any]
) -> None:
    number = await bundle_order(client, bundle)
    await set_modes(client, bundles_in_orders="items_in_bundles")
    (row,) = (await order_of(client, number))["products"]
    assert row["isBundle"] is True and row["totalPrice"] == bundle["price"]
    assert [p["ean"] for p in row["bundle"]] == bundle["items"]
    order = await order_of(client, number)
    assert order["totalItemsPrice"] == pytest.approx(bundle["price"], abs=0.05)


async def test_a_bundle_line_id_ships_and_returns_its_items(
    client: httpx.AsyncClient, bundle: dict[str, Any]
) -> None:
    number = await bundle_order(client, bundle)
    view = (await client.get(f"/_emulator/orders/{number}")).json()
    bundle_line = next(ln for ln in view["lines"] if ln["is_bundle"])
    created = await client.post(
        "/api/wms/shipments",
        headers=AUTH,
        json={"order": number, "products": {str(bundle_line["line_id"]): 1}, "gtg": True},
    )
    shipment = created.json()["shipment"]
    done = await client.put(
        "/api/wms/shipment", headers=AUTH, json={"order": number, "shipment": shipment}
    )
    assert done.json()["status"] == "ok", done.text
    assert (await client.get(f"/_emulator/orders/{number}")).json()["status"] == "completed"
    returned = await client.post(
        "/api/wms/return",
        headers=AUTH,
        json={"shipment": shipment, "products": {str(bundle_line["line_id"]): 1}},
    )
    items = [ln["line_id"] for ln in view["lines"] if ln["bundle_line_id"]]
    assert returned.json()["returnedItems"] == [str(i) for i in items]
