"""The sync flows' pure parts: how Centra records become warehouse documents.

Imports only protocols and models (Centra models, WMS models, settings, errors), never a
transport or a concrete client, so every rule here is testable without a network.
"""

from __future__ import annotations

from .mapping import (
    B2B,
    B2C,
    MAPPABLE_FIELDS,
    MappedOrder,
    article_number,
    mapped_order_to_json,
    order_type,
    shipment_passes_filters,
    shipment_to_outbound_order,
    shipment_value,
    validate_field_mapping,
    validate_shipment_filters,
)

__all__ = [
    "B2B",
    "B2C",
    "MAPPABLE_FIELDS",
    "MappedOrder",
    "article_number",
    "mapped_order_to_json",
    "order_type",
    "shipment_passes_filters",
    "shipment_to_outbound_order",
    "shipment_value",
    "validate_field_mapping",
    "validate_shipment_filters",
]
