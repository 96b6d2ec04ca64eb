"""The file formats a file-exchange warehouse speaks: one business document per file.

A document is a header (fields that hold for the whole file) and lines. CSV files use the
"vertical" layout: one row per line with the header fields repeated (reference
file-wms.md §3.2); XML files put the header fields as child elements of the root and each
line as a ``<Line>`` element. Field names default to Ongoing's names in seed 002's field
mapping, the names a warehouse running Ongoing's Centra connector already knows; a store's
settings rename any of them, and choose delimiter, encoding and decimal separator.

A file that cannot be read raises :class:`FileFormatError` naming file, line and field,
so the file is parked with a reason a person can act on.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from xml.etree.ElementTree import Element, SubElement, tostring

from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException

__all__ = [
    "SCHEMAS",
    "Codec",
    "Document",
    "FileFormatError",
    "Format",
    "Message",
    "Schema",
]

LIST_SEPARATOR = "|"


class Format(StrEnum):
    CSV = "csv"
    XML = "xml"


class Message(StrEnum):
    """Every message type; the first five go to the warehouse, the rest come back."""

    ITEMS = "items"
    ORDERS = "orders"
    CANCELLATIONS = "cancellations"
    IN_ORDERS = "in_orders"
    EXTERNAL_STOCK = "external_stock"
    DISPATCHES = "dispatches"
    CANCEL_RESULTS = "cancel_results"
    RECEIPTS = "receipts"
    RETURNS = "returns"
    STOCK = "stock"


INBOUND = (
    Message.ITEMS,
    Message.ORDERS,
    Message.CANCELLATIONS,
    Message.IN_ORDERS,
    Message.EXTERNAL_STOCK,
)
OUTBOUND = (
    Message.DISPATCHES,
    Message.CANCEL_RESULTS,
    Message.RECEIPTS,
    Message.RETURNS,
    Message.STOCK,
)


@dataclass(frozen=True)
class Schema:
    """The fields of one message type by their default (seed 002) names; ``code`` starts
    file names, ``root`` names the XML root element."""

    message: Message
    code: str
    root: str
    header: tuple[str, ...]
    lines: tuple[str, ...]
    required: frozenset[str] = frozenset()


SCHEMAS: dict[Message, Schema] = {
    schema.message: schema
    for schema in (
        Schema(
            Message.ITEMS,
            "IM",
            "ArticleDefinitions",
            (),
            (
                "ArticleNumber",
                "ArticleName",
                "ProductCode",
                "BarCode",
                "Weight",
                "CountryOfOriginCode",
                "StatisticsNumber",
                "CustomsDescription",
                "CustomerPrice",
                "IsObsolete",
            ),
            frozenset({"ArticleNumber"}),
        ),
        Schema(
            Message.ORDERS,
            "DO",
            "Order",
            (
                "GoodsOwnerOrderNumber",
                "GoodsOwnerOrderId",
                "DeliveryDate",
                "CustomerNumber",
                "Name",
                "Address",
                "Address2",
                "Address3",
                "PostCode",
                "City",
                "CountryStateCode",
                "CountryCode",
                "Email",
                "TelePhone",
                "MobilePhone",
                "NotificationMobilePhone",
                "NotificationEmail",
                "TransporterCode",
                "ServiceCode",
                "OrderServicePointCode",
                "OrderRemark",
                "OrderType",
                "CustomerPrice",
                "CurrencyCode",
                "InvoiceNumber",
                "InvoiceUrl",
                "ConsigneeOrderNumber",
                "MarketPlace",
                "MarketPlaceOrderNumber",
            ),
            ("ExternalOrderLineCode", "ArticleNumber", "NumberOfItems", "CustomerLinePrice"),
            frozenset({"GoodsOwnerOrderNumber", "ExternalOrderLineCode", "ArticleNumber"}),
        ),
        Schema(
            Message.CANCELLATIONS,
            "CDO",
            "CancelOrder",
            ("GoodsOwnerOrderNumber", "RequestedTime"),
            (),
            frozenset({"GoodsOwnerOrderNumber"}),
        ),
        Schema(
            Message.IN_ORDERS,
            "RA",
            "InOrder",
            (
                "GoodsOwnerOrderNumber",
                "GoodsOwnerReference",
                "ReferenceNumber",
                "InDate",
                "SupplierNumber",
                "SupplierName",
            ),
            ("ExternalOrderLineCode", "ArticleNumber", "NumberOfItems", "UnitCost", "CurrencyCode"),
            frozenset({"GoodsOwnerOrderNumber", "ExternalOrderLineCode", "ArticleNumber"}),
        ),
        Schema(
            Message.EXTERNAL_STOCK,
            "EXT",
            "ExternalStock",
            (),
            ("ArticleNumber", "ExternalNumberOfItems"),
            frozenset({"ArticleNumber", "ExternalNumberOfItems"}),
        ),
        Schema(
            Message.DISPATCHES,
            "DC",
            "DispatchConfirmation",
            (
                "GoodsOwnerOrderNumber",
                "OrderId",
                "Status",
                "ShippedTime",
                "TransporterCode",
                "ServiceCode",
                "ParcelNumbers",
                "TrackingNumbers",
                "TrackingUrls",
            ),
            (
                "ExternalOrderLineCode",
                "ArticleNumber",
                "OrderedNumberOfItems",
                "PickedNumberOfItems",
                "SerialNumbers",
            ),
            frozenset({"GoodsOwnerOrderNumber", "Status", "ExternalOrderLineCode"}),
        ),
        Schema(
            Message.CANCEL_RESULTS,
            "CR",
            "CancelResult",
            ("GoodsOwnerOrderNumber", "Result", "Reason"),
            (),
            frozenset({"GoodsOwnerOrderNumber", "Result"}),
        ),
        Schema(
            Message.RECEIPTS,
            "RC",
            "ReceiptConfirmation",
            ("GoodsOwnerOrderNumber", "InOrderId", "ReceivedTime"),
            (
                "ExternalOrderLineCode",
                "ArticleNumber",
                "NumberOfItems",
                "ReceivedNumberOfItems",
            ),
            frozenset({"GoodsOwnerOrderNumber", "ExternalOrderLineCode"}),
        ),
        Schema(
            Message.RETURNS,
            "RN",
            "ReturnNotice",
            ("GoodsOwnerOrderNumber", "ReturnOrderNumber", "ReturnId", "ReturnedTime"),
            (
                "ExternalOrderLineCode",
                "ArticleNumber",
                "ReturnedNumberOfItems",
                "ReturnCauses",
            ),
            frozenset({"GoodsOwnerOrderNumber", "ExternalOrderLineCode"}),
        ),
        Schema(
            Message.STOCK,
            "IR",
            "StockReport",
            ("ReportId", "Kind", "SnapshotTime"),
            (
                "ArticleNumber",
                "NumberOfItems",
                "NumberOfLockedItems",
                "NumberOfBookedItems",
                "AllocatedNumberOfItems",
                "PickedToBeCollectedNumberOfItems",
                "ToReceiveNumberOfItems",
                "SellableNumberOfItems",
                "ExternalNumberOfItems",
            ),
            frozenset({"ReportId", "Kind", "SnapshotTime", "ArticleNumber"}),
        ),
    )
}


class FileFormatError(ValueError):
    """A file that cannot be read; ``line`` is 1-based (the header row is line 1)."""

    def __init__(
        self,
        file: str,
        reason: str,
        *,
        line: int | None = None,
        field: str = "",
        number: str | None = None,
    ) -> None:
        where = f"file {file}"
        if line is not None:
            where += f", line {line}"
        if field:
            where += f", field {field}"
        super().__init__(f"{where}: {reason}")
        self.file = file
        self.line = line
        self.field = field
        self.reason = reason
        self.number = number


@dataclass
class Document:
    """One file's content by default field names; ``line_numbers`` say where each line
    was in the file, for error messages."""

    header: dict[str, str] = field(default_factory=dict)
    lines: list[dict[str, str]] = field(default_factory=list)
    line_numbers: list[int] = field(default_factory=list)
    header_line: int = 2


@dataclass(frozen=True)
class Codec:
    """Writes and reads documents in one store's format.

    ``headers`` renames fields per message type: ``{"orders": {"ArticleNumber": "sku"}}``.
    """

    format: Format = Format.CSV
    delimiter: str = ";"
    encoding: str = "utf-8"
    decimal_separator: str = "."
    headers: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def extension(self) -> str:
        return self.format.value

    def _names(self, schema: Schema) -> dict[str, str]:
        renamed = self.headers.get(schema.message.value, {})
        return {name: renamed.get(name, name) for name in (*schema.header, *schema.lines)}

    # -- numbers --------------------------------------------------------------------------

    def number(self, value: Decimal | None) -> str:
        if value is None:
            return ""
        # Exact: no rounding to the decimal context, only trailing zeros go.
        text = format(value, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text.replace(".", self.decimal_separator)

    def parse_number(self, text: str, file: str, line: int, field_name: str) -> Decimal:
        raw = text.strip()
        if self.decimal_separator != ".":
            if "." in raw:
                raise FileFormatError(file, f"{raw!r} is not a number", line=line, field=field_name)
            raw = raw.replace(self.decimal_separator, ".")
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise FileFormatError(
                file, f"{text!r} is not a number", line=line, field=field_name
            ) from None
        if not value.is_finite():
            raise FileFormatError(file, f"{text!r} is not a number", line=line, field=field_name)
        return value

    # -- writing --------------------------------------------------------------------------

    def encode(self, schema: Schema, document: Document) -> bytes:
        names = self._names(schema)
        if self.format is Format.XML:
            root = Element(schema.root)
            for name in schema.header:
                value = document.header.get(name, "")
                if value:
                    SubElement(root, names[name]).text = value
            for values in document.lines:
                element = SubElement(root, "Line")
                for name in schema.lines:
                    value = values.get(name, "")
                    if value:
                        SubElement(element, names[name]).text = value
            body: bytes = tostring(root, encoding=self.encoding, xml_declaration=True)
            return body
        out = io.StringIO(newline="")
        writer = csv.writer(out, delimiter=self.delimiter, lineterminator="\r\n")
        columns = [*schema.header, *schema.lines]
        writer.writerow([names[name] for name in columns])
        rows = document.lines or [{}]
        for values in rows:
            writer.writerow(
                [document.header.get(name, "") for name in schema.header]
                + [values.get(name, "") for name in schema.lines]
            )
        return out.getvalue().encode(self.encoding)

    # -- reading --------------------------------------------------------------------------

    def _text(self, file: str, data: bytes) -> str:
        encoding = self.encoding
        # A UTF-8 BOM is accepted on read (reference §4: encodings).
        if codecs.lookup(encoding).name == "utf-8":
            encoding = "utf-8-sig"
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise FileFormatError(
                file, f"not valid {self.encoding} at byte {exc.start}", line=line
            ) from None

    def decode(self, schema: Schema, file: str, data: bytes) -> Document:
        if not data.strip():
            raise FileFormatError(file, "the file is empty")
        if self.format is Format.XML:
            return self._decode_xml(schema, file, data)
        return self._decode_csv(schema, file, self._text(file, data))

    def _decode_csv(self, schema: Schema, file: str, text: str) -> Document:
        names = self._names(schema)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter, strict=True)
        try:
            rows = list(reader)
        except csv.Error as exc:
            raise FileFormatError(file, f"not valid CSV: {exc}", line=reader.line_num) from None
        if not rows:
            raise FileFormatError(file, "the file is empty")
        header_row = [cell.strip() for cell in rows[0]]
        position = {name: index for index, name in enumerate(header_row)}
        for name in sorted(schema.required):
            if names[name] not in position:
                raise FileFormatError(
                    file, "column missing from the header", line=1, field=names[name]
                )
        document = Document()
        data_rows = [(number, row) for number, row in enumerate(rows[1:], start=2) if any(row)]
        if not data_rows:
            raise FileFormatError(file, "no records after the header (partial file?)", line=1)
        key_column = position.get(names.get("GoodsOwnerOrderNumber", ""))
        for number, row in data_rows:
            if len(row) != len(header_row):
                # The document's number, if the row still holds it: the record it belongs
                # to can then be parked with the reason.
                known = (
                    row[key_column].strip()
                    if key_column is not None and key_column < len(row)
                    else ""
                )
                raise FileFormatError(
                    file,
                    f"{len(row)} fields where the header has {len(header_row)} (truncated file?)",
                    line=number,
                    number=known or None,
                )
            values = {
                name: row[position[names[name]]].strip()
                for name in (*schema.header, *schema.lines)
                if names[name] in position
            }
            if not document.header:
                document.header = {name: values.get(name, "") for name in schema.header}
                document.header_line = number
            if schema.lines:
                document.lines.append({name: values.get(name, "") for name in schema.lines})
                document.line_numbers.append(number)
        return document

    def _decode_xml(self, schema: Schema, file: str, data: bytes) -> Document:
        names = self._names(schema)
        try:
            root = SafeElementTree.fromstring(data, forbid_dtd=True)
        except SafeElementTree.ParseError as exc:
            line = exc.position[0] if exc.position else None
            raise FileFormatError(file, f"not well-formed XML: {exc}", line=line) from None
        except DefusedXmlException as exc:
            raise FileFormatError(file, f"refused XML: {exc}") from None
        if root.tag != schema.root:
            raise FileFormatError(file, f"root element is {root.tag!r}, not {schema.root!r}")

        def child_text(element: Element, name: str) -> str:
            child = element.find(names[name])
            return (child.text or "").strip() if child is not None else ""

        document = Document(
            header={name: child_text(root, name) for name in schema.header}, header_line=1
        )
        for name in schema.header:
            if name in schema.required and not document.header[name]:
                raise FileFormatError(file, "element missing", field=names[name])
        for index, element in enumerate(root.findall("Line"), start=1):
            document.lines.append({name: child_text(element, name) for name in schema.lines})
            document.line_numbers.append(index)
        if schema.lines and not document.lines:
            raise FileFormatError(file, "no <Line> elements")
        return document

    def field_name(self, schema: Schema, name: str) -> str:
        """The name a field has in this store's files, for error messages."""
        return self._names(schema)[name]


def split_list(value: str) -> list[str]:
    return [part for part in value.split(LIST_SEPARATOR)] if value else []


def join_list(values: Sequence[str]) -> str:
    return LIST_SEPARATOR.join(values)
