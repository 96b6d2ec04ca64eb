"""Pure translations between our warehouse models and Ongoing's JSON models.

No I/O here, so every rule is property-tested on its own: how a line is identified, how
tracking is matched to parcels, which status codes mean what, and how stock figures map.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from centrasync.wms.models import (
    Article,
    InOrder,
    OutboundOrder,
    Parcel,
    ReceivedInOrder,
    ReceivedLine,
    ReturnedLine,
    ReturnedOrder,
    ShippedLine,
    ShippedOrder,
    StockLevel,
)

from .models import (
    CodeName,
    GetArticleModel,
    GetOrderLine,
    GetOrderModel,
    GetPurchaseOrderModel,
    GetReturnOrderModel,
    PostArticleModel,
    PostBarCodeInfo,
    PostConsignee,
    PostConsigneeAdvanced,
    PostLinePrices,
    PostMarketPlace,
    PostNotification,
    PostOrderAdvanced,
    PostOrderLine,
    PostOrderModel,
    PostPurchaseOrderLine,
    PostPurchaseOrderModel,
    PostSupplierInfo,
    PostTransporter,
    ReturnOrderLine,
    WarehouseStock,
)

__all__ = [
    "OngoingStatusCodes",
    "line_key",
    "quantity",
    "received_in_order",
    "return_order_returns",
    "returned_order",
    "shipped_order",
    "stock_level",
    "stock_level_in",
    "to_post_article",
    "to_post_order",
    "to_post_purchase_order",
]


@dataclass(frozen=True)
class OngoingStatusCodes:
    """Which order status codes mean what; tenants differ, so every set is configurable.

    Defaults are the vendor example tenant's codes (reference §5). ``reportable`` starts at
    Picked (400) because Ongoing's "to report" delta is picked - reported whatever the
    status, and a partial pick must be reportable before the rest is picked (§6). Orders
    outside ``shipped`` are merely picked: they come with ``shipped_at`` None and no parcels.
    ``started`` is where the warehouse refuses updates and cancels (§7) [I: Released on].
    """

    reportable: frozenset[int] = frozenset({400, 450, 500})
    shipped: frozenset[int] = frozenset({450, 500})
    cancelled: frozenset[int] = frozenset({1000})
    started: frozenset[int] = frozenset({300, 320, 400, 450, 500})


def quantity(value: float | None) -> Decimal:
    """A vendor float as an exact Decimal; ``null`` (never reported) reads as 0."""
    if value is None:
        return Decimal(0)
    return Decimal(repr(float(value)))


def _optional_float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


# Display names for the order types we send; the vendor example spells B2B this way, the
# B2C text is ours [I]. Order types are tenant data (``GET /orders/types``): the code is
# what a warehouse's rules match on, the name only what staff read.
_ORDER_TYPE_NAMES = {"B2B": "Business to Business", "B2C": "Business to Consumer"}


def _notify(value: str | None) -> PostNotification | None:
    """An order-level notice the warehouse should send to ``value``."""
    return None if value is None else PostNotification(to_be_notified=True, value=value)


def _contact(value: str | None) -> PostNotification | None:
    """A customer's number or address kept on file, without asking for notices on it [I]."""
    return None if value is None else PostNotification(to_be_notified=False, value=value)


def _consignee_contacts(order: OutboundOrder) -> PostConsigneeAdvanced | None:
    if order.telephone is None and order.mobile is None and order.ship_to.email is None:
        return None
    return PostConsigneeAdvanced(
        telephone_notification=_contact(order.telephone),
        sms_notification=_contact(order.mobile),
        email_notification=_contact(order.ship_to.email),
    )


def _market_place(order: OutboundOrder) -> PostMarketPlace | None:
    if order.marketplace is None and order.marketplace_order_number is None:
        return None
    return PostMarketPlace(
        market_place=order.marketplace, market_place_order_number=order.marketplace_order_number
    )


def line_key(line_external_id: str | None, row_number: str | None, line_id: int) -> str:
    """Our line identity on the read side: we send it as both ``externalId`` and ``rowNumber``."""
    return line_external_id or row_number or str(line_id)


def to_post_article(article: Article, goods_owner_id: int) -> PostArticleModel:
    return PostArticleModel(
        goods_owner_id=goods_owner_id,
        article_number=article.sku,
        article_name=article.name,
        product_code=article.product_code,
        bar_code_info=PostBarCodeInfo(bar_code=article.barcode) if article.barcode else None,
        weight=_optional_float(article.weight_kg),
        country_of_origin_code=article.country_of_origin,
        statistics_number=article.hs_code,
        customs_description=article.customs_description,
        customer_price=_optional_float(article.unit_price),
        is_active=article.is_active,
        is_obsolete=not article.is_active,
    )


def to_post_order(order: OutboundOrder, goods_owner_id: int, today: date) -> PostOrderModel:
    """The full ``PUT /orders`` body; ``deliveryDate`` is required, so it defaults to today.

    Each line's ``rowNumber`` and ``externalId`` both carry our line key: the API assumes
    one line per article unless lines are told apart by a unique row (reference §10).

    The seed's table lands in the fields Ongoing's model has for it (generated client,
    reference §4.1): ``customerPrice``, ``orderType {code, name}``, ``invoiceUrl``,
    ``marketPlace {marketPlace, marketPlaceOrderNumber}``; the proforma link goes to
    ``advanced.invoiceNumber`` and the delivery-note link to ``consigneeOrderNumber``, as
    the table's InvoiceNumber and ConsigneeOrderNumber rows say. Notices go to the order's
    ``smsNotification`` / ``emailNotification``; the customer's own numbers and address to
    ``consignee.advanced`` (see :class:`~.models.PostConsigneeAdvanced`). ``ship_to.phone``
    has no field of its own in Ongoing; the shipment mapping fills it from the same Centra
    fields as the mobile notice, so it reaches the warehouse that way.
    """
    ship_to = order.ship_to
    transporter = None
    if order.carrier or order.service:
        transporter = PostTransporter(
            transporter_code=order.carrier, transporter_service_code=order.service
        )
    order_type = None
    if order.order_type is not None:
        order_type = CodeName(
            code=order.order_type, name=_ORDER_TYPE_NAMES.get(order.order_type, order.order_type)
        )
    return PostOrderModel(
        goods_owner_id=goods_owner_id,
        order_number=order.order_number,
        delivery_date=order.delivery_date or today,
        consignee=PostConsignee(
            customer_number=order.customer_number,
            name=ship_to.name,
            address1=ship_to.address1,
            address2=ship_to.address2,
            address3=ship_to.address3,
            post_code=ship_to.postcode,
            city=ship_to.city,
            country_code=ship_to.country_code,
            country_state_code=ship_to.state,
            advanced=_consignee_contacts(order),
        ),
        goods_owner_order_id=order.reference,
        order_remark=order.remark,
        service_point_code=order.service_point,
        order_type=order_type,
        email_notification=_notify(order.notification_email),
        sms_notification=_notify(order.notification_mobile),
        transporter=transporter,
        customer_price=_optional_float(order.customer_price),
        consignee_order_number=order.delivery_note,
        market_place=_market_place(order),
        invoice_url=order.invoice_url,
        advanced=(
            PostOrderAdvanced(invoice_number=order.invoice_number)
            if order.invoice_number is not None
            else None
        ),
        order_lines=[
            PostOrderLine(
                row_number=line.line_key,
                article_number=line.sku,
                number_of_items=float(line.quantity),
                external_id=line.line_key,
                prices=(
                    PostLinePrices(
                        line_price=float(line.unit_price * line.quantity),
                        currency_code=line.currency or order.currency,
                    )
                    if line.unit_price is not None
                    else None
                ),
            )
            for line in order.lines
        ],
    )


def to_post_purchase_order(in_order: InOrder, goods_owner_id: int) -> PostPurchaseOrderModel:
    """The in-order as ``PUT /purchaseOrders`` takes it; ``rowPrice`` is the line's total.

    Ongoing's Centra connector fills the row price with quantity times cost (seed table,
    whose left column repeats "NumberOfItems" for it).
    """
    supplier = None
    if in_order.supplier_number or in_order.supplier_name:
        supplier = PostSupplierInfo(
            supplier_number=in_order.supplier_number, supplier_name=in_order.supplier_name
        )
    return PostPurchaseOrderModel(
        goods_owner_id=goods_owner_id,
        purchase_order_number=in_order.in_order_number,
        goods_owner_reference=in_order.reference,
        reference_number=in_order.reference_number,
        in_date=in_order.expected_date,
        supplier_info=supplier,
        purchase_order_lines=[
            PostPurchaseOrderLine(
                row_number=line.line_key,
                article_number=line.sku,
                number_of_items=float(line.quantity),
                row_price=(
                    None if line.unit_cost is None else float(line.unit_cost * line.quantity)
                ),
                currency_code=line.currency,
                external_order_line_id=line.line_key,
            )
            for line in in_order.lines
        ],
    )


def _order_line_key(line: GetOrderLine) -> str:
    return line_key(line.external_id, line.row_number, line.id)


def _serials(line: GetOrderLine) -> tuple[str, ...]:
    return tuple(
        item.serial
        for item in line.picked_article_items
        if item.serial and item.is_picked is not False
    )


def _parcels(model: GetOrderModel) -> tuple[Parcel, ...]:
    """Pair outgoing parcels with the order's tracking entries [I, reference §4.2].

    A parcel's own ``tracking.waybill`` wins where a tenant sends one (and absorbs the
    ``tracking[]`` entry with the same number); otherwise an entry is matched by tracking
    URL, then by position. Tracking entries
    left over become parcels without a parcel number. When nothing carries a tracking
    number, the consignment number ``orderInfo.wayBill`` applies to every parcel.
    """
    outgoing = [p for p in model.parcels if not p.is_return_parcel]
    pending = [t for t in model.tracking if t.waybill or t.tracking_url]
    matched: list[tuple[str | None, str | None, str | None]] = []
    unmatched_parcels: list[int] = []
    for index, parcel in enumerate(outgoing):
        url = parcel.tracking.tracking_url if parcel.tracking else None
        own = parcel.tracking.waybill if parcel.tracking else None
        entry = next(
            (t for t in pending if (own and t.waybill == own) or (url and t.tracking_url == url)),
            None,
        )
        if entry is not None:
            pending.remove(entry)
        elif own is None:
            unmatched_parcels.append(index)
        matched.append(
            (
                parcel.parcel_number,
                own or (entry.waybill if entry else None),
                url or (entry.tracking_url if entry else None),
            )
        )
    for index in unmatched_parcels:
        if not pending:
            break
        entry = pending.pop(0)
        number, _, url = matched[index]
        matched[index] = (number, entry.waybill, url or entry.tracking_url)
    parcels = [Parcel(n, t, u) for n, t, u in matched]
    parcels.extend(Parcel(None, t.waybill, t.tracking_url) for t in pending)
    way_bill = model.order_info.way_bill
    if way_bill and not any(p.tracking_number for p in parcels):
        parcels = [Parcel(p.parcel_number, way_bill, p.tracking_url) for p in parcels] or [
            Parcel(None, way_bill, None)
        ]
    return tuple(parcels)


def shipped_order(model: GetOrderModel, codes: OngoingStatusCodes) -> ShippedOrder:
    info = model.order_info
    shipped = info.order_status.number in codes.shipped or info.shipped_time is not None
    transporter = model.transporter
    return ShippedOrder(
        order_number=info.order_number,
        wms_id=str(info.order_id),
        lines=tuple(
            ShippedLine(
                line_key=_order_line_key(line),
                sku=line.article.article_number,
                ordered=quantity(line.ordered_number_of_items),
                picked=quantity(line.picked_number_of_items),
                reported=quantity(line.reported_number_of_items),
                serial_numbers=_serials(line),
                wms_line_id=str(line.id),
            )
            for line in model.order_lines
        ),
        shipped=shipped,
        parcels=_parcels(model) if shipped else (),
        carrier=transporter.code if transporter else None,
        service=transporter.service_code if transporter else None,
        shipped_at=info.shipped_time if shipped else None,
    )


def _return_causes(line: GetOrderLine) -> tuple[str, ...]:
    causes: list[str] = []
    for item in line.picked_article_items:
        cause = item.return_cause
        text = (cause.name or cause.code) if cause else None
        if item.is_returned and text and text not in causes:
            causes.append(text)
    return tuple(causes)


def returned_order(model: GetOrderModel) -> ReturnedOrder:
    info = model.order_info
    return ReturnedOrder(
        order_number=info.order_number,
        wms_id=str(info.order_id),
        lines=tuple(
            ReturnedLine(
                line_key=_order_line_key(line),
                sku=line.article.article_number,
                returned=quantity(line.returned_number_of_items),
                reported=quantity(line.reported_returned_number_of_items),
                causes=_return_causes(line),
                wms_line_id=str(line.id),
            )
            for line in model.order_lines
        ),
    )


def return_order_returns(model: GetReturnOrderModel) -> ReturnedOrder:
    """What came back on a return order, as returns on its customer order's lines.

    A line's key is its customer order line's row number, which we send as both
    ``rowNumber`` and ``externalId``; the return order line carries only the former.
    Ongoing keeps no reported figure here, so ``reported`` is zero.
    """
    info = model.return_order_info
    return ReturnedOrder(
        order_number=model.customer_order_info.order_number,
        wms_id=str(info.return_order_id),
        return_order=info.return_order_number,
        lines=tuple(
            ReturnedLine(
                line_key=_return_order_line_key(line),
                sku=line.article.article_number,
                returned=quantity(line.returned_number_of_items),
                reported=quantity(0),
                causes=_return_order_causes(line),
                wms_line_id=str(line.return_order_line_id),
            )
            for line in model.return_order_lines
        ),
    )


def _return_order_line_key(line: ReturnOrderLine) -> str:
    ref = line.customer_order_line
    if ref is None:
        return str(line.return_order_line_id)
    return line_key(None, ref.customer_order_row_number, ref.order_line_id or 0)


def _return_order_causes(line: ReturnOrderLine) -> tuple[str, ...]:
    """Causes of the items that came back, else the cause the line was announced with."""
    causes: list[str] = []
    pairs = [item.return_cause for item in line.returned_article_items] or [line.return_cause]
    for cause in pairs:
        text = (cause.name or cause.code) if cause else None
        if text and text not in causes:
            causes.append(text)
    return tuple(causes)


def received_in_order(model: GetPurchaseOrderModel) -> ReceivedInOrder:
    info = model.purchase_order_info
    return ReceivedInOrder(
        in_order_number=info.purchase_order_number,
        wms_id=str(info.purchase_order_id),
        lines=tuple(
            ReceivedLine(
                line_key=line_key(None, line.row_number, line.id),
                sku=line.article.article_number,
                advised=quantity(line.advised_number_of_items),
                received=quantity(line.received_number_of_items),
                reported=quantity(line.reported_number_of_items),
                wms_line_id=str(line.id),
            )
            for line in model.purchase_order_lines
        ),
    )


def stock_level(model: GetArticleModel) -> StockLevel:
    """Stock of one article; without ``sellableNumberOfItems`` (old tenants) it is derived.

    The fallback, physical - locked - booked, is the vendor's definition of sellable
    (reference §4.4) [I: the exact formula is not published].
    """
    info = model.inventory_info
    external = _optional_quantity(model.external_number_of_items)
    if info is None:
        return StockLevel(
            sku=model.article_number, on_hand=Decimal(0), available=Decimal(0), external=external
        )
    on_hand = quantity(info.number_of_items)
    locked = quantity(info.number_of_locked_items)
    booked = quantity(info.number_of_booked_items)
    available = (
        quantity(info.sellable_number_of_items)
        if info.sellable_number_of_items is not None
        else on_hand - locked - booked
    )
    picked = info.picked_to_be_collected_number_of_items
    return StockLevel(
        sku=model.article_number,
        on_hand=on_hand,
        available=available,
        allocated=quantity(info.allocated_number_of_items),
        locked=locked,
        booked=booked,
        to_receive=quantity(info.to_receive_number_of_items),
        picked_not_collected=None if picked is None else quantity(picked),
        external=external,
    )


def stock_level_in(model: GetArticleModel, rows: Sequence[WarehouseStock]) -> StockLevel:
    """Stock of one article counting only the goods stored in the warehouses of ``rows``.

    Ongoing reports allocated and picked-not-collected goods per article, not per
    warehouse. Both are part of the locked count, so a warehouse never holds more of them
    than it has locked: they are counted up to the selected warehouses' locked items [I],
    which is exact for an article kept in one of them.
    """
    whole = stock_level(model)
    on_hand = sum((quantity(row.number_of_items) for row in rows), Decimal(0))
    locked = sum((quantity(row.number_of_locked_items) for row in rows), Decimal(0))
    available = sum(
        (
            quantity(row.sellable_number_of_items)
            if row.sellable_number_of_items is not None
            else quantity(row.number_of_items) - quantity(row.number_of_locked_items)
            for row in rows
        ),
        Decimal(0),
    )
    # A figure that was no number (NaN) is passed on as it is, for the flow to park.
    allocated = whole.allocated if whole.allocated.is_nan() else min(whole.allocated, locked)
    picked = whole.picked_not_collected
    if picked is not None and not (picked.is_nan() or allocated.is_nan()):
        picked = min(picked, locked - allocated)
    return replace(
        whole,
        on_hand=on_hand,
        available=available,
        locked=locked,
        allocated=allocated,
        picked_not_collected=picked,
    )


def _optional_quantity(value: float | None) -> Decimal | None:
    return None if value is None else quantity(value)
