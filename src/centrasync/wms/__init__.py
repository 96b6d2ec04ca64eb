"""Warehouse connectors behind one protocol, and the value objects they exchange."""

from __future__ import annotations

from .base import Warehouse
from .models import (
    Address,
    Article,
    CancelOutcome,
    InOrder,
    InOrderLine,
    Listing,
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
    Unreadable,
    UpsertResult,
)

__all__ = [
    "Address",
    "Article",
    "CancelOutcome",
    "InOrder",
    "InOrderLine",
    "Listing",
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
    "Unreadable",
    "UpsertResult",
    "Warehouse",
]
