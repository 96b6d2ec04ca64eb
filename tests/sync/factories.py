from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from centrasync.centra.models import Shipment
from centrasync.config import StoreSettings

STOCKHOLM = {"zone": ZoneInfo("Europe/Stockholm")}


def shipment_node(**changes: Any) -> dict[str, Any]:
    """A Good-to-Go shipment node shaped like the Order API's, with ``changes`` applied."""
    node: dict[str, Any] = {
        "orderId": "83651",
        "shipmentId": "83651-1",
        "orderDate": "2024-02-04 15:16:13",
        "orderCurrency": "EUR",
        "customerId": "11627",
        "accountId": "0",
        "proforma": "https://x.centra.com/proforma?shipment=83651-1",
        "deliveryNote": "https://x.centra.com/delnote?shipment=83651-1",
        "invoices": ["https://x.centra.com/invoice-1.pdf", "https://x.centra.com/invoice-2.pdf"],
        "paid": 1,
        "grandTotalValue": 3978.75,
        "otherComment": "leave at door",
        "internalComment": "VIP",
        "deliveryName": "Ann Ship",
        "deliveryCompany": "Ann AB",
        "deliveryAddress": "Gatan 1",
        "deliveryCoaddress": "",
        "deliveryZipcode": 11122,
        "deliveryCity": "Stockholm",
        "deliveryState": "AB",
        "deliveryCountry": "se",
        "deliveryEmail": "ann@example.com",
        "deliveryTele": "+468000000",
        "deliveryCell": "+4670000000",
        "shipwallet_method": "pnl-mpc",
        "shipwallet_pickup": "12345",
        "marketplace_source": "zalando",
        "marketplace_source_id": "Z-1",
        "products": [
            {
                "lineId": "43243",
                "sku": "JKT1",
                "variantSku": "BLK",
                "sizeSku": "38",
                "ean": "1234567890123",
                "qty": 2,
                "price": 450.5,
            },
            {
                "lineId": "43244",
                "sku": "JKT1",
                "variantSku": "BLK",
                "sizeSku": "40",
                "ean": "1234567890124",
                "qty": 1,
                "price": 450.5,
            },
        ],
    }
    node.update(changes)
    return node


def make_shipment(**changes: Any) -> Shipment:
    return Shipment.model_validate(shipment_node(**changes), context=STOCKHOLM)


def make_store(**changes: Any) -> StoreSettings:
    values: dict[str, Any] = {
        "name": "se",
        "centra": {"host": "http://127.0.0.1:1", "uri": "wms", "timezone": "Europe/Stockholm"},
        "wms": {"base_url": "http://127.0.0.1:2/demo/api/v1", "user": "api", "goods_owner_id": 1},
        "centra_secret": SecretStr("centra-secret"),
        "wms_password": SecretStr("wms-password"),
    }
    values.update(changes)
    return StoreSettings.model_validate(values)
