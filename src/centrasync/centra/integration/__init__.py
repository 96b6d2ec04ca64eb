"""Centra's Integration API (GraphQL) on the client side: operations, typed results, paging.

Importing this loads no HTTP library; the client is
:class:`centrasync.centra.integration.client.IntegrationApiClient`, built by the
composition root. Operations live in ``operations/*.graphql`` and are validated by the test
suite against the SDL the Centra emulator serves; the result models are written by hand
for those selections (see docs/centra-integration-api.md for why).
"""

from __future__ import annotations

from .models import (
    Connection,
    Counters,
    Event,
    EventListener,
    IdConversion,
    MutationResult,
    Notice,
    Order,
    OrderLine,
    Product,
    ProductSizeStock,
    PurchaseOrder,
    PurchaseOrderDelivery,
    RateLimit,
    Return,
    Shipment,
    StockChange,
    UtcDateTime,
    Warehouse,
    to_utc,
)
from .operations import Operation, operation, operation_files
from .paging import connection_pages, list_pages

__all__ = [
    "Connection",
    "Counters",
    "Event",
    "EventListener",
    "IdConversion",
    "MutationResult",
    "Notice",
    "Operation",
    "Order",
    "OrderLine",
    "Product",
    "ProductSizeStock",
    "PurchaseOrder",
    "PurchaseOrderDelivery",
    "RateLimit",
    "Return",
    "Shipment",
    "StockChange",
    "UtcDateTime",
    "Warehouse",
    "connection_pages",
    "list_pages",
    "operation",
    "operation_files",
    "to_utc",
]
