"""Our value objects to file documents and back, by seed 002's field names.

Outgoing documents carry what Ongoing's own Centra connector sends (seed 002's tables);
incoming ones are read into plain records here, with every number parsed strictly, so a
bad figure is reported with its file, line and field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from centrasync.wms.models import Article, InOrder, OutboundOrder

from .formats import SCHEMAS, Codec, Document, FileFormatError, Message, split_list

__all__ = [
    "DispatchLine",
    "ReadDispatch",
    "ReadReceipt",
    "ReadReturn",
    "ReadStock",
    "cancel_document",
    "external_stock_document",
    "in_order_document",
    "item_master_document",
    "order_document",
    "read_cancel_result",
    "read_dispatch",
    "read_receipt",
    "read_return",
    "read_stock",
]


def _text(value: object | None) -> str:
    return "" if value is None else str(value)


def item_master_document(articles: Sequence[Article], codec: Codec) -> Document:
    return Document(
        lines=[
            {
                "ArticleNumber": article.sku,
                "ArticleName": article.name,
                "ProductCode": _text(article.product_code),
                "BarCode": _text(article.barcode),
                "Weight": codec.number(article.weight_kg),
                "CountryOfOriginCode": _text(article.country_of_origin),
                "StatisticsNumber": _text(article.hs_code),
                "CustomsDescription": _text(article.customs_description),
                "CustomerPrice": codec.number(article.unit_price),
                "IsObsolete": "0" if article.is_active else "1",
            }
            for article in articles
        ]
    )


def order_document(order: OutboundOrder, codec: Codec) -> Document:
    ship_to = order.ship_to
    header = {
        "GoodsOwnerOrderNumber": order.order_number,
        "GoodsOwnerOrderId": _text(order.reference),
        "DeliveryDate": _text(order.delivery_date and order.delivery_date.isoformat()),
        "CustomerNumber": _text(order.customer_number),
        "Name": ship_to.name,
        "Address": ship_to.address1,
        "Address2": _text(ship_to.address2),
        "Address3": _text(ship_to.address3),
        "PostCode": ship_to.postcode,
        "City": ship_to.city,
        "CountryStateCode": _text(ship_to.state),
        "CountryCode": ship_to.country_code,
        "Email": _text(ship_to.email),
        "TelePhone": _text(order.telephone or ship_to.phone),
        "MobilePhone": _text(order.mobile),
        "NotificationMobilePhone": _text(order.notification_mobile),
        "NotificationEmail": _text(order.notification_email),
        "TransporterCode": _text(order.carrier),
        "ServiceCode": _text(order.service),
        "OrderServicePointCode": _text(order.service_point),
        "OrderRemark": _text(order.remark),
        "OrderType": _text(order.order_type),
        "CustomerPrice": codec.number(order.customer_price),
        "CurrencyCode": _text(order.currency),
        "InvoiceNumber": _text(order.invoice_number),
        "InvoiceUrl": _text(order.invoice_url),
        "ConsigneeOrderNumber": _text(order.delivery_note),
        "MarketPlace": _text(order.marketplace),
        "MarketPlaceOrderNumber": _text(order.marketplace_order_number),
    }
    lines = [
        {
            "ExternalOrderLineCode": line.line_key,
            "ArticleNumber": line.sku,
            "NumberOfItems": codec.number(line.quantity),
            "CustomerLinePrice": codec.number(line.unit_price),
        }
        for line in order.lines
    ]
    return Document(header=header, lines=lines)


def cancel_document(order_number: str, requested: datetime) -> Document:
    return Document(
        header={"GoodsOwnerOrderNumber": order_number, "RequestedTime": requested.isoformat()}
    )


def in_order_document(in_order: InOrder, codec: Codec) -> Document:
    header = {
        "GoodsOwnerOrderNumber": in_order.in_order_number,
        "GoodsOwnerReference": _text(in_order.reference),
        "ReferenceNumber": _text(in_order.reference_number),
        "InDate": _text(in_order.expected_date and in_order.expected_date.isoformat()),
        "SupplierNumber": _text(in_order.supplier_number),
        "SupplierName": _text(in_order.supplier_name),
    }
    lines = [
        {
            "ExternalOrderLineCode": line.line_key,
            "ArticleNumber": line.sku,
            "NumberOfItems": codec.number(line.quantity),
            "UnitCost": codec.number(line.unit_cost),
            "CurrencyCode": _text(line.currency),
        }
        for line in in_order.lines
    ]
    return Document(header=header, lines=lines)


def external_stock_document(levels: dict[str, Decimal], codec: Codec) -> Document:
    return Document(
        lines=[
            {"ArticleNumber": sku, "ExternalNumberOfItems": codec.number(value)}
            for sku, value in sorted(levels.items())
        ]
    )


# -- what the warehouse sends back --------------------------------------------------------


class _Reader:
    """Reads one document's fields with the file's name, line and field in every error."""

    def __init__(self, message: Message, file: str, document: Document, codec: Codec) -> None:
        self.schema = SCHEMAS[message]
        self.file = file
        self.document = document
        self.codec = codec
        self.number: str | None = document.header.get("GoodsOwnerOrderNumber") or None

    def error(self, reason: str, line: int, name: str) -> FileFormatError:
        return FileFormatError(
            self.file,
            reason,
            line=line,
            field=self.codec.field_name(self.schema, name),
            number=self.number,
        )

    def header(self, name: str, *, required: bool = False) -> str:
        value = self.document.header.get(name, "")
        if required and not value:
            raise self.error("must not be empty", self.document.header_line, name)
        return value

    def header_time(self, name: str) -> datetime | None:
        value = self.header(name)
        if not value:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise self.error(
                f"{value!r} is not an ISO 8601 time", self.document.header_line, name
            ) from None
        if moment.utcoffset() is None:
            raise self.error(f"{value!r} has no UTC offset", self.document.header_line, name)
        return moment.astimezone(UTC)

    def lines(self) -> list[tuple[int, dict[str, str]]]:
        return list(zip(self.document.line_numbers, self.document.lines, strict=True))

    def text(self, line: int, values: dict[str, str], name: str) -> str:
        value = values.get(name, "")
        if not value:
            raise self.error("must not be empty", line, name)
        return value

    def quantity(
        self, line: int, values: dict[str, str], name: str, *, signed: bool = False
    ) -> Decimal:
        raw = values.get(name, "")
        if not raw:
            return Decimal(0)
        try:
            value = self.codec.parse_number(raw, self.file, line, name)
        except FileFormatError as exc:
            raise self.error(exc.reason, line, name) from None
        if value < 0 and not signed:
            raise self.error(f"{raw!r} is negative", line, name)
        return value


@dataclass(frozen=True)
class DispatchLine:
    line_key: str
    sku: str
    ordered: Decimal
    picked: Decimal
    serials: tuple[str, ...]


@dataclass(frozen=True)
class ReadDispatch:
    order_number: str
    wms_id: str
    shipped: bool
    shipped_at: datetime | None
    carrier: str
    service: str
    parcels: tuple[tuple[str, str, str], ...]
    lines: tuple[DispatchLine, ...]


_STAGES = {"PICKED": False, "SHIPPED": True}


def read_dispatch(file: str, document: Document, codec: Codec) -> ReadDispatch:
    reader = _Reader(Message.DISPATCHES, file, document, codec)
    number = reader.header("GoodsOwnerOrderNumber", required=True)
    stage = reader.header("Status", required=True).upper()
    if stage not in _STAGES:
        raise reader.error(f"{stage!r} is not PICKED or SHIPPED", document.header_line, "Status")
    parcel_numbers = split_list(reader.header("ParcelNumbers"))
    tracking = split_list(reader.header("TrackingNumbers"))
    urls = split_list(reader.header("TrackingUrls"))
    count = max(len(parcel_numbers), len(tracking), len(urls))

    def at(values: list[str], index: int) -> str:
        return values[index] if index < len(values) else ""

    parcels = tuple((at(parcel_numbers, i), at(tracking, i), at(urls, i)) for i in range(count))
    lines = []
    for line, values in reader.lines():
        lines.append(
            DispatchLine(
                reader.text(line, values, "ExternalOrderLineCode"),
                values.get("ArticleNumber", ""),
                reader.quantity(line, values, "OrderedNumberOfItems"),
                reader.quantity(line, values, "PickedNumberOfItems"),
                tuple(split_list(values.get("SerialNumbers", ""))),
            )
        )
    return ReadDispatch(
        order_number=number,
        wms_id=reader.header("OrderId") or number,
        shipped=_STAGES[stage],
        shipped_at=reader.header_time("ShippedTime"),
        carrier=reader.header("TransporterCode"),
        service=reader.header("ServiceCode"),
        parcels=parcels,
        lines=tuple(lines),
    )


def read_cancel_result(file: str, document: Document, codec: Codec) -> tuple[str, str, str]:
    reader = _Reader(Message.CANCEL_RESULTS, file, document, codec)
    number = reader.header("GoodsOwnerOrderNumber", required=True)
    result = reader.header("Result", required=True).upper()
    if result not in ("CANCELLED", "REJECTED", "NOT_FOUND"):
        raise reader.error(
            f"{result!r} is not CANCELLED, REJECTED or NOT_FOUND", document.header_line, "Result"
        )
    return number, result, reader.header("Reason")


@dataclass(frozen=True)
class ReadReceipt:
    in_order_number: str
    wms_id: str
    lines: tuple[tuple[str, str, Decimal, Decimal], ...]


def read_receipt(file: str, document: Document, codec: Codec) -> ReadReceipt:
    reader = _Reader(Message.RECEIPTS, file, document, codec)
    number = reader.header("GoodsOwnerOrderNumber", required=True)
    lines = tuple(
        (
            reader.text(line, values, "ExternalOrderLineCode"),
            values.get("ArticleNumber", ""),
            reader.quantity(line, values, "NumberOfItems"),
            reader.quantity(line, values, "ReceivedNumberOfItems"),
        )
        for line, values in reader.lines()
    )
    return ReadReceipt(number, reader.header("InOrderId") or number, lines)


@dataclass(frozen=True)
class ReadReturn:
    order_number: str
    return_order: str | None
    returned_at: datetime | None
    lines: tuple[tuple[str, str, Decimal, tuple[str, ...]], ...] = field(default=())


def read_return(file: str, document: Document, codec: Codec) -> ReadReturn:
    reader = _Reader(Message.RETURNS, file, document, codec)
    number = reader.header("GoodsOwnerOrderNumber", required=True)
    lines = tuple(
        (
            reader.text(line, values, "ExternalOrderLineCode"),
            values.get("ArticleNumber", ""),
            reader.quantity(line, values, "ReturnedNumberOfItems"),
            tuple(split_list(values.get("ReturnCauses", ""))),
        )
        for line, values in reader.lines()
    )
    return ReadReturn(
        number,
        reader.header("ReturnOrderNumber") or None,
        reader.header_time("ReturnedTime"),
        lines,
    )


_STOCK_FIGURES = (
    "NumberOfItems",
    "NumberOfLockedItems",
    "NumberOfBookedItems",
    "AllocatedNumberOfItems",
    "PickedToBeCollectedNumberOfItems",
    "ToReceiveNumberOfItems",
    "SellableNumberOfItems",
)


@dataclass(frozen=True)
class ReadStock:
    report_id: str
    full: bool
    snapshot_at: datetime
    figures: dict[str, dict[str, Decimal | None]]


def read_stock(file: str, document: Document, codec: Codec) -> ReadStock:
    reader = _Reader(Message.STOCK, file, document, codec)
    reader.number = None
    report_id = reader.header("ReportId", required=True)
    kind = reader.header("Kind", required=True).upper()
    if kind not in ("FULL", "DELTA"):
        raise reader.error(f"{kind!r} is not FULL or DELTA", document.header_line, "Kind")
    snapshot_at = reader.header_time("SnapshotTime")
    if snapshot_at is None:
        raise reader.error("must not be empty", document.header_line, "SnapshotTime")
    figures: dict[str, dict[str, Decimal | None]] = {}
    for line, values in reader.lines():
        sku = reader.text(line, values, "ArticleNumber")
        row: dict[str, Decimal | None] = {
            name: reader.quantity(line, values, name, signed=kind == "DELTA")
            for name in _STOCK_FIGURES
        }
        external = values.get("ExternalNumberOfItems", "")
        row["ExternalNumberOfItems"] = (
            reader.quantity(line, values, "ExternalNumberOfItems") if external else None
        )
        figures[sku] = row
    return ReadStock(report_id, kind == "FULL", snapshot_at, figures)
