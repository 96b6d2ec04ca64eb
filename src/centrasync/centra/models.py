"""Order API records as pydantic models: parse loosely, hold strict values.

Design of times: the models hold **aware UTC** datetimes, never Centra's naive strings.
Naive strings are read in the store's zone, which the caller passes as validation context:
``Shipment.model_validate(raw, context={"zone": ZoneInfo("Europe/Stockholm")})``. The client
does this at its edge for every record it returns, so nothing past the client ever sees a
merchant-local time. Validating a naive time without the context fails loudly rather than
silently assuming UTC.

Unknown fields are **kept** (``extra="allow"``, readable through ``model_extra``): Centra is
customised per merchant and has grown fields since its docs froze in 2024, and the per-record
ledger must be able to show and replay everything Centra sent. Kept extras are raw values.

Python names are snake_case; Centra's camelCase names are the aliases, so
``model_dump(by_alias=True, mode="json")`` emits Centra's names with strict values (ids as
strings, flags as booleans, money as decimal strings, times as ISO-8601 UTC).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from .loose import (
    BundleRef,
    CentraDateTime,
    CentraId,
    Flag,
    Money,
    OptionalCentraId,
    Quantity,
    Text,
)

__all__ = [
    "Address",
    "CentraModel",
    "LineWarehouse",
    "Order",
    "OrderLine",
    "OrderShipment",
    "ProductPrice",
    "ProductRow",
    "Return",
    "ReturnLine",
    "Shipment",
    "ShipmentLine",
    "StockRow",
    "SupplierDelivery",
    "SupplierDeliveryOrder",
    "SupplierOrder",
    "SupplierOrderLine",
    "TaxLine",
    "Terms",
]


class CentraModel(BaseModel):
    """Shared configuration: camelCase aliases, extras kept, immutable once read."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="allow",
        frozen=True,
    )


class Address(CentraModel):
    """A delivery or billing address, gathered from Centra's flat ``delivery*`` keys."""

    name: Text = ""
    company: Text = ""
    address: Text = ""
    coaddress: Text = ""
    zipcode: Text = ""
    city: Text = ""
    state: Text = ""
    country: Text = ""
    email: Text = ""
    tele: Text = ""
    cell: Text = ""


_ADDRESS_PARTS = tuple(Address.model_fields)


def _gather_address(data: dict[str, Any], prefix: str) -> None:
    """Move ``<prefix>Name``, ``<prefix>City``, … into ``data[prefix]`` as one object."""
    if prefix in data:
        return
    address: dict[str, Any] = {}
    for part in _ADDRESS_PARTS:
        key = prefix + part.capitalize()
        if key in data:
            address[part] = data.pop(key)
    data[prefix] = address


class Terms(CentraModel):
    """Shipping or payment terms on wholesale orders."""

    id: OptionalCentraId = None
    name: Text = ""
    description: Text = ""


class TaxLine(CentraModel):
    description: Text = ""
    tax_percent: Money = None
    value: Money = None


class LineWarehouse(CentraModel):
    """Where a line's items are allocated; ``itemQty`` is a string here, an int elsewhere."""

    name: Text = ""
    item_qty: Quantity = None


class ShipmentLine(CentraModel):
    """One order line ("item row") on a shipment; ``line_id`` keys updates and returns."""

    line_id: CentraId
    sku: Text = ""
    variant_sku: Text = ""
    size_sku: Text = ""
    name: Text = ""
    variant: Text = ""
    size: Text = ""
    ean: Text = ""
    upc: Text = ""
    qty: Quantity = None
    original_price: Money = None
    price: Money = None
    weight: Money = None
    weight_unit: Text = ""
    country_of_origin: Text = ""
    harm_code: Text = ""
    comment: Text = ""
    warehouses: list[LineWarehouse] = Field(default_factory=list)
    is_bundle: Flag = False
    is_part_of_bundle: BundleRef = None
    bundle: list[ShipmentLine] = Field(default_factory=list)

    @property
    def physical_sku(self) -> str:
        """The warehouse article number: product, variant and size SKU concatenated."""
        return f"{self.sku}{self.variant_sku}{self.size_sku}"


class _OrderHeader(CentraModel):
    """Fields an order and its shipments share: ids, dates, addresses, Ingrid, marketplace."""

    order_id: CentraId
    selection_id: OptionalCentraId = None
    order_date: CentraDateTime = None
    cancel_date: CentraDateTime = None
    preferred_delivery_date: CentraDateTime = None
    estimated_delivery_date: CentraDateTime = None
    order_store: Text = ""
    currency: Text = Field("", alias="orderCurrency")
    customer_id: OptionalCentraId = None
    account_id: OptionalCentraId = None
    billing_vat: Text = Field("", alias="billingVAT")
    po_number: Text = ""
    shipping_list: Text = ""
    shipping_terms: Terms | None = None
    payment_terms: Terms | None = None
    default_carrier: Text = ""
    delivery_service: Text = ""
    suspect: Flag = False
    hold: Flag = False
    paid: Flag = False
    shipping_value: Money = None
    voucher_value: Money = None
    grand_total_value: Money = None
    grand_total_tax_value: Money = None
    tax_added: Money = None
    tax_deducted: Money = None
    internal_comment: Text = ""
    other_comment: Text = ""
    tax_breakdown: list[TaxLine] = Field(default_factory=list)
    billing: Address = Field(default_factory=Address)
    delivery: Address = Field(default_factory=Address)
    marketplace_source: Text = Field("", alias="marketplace_source")
    marketplace_source_id: Text = Field("", alias="marketplace_source_id")
    # Ingrid keys: flat on the node per the WMS guide; where they sit exactly is [I] (§9).
    shipwallet_method: Text = Field("", alias="shipwallet_method")
    shipwallet_pickup: Text = Field("", alias="shipwallet_pickup")
    shipwallet_deliverytime: Text = Field("", alias="shipwallet_deliverytime")
    shipwallet_doorcode: Text = Field("", alias="shipwallet_doorcode")
    shipwallet_courier_instructions: Text = Field("", alias="shipwallet_courier_instructions")
    shipwallet_id: Text = Field("", alias="shipwallet_id")

    @model_validator(mode="before")
    @classmethod
    def _group_addresses(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            _gather_address(data, "billing")
            _gather_address(data, "delivery")
        return data


class Shipment(_OrderHeader):
    """A shipment node from ``GET /shipments`` or an update response (§2.4.2)."""

    shipment_id: CentraId
    shipment_date: CentraDateTime = None
    tracking_number: Text = ""
    tracking_url: Text = ""
    return_slip_tracking: Text = ""
    should_capture: Flag = False
    gtg: Flag = False
    proforma: Text = ""
    delivery_note: Text = ""
    invoices: list[str] = Field(default_factory=list)
    products: list[ShipmentLine] = Field(default_factory=list)


class OrderShipment(CentraModel):
    """The short shipment summary inside an order; ``shipped_date`` is None until shipped."""

    shipment_id: CentraId
    shipped_date: CentraDateTime = None
    carrier: Text = ""
    service: Text = ""
    tracking_id: Text = ""
    tracking_url: Text = ""
    return_slip_tracking: Text = ""
    additional_message: Text = ""


class OrderLine(ShipmentLine):
    """An order line: the shipment-line fields plus pricing and catalogue references."""

    brand: Text = ""
    product_id: OptionalCentraId = None
    stock_item_id: OptionalCentraId = None
    tax_percent: Money = None
    total_price: Money = None
    price_each_without_tax: Money = None


class Order(_OrderHeader):
    """An order from ``GET /orders`` (§2.5); ``order_status`` is kept verbatim (format [I])."""

    order_status: Text = ""
    internal_order: Flag = False
    waiting_for_payment: Flag = False
    market_id: OptionalCentraId = None
    pricelist_id: OptionalCentraId = None
    payment_plugin: Text = ""
    payment_type: Text = ""
    payment_description: Text = ""
    payment_reference: Text = ""
    payment_method: Text = ""
    total_items_price: Money = None
    shipments: list[OrderShipment] = Field(default_factory=list)
    products: list[OrderLine] = Field(default_factory=list)


class ProductPrice(CentraModel):
    id: OptionalCentraId = None
    price: Money = None
    pricelist: Text = ""
    currency: Text = ""


class ProductRow(CentraModel):
    """One stock item (size) from ``GET /products`` (§2.6.1)."""

    sku: Text = ""
    variant_sku: Text = ""
    size_sku: Text = ""
    product_id: OptionalCentraId = None
    variant_id: OptionalCentraId = None
    stock_item_id: OptionalCentraId = None
    brand: Text = ""
    collection: Text = ""
    product: Text = ""
    variant: Text = ""
    size: Text = ""
    ean: Text = ""
    upc: Text = ""
    name: Text = ""
    weight: Money = None
    weight_unit: Text = ""
    country_of_origin: Text = ""
    harm_code: Text = ""
    harm_description: Text = ""
    active: Flag = True
    created_at: CentraDateTime = None
    categories: list[str] = Field(default_factory=list)
    prices: list[ProductPrice] = Field(default_factory=list)

    @property
    def physical_sku(self) -> str:
        return f"{self.sku}{self.variant_sku}{self.size_sku}"


class StockRow(ProductRow):
    """A product row plus stock summed over the plugin's warehouses (§2.6.2).

    ``physical = allocated + available``; the quantities are None when the call excluded
    ``physicalStock``.
    """

    physical_stock: Quantity = None
    allocated_stock: Quantity = None
    available_stock: Quantity = None
    cost_price: Money = None
    cost_price_currency: Text = ""


class ReturnLine(CentraModel):
    return_line_id: OptionalCentraId = None
    shipment_line_id: OptionalCentraId = None
    order_line_id: OptionalCentraId = None
    product_id: OptionalCentraId = None
    variant_id: OptionalCentraId = None
    product_name: Text = ""
    variant_name: Text = ""
    size: Text = ""
    sku: Text = ""
    variant_sku: Text = ""
    size_sku: Text = ""
    ean: Text = ""
    quantity: Quantity = None
    price: Money = None


class Return(CentraModel):
    """A return from ``GET /returns`` (§2.7).

    Two shipment ids sit side by side: ``shipment`` is the human number (``"20059-1"``),
    ``shipment_internal_id`` Centra's internal integer (wire name ``shipmentId``).
    """

    return_id: CentraId
    completed: Flag = False
    shipment: OptionalCentraId = None
    shipment_internal_id: OptionalCentraId = Field(None, alias="shipmentId")
    order_id: OptionalCentraId = None
    selection_id: OptionalCentraId = None
    customer_id: OptionalCentraId = None
    date: CentraDateTime = None
    return_cost: Money = None
    shipping_cost: Money = None
    handling_cost: Money = None
    voucher_value: Money = None
    currency: Text = ""
    return_to_stock: Flag = False
    comment: Text = ""
    created_from: Text = ""
    products: list[ReturnLine] = Field(default_factory=list)


class SupplierOrderLine(StockRow):
    """A supplier order or delivery line: stock-row fields plus ordered quantity and cost."""

    quantity: Quantity = None
    cost: Money = None
    cost_currency: Text = ""


class SupplierOrder(CentraModel):
    """A confirmed supplier order; ``ETA``/``ETD`` come as ``YYYY-MM-DD HH:MM`` (§2.8)."""

    order_id: CentraId
    supplier_name: Text = ""
    supplier_country: Text = ""
    created: CentraDateTime = None
    etd: CentraDateTime = Field(None, alias="ETD")
    eta: CentraDateTime = Field(None, alias="ETA")
    message: Text = ""
    products_qty: Quantity = None
    products: list[SupplierOrderLine] = Field(default_factory=list)


class SupplierDeliveryOrder(CentraModel):
    """A customer order reserved against an incoming delivery (``…/details``)."""

    order_id: OptionalCentraId = None
    account_id: OptionalCentraId = None
    account_name: Text = ""
    buyer: Text = ""
    carrier: Text = ""
    service: Text = ""
    po_number: Text = ""
    products: list[dict[str, Any]] = Field(default_factory=list)


class SupplierDelivery(SupplierOrder):
    """A supplier delivery: ``id`` (``"364"``) and ``delivery_id`` (``"957-1"``) both name it."""

    id: CentraId
    delivery_id: OptionalCentraId = None
    orders: list[SupplierDeliveryOrder] = Field(default_factory=list)
