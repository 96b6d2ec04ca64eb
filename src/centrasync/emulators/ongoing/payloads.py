"""Request bodies of the Ongoing REST API, with the vendor's camelCase names.

The emulator keeps each accepted ``PUT`` body as the object's document: a ``PUT`` replaces
the whole document, exactly as on the live system, so a thinner re-push really does blank
the fields it leaves out. Unknown fields are ignored (the live API is an ASP.NET service
that drops them silently); numbers sent as strings (``"1.5"``) are accepted, as in the vendor
examples.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from centrasync.emulators.ongoing.model import OngoingApiError, read_time

__all__ = [
    "ArticleIn",
    "CodeName",
    "ConsigneeAdvancedIn",
    "ConsigneeIn",
    "CustomerOrderLineRefIn",
    "CustomerOrderRefIn",
    "LinePricesIn",
    "MarketPlaceIn",
    "NotificationIn",
    "OrderAdvancedIn",
    "OrderIn",
    "OrderLineIn",
    "PurchaseOrderIn",
    "PurchaseOrderLineIn",
    "ReportedNumberIn",
    "ReportedReturnedNumberIn",
    "ReturnOrderIn",
    "ReturnOrderLineIn",
    "ReturnTrackingIn",
    "TransporterIn",
    "VendorModel",
    "parse_body",
]


def _spec_time(value: Any) -> Any:
    """The spec types dates as date-times: a day alone, or a day and a time of it."""
    if isinstance(value, date | datetime):
        value = value.isoformat()
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 date or date-time")
    return read_time(value)


SpecTime = Annotated[datetime, BeforeValidator(_spec_time)]
"""A body date-time in UTC (see :func:`~.model.read_time` for dates and missing offsets)."""


class VendorModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )


class CodeName(VendorModel):
    code: str | None = None
    name: str | None = None


class SupplierInfoIn(VendorModel):
    supplier_article_number: str | None = None
    supplier_number: str | None = None
    supplier_name: str | None = None


class AlternativeBarCodeIn(VendorModel):
    bar_code: str | None = None
    quantity_per_bar_code: float | None = None
    bar_code_type: CodeName | None = None


class BarCodeInfoIn(VendorModel):
    bar_code: str | None = None
    bar_code_package: str | None = None
    bar_code_pallet: str | None = None
    alternative_bar_codes: list[AlternativeBarCodeIn] | None = None

    def codes(self) -> set[str]:
        """Every bar code the article answers to: its own and the alternative ones."""
        alternatives = {alt.bar_code for alt in self.alternative_bar_codes or ()}
        return {code for code in (self.bar_code, *alternatives) if code}


class ArticleIn(VendorModel):
    goods_owner_id: int
    article_number: str = Field(min_length=1)
    article_name: str | None = None
    product_code: str | None = None
    unit_code: str | None = None
    description: str | None = None
    is_stock_article: bool | None = None
    is_active: bool | None = None
    is_obsolete: bool | None = None
    supplier_info: SupplierInfoIn | None = None
    bar_code_info: BarCodeInfoIn | None = None
    quantity_per_package: int | None = None
    quantity_per_pallet: int | None = None
    weight: float | None = None
    net_weight: float | None = None
    length: float | None = None
    width: float | None = None
    height: float | None = None
    volume: float | None = None
    purchase_price: float | None = None
    stock_valuation_price: float | None = None
    customer_price: float | None = None
    # The vendor's own spelling (sic), kept so the example round-trips.
    purcase_currency_code: str | None = None
    country_of_origin_code: str | None = None
    statistics_number: str | None = None
    customs_description: str | None = None
    stock_limit: int | None = None
    link_to_picture: str | None = None
    external_number_of_items: float | None = None
    article_group: CodeName | None = None
    article_category: CodeName | None = None
    article_color: CodeName | None = None
    article_size: CodeName | None = None


class NotificationIn(VendorModel):
    to_be_notified: bool | None = None
    value: str | None = None


class ConsigneeAdvancedIn(VendorModel):
    """``consignee.advanced``: the customer's contact channels (generated client's model)."""

    telephone_notification: NotificationIn | None = None
    email_notification: NotificationIn | None = None
    sms_notification: NotificationIn | None = None
    external_customer_code: str | None = None


class ConsigneeIn(VendorModel):
    customer_number: str | None = None
    name: str | None = None
    address1: str | None = None
    address2: str | None = None
    address3: str | None = None
    post_code: str | None = None
    city: str | None = None
    country_code: str | None = None
    country_state_code: str | None = None
    remark: str | None = None
    door_code: str | None = None
    advanced: ConsigneeAdvancedIn | None = None
    organisation_number: str | None = None
    vat_number: str | None = None


class MarketPlaceIn(VendorModel):
    """``marketPlace`` is an object in both the write and the read model, not a string."""

    market_place: str | None = None
    market_place_order_number: str | None = None


class OrderAdvancedIn(VendorModel):
    """The part of the order's ``advanced`` block the emulator keeps and shows again."""

    invoice_number: str | None = None


class TransporterIn(VendorModel):
    transporter_code: str | None = None
    transporter_service_code: str | None = None


class CustomsInfoIn(VendorModel):
    customs_value_currency_code: str | None = None


class LinePricesIn(VendorModel):
    """``orderLines[].prices``: what the line costs (PostOrderLinePrices) [I: the write model's
    fields taken as the read model's, GetOrderLinePrices]."""

    line_price: float | None = None
    customer_line_price: float | None = None
    currency_code: str | None = None
    discount_percentage: float | None = None


class OrderLineIn(VendorModel):
    row_number: str = Field(min_length=1)
    article_number: str = Field(min_length=1)
    number_of_items: float = Field(0.0, ge=0)
    comment: str | None = None
    # Nullable in PostOrderLine; null or left out means the line is to be picked [I].
    should_be_picked: bool | None = None
    line_type: CodeName | None = None
    prices: LinePricesIn | None = None
    serial_number: str | None = None
    batch_number: str | None = None
    line_total_customs_value: float | None = None
    customer_article_number: str | None = None
    # REST name of what SOAP calls ExternalOrderLineCode: the caller's own line key.
    external_id: str | None = None


class OrderIn(VendorModel):
    goods_owner_id: int
    order_number: str = Field(min_length=1)
    delivery_date: SpecTime
    consignee: ConsigneeIn
    goods_owner_order_id: str | None = None
    reference_number: str | None = None
    sales_code: str | None = None
    order_remark: str | None = None
    delivery_instruction: str | None = None
    service_point_code: str | None = None
    free_text1: str | None = Field(None, alias="freeText1")
    free_text2: str | None = Field(None, alias="freeText2")
    free_text3: str | None = Field(None, alias="freeText3")
    order_type: CodeName | None = None
    way_of_delivery: CodeName | None = None
    email_notification: NotificationIn | None = None
    sms_notification: NotificationIn | None = None
    telephone_notification: NotificationIn | None = None
    transporter: TransporterIn | None = None
    return_transporter: TransporterIn | None = None
    customs_info: CustomsInfoIn | None = None
    customer_price: float | None = None
    freight_price: float | None = None
    consignee_order_number: str | None = None
    warehouse_instruction: str | None = None
    market_place: MarketPlaceIn | None = None
    advanced: OrderAdvancedIn | None = None
    invoice_url: str | None = None
    classes: list[CodeName] | None = None
    terms_of_delivery_type: CodeName | None = None
    picking_priority: int | None = None
    production_code: str | None = None
    prepared_transport_document_id: str | None = None
    order_lines: list[OrderLineIn] = Field(default_factory=list)


class SupplierIn(VendorModel):
    supplier_number: str | None = None
    supplier_name: str | None = None


class PurchaseOrderLineIn(VendorModel):
    row_number: str = Field(min_length=1)
    article_number: str = Field(min_length=1)
    number_of_items: float = Field(0.0, ge=0)
    comment: str | None = None
    row_price: float | None = None
    currency_code: str | None = None
    external_order_line_id: str | None = None


class PurchaseOrderIn(VendorModel):
    goods_owner_id: int
    purchase_order_number: str = Field(min_length=1)
    supplier_order_number: str | None = None
    goods_owner_reference: str | None = None
    reference_number: str | None = None
    in_date: SpecTime | None = None
    supplier_info: SupplierIn | None = None
    purchase_order_type: CodeName | None = None
    purchase_order_remark: str | None = None
    purchase_order_lines: list[PurchaseOrderLineIn] = Field(default_factory=list)


class CustomerOrderRefIn(VendorModel):
    """``customerOrder``: Ongoing's id of the order the goods were shipped on."""

    order_id: int | None = None


class CustomerOrderLineRefIn(VendorModel):
    order_line_id: int | None = None


class ReturnOrderLineIn(VendorModel):
    return_order_row_number: str = Field(min_length=1)
    customer_order_line: CustomerOrderLineRefIn
    to_be_returned_number_of_items: float = Field(ge=0)
    return_cause: CodeName | None = None


class ReturnTrackingIn(VendorModel):
    waybill: str | None = None
    tracking_url: str | None = None


class ReturnOrderIn(VendorModel):
    """``PUT /returnOrders`` (PostReturnOrderModel); the first four fields are required."""

    goods_owner_id: int
    return_order_number: str = Field(min_length=1)
    customer_order: CustomerOrderRefIn
    return_order_lines: list[ReturnOrderLineIn]
    comment: str | None = None
    in_date: SpecTime | None = None
    warehouse_id: int | None = None
    tracking: list[ReturnTrackingIn] | None = None
    return_order_handling_comment: str | None = None


class ReportedNumberIn(VendorModel):
    reported_number_of_items: float = Field(ge=0)


class ReportedReturnedNumberIn(VendorModel):
    reported_returned_number_of_items: float = Field(ge=0)


M = TypeVar("M", bound=BaseModel)


def parse_body(model: type[M], body: object, record: str) -> M:
    """Validate a JSON body, turning pydantic's report into one message naming the field.

    The live API answers a bad body with 400 and a message; the exact wording is not
    documented [I], so the emulator names the record and the offending field path.
    """
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or "body"
            problems.append(f"{field}: {error['msg']}")
        raise OngoingApiError(400, f"{record}: " + "; ".join(problems)) from exc
