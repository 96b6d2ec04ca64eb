"""Order document fields beyond the vendor's example: stored from the PUT, shown by the GETs.

Shapes are the generated client's (reference §4.1, §4.2): ``customerPrice``, ``invoiceUrl``
and ``consigneeOrderNumber`` are plain values, ``marketPlace`` and ``advanced`` objects,
and the customer's contacts sit under ``consignee.advanced``.
"""

from __future__ import annotations

from typing import Any

import httpx
from ongoing_helpers import API, OWNER, order_body, put_article, put_order

DOCUMENT_FIELDS: dict[str, Any] = {
    "customerPrice": 3978.75,
    "orderType": {"code": "B2C", "name": "Business to Consumer"},
    "invoiceUrl": "https://x.centra.com/invoice-2.pdf",
    "consigneeOrderNumber": "https://x.centra.com/delnote?shipment=83651-1",
    "marketPlace": {"marketPlace": "zalando", "marketPlaceOrderNumber": "Z-1"},
    "advanced": {"invoiceNumber": "https://x.centra.com/proforma?shipment=83651-1"},
    "smsNotification": {"toBeNotified": True, "value": "+4670000000"},
    "emailNotification": {"toBeNotified": True, "value": "ann@example.com"},
}
CONTACTS = {
    "telephoneNotification": {"toBeNotified": False, "value": "+468000000"},
    "smsNotification": {"toBeNotified": False, "value": "+4670000000"},
    "emailNotification": {"toBeNotified": False, "value": "ann@example.com"},
}


def documented_order(number: str) -> dict[str, Any]:
    body = order_body(number, [("JKT", 1)], **DOCUMENT_FIELDS)
    body["consignee"]["advanced"] = CONTACTS
    return body


async def test_document_fields_are_stored_and_returned_by_id(client: httpx.AsyncClient) -> None:
    await put_article(client, "JKT", stock=5)
    order_id = await put_order(client, documented_order("83651-1"))
    response = await client.get(f"{API}/orders/{order_id}", params=OWNER)
    assert response.status_code == 200
    shown = response.json()
    for name, value in DOCUMENT_FIELDS.items():
        assert shown["orderInfo"][name] == value, name
    assert shown["consignee"]["advanced"] == {**CONTACTS, "externalCustomerCode": None}


async def test_document_fields_show_in_the_list_read_too(client: httpx.AsyncClient) -> None:
    await put_article(client, "JKT", stock=5)
    await put_order(client, documented_order("83651-1"))
    response = await client.get(f"{API}/orders", params={**OWNER, "orderNumber": "83651-1"})
    (row,) = response.json()
    assert row["orderInfo"]["customerPrice"] == 3978.75
    assert row["orderInfo"]["marketPlace"]["marketPlaceOrderNumber"] == "Z-1"


async def test_a_thinner_repush_blanks_the_document_fields(client: httpx.AsyncClient) -> None:
    await put_article(client, "JKT", stock=5)
    order_id = await put_order(client, documented_order("83651-1"))
    await put_order(client, order_body("83651-1", [("JKT", 1)]))
    shown = (await client.get(f"{API}/orders/{order_id}", params=OWNER)).json()
    assert all(shown["orderInfo"][name] is None for name in DOCUMENT_FIELDS)
    assert shown["consignee"]["advanced"] is None


async def test_market_place_as_a_plain_string_is_refused_naming_the_field(
    client: httpx.AsyncClient,
) -> None:
    """The model has an object here; a bare string cannot bind to it [I: error text ours]."""
    await put_article(client, "JKT", stock=5)
    response = await client.put(
        f"{API}/orders", json=order_body("83651-1", [("JKT", 1)], marketPlace="zalando")
    )
    assert response.status_code == 400
    assert "marketPlace" in response.json()["message"]
