"""The Order API's JSON shapes, built from the model at the edge.

Types follow the documented examples exactly (string ids in one place, ints in another,
``0``/``1`` flags), and every time becomes a naive string in the store's zone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .model import (
    Address,
    AllocationRequest,
    BundleMode,
    Order,
    OrderLine,
    ReturnRecord,
    Shipment,
    SizeRef,
    Store,
    SupplierDelivery,
    SupplierOrder,
)
from .world import World

__all__ = [
    "UNSET",
    "allocation_request_node",
    "delivery_node",
    "flag",
    "local",
    "num",
    "order_node",
    "parse_local",
    "product_row",
    "return_node",
    "shipment_node",
    "stock_row",
    "supplier_order_node",
]

UNSET = "0000-00-00 00:00:00"
_FILTER = re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$")


def local(moment: datetime | None, zone: ZoneInfo, *, seconds: bool = True) -> str:
    """Naive merchant-local text; Centra writes ``0000-00-00 00:00:00`` for "not set"."""
    if moment is None:
        return UNSET if seconds else UNSET[:16]
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def parse_local(text: str, zone: ZoneInfo) -> datetime:
    """Read a filter value (``YYYY-mm-dd`` or ``YYYY-mm-dd HH:MM:SS``) in the store's zone."""
    value = text.strip()
    if not _FILTER.match(value):
        raise ValueError(value)
    fmt = "%Y-%m-%d %H:%M:%S" if " " in value else "%Y-%m-%d"
    return datetime.strptime(value, fmt).replace(tzinfo=zone)


def num(value: float) -> int | float:
    """Whole amounts as ints (``25``), others as floats (``3978.75``), as in the examples."""
    rounded = round(value, 2)
    return int(rounded) if rounded == int(rounded) else rounded


def flag(value: bool) -> int:
    return 1 if value else 0


def _address(prefix: str, address: Address, *, billing: bool) -> dict[str, str]:
    fields = {
        "Name": address.name,
        "Company": address.company,
        "Address": address.address,
        "Coaddress": address.coaddress,
        "City": address.city,
        "State": address.state,
        "Zipcode": address.zipcode,
        "Country": address.country,
        "Email": address.email,
        "Tele": address.tele,
    }
    if not billing:
        fields["Cell"] = address.cell
    return {f"{prefix}{key}": value for key, value in fields.items()}


def _tax(total: float, percent: float = 25.0) -> float:
    return round(total - total / (1 + percent / 100), 2)


def _line(world: World, line: OrderLine, qty: int, price: float) -> dict[str, Any]:
    ref = world.sizes[line.size_id]
    warehouse = world.warehouses[line.warehouse_id]
    return {
        "lineId": str(line.id),
        "sku": ref.product.sku,
        "variantSku": ref.variant.sku,
        "sizeSku": ref.size.sku,
        "name": ref.product.name,
        "variant": ref.variant.name,
        "size": ref.size.name,
        "ean": ref.size.ean,
        "upc": ref.size.upc,
        "qty": qty,
        "originalPrice": num(line.original_price),
        "price": num(price),
        "weight": num(ref.product.weight),
        "weightUnit": ref.product.weight_unit,
        "countryOfOrigin": ref.product.country_of_origin,
        "harmCode": ref.product.harm_code,
        "comment": line.comment,
        "warehouses": [{"name": warehouse.name, "itemQty": str(qty)}],
        "isBundle": False,
        "categories": list(ref.product.categories),
    }


RowBuilder = Callable[[OrderLine, int, float], dict[str, Any]]


def _lay_out(
    world: World,
    order: Order,
    goods: list[tuple[OrderLine, int]],
    mode: BundleMode,
    build: RowBuilder,
) -> list[dict[str, Any]]:
    """``products[]`` as the plugin's bundle mode shows it; ``goods`` are lines with a qty.

    A bundle's items carry ``isPartOfBundle`` (the bundle product's id [I]); the bundle's
    own line (``isBundle: true``) stands where its first item would, with ``bundle[]``
    holding the items, or priced 0 beside them, or alone, per mode.
    """
    groups: dict[int, list[tuple[OrderLine, int]]] = {}
    entries: list[tuple[OrderLine, int] | int] = []
    for line, qty in goods:
        if line.bundle_line_id is None:
            entries.append((line, qty))
            continue
        if line.bundle_line_id not in groups:
            groups[line.bundle_line_id] = []
            entries.append(line.bundle_line_id)
        groups[line.bundle_line_id].append((line, qty))
    rows: list[dict[str, Any]] = []
    for entry in entries:
        if not isinstance(entry, int):
            rows.append(build(entry[0], entry[1], entry[0].price))
            continue
        bundle = world.line(order, entry)
        assert bundle is not None, "item lines point at their order's bundle line"
        per = {item.id: units for item, units in world.bundle_items(order, bundle)}
        product_id = str(world.sizes[bundle.size_id].product.id)
        items = [
            build(line, qty, line.price) | {"isPartOfBundle": product_id}
            for line, qty in groups[entry]
        ]
        count = min(qty // per[line.id] for line, qty in groups[entry])
        if mode == "only_items":
            rows.extend(items)
        elif mode == "items_in_bundles":
            rows.append(build(bundle, count, bundle.price) | {"isBundle": True, "bundle": items})
        else:
            rows.append(build(bundle, count, 0.0) | {"isBundle": True})
            if mode == "bundles_and_items":
                rows.extend(items)
    return rows


def _header(store: Store, order: Order) -> dict[str, Any]:
    zone = store.zone
    node: dict[str, Any] = {
        "orderId": str(order.number),
        "selectionId": order.selection_id,
        "orderDate": local(order.created_at, zone),
        "cancelDate": local(order.cancel_date, zone),
        "preferredDeliveryDate": local(order.delivery_date, zone),
        "estimatedDeliveryDate": UNSET,
        "orderStore": store.name,
        "orderCurrency": order.currency,
        "customerId": str(order.customer_id),
        "accountId": str(order.account_id),
        "billingVAT": "",
        "poNumber": order.po_number,
        "shippingList": order.shipping_list,
        "defaultCarrier": "",
        "deliveryService": "",
        "suspect": 0,
        "hold": flag(order.hold),
        "internalComment": order.internal_comment,
        "otherComment": order.other_comment,
        "marketplace_source": "",
        "marketplace_source_id": "",
    }
    for key, terms in (
        ("shippingTerms", order.shipping_terms),
        ("paymentTerms", order.payment_terms),
    ):
        if terms is not None:
            node[key] = {"id": terms.id, "name": terms.name, "description": terms.description}
    node |= _address("billing", order.billing, billing=True)
    node |= _address("delivery", order.delivery, billing=False)
    # [I] The WMS guide does not say which object holds the Ingrid keys: top level on both.
    node |= order.shipwallet
    return node


def shipment_node(world: World, store: Store, shipment: Shipment, base: str) -> dict[str, Any]:
    """The shipment as GET /shipments and PUT /shipments/{id} return it."""
    order = world.orders[shipment.order_number]
    node = _header(store, order)
    lines = {ln.id: ln for ln in order.lines}
    serials = {sl.order_line_id: sl.serial_numbers for sl in shipment.lines if sl.serial_numbers}

    def row(line: OrderLine, qty: int, price: float) -> dict[str, Any]:
        built = _line(world, line, qty, price)
        if line.id in serials:
            built["serialNumbers"] = list(serials[line.id])  # [I] field name undocumented
        return built

    goods = [(lines[sl.order_line_id], sl.qty) for sl in shipment.lines]
    products = _lay_out(world, order, goods, store.bundles_in_shipments, row)
    items = sum(lines[sl.order_line_id].price * sl.qty for sl in shipment.lines)
    charges = world.charges(shipment)
    total = items + charges.shipping + charges.handling - charges.voucher
    tax = _tax(total)
    node |= {
        "shipmentId": shipment.number,
        "proforma": f"{base}/proforma?shipment={shipment.number}",
        "deliveryNote": f"{base}/delnote?shipment={shipment.number}",
        "shipmentDate": local(shipment.created_at, store.zone),
        "trackingNumber": shipment.tracking,
        "trackingUrl": shipment.tracking_url,
        "returnSlipTracking": shipment.return_slip_tracking,
        "paid": flag(shipment.paid),
        "shouldCapture": flag(shipment.should_capture),
        "gtg": flag(shipment.gtg),
        "shippingValue": num(charges.shipping),
        "voucherValue": num(charges.voucher),
        "grandTotalValue": num(total),
        "grandTotalTaxValue": num(tax),
        "taxAdded": 0,
        "taxDeducted": 0,
        "taxBreakdown": [{"description": "VAT", "taxPercent": 25, "value": num(tax)}],
        "products": products,
    }
    if shipment.carrier:
        node["defaultCarrier"], node["deliveryService"] = shipment.carrier, shipment.service
    if shipment.captured:
        node["invoices"] = [f"{base}/invoice?shipment={shipment.number}"]
    return node


def _order_row(world: World, line: OrderLine, qty: int, price: float) -> dict[str, Any]:
    """An order's product row: the shipment line's fields plus prices, taxes and ids."""
    row = _line(world, line, qty, price)
    ref = world.sizes[line.size_id]
    original = line.original_price
    total = price * qty
    return row | {
        "brand": ref.product.brand,
        "otherComment": "",
        "taxPercent": num(line.tax_percent),
        "priceDiscount": num(original - price),
        "priceDiscountAsPercent": num(100 * (original - price) / original if original else 0),
        "taxValue": num(_tax(price, line.tax_percent)),
        "totalTaxValue": num(_tax(total, line.tax_percent)),
        "totalPrice": num(total),
        "totalPriceWithoutTax": num(total - _tax(total, line.tax_percent)),
        "totalPriceWithTax": num(total),
        "anyDiscount": price < original,
        "priceEachWithoutTax": num(price - _tax(price, line.tax_percent)),
        "priceEachReduction": num(original - price),
        "localizedSize": {"localizedSize": ref.size.name, "localizationDefinitionName": ""},
        "warehouses": [{"name": world.warehouses[line.warehouse_id].name, "itemQty": qty}],
        "productId": ref.product.id,
        "stockItemId": ref.size.id,
    }


def order_node(world: World, store: Store, order: Order) -> dict[str, Any]:
    """The order as GET /orders returns it."""
    node = _header(store, order)
    goods = [(line, line.qty - line.cancelled_qty) for line in world.physical_lines(order)]
    products = _lay_out(
        world, order, goods, store.bundles_in_orders, lambda ln, q, p: _order_row(world, ln, q, p)
    )
    items = sum(line.price * qty for line, qty in goods)
    discount = sum((line.original_price - line.price) * qty for line, qty in goods)
    tax = _tax(items)
    grand_total = items + order.shipping_value + order.handling_value - order.voucher_value
    node |= {
        "orderStatus": str(int(order.status)),  # [I] format undocumented: the status number
        "internalOrder": flag(order.internal),
        "waitingForPayment": 0,
        "marketId": store.market_id,
        "pricelistId": store.pricelist_id,
        "ipAddress": "127.0.0.1",
        "paymentPlugin": order.payment_plugin,
        "paymentType": order.payment_type,
        "paymentDescription": order.payment_plugin,
        "paymentReference": order.payment_reference,
        "paymentMethod": order.payment_method,
        "shippingValue": num(order.shipping_value),
        "voucherValue": num(order.voucher_value),
        "grandTotalValue": num(grand_total),
        "grandTotalTaxValue": num(_tax(grand_total)),
        # Prices include VAT, so nothing is added or deducted (as in the docs' example).
        "taxAdded": 0,
        "taxDeducted": 0,
        "totalItemsPriceTax": num(tax),
        "totalItemsPrice": num(items),
        "totalItemsWithoutTax": num(items - tax),
        "totalItemsDiscount": num(discount),
        "taxBreakdown": [{"description": "VAT", "taxPercent": 25, "value": num(tax)}],
        "discounts": {
            "anyDiscount": False,
            "discount": f"0.00 {order.currency}",
            "discountAsNumber": 0,
            "vouchers": [],
            "automaticDiscounts": [],
        },
        "shipments": [
            {
                "shipmentId": s.number,
                "shippedDate": local(s.shipped_at, store.zone),
                "carrier": s.carrier,
                "service": s.service,
                "trackingId": s.tracking,
                "trackingUrl": s.tracking_url,
                "returnSlipTracking": s.return_slip_tracking,
                "additionalMessage": "",
            }
            for s in world.live_shipments(order)
        ],
        "products": products,
    }
    return node


def product_row(world: World, store: Store, ref: SizeRef) -> dict[str, Any]:
    """One row per size, as GET /products returns it."""
    product = ref.product
    return {
        "sku": product.sku,
        "productId": product.id,
        "variantSku": ref.variant.sku,
        "variantId": ref.variant.id,
        "sizeSku": ref.size.sku,
        "brand": product.brand,
        "collection": product.collection,
        "product": product.name,
        "variant": ref.variant.name,
        "size": ref.size.name,
        "stockItemId": ref.size.id,
        "ean": ref.size.ean,
        "upc": ref.size.upc,
        "weight": num(product.weight),
        "weightUnit": product.weight_unit,
        "countryOfOrigin": product.country_of_origin,
        "harmCode": product.harm_code,
        "harmDescription": product.harm_description,
        "active": flag(product.active),
        "folder": product.folder,
        "name": product.name,
        "description": product.description,
        "shortDescription": "",
        "comment": "",
        "store": store.name,
        "categories": list(product.categories),
        "images": [],
        "createdAt": local(product.created_at, store.zone),
        "prices": [
            {
                "id": str(index + 1),
                "price": f"{price:.2f}",
                "pricelist": currency,
                "currency": currency,
                "campaigns": [],
            }
            for index, (currency, price) in enumerate(sorted(product.prices.items()))
        ],
    }


def stock_row(world: World, store: Store, ref: SizeRef, *, physical: bool = True) -> dict[str, Any]:
    """A product row plus stock summed over the plugin's warehouses."""
    row = product_row(world, store, ref)
    on_hand, allocated = world.store_stock(store, ref.size.id)
    if physical:
        row["physicalStock"] = on_hand
    row["allocatedStock"] = allocated
    row["availableStock"] = on_hand - allocated
    cost = world.stock_cost(store, ref.size.id)
    if cost is not None:
        # [RW] CentraSharp's stock row; shown once POST /stock has recorded a cost.
        row["costPrice"], row["costPriceCurrency"] = num(cost[0]), cost[1]
    return row


def return_node(world: World, store: Store, record: ReturnRecord) -> dict[str, Any]:
    shipment = world.shipments[record.shipment_id]
    order = world.orders[shipment.order_number]
    products = []
    for line in record.lines:
        ref = world.sizes[next(ln.size_id for ln in order.lines if ln.id == line.order_line_id)]
        products.append(
            {
                "returnLineId": line.id,
                "shipmentLineId": line.shipment_line_id,
                "orderLineId": line.order_line_id,
                "productId": ref.product.id,
                "variantId": ref.variant.id,
                "productName": ref.product.name,
                "productBrand": ref.product.brand,
                "variantName": ref.variant.name,
                "size": ref.size.name or None,
                "sku": ref.product.sku,
                "variantSku": ref.variant.sku,
                "sizeSku": ref.size.sku,
                "ean": ref.size.ean,
                "upc": ref.size.upc,
                "quantity": line.qty,
                "price": num(line.price),
            }
        )
    value = sum(line.price * line.qty for line in record.lines)
    return {
        "returnId": record.id,
        "completed": record.completed,
        "shipment": shipment.number,
        "shipmentId": shipment.id,
        "orderId": order.number,
        "selectionId": order.selection_id,
        "customerId": order.customer_id,
        "date": local(record.created_at, store.zone),
        "marketId": store.market_id,
        "pricelistId": store.pricelist_id,
        "returnCost": num(record.return_cost),
        "shippingCost": num(record.shipping_cost),
        "handlingCost": num(record.handling_cost),
        "voucherValue": num(record.voucher_value),
        "taxValue": num(_tax(value)),
        "taxDeduction": 0,
        "currency": order.currency,
        "baseCurrency": order.currency,
        "baseCurrencyRate": 1,
        "returnToStock": record.return_stock,
        "comment": record.comment,
        "createdFrom": "Order API",
        "products": products,
    }


def supplier_order_node(
    world: World, store: Store, order: SupplierOrder, *, products: bool
) -> dict[str, Any]:
    zone = store.zone
    node: dict[str, Any] = {
        "orderId": str(order.id),
        "supplierName": order.supplier_name,
        "supplierCountry": order.supplier_country,
        "created": local(order.created_at, zone, seconds=False),
        "ETD": local(order.etd, zone, seconds=False),
        "ETA": local(order.eta, zone, seconds=False),
        "message": order.message,
        "productsQty": sum(line.qty for line in order.lines),
    }
    if products:
        node["products"] = [
            stock_row(world, store, world.sizes[line.size_id])
            | {"quantity": line.qty, "cost": f"{line.cost:.2f}", "costCurrency": line.currency}
            for line in order.lines
        ]
    return node


def delivery_node(
    world: World, store: Store, delivery: SupplierDelivery, *, products: bool, details: bool = False
) -> dict[str, Any]:
    order = world.supplier_orders[delivery.order_id]
    zone = store.zone
    costs = {line.size_id: line for line in order.lines}
    node: dict[str, Any] = {
        "id": str(delivery.id),
        "orderId": str(order.id),
        "deliveryId": delivery.number,
        "supplierName": order.supplier_name,
        "supplierCountry": order.supplier_country,
        "created": local(delivery.created_at, zone, seconds=False),
        "ETD": local(delivery.etd, zone, seconds=False),
        "ETA": local(delivery.eta, zone, seconds=False),
        "message": order.message,
        "productsQty": sum(delivery.quantities.values()),
    }
    if products:
        node["products"] = [
            stock_row(world, store, world.sizes[size_id])
            | {
                "quantity": qty,
                "cost": f"{costs[size_id].cost:.2f}" if size_id in costs else "0.00",
                "costCurrency": costs[size_id].currency if size_id in costs else store.currency,
            }
            for size_id, qty in delivery.quantities.items()
        ]
    if details:
        # [I] The emulator reserves no B2B orders against deliveries, so the list is empty.
        node["orders"] = []
    return node


def allocation_request_node(world: World, request: AllocationRequest) -> dict[str, Any]:
    """As GET /allocation-requests lists it; times are ISO-8601 with the store's offset."""
    order = world.orders[request.order_number]
    zone = world.stores[order.store_uri].zone
    return {
        "id": request.id,
        "status": request.status,
        "warehouseId": request.warehouse_id,
        "expirationDate": request.expires_at.astimezone(zone).isoformat(),
        "order": {"id": order.selection_id, "number": order.number},
        "lines": [
            {"lineId": line_id, "quantity": qty, "stockItemId": size_id}
            for line_id, qty, size_id in request.lines
        ],
        "createdAt": request.created_at.astimezone(zone).isoformat(),
        "warehouseName": world.warehouses[request.warehouse_id].name,
    }
