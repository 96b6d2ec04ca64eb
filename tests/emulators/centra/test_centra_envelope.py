"""Every answer under /api/ is Centra's: its envelope where no route runs, XML on ``xml=1``."""

from __future__ import annotations

from xml.etree import ElementTree

import httpx
from centra_helpers import AUTH

from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.centra.xml_wire import xml_document


async def test_unserved_endpoints_and_methods_answer_in_centras_envelope(
    client: httpx.AsyncClient,
) -> None:
    unknown = await client.get("/api/wms/customers", headers=AUTH)
    assert unknown.status_code == 404
    assert unknown.json() == {"status": "no", "msg": "Not Found"}
    wrong_method = await client.patch("/api/wms/shipments", headers=AUTH)
    assert wrong_method.status_code == 405
    assert wrong_method.json() == {"status": "no", "msg": "Method Not Allowed"}
    # The emulator's own control API keeps FastAPI's answer.
    control = await client.get("/_emulator/nothing-here")
    assert control.status_code == 404 and "detail" in control.json()


async def test_xml_answer_holds_the_json_document(client: httpx.AsyncClient) -> None:
    as_json = (await client.get("/api/wms/shipments?limit=2", headers=AUTH)).json()
    answer = await client.get("/api/wms/shipments?limit=2&xml=1", headers=AUTH)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/xml")
    root = ElementTree.fromstring(answer.content)
    assert root.tag == "response" and root.findtext("status") == "ok"
    shipments = root.findall("shipments/item")
    assert [s.findtext("shipmentId") for s in shipments] == [
        s["shipmentId"] for s in as_json["shipments"]
    ]
    first = shipments[0]
    assert (
        first.findtext("products/item/lineId") == as_json["shipments"][0]["products"][0]["lineId"]
    )


async def test_xml_for_refusals_and_writes_asked_in_the_body(
    client: httpx.AsyncClient, emu: CentraEmulator
) -> None:
    refused = await client.put(
        "/api/wms/capture", headers=AUTH, json={"shipment": "999999-1", "xml": True}
    )
    root = ElementTree.fromstring(refused.content)
    assert root.findtext("status") == "no" and root.findtext("msg")
    unauthorised = await client.get("/api/wms/shipments?xml=1", headers={"API-Authorization": "x"})
    assert unauthorised.status_code == 401
    assert ElementTree.fromstring(unauthorised.content).findtext("status") == "no"
    declined = emu.seed_summary["capture_declines"]["shipment"]
    answer = await client.put(
        f"/api/wms/shipments/{declined}", headers=AUTH, json={"gtg": 1, "xml": "1"}
    )
    root = ElementTree.fromstring(answer.content)
    assert root.findtext("shipment/shipmentId") == declined


def test_keys_that_are_no_xml_names_become_keyed_items() -> None:
    root = ElementTree.fromstring(xml_document({"products": {"43001": 2}, "ok": None, "x": True}))
    item = root.find("products/item")
    assert item is not None and item.get("key") == "43001" and item.text == "2"
    assert root.findtext("ok") == "" and root.findtext("x") == "true"
