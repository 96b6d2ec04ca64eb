"""Flat rows for the analytics tables, from the Integration API client's typed models.

Money is flattened to ``<name>`` and ``<name>_currency`` so SQL stays readable; times stay
aware UTC datetimes (the models made them so). Every row carries ``store`` so tables of
several stores can be read side by side. :func:`apply_mapping` is the store's schema
mapping: named columns, excluded fields and personal data, applied to every row and to
the rows nested in it (dlt's child tables) alike.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from centrasync.centra.integration.models import (
    Order,
    PostalAddress,
    ProductSizeStock,
    PurchaseOrderDelivery,
    Return,
    Shipment,
    Warehouse,
)
from centrasync.config import AnalyticsSettings, PersonalData

__all__ = [
    "PERSONAL_FIELDS",
    "apply_mapping",
    "delivery_row",
    "order_row",
    "return_row",
    "shipment_row",
    "stock_rows",
    "warehouse_row",
]

Row = dict[str, Any]

# Fields that name or reach a person: excluded by default, hashed on request.
PERSONAL_FIELDS = frozenset(
    {"email", "phone_number", "cell_phone_number", "first_name", "last_name", "company_name"}
)


def _hash(value: Any) -> str | None:
    if value is None:
        return None
    return hashlib.sha256(str(value).strip().lower().encode()).hexdigest()


def apply_mapping(row: Row, settings: AnalyticsSettings) -> Row:
    """The row as the store's mapping wants it; nested lists of rows are mapped too.

    Personal data first (so a named column never carries it in clear), then exclusions,
    then renames; the input is not changed.
    """
    out: Row = {}
    for key, value in row.items():
        if key in PERSONAL_FIELDS:
            if settings.personal_data is PersonalData.EXCLUDE:
                continue
            value = _hash(value)
        if key in settings.exclude:
            continue
        if isinstance(value, list) and all(isinstance(item, dict) for item in value):
            value = [apply_mapping(item, settings) for item in value]
        out[key] = value
    for column, source in settings.columns.items():
        if source in out:
            out[column] = out.pop(source)
    return out


def _address(prefix: str, address: PostalAddress | None) -> Row:
    """An address reduced to where it is (country, zip, city) plus the personal fields,
    which :func:`apply_mapping` drops or hashes."""
    if address is None:
        return {}
    return {
        f"{prefix}country": address.country.code if address.country else None,
        f"{prefix}zip_code": address.zip_code,
        f"{prefix}city": address.city,
        "email": address.email,
        "phone_number": address.phone_number,
        "first_name": address.first_name,
        "last_name": address.last_name,
    }


def order_row(store: str, order: Order) -> Row:
    """An ``orders`` row; its ``lines`` become ``orders__lines``, fully cancelled ones too."""
    return {
        "store": store,
        "order_number": order.number,
        "order_id": order.id,
        "store_type": "WHOLESALE" if order.typename == "WholesaleOrder" else "DIRECT_TO_CONSUMER",
        "status": order.status,
        "order_date": order.order_date,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "is_on_hold": order.is_on_hold,
        "other_comment": order.other_comment,
        "currency": order.currency.code,
        "grand_total": order.grand_total.value,
        "lines": [
            {
                "line_id": line.id,
                "order_number": order.number,
                "product_number": line.product_number,
                "size": line.size,
                "sku": line.product_size.sku if line.product_size else None,
                "product_size_id": line.product_size.id if line.product_size else None,
                "product_name": line.product_name,
                "product_variant_name": line.product_variant_name,
                "quantity": line.quantity,
                "cancelled_quantity": line.cancelled_quantity,
                "returned_quantity": line.returned_quantity,
                "unit_price": line.unit_price.value,
                "currency": line.unit_price.currency.code,
            }
            for line in order.lines
        ],
    }


def shipment_row(store: str, shipment: Shipment) -> Row:
    return {
        "store": store,
        "shipment_id": shipment.id,
        "shipment_number": shipment.number,
        "order_number": shipment.order.number,
        "created_at": shipment.created_at,
        "updated_at": shipment.updated_at,
        "is_shipped": shipment.is_shipped,
        "shipped_at": shipment.shipped_at,
        "is_paid": shipment.is_paid,
        "paid_at": shipment.paid_at,
        "is_captured": shipment.is_captured,
        "captured_at": shipment.captured_at,
        "carrier": (
            shipment.carrier_information.carrier_name if shipment.carrier_information else None
        ),
        "tracking_number": shipment.tracking_number,
        **_address("shipping_", shipment.shipping_address),
        "lines": [
            {
                "line_id": line.id,
                "order_line_id": line.order_line.id,
                "quantity": line.quantity,
                "returned_quantity": line.returned_quantity,
            }
            for line in shipment.lines
        ],
    }


def return_row(store: str, ret: Return) -> Row:
    """A ``returns`` row; ``order_number`` from the shipment number ``<order>-<n>``."""
    return {
        "store": store,
        "return_id": ret.id,
        "status": ret.status,
        "created_at": ret.created_at,
        "total_quantity": ret.total_quantity,
        "returned_to_stock": ret.returned_to_stock,
        "shipment_number": ret.shipment.number,
        "order_number": int(ret.shipment.number.split("-", 1)[0]),
        "lines": [
            {
                "line_id": line.id,
                "quantity": line.quantity,
                "order_line_id": line.order_line.id,
                "shipment_line_id": line.shipment_line.id,
                "sku": line.order_line.product_size.sku if line.order_line.product_size else None,
            }
            for line in ret.lines
        ],
    }


def stock_rows(store: str, sizes: Sequence[ProductSizeStock]) -> list[Row]:
    """``stock`` rows: one per size and warehouse, keyed by both."""
    return [
        {
            "store": store,
            "product_size_id": size.id,
            "warehouse_id": stock.warehouse.id,
            "sku": size.sku,
            "ean": size.ean,
            "physical_quantity": stock.physical_quantity,
            "free_to_allocate_quantity": stock.free_to_allocate_quantity,
        }
        for size in sizes
        for stock in size.stock
    ]


def delivery_row(store: str, delivery: PurchaseOrderDelivery) -> Row:
    """An ``in_deliveries`` row; lines hold expected (``quantity``) and received."""
    return {
        "store": store,
        "delivery_id": delivery.id,
        "delivery_number": delivery.number,
        "status": delivery.status,
        "created_at": delivery.created_at,
        "eta": delivery.eta,
        "accepted_at": delivery.accepted_at,
        "is_accepted": delivery.is_accepted,
        "purchase_order_id": delivery.purchase_order.id,
        "supplier": delivery.supplier.name,
        "warehouse_id": delivery.warehouse.id if delivery.warehouse else None,
        "lines": [
            {
                "delivery_id": delivery.id,
                "product_size_id": line.product_size.id,
                "sku": line.product_size.sku,
                "expected_quantity": line.quantity,
                "received_quantity": line.delivered_quantity,
            }
            for line in delivery.lines
        ],
    }


def warehouse_row(store: str, warehouse: Warehouse) -> Row:
    return {
        "store": store,
        "warehouse_id": warehouse.id,
        "name": warehouse.name,
        "status": warehouse.status,
    }
