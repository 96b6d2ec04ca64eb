"""Whatever the Order API accepts is kept: a value answered "ok" and then dropped is a lie."""

from __future__ import annotations

from typing import Any

import httpx
from centra_helpers import AUTH, control_shipment, free_eans, place_order

from centrasync.emulators.centra import CentraEmulator


async def shipped(client: httpx.AsyncClient, emu: CentraEmulator, **order: Any) -> tuple[str, str]:
    """A completed first shipment of a fresh order; its first order line id and number."""
    placed = await place_order(client, [(free_eans(emu, 1)[0], 3)], **order)
    shipment = (await control_shipment(client, placed["number"], capture=True))["number"]
    done = await client.put(
        "/api/wms/shipment", headers=AUTH, json={"order": placed["number"], "shipment": shipment}
    )
    assert done.json()["status"] == "ok", done.text
    return str(placed["lines"][0]["line_id"]), shipment


async def return_node(client: httpx.AsyncClient, return_id: int) -> dict[str, Any]:
    (found,) = (await client.get(f"/api/wms/returns?return={return_id}", headers=AUTH)).json()[
        "returns"
    ]
    node: dict[str, Any] = found
    return node


async def test_return_costs_given_as_values_are_kept(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    line, shipment = await shipped(client, emu)
    created = await client.post(
        "/api/wms/return",
        headers=AUTH,
        json={
            "shipment": shipment,
            "products": {line: 1},
            "handlingCost": 12.5,
            "shippingCost": "30",
            "returnCost": 7,
            "voucherValue": 5,
            "refund": {"refundPayment": False, "sendEmail": True},
        },
    )
    assert created.json()["status"] == "ok", created.text
    node = await return_node(client, created.json()["return"])
    assert (node["handlingCost"], node["shippingCost"], node["returnCost"]) == (12.5, 30, 7)
    assert node["voucherValue"] == 5
    (write,) = (await client.get("/_emulator/writes/returns")).json()
    assert write["sendEmail"] is True and write["handlingCost"] == 12.5


async def test_return_costs_from_the_shipment(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    line, shipment = await shipped(
        client, emu, shipping_value=49, handling_value=15, voucher_value=20
    )
    body = {
        "shipment": shipment,
        "products": {line: 1},
        "shippingCostFromShipment": True,
        "handlingCostFromShipment": 1,
        "voucherValueFromShipment": "1",
    }
    first = (await client.post("/api/wms/return", headers=AUTH, json=body)).json()
    node = await return_node(client, first["return"])
    assert (node["shippingCost"], node["handlingCost"], node["voucherValue"]) == (49, 15, 20)
    # What the first return took back is no longer on the shipment to take.
    second = (await client.post("/api/wms/return", headers=AUTH, json=body)).json()
    node = await return_node(client, second["return"])
    assert (node["shippingCost"], node["handlingCost"], node["voucherValue"]) == (0, 0, 0)


async def test_a_cost_and_its_from_shipment_flag_together_are_refused(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    line, shipment = await shipped(client, emu)
    for body in (
        {"shippingCost": 10, "shippingCostFromShipment": True},
        {"handlingCost": "x"},
        {"voucherValue": -5},
    ):
        answer = await client.post(
            "/api/wms/return",
            headers=AUTH,
            json={"shipment": shipment, "products": {line: 1}, **body},
        )
        assert answer.json()["status"] == "no", body
    assert (await client.get("/_emulator/writes/returns")).json() == []


async def test_stock_write_keeps_the_cost_price(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    ean, other = free_eans(emu, 2)
    answer = await client.post(
        "/api/wms/stock",
        headers=AUTH,
        json={
            "products": [
                {"product": ean, "quantity": 8, "costPrice": 12.54, "costPriceCurrency": "EUR"},
                {"product": other, "quantity": 3, "costPrice": "40"},
            ]
        },
    )
    assert answer.json() == {"status": "ok"}
    writes = (await client.get("/_emulator/writes/stock_writes")).json()
    assert [(w["costPrice"], w["costPriceCurrency"]) for w in writes] == [
        (12.54, "EUR"),
        (40, "SEK"),
    ]
    (row,) = (await client.get(f"/api/wms/stock?ean={ean}", headers=AUTH)).json()["products"]
    assert (row["costPrice"], row["costPriceCurrency"]) == (12.54, "EUR")
    bad = await client.post(
        "/api/wms/stock",
        headers=AUTH,
        json={"products": [{"product": ean, "quantity": 1, "costPrice": "cheap"}]},
    )
    assert bad.json()["status"] == "no"
