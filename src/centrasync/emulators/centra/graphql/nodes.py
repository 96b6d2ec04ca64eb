"""The Integration API's objects, read from the world: one class per GraphQL type.

Attributes and methods are the fields in snake_case (ariadne maps the names); a method takes
the field's arguments. Times are aware UTC here: the schema formats every ``DateTimeTz``
field in the merchant zone with its ``format`` argument. Nodes are built per request and
read the world when asked, so a field shows the state of the moment it is resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from centrasync.emulators.centra.model import (
    Address,
    Order,
    OrderLine,
    OrderStatus,
    ReturnRecord,
    Shipment,
    ShipmentLine,
    SizeRef,
    StockChange,
    StockChangeLine,
    Store,
    SupplierDelivery,
    SupplierOrder,
    Variant,
    Warehouse,
)

from .context import Context, Info

__all__ = [
    "BASE_CURRENCY",
    "CURRENCIES",
    "AddressNode",
    "CountryNode",
    "CurrencyNode",
    "Money",
    "OrderLineNode",
    "OrderNode",
    "ProductNode",
    "ProductSizeNode",
    "PurchaseOrderDeliveryNode",
    "PurchaseOrderNode",
    "ReturnNode",
    "ShipmentLineNode",
    "ShipmentNode",
    "StockChangeNode",
    "StoreNode",
    "WarehouseNode",
    "supplier_ids",
]

# [I] Centra numbers currencies and countries per installation; the emulator fixes them.
CURRENCIES = ("SEK", "USD", "EUR", "NOK", "DKK", "GBP")
# [I] Centra does not publish how its base currency is chosen; the emulator's is SEK, and
# these fixed rates take a value in each currency to SEK (value times rate).
BASE_CURRENCY = "SEK"
BASE_RATES = {"SEK": 1.0, "USD": 10.5, "EUR": 11.25, "NOK": 0.98, "DKK": 1.51, "GBP": 13.2}
_CURRENCY_NAMES = {
    "SEK": "Swedish krona",
    "USD": "US dollar",
    "EUR": "Euro",
    "NOK": "Norwegian krone",
    "DKK": "Danish krone",
    "GBP": "Pound sterling",
}
_COUNTRIES = {
    "SE": "Sweden",
    "US": "United States",
    "NO": "Norway",
    "DK": "Denmark",
    "FI": "Finland",
    "DE": "Germany",
    "GB": "United Kingdom",
    "PT": "Portugal",
    "CN": "China",
    "BD": "Bangladesh",
    "IT": "Italy",
    "TR": "Turkey",
}
_ORDER_STATUSES = {
    OrderStatus.PENDING: "PENDING",
    OrderStatus.CONFIRMED: "CONFIRMED",
    OrderStatus.PROCESSING: "PROCESSING",
    OrderStatus.COMPLETED: "SHIPPED",
    OrderStatus.ARCHIVED: "ARCHIVED",
    OrderStatus.CANCELLED: "CANCELLED",
}
_POLICIES = {
    "direct": "DIRECT",
    "check_first": "CHECK_FIRST",
    "direct_then_confirm": "DIRECT_THEN_CONFIRM",
}


def order_status(order: Order) -> str:
    return _ORDER_STATUSES.get(order.status, "PENDING")


def _text(value: str) -> str | None:
    return value or None


def _net(value: float, including_tax: bool | None, percent: float = 25.0) -> float:
    """Prices include VAT; without tax is the price less its VAT share."""
    return value if including_tax is not False else value / (1 + percent / 100)


@dataclass(frozen=True)
class CurrencyNode:
    code: str

    @property
    def id(self) -> int:
        return CURRENCIES.index(self.code) + 1 if self.code in CURRENCIES else 99

    @property
    def name(self) -> str:
        return _CURRENCY_NAMES.get(self.code, self.code)

    @property
    def is_base(self) -> bool:
        return self.code == BASE_CURRENCY


def base_rate(code: str) -> float:
    return BASE_RATES.get(code, 1.0)


@dataclass(frozen=True)
class Money:
    value: float
    code: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", round(self.value, 2))

    @property
    def currency(self) -> CurrencyNode:
        return CurrencyNode(self.code)

    @property
    def formatted_value(self) -> str:
        return f"{self.value:.2f} {self.code}"

    @property
    def conversion_rate(self) -> float:
        return base_rate(self.code)


@dataclass(frozen=True)
class CountryNode:
    code: str

    @property
    def id(self) -> int:
        codes = list(_COUNTRIES)
        return codes.index(self.code) + 1 if self.code in codes else 999

    @property
    def name(self) -> str:
        return _COUNTRIES.get(self.code, self.code)


def _country(code: str) -> CountryNode | None:
    return CountryNode(code) if code else None


@dataclass(frozen=True)
class AddressNode:
    address: Address

    @property
    def first_name(self) -> str | None:
        return _text(self.address.name.split(" ", 1)[0])

    @property
    def last_name(self) -> str | None:
        parts = self.address.name.split(" ", 1)
        return _text(parts[1]) if len(parts) > 1 else None

    @property
    def company_name(self) -> str | None:
        return _text(self.address.company)

    @property
    def address_1(self) -> str | None:
        return _text(self.address.address)

    @property
    def address_2(self) -> str | None:
        return _text(self.address.coaddress)

    @property
    def city(self) -> str | None:
        return _text(self.address.city)

    @property
    def zip_code(self) -> str | None:
        return _text(self.address.zipcode)

    @property
    def state_or_province(self) -> str | None:
        return _text(self.address.state)

    @property
    def country(self) -> CountryNode | None:
        return _country(self.address.country)

    @property
    def email(self) -> str | None:
        return _text(self.address.email)

    @property
    def phone_number(self) -> str | None:
        return _text(self.address.tele)

    @property
    def cell_phone_number(self) -> str | None:
        return _text(self.address.cell)


@dataclass(frozen=True)
class StoreNode:
    store: Store

    @property
    def id(self) -> int:
        return self.store.market_id

    @property
    def name(self) -> str:
        return self.store.name

    @property
    def type(self) -> str:
        return "DIRECT_TO_CONSUMER"


@dataclass(frozen=True)
class MarketNode:
    store: Store

    @property
    def id(self) -> int:
        return self.store.market_id

    @property
    def name(self) -> str:
        return f"{self.store.name} ({self.store.currency})"


# -- custom attributes and discounts ---------------------------------------------------------


@dataclass(frozen=True)
class AttributeElementNode:
    """[I] the emulator keeps one text element per attribute, keyed ``text`` as in Centra's
    product example (``pr_long_name`` / ``text``)."""

    value: str
    description: str | None
    typename = "AttributeStringElement"
    key = "text"
    kind = "INPUT"


@dataclass(frozen=True)
class AttributeNode:
    name: str
    value: str
    object_type: str
    typename = "DynamicAttribute"

    @property
    def type(self) -> dict[str, Any]:
        return {"name": self.name, "is_mapped": False}

    @property
    def description(self) -> str:
        return self.name.replace("_", " ").capitalize()

    @property
    def elements(self) -> list[AttributeElementNode]:
        return [AttributeElementNode(self.value, self.description)]


def attributes_of(values: dict[str, Any], object_type: str) -> list[AttributeNode]:
    return [AttributeNode(name, str(values[name]), object_type) for name in sorted(values)]


@dataclass(frozen=True)
class DiscountNode:
    """A voucher's value as an applied discount; the Order API keeps no voucher code."""

    value: Money
    date: datetime
    typename = "AppliedDiscount"

    @property
    def discount(self) -> dict[str, Any]:
        return {"id": 1, "name": "Voucher", "code": None}


# -- orders ----------------------------------------------------------------------------------


class OrderNode:
    def __init__(self, ctx: Context, order: Order) -> None:
        self.ctx, self.order = ctx, order

    @property
    def typename(self) -> str:
        return "WholesaleOrder" if self.order.account_id else "DirectToConsumerOrder"

    @property
    def id(self) -> str:
        return self.order.selection_id

    @property
    def number(self) -> int:
        return self.order.number

    @property
    def status(self) -> str:
        return order_status(self.order)

    def _goods(self) -> float:
        return sum(
            ln.price * (ln.qty - ln.cancelled_qty)
            for ln in self.ctx.world.physical_lines(self.order)
        )

    def _charges(self) -> float:
        order = self.order
        return order.shipping_value + order.handling_value - order.voucher_value

    def grand_total(self, info: Info, including_tax: bool = True) -> Money:
        return Money(_net(self._goods() + self._charges(), including_tax), self.order.currency)

    @property
    def created_at(self) -> datetime:
        return self.order.created_at

    @property
    def order_date(self) -> datetime:
        return self.order.created_at

    @property
    def updated_at(self) -> datetime:
        return self.order.modified_at

    @property
    def internal_comment(self) -> str | None:
        return self.order.internal_comment

    @property
    def other_comment(self) -> str:
        return self.order.other_comment

    @property
    def currency_base_rate(self) -> float:
        return base_rate(self.order.currency)

    @property
    def is_on_hold(self) -> bool:
        return self.order.hold

    @property
    def billing_address(self) -> AddressNode:
        return AddressNode(self.order.billing)

    @property
    def shipping_address(self) -> AddressNode:
        return AddressNode(self.order.delivery)

    @property
    def country(self) -> CountryNode | None:
        return _country(self.order.delivery.country)

    @property
    def currency(self) -> CurrencyNode:
        return CurrencyNode(self.order.currency)

    def lines(
        self, info: Info, include_fully_cancelled: bool | None = False
    ) -> list[OrderLineNode]:
        return [
            OrderLineNode(self.ctx, self.order, line)
            for line in self.order.lines
            if include_fully_cancelled or line.qty > line.cancelled_qty
        ]

    @property
    def totals(self) -> dict[str, Any]:
        code, order = self.order.currency, self.order
        goods = self._goods()
        total = goods + self._charges()
        return {
            "grand_total": Money(total, code),
            "items_total": Money(goods, code),
            "shipping": Money(order.shipping_value, code),
            "handling": Money(order.handling_value, code),
            "tax_added": Money(0.0, code),
            "tax_deducted": Money(0.0, code),
            "tax_included": Money(total - _net(total, False), code),
            "quantity": sum(
                ln.qty - ln.cancelled_qty for ln in self.ctx.world.physical_lines(order)
            ),
        }

    @property
    def store(self) -> StoreNode:
        return StoreNode(self.ctx.world.stores[self.order.store_uri])

    @property
    def market(self) -> MarketNode:
        return MarketNode(self.ctx.world.stores[self.order.store_uri])

    @property
    def attributes(self) -> list[AttributeNode]:
        return attributes_of(self.order.extra_attributes, "Order")

    @property
    def discounts_applied(self) -> list[DiscountNode]:
        if not self.order.voucher_value:
            return []
        return [DiscountNode(Money(self.order.voucher_value, self.order.currency), self.created_at)]

    @property
    def shipments(self) -> list[ShipmentNode]:
        return [ShipmentNode(self.ctx, s) for s in self.ctx.world.live_shipments(self.order)]

    @property
    def returns(self) -> list[ReturnNode]:
        ids = {s.id for s in self.ctx.world.order_shipments(self.order.number)}
        return [
            ReturnNode(self.ctx, r)
            for r in sorted(self.ctx.world.returns.values(), key=lambda r: r.id)
            if r.shipment_id in ids
        ]

    @property
    def customer(self) -> dict[str, Any]:
        address = AddressNode(self.order.billing)
        return {
            "id": self.order.customer_id,
            "email": address.email,
            "first_name": address.first_name,
            "last_name": address.last_name,
        }

    @property
    def purchase_order_number(self) -> str | None:
        return _text(self.order.po_number)

    @property
    def account(self) -> dict[str, Any] | None:
        if not self.order.account_id:
            return None
        return {"id": self.order.account_id, "name": self.order.account_name}


class OrderLineNode:
    typename = "ProductOrderLine"

    def __init__(self, ctx: Context, order: Order, line: OrderLine) -> None:
        self.ctx, self.order, self.line = ctx, order, line
        self.ref: SizeRef = ctx.world.sizes[line.size_id]

    @property
    def id(self) -> int:
        return self.line.id

    @property
    def size(self) -> str:
        return self.ref.size.name

    @property
    def product_number(self) -> str:
        return self.ref.product.sku

    @property
    def has_any_discount(self) -> bool:
        return self.line.price < self.line.original_price

    @property
    def comment(self) -> str | None:
        return _text(self.line.comment)

    @property
    def product_name(self) -> str:
        return self.ref.product.name

    @property
    def product_brand(self) -> str:
        return self.ref.product.brand

    @property
    def product_variant_name(self) -> str:
        return self.ref.variant.name

    @property
    def quantity(self) -> int:
        return self.line.qty - self.line.cancelled_qty

    @property
    def cancelled_quantity(self) -> int:
        return self.line.cancelled_qty

    @property
    def returned_quantity(self) -> int:
        return sum(
            ln.qty
            for r in self.ctx.world.returns.values()
            for ln in r.lines
            if ln.order_line_id == self.line.id
        )

    def unit_original_price(self, info: Info, including_tax: bool = True) -> Money:
        return Money(_net(self.line.original_price, including_tax), self.order.currency)

    def unit_price(self, info: Info, including_tax: bool = True) -> Money:
        return Money(_net(self.line.price, including_tax), self.order.currency)

    def line_value(self, info: Info, including_tax: bool = True) -> Money:
        value = self.line.price * self.quantity
        return Money(_net(value, including_tax), self.order.currency)

    @property
    def discount_percent(self) -> float:
        original = self.line.original_price
        return round(100 * (original - self.line.price) / original, 2) if original else 0.0

    @property
    def tax_percent(self) -> float:
        return self.line.tax_percent

    @property
    def product(self) -> ProductNode:
        return ProductNode(self.ctx, self.ref.product.id)

    @property
    def product_variant(self) -> VariantNode:
        return VariantNode(self.ctx, self.ref.product.id, self.ref.variant)

    @property
    def product_size(self) -> ProductSizeNode:
        return ProductSizeNode(self.ctx, self.ref)


# -- shipments -------------------------------------------------------------------------------


class ShipmentNode:
    def __init__(self, ctx: Context, shipment: Shipment) -> None:
        self.ctx, self.shipment = ctx, shipment
        self.order_record = ctx.world.orders[shipment.order_number]

    @property
    def typename(self) -> str:
        return "WholesaleShipment" if self.order_record.account_id else "DirectToConsumerShipment"

    @property
    def id(self) -> int:
        return self.shipment.id

    @property
    def number(self) -> str:
        return self.shipment.number

    @property
    def created_at(self) -> datetime:
        return self.shipment.created_at

    @property
    def updated_at(self) -> datetime:
        return self.shipment.modified_at or self.shipment.created_at

    @property
    def is_good_to_go(self) -> bool:
        return self.shipment.gtg

    @property
    def is_printed(self) -> bool:
        return False

    @property
    def is_shipped(self) -> bool:
        return self.shipment.shipped

    @property
    def is_on_hold(self) -> bool:
        return self.order_record.hold

    @property
    def consignation_warehouse_status(self) -> str:
        return "NONE"

    @property
    def tracking_number(self) -> str | None:
        return _text(self.shipment.tracking)

    @property
    def return_tracking_number(self) -> str | None:
        return _text(self.shipment.return_slip_tracking)

    @property
    def number_of_packages(self) -> int:
        return self.shipment.packages

    def _value(self) -> float:
        goods = 0.0
        for sl in self.shipment.lines:
            line = self.ctx.world.line(self.order_record, sl.order_line_id)
            goods += (line.price if line else 0.0) * sl.qty
        charges = self.ctx.world.charges(self.shipment)
        return goods + charges.shipping + charges.handling - charges.voucher

    def total(self) -> Money:
        return Money(self._value(), self.order_record.currency)

    def grand_total(self, info: Info, including_tax: bool = True) -> Money:
        return Money(_net(self._value(), including_tax), self.order_record.currency)

    @property
    def additional_message(self) -> str | None:
        return _text(self.shipment.additional_message)

    @property
    def shipped_at(self) -> datetime | None:
        return self.shipment.shipped_at

    @property
    def is_paid(self) -> bool:
        return self.shipment.paid

    @property
    def paid_at(self) -> datetime | None:
        return self.shipment.paid_at

    @property
    def is_captured(self) -> bool:
        return self.shipment.captured

    @property
    def captured_at(self) -> datetime | None:
        return self.shipment.captured_at

    @property
    def captured_value(self) -> Money | None:
        return Money(self._value(), self.order_record.currency) if self.shipment.captured else None

    @property
    def currency_base_rate(self) -> float:
        return base_rate(self.order_record.currency)

    @property
    def used_fallback_tax(self) -> bool:
        return False

    @property
    def carrier_information(self) -> dict[str, Any] | None:
        if not (self.shipment.carrier or self.shipment.service):
            return None
        return {
            "carrier_name": _text(self.shipment.carrier),
            "service_name": _text(self.shipment.service),
        }

    @property
    def lines(self) -> list[ShipmentLineNode]:
        return [ShipmentLineNode(self.ctx, self.shipment, sl) for sl in self.shipment.lines]

    @property
    def shipping_address(self) -> AddressNode:
        return AddressNode(self.order_record.delivery)

    @property
    def order(self) -> OrderNode:
        return OrderNode(self.ctx, self.order_record)

    @property
    def customer(self) -> dict[str, Any]:
        return OrderNode(self.ctx, self.order_record).customer

    @property
    def account(self) -> dict[str, Any] | None:
        return OrderNode(self.ctx, self.order_record).account


class ShipmentLineNode:
    def __init__(self, ctx: Context, shipment: Shipment, line: ShipmentLine) -> None:
        self.ctx, self.shipment, self.line = ctx, shipment, line
        self.order = ctx.world.orders[shipment.order_number]
        found = ctx.world.line(self.order, line.order_line_id)
        assert found is not None, "shipment lines point at their order's lines"
        self.order_line_record = found

    @property
    def id(self) -> int:
        return self.line.id

    @property
    def quantity(self) -> int:
        return self.line.qty

    @property
    def returned_quantity(self) -> int:
        return sum(
            ln.qty
            for r in self.ctx.world.returns.values()
            for ln in r.lines
            if ln.shipment_line_id == self.line.id
        )

    @property
    def invoiced_quantity(self) -> int:
        """[I] Centra invoices a shipment when it is captured."""
        return self.line.qty if self.shipment.captured else 0

    def unit_price(self, info: Info, including_tax: bool = True) -> Money:
        return Money(_net(self.order_line_record.price, including_tax), self.order.currency)

    def line_value(self, info: Info, including_tax: bool = True) -> Money:
        value = self.order_line_record.price * self.line.qty
        return Money(_net(value, including_tax), self.order.currency)

    @property
    def order_line(self) -> OrderLineNode:
        return OrderLineNode(self.ctx, self.order, self.order_line_record)


# -- returns ---------------------------------------------------------------------------------


class ReturnNode:
    def __init__(self, ctx: Context, record: ReturnRecord) -> None:
        self.ctx, self.record = ctx, record
        self.shipment_record = ctx.world.shipments[record.shipment_id]
        self.order_record = ctx.world.orders[self.shipment_record.order_number]

    @property
    def typename(self) -> str:
        return "WholesaleReturn" if self.order_record.account_id else "DirectToConsumerReturn"

    @property
    def id(self) -> int:
        return self.record.id

    @property
    def return_status(self) -> str:
        return "COMPLETED" if self.record.completed else "IN_PROGRESS"

    @property
    def status(self) -> str:
        return self.return_status

    @property
    def created_at(self) -> datetime:
        return self.record.created_at

    @property
    def total_quantity(self) -> int:
        return sum(ln.qty for ln in self.record.lines)

    def grand_total(self, info: Info, including_tax: bool | None = True) -> Money:
        """[I] What the customer gets back: goods and returned costs, less the return cost."""
        r = self.record
        goods = sum(ln.price * ln.qty for ln in r.lines)
        value = goods + r.shipping_cost + r.handling_cost - r.voucher_value - r.return_cost
        return Money(_net(value, including_tax), self.order_record.currency)

    @property
    def returned_to_stock(self) -> bool:
        return self.record.return_stock

    @property
    def comment(self) -> str | None:
        return self.record.comment

    @property
    def currency_base_rate(self) -> float:
        return base_rate(self.order_record.currency)

    @property
    def lines(self) -> list[dict[str, Any]]:
        nodes = []
        for ln in self.record.lines:
            shipment_line = next(
                sl for sl in self.shipment_record.lines if sl.id == ln.shipment_line_id
            )
            nodes.append(
                {
                    "id": ln.id,
                    "quantity": ln.qty,
                    "line_value": _money_field(ln.price * ln.qty, self.order_record.currency),
                    "unit_price": _money_field(ln.price, self.order_record.currency),
                    "order_line": ShipmentLineNode(
                        self.ctx, self.shipment_record, shipment_line
                    ).order_line,
                    "shipment_line": ShipmentLineNode(
                        self.ctx, self.shipment_record, shipment_line
                    ),
                }
            )
        return nodes

    @property
    def return_warehouse(self) -> WarehouseNode | None:
        change = self.ctx.world.stock_changes.get(self.record.stock_change_id or 0)
        return None if change is None else WarehouseNode(self.ctx, change.warehouse_id)

    @property
    def store(self) -> StoreNode:
        return StoreNode(self.ctx.world.stores[self.order_record.store_uri])

    @property
    def external_id(self) -> str | None:
        return self.ctx.conversions.external_id(
            self.ctx.token.integration_name, "Return", self.record.id
        )

    @property
    def order(self) -> OrderNode:
        return OrderNode(self.ctx, self.order_record)

    @property
    def shipment(self) -> ShipmentNode:
        return ShipmentNode(self.ctx, self.shipment_record)

    @property
    def customer(self) -> dict[str, Any]:
        return OrderNode(self.ctx, self.order_record).customer

    @property
    def account(self) -> dict[str, Any] | None:
        return OrderNode(self.ctx, self.order_record).account


def _money_field(value: float, code: str) -> Any:
    """A ``(includingTax)`` money field of a plain dict node."""

    def field(info: Info, including_tax: bool = True) -> Money:
        return Money(_net(value, including_tax), code)

    return field


# -- catalogue and stock ---------------------------------------------------------------------


class ProductNode:
    def __init__(self, ctx: Context, product_id: int) -> None:
        self.ctx = ctx
        self.product = ctx.world.products[product_id]

    @property
    def id(self) -> int:
        return self.product.id

    @property
    def name(self) -> str:
        return self.product.name

    @property
    def product_number(self) -> str:
        return self.product.sku

    @property
    def status(self) -> str:
        return "ACTIVE" if self.product.active else "INACTIVE"

    @property
    def is_bundle(self) -> bool:
        return self.product.is_bundle

    @property
    def brand_name(self) -> str | None:
        return _text(self.product.brand)

    @property
    def harmonized_commodity(self) -> str | None:
        return _text(self.product.harm_code)

    @property
    def country_of_origin(self) -> CountryNode | None:
        return _country(self.product.country_of_origin)

    @property
    def created_at(self) -> datetime:
        return self.product.created_at

    @property
    def updated_at(self) -> datetime:
        return self.product.modified_at

    @property
    def variants(self) -> list[VariantNode]:
        return [VariantNode(self.ctx, self.product.id, v) for v in self.product.variants]

    @property
    def attributes(self) -> list[AttributeNode]:
        return attributes_of(self.product.attributes, "Product")


class VariantNode:
    def __init__(self, ctx: Context, product_id: int, variant: Variant) -> None:
        self.ctx, self.product_id, self.variant = ctx, product_id, variant

    @property
    def id(self) -> int:
        return self.variant.id

    @property
    def name(self) -> str:
        return self.variant.name

    @property
    def variant_number(self) -> str:
        return self.variant.sku

    @property
    def status(self) -> str:
        return ProductNode(self.ctx, self.product_id).status

    @property
    def product(self) -> ProductNode:
        return ProductNode(self.ctx, self.product_id)

    @property
    def product_sizes(self) -> list[ProductSizeNode]:
        return [ProductSizeNode(self.ctx, self.ctx.world.sizes[s.id]) for s in self.variant.sizes]

    @property
    def attributes(self) -> list[AttributeNode]:
        """The emulator keeps custom attributes on products only."""
        return []


class ProductSizeNode:
    def __init__(self, ctx: Context, ref: SizeRef) -> None:
        self.ctx, self.ref = ctx, ref

    @property
    def id(self) -> int:
        return self.ref.size.id

    @property
    def sku(self) -> str:
        return self.ref.physical_sku

    @property
    def ean(self) -> str | None:
        return _text(self.ref.size.ean)

    @property
    def upc(self) -> str | None:
        return _text(self.ref.size.upc)

    @property
    def gtin(self) -> str | None:
        return self.ean

    @property
    def size_number(self) -> str | None:
        return _text(self.ref.size.sku)

    @property
    def description(self) -> str | None:
        return _text(self.ref.size.name)

    @property
    def preorder(self) -> bool:
        return False

    @property
    def is_active(self) -> bool:
        return self.ref.product.active

    @property
    def size(self) -> dict[str, Any]:
        return {"id": self.ref.size.id, "name": self.ref.size.name}

    @property
    def product_variant(self) -> VariantNode:
        return VariantNode(self.ctx, self.ref.product.id, self.ref.variant)

    def stock(
        self,
        info: Info,
        where: dict[str, Any] | None = None,
        sort: list[str] | None = None,
        limit: int | None = 20,
        page: int | None = 1,
    ) -> list[StockNode]:
        from .paging import descending, page_of

        wanted = (where or {}).get("warehouse_id")
        ids = sorted(self.ctx.world.warehouses, reverse=descending(sort))
        rows = [
            StockNode(self.ctx, warehouse_id, self.ref.size.id)
            for warehouse_id in ids
            if wanted is None or warehouse_id in wanted
        ]
        return page_of(rows, limit, page)

    def stock_totals(self, info: Info, where: dict[str, Any] | None = None) -> StockNode:
        wanted = (where or {}).get("warehouse_id")
        ids = [w for w in self.ctx.world.warehouses if wanted is None or w in wanted]
        return StockNode(self.ctx, None, self.ref.size.id, ids)


class StockNode:
    """Stock of a size in one warehouse, or summed over several (``StockTotals``).

    [I] The emulator has no back-orders and links no incoming goods to orders: demand and
    linked incoming are 0; incoming is what open supplier deliveries announce.
    """

    def __init__(
        self,
        ctx: Context,
        warehouse_id: int | None,
        size_id: int,
        warehouse_ids: list[int] | None = None,
    ) -> None:
        self.ctx, self.warehouse_id, self.size_id = ctx, warehouse_id, size_id
        self.warehouse_ids = [warehouse_id] if warehouse_id is not None else (warehouse_ids or [])

    def _sum(self, attribute: str) -> int:
        total = 0
        for warehouse_id in self.warehouse_ids:
            level = self.ctx.world.stock.get((warehouse_id, self.size_id))
            total += getattr(level, attribute) if level else 0
        return total

    @property
    def physical_quantity(self) -> int:
        return self._sum("physical")

    @property
    def allocated_quantity(self) -> int:
        return self._sum("allocated")

    @property
    def free_to_allocate_quantity(self) -> int:
        return self.physical_quantity - self.allocated_quantity

    @property
    def demand_quantity(self) -> int:
        return 0

    @property
    def on_delivery_quantity(self) -> int:
        world = self.ctx.world
        return sum(
            d.quantities.get(self.size_id, 0)
            for d in world.supplier_deliveries.values()
            if d.accepted_at is None
            and world.supplier_orders[d.order_id].confirmed
            and world.supplier_orders[d.order_id].warehouse_id in self.warehouse_ids
        )

    @property
    def incoming_quantity(self) -> int:
        return self.on_delivery_quantity

    @property
    def linked_incoming_quantity(self) -> int:
        return 0

    @property
    def unlinked_incoming_quantity(self) -> int:
        return self.incoming_quantity

    @property
    def available_now_quantity(self) -> int:
        return self.free_to_allocate_quantity - self.demand_quantity

    @property
    def available_quantity(self) -> int:
        return self.available_now_quantity + self.unlinked_incoming_quantity

    @property
    def unshipped_quantity(self) -> int:
        return self.allocated_quantity

    @property
    def warehouse(self) -> WarehouseNode | None:
        return None if self.warehouse_id is None else WarehouseNode(self.ctx, self.warehouse_id)

    @property
    def product_size(self) -> ProductSizeNode:
        return ProductSizeNode(self.ctx, self.ctx.world.sizes[self.size_id])


class WarehouseNode:
    def __init__(self, ctx: Context, warehouse_id: int) -> None:
        self.ctx = ctx
        self.warehouse: Warehouse = ctx.world.warehouses[warehouse_id]

    @property
    def id(self) -> int:
        return self.warehouse.id

    @property
    def name(self) -> str:
        return self.warehouse.name

    @property
    def status(self) -> str:
        return "ACTIVE"

    @property
    def stock_ownership(self) -> str:
        return "OWN"

    @property
    def allocation_policy(self) -> str:
        return _POLICIES[self.warehouse.allocation_policy]

    @property
    def stock_master(self) -> str:
        return "CENTRA"

    @property
    def is_hidden_from_stock_view(self) -> bool:
        return False

    @property
    def is_consignation(self) -> bool:
        return False

    @property
    def threshold(self) -> int:
        return 0

    def stock_changes(
        self,
        info: Info,
        where: dict[str, Any] | None = None,
        sort: list[str] | None = None,
        limit: int | None = 20,
        page: int | None = 1,
    ) -> list[StockChangeNode]:
        from .queries import stock_change_rows

        filtered = {**(where or {}), "warehouse_id": [self.warehouse.id]}
        return stock_change_rows(self.ctx, filtered, sort or ["id_DESC"], limit, page)

    def stock_totals(self, info: Info, where: dict[str, Any] | None = None) -> dict[str, int]:
        sizes = {size_id for (wid, size_id) in self.ctx.world.stock if wid == self.warehouse.id}
        fields = (
            "physical_quantity",
            "allocated_quantity",
            "free_to_allocate_quantity",
            "demand_quantity",
            "incoming_quantity",
            "linked_incoming_quantity",
            "unlinked_incoming_quantity",
            "on_delivery_quantity",
            "available_now_quantity",
            "available_quantity",
            "unshipped_quantity",
        )
        stocks = [StockNode(self.ctx, self.warehouse.id, size_id) for size_id in sizes]
        return {name: sum(getattr(s, name) for s in stocks) for name in fields}


class StockChangeNode:
    typename = "StockChange"

    def __init__(self, ctx: Context, change: StockChange) -> None:
        self.ctx, self.change = ctx, change

    @property
    def id(self) -> int:
        return self.change.id

    @property
    def created_at(self) -> datetime:
        return self.change.created_at

    @property
    def comment(self) -> str:
        return self.change.comment

    @property
    def type(self) -> str:
        return self.change.kind

    def lines(
        self,
        info: Info,
        where: dict[str, Any] | None = None,
        sort: list[str] | None = None,
        limit: int | None = 20,
        page: int | None = 1,
    ) -> list[StockChangeLineNode]:
        from .paging import descending, page_of

        wanted = (where or {}).get("product_size_id")
        rows = sorted(
            (ln for ln in self.change.lines if wanted is None or ln.size_id in wanted),
            key=lambda ln: ln.id,
            reverse=descending(sort),
        )
        return page_of([StockChangeLineNode(self.ctx, self.change, ln) for ln in rows], limit, page)

    @property
    def warehouse(self) -> WarehouseNode:
        return WarehouseNode(self.ctx, self.change.warehouse_id)


class StockChangeLineNode:
    def __init__(self, ctx: Context, change: StockChange, line: StockChangeLine) -> None:
        self.ctx, self.change, self.line = ctx, change, line

    @property
    def id(self) -> int:
        return self.line.id

    @property
    def is_available(self) -> bool:
        return True

    @property
    def free_to_allocate_quantity(self) -> int:
        return self.line.delivered

    @property
    def delivered_quantity(self) -> int:
        return self.line.delivered

    @property
    def unit_cost(self) -> Money | None:
        if self.line.unit_cost is None or self.line.cost_currency is None:
            return None
        return Money(self.line.unit_cost, self.line.cost_currency)

    @property
    def currency_base_rate(self) -> float:
        return base_rate(self.line.cost_currency or BASE_CURRENCY)

    @property
    def product_size(self) -> ProductSizeNode:
        return ProductSizeNode(self.ctx, self.ctx.world.sizes[self.line.size_id])

    @property
    def created_from_shipment_line(self) -> ShipmentLineNode | None:
        if self.line.shipment_line_id is None:
            return None
        for shipment in self.ctx.world.shipments.values():
            for sl in shipment.lines:
                if sl.id == self.line.shipment_line_id:
                    return ShipmentLineNode(self.ctx, shipment, sl)
        return None

    @property
    def warehouse(self) -> WarehouseNode:
        return WarehouseNode(self.ctx, self.change.warehouse_id)

    @property
    def stock_change(self) -> StockChangeNode:
        return StockChangeNode(self.ctx, self.change)


# -- purchasing ------------------------------------------------------------------------------


def supplier_ids(ctx: Context) -> dict[str, int]:
    """[I] The emulator keeps suppliers as names on supplier orders: ids by first use."""
    names: dict[str, int] = {}
    for order in sorted(ctx.world.supplier_orders.values(), key=lambda o: o.id):
        names.setdefault(order.supplier_name, len(names) + 1)
    return names


def supplier_node(ctx: Context, order: SupplierOrder) -> dict[str, Any]:
    return {
        "id": supplier_ids(ctx)[order.supplier_name],
        "name": order.supplier_name,
        "country": _country(order.supplier_country),
    }


class PurchaseOrderNode:
    typename = "PurchaseOrder"

    def __init__(self, ctx: Context, order: SupplierOrder) -> None:
        self.ctx, self.order = ctx, order

    def _deliveries(self) -> list[SupplierDelivery]:
        return [
            d for d in self.ctx.world.supplier_deliveries.values() if d.order_id == self.order.id
        ]

    def _received(self, size_id: int) -> int:
        return sum(d.accepted.get(size_id, 0) for d in self._deliveries() if d.accepted_at)

    @property
    def id(self) -> int:
        return self.order.id

    @property
    def status(self) -> str:
        if not self.order.confirmed:
            return "DRAFT"
        received = [self._received(line.size_id) >= line.qty for line in self.order.lines]
        if all(received):
            return "DELIVERED"
        if any(self._received(line.size_id) for line in self.order.lines):
            return "PARTIALLY_DELIVERED"
        return "CONFIRMED"

    @property
    def created_at(self) -> datetime:
        return self.order.created_at

    @property
    def updated_at(self) -> datetime:
        accepted = [d.accepted_at for d in self._deliveries() if d.accepted_at]
        return max([self.order.created_at, *accepted])

    @property
    def eta(self) -> datetime | None:
        return self.order.eta

    @property
    def requested_etd(self) -> datetime | None:
        return self.order.etd

    @property
    def internal_comment(self) -> str | None:
        return None

    @property
    def external_comment(self) -> str | None:
        return _text(self.order.message)

    @property
    def quantity(self) -> int:
        return sum(line.qty for line in self.order.lines)

    @property
    def _currency(self) -> str:
        return self.order.lines[0].currency if self.order.lines else "SEK"

    @property
    def total(self) -> Money:
        return Money(sum(line.qty * line.cost for line in self.order.lines), self._currency)

    @property
    def currency(self) -> CurrencyNode:
        return CurrencyNode(self._currency)

    @property
    def lines(self) -> list[dict[str, Any]]:
        return [
            {
                "quantity": line.qty,
                "delivered_quantity": self._received(line.size_id),
                "unit_cost": Money(line.cost, line.currency),
                "product_size": ProductSizeNode(self.ctx, self.ctx.world.sizes[line.size_id]),
            }
            for line in self.order.lines
        ]

    @property
    def supplier(self) -> dict[str, Any]:
        return supplier_node(self.ctx, self.order)

    @property
    def preferred_warehouse(self) -> WarehouseNode:
        return WarehouseNode(self.ctx, self.order.warehouse_id)

    def deliveries(
        self,
        info: Info,
        where: dict[str, Any] | None = None,
        sort: list[str] | None = None,
        limit: int | None = 20,
        page: int | None = 1,
    ) -> list[PurchaseOrderDeliveryNode]:
        from .queries import delivery_rows

        return delivery_rows(
            self.ctx, where or {}, sort or ["id_DESC"], limit, page, order_id=self.order.id
        )


class PurchaseOrderDeliveryNode:
    typename = "PurchaseOrderDelivery"

    def __init__(self, ctx: Context, delivery: SupplierDelivery) -> None:
        self.ctx, self.delivery = ctx, delivery
        self.order = ctx.world.supplier_orders[delivery.order_id]

    @property
    def id(self) -> int:
        return self.delivery.id

    @property
    def number(self) -> str:
        return self.delivery.number

    @property
    def status(self) -> str:
        return "ACCEPTED" if self.delivery.accepted_at else "PENDING"

    @property
    def created_at(self) -> datetime:
        return self.delivery.created_at

    @property
    def ex_factory_date(self) -> datetime | None:
        return self.delivery.etd

    @property
    def eta(self) -> datetime | None:
        return self.delivery.eta

    @property
    def accepted_at(self) -> datetime | None:
        return self.delivery.accepted_at

    @property
    def is_accepted(self) -> bool:
        return self.delivery.accepted_at is not None

    @property
    def currency(self) -> CurrencyNode:
        return PurchaseOrderNode(self.ctx, self.order).currency

    @property
    def lines(self) -> list[dict[str, Any]]:
        costs = {line.size_id: line for line in self.order.lines}
        return [
            {
                "quantity": qty,
                "delivered_quantity": self.delivery.accepted.get(size_id, 0),
                "unit_cost": Money(costs[size_id].cost, costs[size_id].currency),
                "product_size": ProductSizeNode(self.ctx, self.ctx.world.sizes[size_id]),
            }
            for size_id, qty in self.delivery.quantities.items()
        ]

    @property
    def supplier(self) -> dict[str, Any]:
        return supplier_node(self.ctx, self.order)

    @property
    def purchase_order(self) -> PurchaseOrderNode:
        return PurchaseOrderNode(self.ctx, self.order)

    @property
    def warehouse(self) -> WarehouseNode:
        return WarehouseNode(self.ctx, self.order.warehouse_id)

    @property
    def stock_change(self) -> StockChangeNode | None:
        change = self.ctx.world.stock_changes.get(self.delivery.stock_change_id or 0)
        return None if change is None else StockChangeNode(self.ctx, change)
