"""Flat rows for the analytics tables, from the Integration API client's typed models.

Each table is declared once (:class:`Table`): its key, its columns (name → how to read it
from the model) and its child lists. The same declaration builds the rows, tells dlt the
keys, and gives ``centrasync check`` the field names a store's mapping may name
(:func:`loaded_fields`), so a column added here is mappable at once.

Money is flattened to ``<name>`` (order currency, beside ``currency``) and ``<name>_base``
(the base currency: Centra's ``currencyBaseRate`` times the value) so SQL stays readable
and never sums across currencies; times stay aware UTC datetimes (the models made them
so). Every row carries ``store`` so tables of several stores can be read side by side.
:func:`apply_mapping` is the store's schema mapping: named columns, excluded fields and
personal data, applied to every row and to the rows nested in it (dlt's child tables).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from centrasync.centra.integration.models import (
    Attribute,
    CatalogueProduct,
    CatalogueVariant,
    Money,
    PostalAddress,
    ProductSize,
    ProductSizeStock,
    PurchaseOrderDelivery,
    Return,
    WarehouseStock,
)
from centrasync.config import AnalyticsSettings, PersonalData
from centrasync.errors import RecordValidationError

__all__ = [
    "CURRENCIES",
    "DELIVERIES",
    "MARKETS",
    "ORDERS",
    "PERSONAL_FIELDS",
    "PRODUCTS",
    "PRODUCT_SIZES",
    "PRODUCT_VARIANTS",
    "PURCHASE_ORDERS",
    "RETURNS",
    "SHIPMENTS",
    "STOCK",
    "STORES",
    "TABLES",
    "WAREHOUSES",
    "Row",
    "Table",
    "apply_mapping",
    "attribute_values",
    "catalogue_rows",
    "is_personal",
    "loaded_fields",
    "stock_rows",
]

Row = dict[str, Any]
Read = Callable[[Any], Any]

# Fields that name or reach a person: excluded by default, hashed on request. An address's
# copies carry its prefix (``billing_email``); :func:`is_personal` knows both.
PERSONAL_FIELDS = frozenset(
    {"email", "phone_number", "cell_phone_number", "first_name", "last_name", "company_name"}
)
_ADDRESS_PREFIXES = ("billing_", "shipping_")
_CENT = Decimal("0.01")


def is_personal(name: str) -> bool:
    if name in PERSONAL_FIELDS:
        return True
    return any(
        name.startswith(prefix) and name.removeprefix(prefix) in PERSONAL_FIELDS
        for prefix in _ADDRESS_PREFIXES
    )


@dataclass(frozen=True)
class Child:
    """A list inside a row: dlt's child table ``<table>__<name>``."""

    items: Callable[[Any], Iterable[Any]]
    columns: Mapping[str, Read]


@dataclass(frozen=True)
class Table:
    """One analytics table: how a row is read from one model object.

    ``attributes`` names which mapping of custom attributes applies (``"order"`` or
    ``"product"``): the row gets ``attributes`` (type name → text, a JSON column) and the
    store's named attribute columns.
    """

    name: str
    key: tuple[str, ...]
    columns: Mapping[str, Read]
    children: Mapping[str, Child] = field(default_factory=dict)
    attributes: str | None = None

    def row(self, store: str, item: Any) -> Row:
        """The row of ``item``; a field the mapping cannot read (a value not in the form
        Centra documents) raises :class:`RecordValidationError` naming the object and the
        field, with the object's payload in ``details`` (the caller parks it)."""
        row: Row = {"store": store}
        field_name = ""
        try:
            for field_name, read in self.columns.items():
                row[field_name] = read(item)
            for name, child in self.children.items():
                lines = []
                for entry in child.items(item):
                    line = {}
                    for column, read in child.columns.items():
                        field_name = f"{name}.{column}"
                        line[column] = read(entry)
                    lines.append(line)
                row[name] = lines
        except (ValueError, TypeError, AttributeError, ArithmeticError, LookupError) as exc:
            raise self._unreadable(item, field_name, exc) from exc
        return row

    def _unreadable(self, item: Any, field_name: str, exc: Exception) -> RecordValidationError:
        # The object's own id: what a re-read asks for (orders by number).
        ident = getattr(item, "number", None) if self.name == "orders" else None
        ident = ident if ident is not None else getattr(item, "id", None)
        dump = getattr(item, "model_dump", None)
        payload = dump(mode="json", by_alias=True) if callable(dump) else repr(item)
        return RecordValidationError(
            f"cannot be loaded ({type(exc).__name__}: {exc})",
            record=f"{self.name} {ident}",
            field=field_name,
            details={"table": self.name, "object_id": ident, "payload": payload},
        )

    def rows(self, store: str, items: Iterable[Any]) -> list[Row]:
        return [self.row(store, item) for item in items]

    def fields(self) -> frozenset[str]:
        """Every field a row of this table (or of its children) can hold, and the child
        lists themselves (excluding one leaves its child table out)."""
        names = {"store", *self.columns, *self.children}
        if self.attributes:
            names.add("attributes")
        for child in self.children.values():
            names.update(child.columns)
        return frozenset(names)


def _money(name: str, read: Callable[[Any], Money | None]) -> dict[str, Read]:
    """``<name>`` in the object's currency and ``<name>_base`` in the base currency."""

    def value(item: Any) -> Decimal | None:
        money = read(item)
        return None if money is None else money.value

    def base(item: Any) -> Decimal | None:
        money = read(item)
        if money is None:
            return None
        rate = Decimal(str(item.currency_base_rate))
        return (money.value * rate).quantize(_CENT)

    return {name: value, f"{name}_base": base}


def _address(prefix: str, read: Callable[[Any], PostalAddress | None]) -> dict[str, Read]:
    """An address reduced to where it is (country, zip, city) plus the personal fields,
    which :func:`apply_mapping` drops or hashes; street lines are never loaded."""

    def part(name: str) -> Read:
        def get(item: Any) -> Any:
            address = read(item)
            if address is None:
                return None
            if name == "country":
                return address.country.code if address.country else None
            return getattr(address, name)

        return get

    names = ("country", "zip_code", "city", "email", "phone_number", "first_name", "last_name")
    return {f"{prefix}{name}": part(name) for name in names}


def attribute_values(attributes: Sequence[Attribute]) -> dict[str, str | None]:
    """Custom attributes by type name; a mapped attribute chosen twice keeps its values
    joined by ``, ``."""
    found: dict[str, str | None] = {}
    for attribute in attributes:
        name, text = attribute.type.name, attribute.text
        seen = found.get(name)
        found[name] = text if seen is None else f"{seen}, {text}"
    return found


def _sku(line: Any) -> str | None:
    size = line.order_line.product_size
    return size.sku if size else None


# -- orders, shipments, returns ------------------------------------------------------------

ORDERS = Table(
    "orders",
    key=("order_number",),
    attributes="order",
    columns={
        "order_number": lambda o: o.number,
        "order_id": lambda o: o.id,
        "store_type": lambda o: (
            "WHOLESALE" if o.typename == "WholesaleOrder" else "DIRECT_TO_CONSUMER"
        ),
        "status": lambda o: o.status,
        "order_date": lambda o: o.order_date,
        "created_at": lambda o: o.created_at,
        "updated_at": lambda o: o.updated_at,
        "is_on_hold": lambda o: o.is_on_hold,
        "other_comment": lambda o: o.other_comment,
        "store_id": lambda o: o.store.id,
        "store_name": lambda o: o.store.name,
        "market_id": lambda o: o.market.id if o.market else None,
        "market_name": lambda o: o.market.name if o.market else None,
        "currency": lambda o: o.currency.code,
        "currency_base_rate": lambda o: o.currency_base_rate,
        **_money("grand_total", lambda o: o.grand_total),
        **_money("items_total", lambda o: o.totals.items_total),
        **_money("shipping", lambda o: o.totals.shipping),
        **_money("handling", lambda o: o.totals.handling),
        **_money("tax_included", lambda o: o.totals.tax_included),
        "total_quantity": lambda o: o.totals.quantity,
        **_address("billing_", lambda o: o.billing_address),
        **_address("shipping_", lambda o: o.shipping_address),
        "attributes": lambda o: attribute_values(o.attributes),
    },
    children={
        "lines": Child(
            lambda o: o.lines,
            {
                "line_id": lambda ln: ln.id,
                "product_number": lambda ln: ln.product_number,
                "size": lambda ln: ln.size,
                "sku": lambda ln: ln.product_size.sku if ln.product_size else None,
                "product_size_id": lambda ln: ln.product_size.id if ln.product_size else None,
                "product_name": lambda ln: ln.product_name,
                "product_variant_name": lambda ln: ln.product_variant_name,
                "quantity": lambda ln: ln.quantity,
                "cancelled_quantity": lambda ln: ln.cancelled_quantity,
                "returned_quantity": lambda ln: ln.returned_quantity,
                "unit_price": lambda ln: ln.unit_price.value,
                "currency": lambda ln: ln.unit_price.currency.code,
            },
        ),
        "discounts": Child(
            lambda o: o.discounts_applied,
            {
                "discount_name": lambda d: d.discount.name if d.discount else None,
                "discount_code": lambda d: d.discount.code if d.discount else None,
                "value": lambda d: d.value.value,
                "currency": lambda d: d.value.currency.code,
                "applied_at": lambda d: d.date,
            },
        ),
    },
)

SHIPMENTS = Table(
    "shipments",
    key=("shipment_id",),
    columns={
        "shipment_id": lambda s: s.id,
        "shipment_number": lambda s: s.number,
        "order_number": lambda s: s.order.number,
        "created_at": lambda s: s.created_at,
        "updated_at": lambda s: s.updated_at,
        "is_good_to_go": lambda s: s.is_good_to_go,
        "is_shipped": lambda s: s.is_shipped,
        "shipped_at": lambda s: s.shipped_at,
        "is_paid": lambda s: s.is_paid,
        "paid_at": lambda s: s.paid_at,
        "is_captured": lambda s: s.is_captured,
        "captured_at": lambda s: s.captured_at,
        "carrier": lambda s: s.carrier_information.carrier_name if s.carrier_information else None,
        "carrier_service": lambda s: (
            s.carrier_information.service_name if s.carrier_information else None
        ),
        "tracking_number": lambda s: s.tracking_number,
        "number_of_packages": lambda s: s.number_of_packages,
        **_address("shipping_", lambda s: s.shipping_address),
    },
    children={
        "lines": Child(
            lambda s: s.lines,
            {
                "line_id": lambda ln: ln.id,
                "order_line_id": lambda ln: ln.order_line.id,
                "sku": _sku,
                "quantity": lambda ln: ln.quantity,
                "returned_quantity": lambda ln: ln.returned_quantity,
            },
        )
    },
)


def _return_lines(ret: Return) -> list[tuple[Return, Any]]:
    return [(ret, line) for line in ret.lines]


RETURNS = Table(
    "returns",
    key=("return_id",),
    columns={
        "return_id": lambda r: r.id,
        "status": lambda r: r.status,
        "created_at": lambda r: r.created_at,
        "total_quantity": lambda r: r.total_quantity,
        "returned_to_stock": lambda r: r.returned_to_stock,
        "shipment_number": lambda r: r.shipment.number,
        # The shipment number is "<order number>-<n>".
        "order_number": lambda r: int(r.shipment.number.split("-", 1)[0]),
    },
    children={
        "lines": Child(
            _return_lines,
            {
                "line_id": lambda pair: pair[1].id,
                "quantity": lambda pair: pair[1].quantity,
                # Centra puts a whole return back into stock or none of it.
                "to_stock_quantity": lambda pair: (
                    pair[1].quantity if pair[0].returned_to_stock else 0
                ),
                "order_line_id": lambda pair: pair[1].order_line.id,
                "shipment_line_id": lambda pair: pair[1].shipment_line.id,
                "sku": lambda pair: _sku(pair[1]),
            },
        )
    },
)

# -- stock, catalogue ----------------------------------------------------------------------


def _stock_entries(size: ProductSizeStock) -> list[tuple[ProductSizeStock, WarehouseStock]]:
    return [(size, stock) for stock in size.stock]


STOCK = Table(
    "stock",
    key=("product_size_id", "warehouse_id"),
    columns={
        "product_size_id": lambda pair: pair[0].id,
        "warehouse_id": lambda pair: pair[1].warehouse.id,
        "sku": lambda pair: pair[0].sku,
        "ean": lambda pair: pair[0].ean,
        "physical_quantity": lambda pair: pair[1].physical_quantity,
        "free_to_allocate_quantity": lambda pair: pair[1].free_to_allocate_quantity,
        # Centra's definition: physical = free to allocate + allocated.
        "allocated_quantity": lambda pair: (
            pair[1].physical_quantity - pair[1].free_to_allocate_quantity
        ),
        "incoming_quantity": lambda pair: pair[1].incoming_quantity,
    },
)


def stock_rows(store: str, sizes: Sequence[ProductSizeStock]) -> list[Row]:
    """``stock`` rows: one per size and warehouse, keyed by both."""
    return STOCK.rows(store, (entry for size in sizes for entry in _stock_entries(size)))


PRODUCTS = Table(
    "products",
    key=("product_id",),
    attributes="product",
    columns={
        "product_id": lambda p: p.id,
        "product_number": lambda p: p.product_number,
        "name": lambda p: p.name,
        "status": lambda p: p.status,
        "is_bundle": lambda p: p.is_bundle,
        "brand": lambda p: p.brand_name,
        "created_at": lambda p: p.created_at,
        "updated_at": lambda p: p.updated_at,
        "attributes": lambda p: attribute_values(p.attributes),
    },
)

PRODUCT_VARIANTS = Table(
    "product_variants",
    key=("variant_id",),
    attributes="product",
    columns={
        "variant_id": lambda pair: pair[1].id,
        "product_id": lambda pair: pair[0].id,
        "variant_number": lambda pair: pair[1].variant_number,
        "name": lambda pair: pair[1].name,
        "status": lambda pair: pair[1].status,
        "attributes": lambda pair: attribute_values(pair[1].attributes),
    },
)

PRODUCT_SIZES = Table(
    "product_sizes",
    key=("product_size_id",),
    columns={
        "product_size_id": lambda t: t[2].id,
        "variant_id": lambda t: t[1].id,
        "product_id": lambda t: t[0].id,
        "sku": lambda t: t[2].sku,
        "ean": lambda t: t[2].ean,
        "upc": lambda t: t[2].upc,
        "size_number": lambda t: t[2].size_number,
        "size": lambda t: t[2].size.name,
        "is_active": lambda t: t[2].is_active,
        "product_name": lambda t: t[0].name,
        "variant_name": lambda t: t[1].name,
    },
)


def catalogue_rows(
    store: str, products: Sequence[CatalogueProduct]
) -> tuple[list[Row], list[Row], list[Row]]:
    """``products``, ``product_variants`` and ``product_sizes`` rows from one read."""
    variants: list[tuple[CatalogueProduct, CatalogueVariant]] = [
        (p, v) for p in products for v in p.variants
    ]
    sizes: list[tuple[CatalogueProduct, CatalogueVariant, ProductSize]] = [
        (p, v, s) for p, v in variants for s in v.product_sizes
    ]
    return (
        PRODUCTS.rows(store, products),
        PRODUCT_VARIANTS.rows(store, variants),
        PRODUCT_SIZES.rows(store, sizes),
    )


# -- purchasing ----------------------------------------------------------------------------

PURCHASE_ORDERS = Table(
    "purchase_orders",
    key=("purchase_order_id",),
    columns={
        "purchase_order_id": lambda po: po.id,
        "status": lambda po: po.status,
        "created_at": lambda po: po.created_at,
        "updated_at": lambda po: po.updated_at,
        "eta": lambda po: po.eta,
        "supplier": lambda po: po.supplier.name,
        "supplier_id": lambda po: po.supplier.id,
        "preferred_warehouse_id": lambda po: (
            po.preferred_warehouse.id if po.preferred_warehouse else None
        ),
        "expected_quantity": lambda po: po.quantity,
        "received_quantity": lambda po: sum(line.delivered_quantity for line in po.lines),
        "currency": lambda po: po.currency.code,
        "total": lambda po: po.total.value,
    },
    children={
        "lines": Child(
            lambda po: po.lines,
            {
                "product_size_id": lambda ln: ln.product_size.id,
                "sku": lambda ln: ln.product_size.sku,
                "expected_quantity": lambda ln: ln.quantity,
                "received_quantity": lambda ln: ln.delivered_quantity,
            },
        ),
        "deliveries": Child(
            lambda po: po.deliveries,
            {
                "delivery_id": lambda d: d.id,
                "delivery_number": lambda d: d.number,
                "status": lambda d: d.status,
                "eta": lambda d: d.eta,
                "accepted_at": lambda d: d.accepted_at,
                "is_accepted": lambda d: d.is_accepted,
            },
        ),
    },
)


def _delivery_lines(delivery: PurchaseOrderDelivery) -> list[tuple[int, Any]]:
    return [(delivery.id, line) for line in delivery.lines]


DELIVERIES = Table(
    "in_deliveries",
    key=("delivery_id",),
    columns={
        "delivery_id": lambda d: d.id,
        "delivery_number": lambda d: d.number,
        "status": lambda d: d.status,
        "created_at": lambda d: d.created_at,
        "eta": lambda d: d.eta,
        "accepted_at": lambda d: d.accepted_at,
        "is_accepted": lambda d: d.is_accepted,
        "purchase_order_id": lambda d: d.purchase_order.id,
        "supplier": lambda d: d.supplier.name,
        "warehouse_id": lambda d: d.warehouse.id if d.warehouse else None,
    },
    children={
        "lines": Child(
            _delivery_lines,
            {
                "delivery_id": lambda pair: pair[0],
                "product_size_id": lambda pair: pair[1].product_size.id,
                "sku": lambda pair: pair[1].product_size.sku,
                "expected_quantity": lambda pair: pair[1].quantity,
                "received_quantity": lambda pair: pair[1].delivered_quantity,
            },
        )
    },
)

# -- warehouses, stores, markets -----------------------------------------------------------

WAREHOUSES = Table(
    "warehouses",
    key=("warehouse_id",),
    columns={
        "warehouse_id": lambda w: w.id,
        "name": lambda w: w.name,
        "status": lambda w: w.status,
    },
)

STORES = Table(
    "stores",
    key=("store_id",),
    columns={"store_id": lambda s: s.id, "name": lambda s: s.name, "type": lambda s: s.type},
)

MARKETS = Table(
    "markets",
    key=("market_id",),
    columns={"market_id": lambda m: m.id, "name": lambda m: m.name},
)

CURRENCIES = Table(
    "currencies",
    key=("currency",),
    columns={
        "currency": lambda c: c.code,
        "name": lambda c: c.name,
        "is_base": lambda c: c.is_base,
    },
)

TABLES: dict[str, Table] = {
    table.name: table
    for table in (
        ORDERS,
        SHIPMENTS,
        RETURNS,
        STOCK,
        PRODUCTS,
        PRODUCT_VARIANTS,
        PRODUCT_SIZES,
        PURCHASE_ORDERS,
        DELIVERIES,
        WAREHOUSES,
        STORES,
        MARKETS,
        CURRENCIES,
    )
}


def loaded_fields() -> frozenset[str]:
    """Every field some table loads: what ``columns`` and ``exclude`` may name."""
    return frozenset().union(*(table.fields() for table in TABLES.values()))


# -- the store's mapping -------------------------------------------------------------------


def _hash(value: Any) -> str | None:
    if value is None:
        return None
    return hashlib.sha256(str(value).strip().lower().encode()).hexdigest()


def apply_mapping(row: Row, settings: AnalyticsSettings, table: Table | None = None) -> Row:
    """The row as the store's mapping wants it; nested lists of rows are mapped too.

    Personal data first (so a named column never carries it in clear), then exclusions,
    then renames, then the named attribute columns (read from the row's ``attributes``
    when ``table`` has them, so they stay even when ``attributes`` itself is excluded);
    the input is not changed.
    """
    out: Row = {}
    for key, value in row.items():
        if is_personal(key):
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
    if table is not None and table.attributes is not None:
        values = row.get("attributes") or {}
        for column, name in settings.attributes_of(table.attributes).items():
            out[column] = values.get(name)
    return out
