"""Warehouse connectors behind one protocol, and the value objects they exchange."""

from __future__ import annotations

from .base import Warehouse
from .models import (
    Address,
    Article,
    CancelOutcome,
    InOrder,
    InOrderLine,
    OrderRef,
    OutboundOrder,
    OutboundOrderLine,
    Parcel,
    ReceivedInOrder,
    ReceivedLine,
    RecordFailure,
    ReturnedLine,
    ReturnedOrder,
    ShippedLine,
    ShippedOrder,
    StockLevel,
    UpsertResult,
)

__all__ = [
    "Address",
    "Article",
    "CancelOutcome",
    "InOrder",
    "InOrderLine",
    "OrderRef",
    "OutboundOrder",
    "OutboundOrderLine",
    "Parcel",
    "ReceivedInOrder",
    "ReceivedLine",
    "RecordFailure",
    "ReturnedLine",
    "ReturnedOrder",
    "ShippedLine",
    "ShippedOrder",
    "StockLevel",
    "UpsertResult",
    "Warehouse",
]
