"""Centra on the client side: the Order API's models, time zones and webhooks.

Everything a flow needs is importable from here without loading the HTTP stack; the client
itself is :class:`centrasync.centra.client.OrderApiClient`, built by the composition root.
"""

from __future__ import annotations

from .models import (
    Address,
    LineWarehouse,
    Order,
    OrderLine,
    OrderShipment,
    ProductPrice,
    ProductRow,
    Return,
    ReturnLine,
    Shipment,
    ShipmentLine,
    StockRow,
    SupplierDelivery,
    SupplierDeliveryOrder,
    SupplierOrder,
    SupplierOrderLine,
    TaxLine,
    Terms,
)
from .results import (
    DeliveryAccepted,
    Page,
    ReturnCreated,
    SerialNumber,
    ShipmentCreated,
    ShipmentRef,
    StockUpdate,
    StockUpdateResult,
)
from .timezones import MerchantZone, format_centra_datetime, parse_centra_datetime
from .types import Moment, ShipmentStatus
from .webhooks import (
    SIGNATURE_HEADER,
    WebhookEvent,
    WebhookSignatureError,
    parse_webhook,
    sign_payload,
    verify_signature,
)

__all__ = [
    "SIGNATURE_HEADER",
    "Address",
    "DeliveryAccepted",
    "LineWarehouse",
    "MerchantZone",
    "Moment",
    "Order",
    "OrderLine",
    "OrderShipment",
    "Page",
    "ProductPrice",
    "ProductRow",
    "Return",
    "ReturnCreated",
    "ReturnLine",
    "SerialNumber",
    "Shipment",
    "ShipmentCreated",
    "ShipmentLine",
    "ShipmentRef",
    "ShipmentStatus",
    "StockRow",
    "StockUpdate",
    "StockUpdateResult",
    "SupplierDelivery",
    "SupplierDeliveryOrder",
    "SupplierOrder",
    "SupplierOrderLine",
    "TaxLine",
    "Terms",
    "WebhookEvent",
    "WebhookSignatureError",
    "format_centra_datetime",
    "parse_centra_datetime",
    "parse_webhook",
    "sign_payload",
    "verify_signature",
]
