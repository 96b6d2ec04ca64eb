"""What a test or the control API asks the emulated Centra to hold: validated input specs.

These pydantic models are the bodies of the control API and the arguments of the world's
methods alike, so a test can call either and get the same validation.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from .model import AllocationPolicy, BundleMode

__all__ = [
    "AddressSpec",
    "BundleItemSpec",
    "CatalogueSpec",
    "OrderLineSpec",
    "OrderSpec",
    "ProductChange",
    "ProductSpec",
    "SizeSpec",
    "StoreSpec",
    "SupplierDeliverySpec",
    "SupplierOrderLineSpec",
    "SupplierOrderSpec",
    "TermsSpec",
    "VariantSpec",
    "WarehouseSpec",
]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StoreSpec(_Spec):
    """A new Order API plugin instance."""

    uri: str = Field(pattern=r"^[A-Za-z0-9_-]+$", description="the API lives at /api/<uri>/")
    secret: str = Field(min_length=1, repr=False, description="the API-Authorization value")
    timezone: str = Field("Europe/Stockholm", description="IANA zone of the merchant")
    name: str = Field("retail", description="store name shown as orderStore")
    primary_warehouse_id: int = Field(description="the only warehouse POST /stock writes")
    supplier_delivery_warehouse_id: int | None = Field(
        None, description="supplier deliveries are listed only for this warehouse"
    )
    currency: str = "SEK"
    bundles_in_shipments: BundleMode = Field(
        "only_items", description="how GET /shipments shows bundles (plugin setting)"
    )
    bundles_in_orders: BundleMode = Field(
        "only_items", description="how GET /orders shows bundles (plugin setting)"
    )
    allowed_endpoints: list[str] | None = Field(
        None, description="first path segments allowed, e.g. ['shipments', 'stock']; None = all"
    )


class WarehouseSpec(_Spec):
    name: str = Field(min_length=1)
    allocation_policy: AllocationPolicy = Field(
        "direct", description="direct, check_first or direct_then_confirm"
    )


class SizeSpec(_Spec):
    name: str = Field(description="size label, e.g. 'M' or 'One size'")
    sku: str = Field("", description="sizeSku part of the physical SKU")
    ean: str = Field(pattern=r"^\d{8,14}$")
    upc: str = ""
    stock: dict[int, int] = Field(
        default_factory=dict, description="physical stock per warehouse id"
    )


class VariantSpec(_Spec):
    name: str
    sku: str = Field("", description="variantSku part of the physical SKU")
    sizes: list[SizeSpec] = Field(min_length=1)


class BundleItemSpec(_Spec):
    ean: str = Field(description="an item of the bundle, by the EAN of its size")
    qty: int = Field(1, ge=1, description="units of it in one bundle")


class ProductSpec(_Spec):
    sku: str = Field(min_length=1)
    name: str
    brand: str = "Emulated Brand"
    collection: str = "Core"
    folder: str = "Apparel"
    categories: list[str] = Field(default_factory=list)
    weight: float = Field(0.5, ge=0)
    weight_unit: str = Field("kg", pattern=r"^(kg|lb|g)$")
    harm_code: str = ""
    harm_description: str = ""
    country_of_origin: str = Field("SE", pattern=r"^[A-Z]{2}$")
    prices: dict[str, float] = Field(default_factory=lambda: {"SEK": 499.0})
    active: bool = True
    is_bundle: bool = False
    bundle: list[BundleItemSpec] = Field(
        default_factory=list, description="a bundle's items (needs is_bundle)"
    )
    description: str = ""
    attributes: dict[str, str] = Field(
        default_factory=dict, description="custom attributes: type name to text value"
    )
    variants: list[VariantSpec] = Field(min_length=1)


class ProductChange(_Spec):
    """An edit staff make to a product in the admin; unset fields stay as they are."""

    name: str | None = None
    active: bool | None = None
    weight: float | None = Field(None, ge=0)
    weight_unit: str | None = Field(None, pattern=r"^(kg|lb|g)$")
    harm_code: str | None = None
    country_of_origin: str | None = Field(None, pattern=r"^[A-Z]{2}$")
    prices: dict[str, float] | None = None
    attributes: dict[str, str] | None = Field(
        None, description="custom attributes: type name to text value; replaces them all"
    )


class CatalogueSpec(_Spec):
    """A complete data set to seed: warehouses, stores and products."""

    warehouses: list[WarehouseSpec] = Field(min_length=1)
    stores: list[StoreSpec] = Field(default_factory=list)
    products: list[ProductSpec] = Field(default_factory=list)


class TermsSpec(_Spec):
    id: int = Field(ge=1)
    name: str
    description: str = ""


class AddressSpec(_Spec):
    name: str = ""
    company: str = ""
    address: str = ""
    coaddress: str = ""
    city: str = ""
    state: str = ""
    zipcode: str = ""
    country: str = Field("SE", pattern=r"^[A-Z]{2}$")
    email: str = ""
    tele: str = ""
    cell: str = ""


class OrderLineSpec(_Spec):
    ean: str | None = Field(None, description="the size to order, by EAN ...")
    size_id: int | None = Field(None, description="... or by stockItemId")
    qty: int = Field(1, ge=1)
    price: float | None = Field(None, ge=0, description="unit price; default the list price")
    original_price: float | None = Field(None, ge=0, description="default the list price")
    comment: str = ""


class OrderSpec(_Spec):
    """An order placed in the store, as checkout or a B2B sales rep would."""

    store: str = Field(description="the store's plugin uri")
    lines: list[OrderLineSpec] = Field(min_length=1)
    customer_id: int = 1
    account_id: int = Field(0, ge=0, description="wholesale account; 0 = direct to consumer")
    account_name: str = ""
    billing: AddressSpec = Field(default_factory=AddressSpec)
    delivery: AddressSpec | None = Field(None, description="default: the billing address")
    shipping_list: str = "standard"
    shipping_value: float = Field(0.0, ge=0)
    handling_value: float = Field(0.0, ge=0)
    voucher_value: float = Field(0.0, ge=0, description="a voucher's value, positive")
    other_comment: str = ""
    po_number: str = ""
    shipping_terms: TermsSpec | None = Field(None, description="wholesale shipping terms")
    payment_terms: TermsSpec | None = Field(None, description="wholesale payment terms")
    payment_plugin: str = "adyen_drop_in"
    shipwallet: dict[str, str] = Field(
        default_factory=dict,
        description="Ingrid keys without prefix: method, pickup, deliverytime, doorcode, "
        "courier_instructions, id",
    )
    created_at: datetime | None = Field(None, description="aware; default now")
    delivery_date: datetime | None = Field(None, description="aware; preferred delivery")
    cancel_date: datetime | None = Field(None, description="aware; cancel if not confirmed by")
    number: int | None = Field(None, ge=1, description="explicit order number; default the next")
    internal_comment: str = ""
    internal_order: bool = False
    payment_reference: str | None = Field(None, description="default: a UUID per order")
    payment_method: str | None = Field(None, description="default: from payment_plugin")
    paid_elsewhere: bool = Field(False, description="captured outside Centra: shipments are paid")
    create_only: bool = Field(
        False, description="prepared only (Incomplete), allocated when completed"
    )
    pending: bool = Field(False, description="placed but waiting to be confirmed (status Pending)")
    ship_from: list[int] = Field(
        default_factory=list,
        description="ship-from-store warehouses the order is offered to, all with the policy "
        "check_first (each must accept) or direct_then_confirm (allocation requests)",
    )


class SupplierOrderLineSpec(_Spec):
    ean: str
    qty: int = Field(ge=1)
    cost: float = Field(0.0, ge=0)
    currency: str = "SEK"


class SupplierOrderSpec(_Spec):
    supplier_name: str = "Emulated Supplier AB"
    supplier_country: str = "SE"
    warehouse_id: int = Field(description="preferred warehouse of the supplier order")
    lines: list[SupplierOrderLineSpec] = Field(min_length=1)
    message: str = ""
    etd: datetime | None = None
    eta: datetime | None = None
    confirmed: bool = True


class SupplierDeliverySpec(_Spec):
    quantities: dict[str, int] | None = Field(
        None, description="EAN -> qty; default: everything still undelivered on the order"
    )
    eta: datetime | None = None
