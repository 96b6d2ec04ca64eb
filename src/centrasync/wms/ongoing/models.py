"""Ongoing WMS REST v1 JSON, with the vendor's camelCase names (reference §4).

Read models are lenient the way the live API needs: unknown fields are ignored, numbers
may arrive as ``2.0``, ``2`` or ``"2"``, a list may be ``null``, and a never-reported
quantity is ``null`` (read as 0 by the mapping). Write models are sent with
``exclude_none`` so a field we do not manage is left out rather than sent as ``null``;
every PUT is still built from the full domain object, because a PUT replaces the document.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = [
    "ArticleRef",
    "CodeName",
    "GetArticleModel",
    "GetInventoryPerWarehouseModel",
    "GetOrderLine",
    "GetOrderModel",
    "GetParcel",
    "GetPurchaseOrderLine",
    "GetPurchaseOrderModel",
    "GetReturnOrderModel",
    "InventoryAdjustmentGroup",
    "InventoryInfo",
    "OrderInfo",
    "OrderTracking",
    "PickedArticleItem",
    "PostArticleModel",
    "PostArticleResponse",
    "PostConsignee",
    "PostConsigneeAdvanced",
    "PostFileResponse",
    "PostMarketPlace",
    "PostNotification",
    "PostOrderAdvanced",
    "PostOrderLine",
    "PostOrderModel",
    "PostOrderResponse",
    "PostPurchaseOrderLine",
    "PostPurchaseOrderModel",
    "PostPurchaseOrderResponse",
    "PostTransporter",
    "PurchaseOrderInfo",
    "ReportedNumberOfItems",
    "ReportedReturnedNumberOfItems",
    "ReturnOrderLine",
    "StatusInfo",
    "StatusList",
    "TransporterContract",
    "TransporterRead",
    "WarehouseRead",
    "WarehouseStock",
]

T = TypeVar("T")


def _none_to_empty(value: Any) -> Any:
    return [] if value is None else value


def _as_utc(value: datetime) -> datetime:
    # Ongoing documents every response time as UTC ("…Z"); a bare time is read as UTC [I].
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _figure(value: Any) -> Any:
    if value is None or isinstance(value, int | float):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


ListOrNull = Annotated[list[T], BeforeValidator(_none_to_empty)]
UtcTime = Annotated[datetime, AfterValidator(_as_utc)]
Figure = Annotated[float, BeforeValidator(_figure)]
"""A stock figure; one that is no number at all reads as NaN instead of failing the page,
so the stock flow parks that one article, naming the field, and goes on with the rest."""


class OngoingModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )


class CodeName(OngoingModel):
    code: str | None = None
    name: str | None = None


class GoodsOwner(OngoingModel):
    id: int
    name: str | None = None


class StatusInfo(OngoingModel):
    number: int
    text: str | None = None


class StatusList(OngoingModel):
    """``GET /orders/statuses`` and ``GET /purchaseOrders/statuses`` (both say orderStatuses)."""

    order_statuses: ListOrNull[StatusInfo] = Field(default_factory=list)


class ArticleRef(OngoingModel):
    article_system_id: int
    article_number: str
    article_name: str | None = None
    product_code: str | None = None


# -- write side ----------------------------------------------------------------------------


class PostBarCodeInfo(OngoingModel):
    bar_code: str | None = None


class PostArticleModel(OngoingModel):
    """Body of ``PUT /articles``; upsert by ``articleNumber`` within the goods owner."""

    goods_owner_id: int
    article_number: str
    article_name: str | None = None
    product_code: str | None = None
    bar_code_info: PostBarCodeInfo | None = None
    weight: float | None = None
    country_of_origin_code: str | None = None
    statistics_number: str | None = None
    customs_description: str | None = None
    customer_price: float | None = None
    is_active: bool | None = None
    # The seed's "IsObsoleteProduct ← not active" row; REST's article model carries both
    # flags [I: the vendor examples show neither; the emulator accepts both].
    is_obsolete: bool | None = None


class PostNotification(OngoingModel):
    """``{toBeNotified, value}``; optional so the read side survives a half-filled pair."""

    to_be_notified: bool | None = None
    value: str | None = None


class PostConsigneeAdvanced(OngoingModel):
    """The customer's own contact channels (``consignee.advanced``).

    REST has no plain phone or e-mail field on the consignee: the SOAP customer's
    ``TelePhone`` / ``MobilePhone`` / ``Email`` with their ``NotifyBy…`` flags appear here as
    ``{toBeNotified, value}`` pairs [I: names from the generated client, the pairing by
    analogy with SOAP].
    """

    telephone_notification: PostNotification | None = None
    sms_notification: PostNotification | None = None
    email_notification: PostNotification | None = None


class PostConsignee(OngoingModel):
    customer_number: str | None = None
    name: str | None = None
    address1: str | None = None
    address2: str | None = None
    address3: str | None = None
    post_code: str | None = None
    city: str | None = None
    country_code: str | None = None
    country_state_code: str | None = None
    advanced: PostConsigneeAdvanced | None = None


class PostTransporter(OngoingModel):
    transporter_code: str | None = None
    transporter_service_code: str | None = None


class PostLinePrices(OngoingModel):
    line_price: float | None = None
    currency_code: str | None = None


class PostOrderLine(OngoingModel):
    row_number: str
    article_number: str
    number_of_items: float
    comment: str | None = None
    external_id: str | None = None
    prices: PostLinePrices | None = None


class PostMarketPlace(OngoingModel):
    """``marketPlace``: an object on both sides, not a plain string (generated client)."""

    market_place: str | None = None
    market_place_order_number: str | None = None


class PostOrderAdvanced(OngoingModel):
    invoice_number: str | None = None


class PostOrderModel(OngoingModel):
    """Body of ``PUT /orders`` (reference §4.1); upsert by ``orderNumber``."""

    goods_owner_id: int
    order_number: str
    delivery_date: date
    consignee: PostConsignee
    goods_owner_order_id: str | None = None
    order_remark: str | None = None
    service_point_code: str | None = None
    order_type: CodeName | None = None
    email_notification: PostNotification | None = None
    sms_notification: PostNotification | None = None
    transporter: PostTransporter | None = None
    customer_price: float | None = None
    consignee_order_number: str | None = None
    market_place: PostMarketPlace | None = None
    invoice_url: str | None = None
    advanced: PostOrderAdvanced | None = None
    order_lines: ListOrNull[PostOrderLine] = Field(default_factory=list)


class PostSupplierInfo(OngoingModel):
    supplier_number: str | None = None
    supplier_name: str | None = None


class PostPurchaseOrderLine(OngoingModel):
    row_number: str
    article_number: str
    number_of_items: float
    row_price: float | None = None
    currency_code: str | None = None
    external_order_line_id: str | None = None


class PostPurchaseOrderModel(OngoingModel):
    """Body of ``PUT /purchaseOrders`` (reference §4.5); upsert by ``purchaseOrderNumber``."""

    goods_owner_id: int
    purchase_order_number: str
    goods_owner_reference: str | None = None
    reference_number: str | None = None
    in_date: date | None = None
    supplier_info: PostSupplierInfo | None = None
    purchase_order_lines: ListOrNull[PostPurchaseOrderLine] = Field(default_factory=list)


class ReportedNumberOfItems(OngoingModel):
    reported_number_of_items: float


class ReportedReturnedNumberOfItems(OngoingModel):
    reported_returned_number_of_items: float


class PostOrderResponse(OngoingModel):
    order_id: int
    message: str | None = None


class PostArticleResponse(OngoingModel):
    article_system_id: int
    message: str | None = None


class PostPurchaseOrderResponse(OngoingModel):
    purchase_order_id: int
    message: str | None = None


class PostFileResponse(OngoingModel):
    file_id: int
    success: bool | None = None
    message: str | None = None


# -- read side: articles and stock --------------------------------------------------------


class InventoryInfo(OngoingModel):
    """Stock figures per article (reference §4.4); ``sellable`` is absent on old tenants."""

    number_of_items: Figure = 0.0
    sellable_number_of_items: Figure | None = None
    number_of_booked_items: Figure = 0.0
    allocated_number_of_items: Figure = 0.0
    number_of_locked_items: Figure = 0.0
    locked_for_sale_number_of_items: float = 0.0
    to_receive_number_of_items: float = 0.0
    picked_to_be_collected_number_of_items: Figure | None = None
    received_to_be_finished_number_of_items: float | None = None
    last_in_date: UtcTime | None = None
    total_stock_value: float | None = None


class GetArticleModel(OngoingModel):
    goods_owner: GoodsOwner | None = None
    article_system_id: int
    article_number: str
    article_name: str | None = None
    product_code: str | None = None
    unit_code: str | None = None
    description: str | None = None
    is_stock_article: bool | None = None
    weight: float | None = None
    customer_price: float | None = None
    country_of_origin_code: str | None = None
    statistics_number: str | None = None
    article_group: CodeName | None = None
    article_category: CodeName | None = None
    external_number_of_items: float | None = None
    inventory_info: InventoryInfo | None = None


class WarehouseStock(OngoingModel):
    """One warehouse's part of an article's stock (``inventoryPerWarehouse[]``, §4.4)."""

    warehouse_id: int
    number_of_items: float = 0.0
    sellable_number_of_items: float | None = None
    number_of_locked_items: float = 0.0


class GetInventoryPerWarehouseModel(OngoingModel):
    """One row of ``GET /articles/inventoryPerWarehouse``."""

    article_system_id: int
    article_number: str
    inventory_per_warehouse: ListOrNull[WarehouseStock] = Field(default_factory=list)


class WarehouseRead(OngoingModel):
    """One row of ``GET /warehouses``."""

    id: int
    code: str | None = None
    name: str | None = None


class InventoryAdjustment(OngoingModel):
    inventory_id: int
    number_of_items: float
    inventory_time: UtcTime | None = None
    article_item_comment: str | None = None
    inventory_item_comment: str | None = None
    inventory_adjustment_cause: CodeName | None = None
    location: str | None = None
    batch_number: str | None = None
    serial: str | None = None


class InventoryAdjustmentGroup(OngoingModel):
    """One article's rows in ``GET /inventoryAdjustments``."""

    article: ArticleRef
    inventory_adjustments: ListOrNull[InventoryAdjustment] = Field(default_factory=list)


class TransporterService(OngoingModel):
    transporter_service_name: str | None = None
    transporter_service_code: str | None = None


class TransporterContract(OngoingModel):
    """One row of ``GET /transporterContracts``."""

    edi_code: str | None = None
    transporter_name: str | None = None
    transporter_code: str
    transporter_service_code: str | None = None
    transporter_services: ListOrNull[TransporterService] = Field(default_factory=list)


# -- read side: orders ----------------------------------------------------------------------


class PickedArticleItem(OngoingModel):
    article_item_id: int | None = None
    number_of_items: float = 0.0
    serial: str | None = None
    batch_number: str | None = None
    is_picked: bool | None = None
    picked_time: UtcTime | None = None
    is_returned: bool | None = None
    return_date: UtcTime | None = None
    return_cause: CodeName | None = None
    location: str | None = None


class GetOrderLine(OngoingModel):
    id: int
    row_number: str | None = None
    article: ArticleRef
    comment: str | None = None
    ordered_number_of_items: float = 0.0
    allocated_number_of_items: float = 0.0
    picked_number_of_items: float = 0.0
    packed_number_of_items: float | None = None
    reported_number_of_items: float | None = None
    returned_number_of_items: float | None = None
    reported_returned_number_of_items: float | None = None
    should_be_picked: bool | None = None
    serial_number: str | None = None
    external_id: str | None = None
    picked_article_items: ListOrNull[PickedArticleItem] = Field(default_factory=list)


class OrderInfo(OngoingModel):
    order_id: int
    order_number: str
    goods_owner_order_id: str | None = None
    reference_number: str | None = None
    order_remark: str | None = None
    service_point_code: str | None = None
    order_type: CodeName | None = None
    email_notification: PostNotification | None = None
    sms_notification: PostNotification | None = None
    customer_price: float | None = None
    consignee_order_number: str | None = None
    market_place: PostMarketPlace | None = None
    invoice_url: str | None = None
    advanced: PostOrderAdvanced | None = None
    delivery_date: date | None = None
    created_date: UtcTime | None = None
    shipped_time: UtcTime | None = None
    way_bill: str | None = None
    return_way_bill: str | None = None
    order_status: StatusInfo
    ordered_number_of_items: float | None = None
    allocated_number_of_items: float | None = None
    picked_number_of_items: float | None = None


class ParcelTracking(OngoingModel):
    # ``waybill`` here is disputed (reference §15): read it when a tenant sends it.
    waybill: str | None = None
    tracking_url: str | None = None
    freight_price: float | None = None


class GetParcel(OngoingModel):
    id: int | None = None
    parcel_number: str | None = None
    is_return_parcel: bool = False
    tracking: ParcelTracking | None = None


class OrderTracking(OngoingModel):
    waybill: str | None = None
    tracking_url: str | None = None
    created: UtcTime | None = None
    freight_price: float | None = None


class TransporterRead(OngoingModel):
    transporter_name: str | None = None
    name: str | None = None
    code: str | None = None
    service_code: str | None = None


class GetOrderModel(OngoingModel):
    """``GET /orders`` row and ``GET /orders/{orderId}`` (reference §4.2)."""

    goods_owner: GoodsOwner | None = None
    order_info: OrderInfo
    consignee: PostConsignee | None = None
    parcels: ListOrNull[GetParcel] = Field(default_factory=list)
    order_lines: ListOrNull[GetOrderLine] = Field(default_factory=list)
    transporter: TransporterRead | None = None
    return_transporter: TransporterRead | None = None
    tracking: ListOrNull[OrderTracking] = Field(default_factory=list)
    return_tracking: ListOrNull[OrderTracking] = Field(default_factory=list)


# -- read side: purchase orders ---------------------------------------------------------------


class PurchaseOrderInfo(OngoingModel):
    purchase_order_id: int
    purchase_order_number: str
    supplier_order_number: str | None = None
    goods_owner_reference: str | None = None
    reference_number: str | None = None
    purchase_order_status: StatusInfo
    purchase_order_type: CodeName | None = None
    in_date: date | None = None


class ReceivedArticleItem(OngoingModel):
    original_article_item_id: int | None = None
    number_of_items: float = 0.0
    in_date: UtcTime | None = None
    serial: str | None = None
    location: str | None = None


class GetPurchaseOrderLine(OngoingModel):
    id: int
    row_number: str | None = None
    article: ArticleRef
    comment: str | None = None
    advised_number_of_items: float = 0.0
    received_number_of_items: float = 0.0
    reported_number_of_items: float | None = None
    article_items: ListOrNull[ReceivedArticleItem] = Field(default_factory=list)


class GetPurchaseOrderModel(OngoingModel):
    """``GET /purchaseOrders`` row and ``GET /purchaseOrders/{id}`` (reference §4.5)."""

    goods_owner: GoodsOwner | None = None
    supplier_info: PostSupplierInfo | None = None
    purchase_order_info: PurchaseOrderInfo
    purchase_order_lines: ListOrNull[GetPurchaseOrderLine] = Field(default_factory=list)


# -- read side: return orders -------------------------------------------------------------------


class ReturnedArticleItem(OngoingModel):
    number_of_items: float = 0.0
    serial: str | None = None
    return_time: UtcTime | None = None
    return_cause: CodeName | None = None


class CustomerOrderLineRef(OngoingModel):
    order_line_id: int | None = None
    customer_order_row_number: str | None = None


class ReturnOrderLine(OngoingModel):
    return_order_line_id: int
    return_order_row_number: str | None = None
    customer_order_line: CustomerOrderLineRef | None = None
    article: ArticleRef
    return_cause: CodeName | None = None
    returned_number_of_items: float = 0.0
    to_be_returned_number_of_items: float = 0.0
    returned_article_items: ListOrNull[ReturnedArticleItem] = Field(default_factory=list)


class ReturnOrderInfo(OngoingModel):
    return_order_id: int
    return_order_number: str
    return_order_status: StatusInfo | None = None


class CustomerOrderInfo(OngoingModel):
    order_id: int
    order_number: str


class GetReturnOrderModel(OngoingModel):
    """``GET /returnOrders`` row and ``GET /returnOrders/{id}`` (GetReturnOrderModel)."""

    return_order_info: ReturnOrderInfo
    customer_order_info: CustomerOrderInfo
    return_order_lines: ListOrNull[ReturnOrderLine] = Field(default_factory=list)
