"""The seed's document fields round-trip: PUT by the connector, read back by ``GET /orders/{id}``.

Here rather than in the warehouse contract: the contract speaks only the ``Warehouse``
protocol, which has no read-back of an order's header, while these fields are checked in
the vendor's own read shape (``orderInfo``, ``consignee.advanced``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from centrasync.emulators.faults import EmulatorTransport
from centrasync.emulators.ongoing import OngoingEmulator
from centrasync.http import RetryPolicy
from centrasync.wms import Address, Article, OutboundOrder, OutboundOrderLine
from centrasync.wms.ongoing import OngoingWarehouse
from centrasync.wms.ongoing.mapping import quantity
from centrasync.wms.ongoing.models import GetOrderModel

API = "http://ongoing.test/demo/api/v1/"


@pytest.fixture
def emulator() -> OngoingEmulator:
    return OngoingEmulator(warehouse="demo", user="centrasync", password="secret")


@pytest.fixture
async def warehouse(emulator: OngoingEmulator) -> AsyncIterator[OngoingWarehouse]:
    async with OngoingWarehouse(
        API,
        "centrasync",
        "secret",
        emulator.state.goods_owner_id,
        transport=EmulatorTransport(emulator.app),
        retry=RetryPolicy(max_attempts=1),
    ) as connector:
        await connector.upsert_articles([Article("JKT1BLK38", "Jacket Black 38")])
        yield connector


@pytest.fixture
async def rest(emulator: OngoingEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=API, transport=EmulatorTransport(emulator.app), auth=("centrasync", "secret")
    ) as client:
        yield client


def seed_order(**changes: Any) -> OutboundOrder:
    values: dict[str, Any] = {
        "order_number": "83651-1",
        "ship_to": Address(
            "Ann AB", "Gatan 1", "11122", "Stockholm", "SE", email="ann@example.com"
        ),
        "lines": (OutboundOrderLine("43243", "JKT1BLK38", Decimal(2), Decimal("450.5"), "EUR"),),
        "reference": "83651",
        "customer_number": "11627",
        "order_type": "B2B",
        "customer_price": Decimal("3978.75"),
        "invoice_number": "https://x.centra.com/proforma?shipment=83651-1",
        "invoice_url": "https://x.centra.com/invoice-2.pdf",
        "delivery_note": "https://x.centra.com/delnote?shipment=83651-1",
        "marketplace": "zalando",
        "marketplace_order_number": "Z-1",
        "notification_mobile": "+4670000000",
        "notification_email": "ann@example.com",
        "telephone": "+468000000",
        "mobile": "+4670000001",
        "remark": "leave at door",
        "service_point": "12345",
    }
    values.update(changes)
    return OutboundOrder(**values)


async def read_back(rest: httpx.AsyncClient, wms_id: str) -> dict[str, Any]:
    response = await rest.get(f"orders/{wms_id}", params={"goodsOwnerId": 1})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_every_document_field_is_read_back_in_the_vendor_shape(
    warehouse: OngoingWarehouse, rest: httpx.AsyncClient
) -> None:
    ref = await warehouse.upsert_outbound_order(seed_order())
    info = (await read_back(rest, ref.wms_id))["orderInfo"]
    assert info["customerPrice"] == 3978.75
    assert info["orderType"] == {"code": "B2B", "name": "Business to Business"}
    assert info["invoiceUrl"] == "https://x.centra.com/invoice-2.pdf"
    assert info["advanced"] == {"invoiceNumber": "https://x.centra.com/proforma?shipment=83651-1"}
    assert info["consigneeOrderNumber"] == "https://x.centra.com/delnote?shipment=83651-1"
    assert info["marketPlace"] == {"marketPlace": "zalando", "marketPlaceOrderNumber": "Z-1"}
    assert info["smsNotification"] == {"toBeNotified": True, "value": "+4670000000"}
    assert info["emailNotification"] == {"toBeNotified": True, "value": "ann@example.com"}
    assert (info["orderRemark"], info["servicePointCode"]) == ("leave at door", "12345")


async def test_customer_contacts_are_read_back_on_the_consignee(
    warehouse: OngoingWarehouse, rest: httpx.AsyncClient
) -> None:
    ref = await warehouse.upsert_outbound_order(seed_order())
    consignee = (await read_back(rest, ref.wms_id))["consignee"]
    assert consignee["customerNumber"] == "11627"
    assert consignee["advanced"]["telephoneNotification"] == {
        "toBeNotified": False,
        "value": "+468000000",
    }
    assert consignee["advanced"]["smsNotification"]["value"] == "+4670000001"
    assert consignee["advanced"]["emailNotification"]["value"] == "ann@example.com"


async def test_the_connectors_read_model_parses_the_fields_back_to_the_same_values(
    warehouse: OngoingWarehouse, rest: httpx.AsyncClient
) -> None:
    order = seed_order(customer_price=Decimal("1234567.89"), order_type="B2C")
    ref = await warehouse.upsert_outbound_order(order)
    model = GetOrderModel.model_validate(await read_back(rest, ref.wms_id))
    info = model.order_info
    assert info.customer_price is not None
    assert quantity(info.customer_price) == order.customer_price
    assert info.order_type is not None and info.order_type.code == "B2C"
    assert info.invoice_url == order.invoice_url
    assert info.advanced is not None and info.advanced.invoice_number == order.invoice_number
    assert info.consignee_order_number == order.delivery_note
    assert info.market_place is not None
    assert (info.market_place.market_place, info.market_place.market_place_order_number) == (
        order.marketplace,
        order.marketplace_order_number,
    )
    assert info.sms_notification is not None
    assert info.sms_notification.value == order.notification_mobile


async def test_a_repush_without_the_fields_clears_them(
    warehouse: OngoingWarehouse, rest: httpx.AsyncClient
) -> None:
    """A PUT replaces the document (reference §2): what the mapping leaves out is gone."""
    ref = await warehouse.upsert_outbound_order(seed_order())
    bare = seed_order(
        customer_price=None,
        order_type=None,
        invoice_url=None,
        invoice_number=None,
        delivery_note=None,
        marketplace=None,
        marketplace_order_number=None,
    )
    assert await warehouse.upsert_outbound_order(bare) == ref
    info = (await read_back(rest, ref.wms_id))["orderInfo"]
    for field in ("customerPrice", "orderType", "invoiceUrl", "advanced", "marketPlace"):
        assert info[field] is None, field
    assert info["consigneeOrderNumber"] is None
