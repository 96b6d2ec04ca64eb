"""The 3PL behind the files: imports inbound files, writes outbound ones.

The warehouse floor (articles, orders, in-orders, returns, stock and the operator's
actions) is the Ongoing emulator's :class:`~centrasync.emulators.ongoing.floor.OngoingState`:
the same state machine, so the same control API and auto-operator drive both emulators.
What differs is the interface, which lives here: inbound files become records (an order
that cannot be imported goes to ``error/`` with a reason beside it), and after every change
:meth:`FileWarehouse.publish` writes what a warehouse system would: a dispatch confirmation
per order whose picks or parcels moved (cumulative figures), a receipt confirmation per
in-order, a return notice per order or return order, and a stock report (delta by default,
full on request), each written as a temporary file and renamed.

Faults (reference file-wms.md §5.7) are armed through the control API and each hits the
next file of its kind: ``late`` holds intake for a number of seconds, ``partial`` leaves a
truncated ``.part`` upload behind, ``duplicate`` writes a confirmation twice under two
names, ``wrong_encoding`` writes a file in Latin-1 while UTF-8 is configured (or the other
way round), ``malformed`` truncates a file under its final name.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from centrasync.config import FileFolders
from centrasync.emulators.ongoing.floor import OngoingState
from centrasync.emulators.ongoing.model import OngoingApiError, Order, ReturnOrder
from centrasync.emulators.ongoing.payloads import ArticleIn, OrderIn, PurchaseOrderIn
from centrasync.wms.files.formats import (
    INBOUND,
    SCHEMAS,
    Codec,
    Document,
    FileFormatError,
    Message,
    join_list,
)

__all__ = ["FAULT_KINDS", "FileWarehouse"]

FAULT_KINDS = ("late", "partial", "duplicate", "wrong_encoding", "malformed")


@dataclass
class Faults:
    """Armed faults: (kind, message type or "" for any) -> how many of the next files."""

    armed: dict[tuple[str, str], int] = field(default_factory=dict)
    hit: list[str] = field(default_factory=list)

    def arm(self, kind: str, message: str | None, count: int) -> None:
        key = (kind, message or "")
        self.armed[key] = self.armed.get(key, 0) + count

    def take(self, kind: str, message: Message) -> bool:
        """Whether this file is hit: a fault armed for its message type, or for any."""
        for key in ((kind, message.value), (kind, "")):
            if self.armed.get(key, 0) > 0:
                self.armed[key] -= 1
                self.hit.append(f"{kind} {message.value}")
                return True
        return False


def _number(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return format(Decimal(repr(float(value))).normalize(), "f")


class FileWarehouse:
    """The files side of the emulated 3PL, over a local folder."""

    def __init__(
        self,
        root: Path,
        state: OngoingState,
        *,
        codec: Codec | None = None,
        folders: FileFolders | None = None,
        stock_reports: str = "delta",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.root = root
        self.state = state
        self.codec = codec or Codec()
        self.folders = folders or FileFolders()
        self.stock_reports = stock_reports
        self.faults = Faults()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._sequence = itertools.count(1)
        self._published_orders: dict[str, tuple[object, ...]] = {}
        self._published_receipts: dict[str, tuple[object, ...]] = {}
        self._published_returns: dict[str, tuple[object, ...]] = {}
        self._published_stock: dict[str, dict[str, str]] = {}
        self._stock_mark: tuple[int, datetime | None] | None = None
        self._late_until = 0.0
        self.imported = 0
        self.written = 0
        for message in Message:
            self.folder(message).mkdir(parents=True, exist_ok=True)

    def folder(self, message: Message) -> Path:
        return self.root / str(getattr(self.folders, message.value))

    # -- intake -------------------------------------------------------------------------------

    def hold_intake(self, seconds: float, now: float) -> None:
        self._late_until = now + seconds

    def intake(self, now: float | None = None) -> int:
        """Import every complete file waiting in the in-folders, in dependency order."""
        if now is not None and now < self._late_until:
            return 0
        done = 0
        for message in INBOUND:
            folder = self.folder(message)
            names = sorted(
                (entry for entry in folder.iterdir() if entry.is_file() and _final(entry.name)),
                key=lambda entry: (entry.stat().st_mtime_ns, entry.name),
            )
            for entry in names:
                self._import(message, entry)
                done += 1
        return done

    def _import(self, message: Message, entry: Path) -> None:
        consumed = self.folders.consumed or "processed"
        try:
            document = self.codec.decode(SCHEMAS[message], entry.name, entry.read_bytes())
            self._apply(message, entry.name, document)
        except (FileFormatError, OngoingApiError, ValueError) as exc:
            target = entry.parent / "error"
            target.mkdir(exist_ok=True)
            (target / f"{entry.name}.reason.txt").write_text(f"{exc}\n", encoding="utf-8")
            os.replace(entry, target / entry.name)
            return
        target = entry.parent / consumed
        target.mkdir(exist_ok=True)
        os.replace(entry, target / entry.name)
        self.imported += 1

    def _apply(self, message: Message, name: str, document: Document) -> None:
        owner = self.state.goods_owner_id
        header = document.header
        if message is Message.ITEMS:
            for line in document.lines:
                self.state.upsert_article(
                    ArticleIn(
                        goods_owner_id=owner,
                        article_number=line["ArticleNumber"],
                        article_name=line.get("ArticleName") or None,
                        product_code=line.get("ProductCode") or None,
                        weight=_float(line.get("Weight"), self.codec),
                        country_of_origin_code=line.get("CountryOfOriginCode") or None,
                        statistics_number=line.get("StatisticsNumber") or None,
                        customs_description=line.get("CustomsDescription") or None,
                        customer_price=_float(line.get("CustomerPrice"), self.codec),
                        is_obsolete=line.get("IsObsolete") == "1",
                        is_active=line.get("IsObsolete") != "1",
                    )
                )
        elif message is Message.ORDERS:
            self.state.upsert_order(self._order_in(header, document.lines))
        elif message is Message.CANCELLATIONS:
            self._cancel(header["GoodsOwnerOrderNumber"])
        elif message is Message.IN_ORDERS:
            self.state.upsert_purchase_order(
                PurchaseOrderIn.model_validate(
                    {
                        "goodsOwnerId": owner,
                        "purchaseOrderNumber": header["GoodsOwnerOrderNumber"],
                        "goodsOwnerReference": header.get("GoodsOwnerReference") or None,
                        "referenceNumber": header.get("ReferenceNumber") or None,
                        "inDate": header.get("InDate") or None,
                        "supplierInfo": {
                            "supplierNumber": header.get("SupplierNumber") or None,
                            "supplierName": header.get("SupplierName") or None,
                        },
                        "purchaseOrderLines": [
                            {
                                "rowNumber": line["ExternalOrderLineCode"],
                                "articleNumber": line["ArticleNumber"],
                                "numberOfItems": _float(line.get("NumberOfItems"), self.codec),
                                "externalOrderLineId": line["ExternalOrderLineCode"],
                            }
                            for line in document.lines
                        ],
                    }
                )
            )
        elif message is Message.EXTERNAL_STOCK:
            for line in document.lines:
                article = self.state.article_by_number(line["ArticleNumber"])
                article.document = article.document.model_copy(
                    update={
                        "external_number_of_items": _float(
                            line.get("ExternalNumberOfItems"), self.codec
                        )
                    }
                )
                self.state.touch_stock([article])

    def _order_in(self, header: dict[str, str], lines: list[dict[str, str]]) -> OrderIn:
        def value(name: str) -> str | None:
            return header.get(name) or None

        return OrderIn.model_validate(
            {
                "goodsOwnerId": self.state.goods_owner_id,
                "orderNumber": header["GoodsOwnerOrderNumber"],
                "deliveryDate": value("DeliveryDate") or self._clock().date().isoformat(),
                "goodsOwnerOrderId": value("GoodsOwnerOrderId"),
                "orderRemark": value("OrderRemark"),
                "servicePointCode": value("OrderServicePointCode"),
                "customerPrice": _float(header.get("CustomerPrice"), self.codec),
                "invoiceUrl": value("InvoiceUrl"),
                "consigneeOrderNumber": value("ConsigneeOrderNumber"),
                "transporter": {
                    "transporterCode": value("TransporterCode"),
                    "transporterServiceCode": value("ServiceCode"),
                },
                "consignee": {
                    "customerNumber": value("CustomerNumber"),
                    "name": value("Name"),
                    "address1": value("Address"),
                    "address2": value("Address2"),
                    "address3": value("Address3"),
                    "postCode": value("PostCode"),
                    "city": value("City"),
                    "countryCode": value("CountryCode"),
                    "countryStateCode": value("CountryStateCode"),
                },
                "orderLines": [
                    {
                        "rowNumber": line["ExternalOrderLineCode"],
                        "articleNumber": line["ArticleNumber"],
                        "numberOfItems": _float(line.get("NumberOfItems"), self.codec) or 0.0,
                        "externalId": line["ExternalOrderLineCode"],
                    }
                    for line in lines
                ],
            }
        )

    def _cancel(self, number: str) -> None:
        try:
            order = self.state.order_by_number(number)
        except OngoingApiError:
            self._write(Message.CANCEL_RESULTS, number, _cancel_result(number, "NOT_FOUND", ""))
            return
        try:
            self.state.cancel_order(order.order_id)
        except OngoingApiError as exc:
            self._write(
                Message.CANCEL_RESULTS, number, _cancel_result(number, "REJECTED", exc.message)
            )
            return
        self._write(Message.CANCEL_RESULTS, number, _cancel_result(number, "CANCELLED", ""))

    # -- what the warehouse writes ------------------------------------------------------------

    def publish(self, *, full_stock: bool = False, stock: bool = True) -> int:
        """Write a file for everything that moved since the last call; how many were written.

        ``stock`` False leaves the stock report to a later call (its figures are derived
        from every article, the costly part).
        """
        before = self.written
        for order in list(self.state.orders.values()):
            self._publish_order(order)
        for purchase_order in list(self.state.purchase_orders.values()):
            signature = tuple((line.row.row_number, line.received) for line in purchase_order.lines)
            if any(received for _, received in signature) and (
                self._published_receipts.get(purchase_order.number) != signature
            ):
                self._published_receipts[purchase_order.number] = signature
                self._write(
                    Message.RECEIPTS,
                    purchase_order.number,
                    Document(
                        header={
                            "GoodsOwnerOrderNumber": purchase_order.number,
                            "InOrderId": str(purchase_order.purchase_order_id),
                            "ReceivedTime": _time(purchase_order.last_receive_time),
                        },
                        lines=[
                            {
                                "ExternalOrderLineCode": line.row.external_order_line_id
                                or line.row.row_number,
                                "ArticleNumber": line.article.number,
                                "NumberOfItems": _number(line.advised),
                                "ReceivedNumberOfItems": _number(line.received),
                            }
                            for line in purchase_order.lines
                        ],
                    ),
                )
        for return_order in list(self.state.return_orders.values()):
            self._publish_return_order(return_order)
        if stock or full_stock:
            self._publish_stock(full_stock)
        return self.written - before

    def _publish_order(self, order: Order) -> None:
        signature: tuple[object, ...] = (
            tuple((line.line_id, line.picked) for line in order.lines),
            order.shipped_time is not None,
            len(order.parcels),
        )
        if any(line.picked for line in order.lines) and (
            self._published_orders.get(order.number) != signature
        ):
            self._published_orders[order.number] = signature
            document = Document(
                header={
                    "GoodsOwnerOrderNumber": order.number,
                    "OrderId": str(order.order_id),
                    "Status": "SHIPPED" if order.shipped_time else "PICKED",
                    "ShippedTime": _time(order.shipped_time),
                    "TransporterCode": order.transporter_code or "",
                    "ServiceCode": order.service_code or "",
                    "ParcelNumbers": join_list([p.parcel_number for p in order.parcels]),
                    "TrackingNumbers": join_list([p.tracking_number for p in order.parcels]),
                    "TrackingUrls": join_list([p.tracking_url or "" for p in order.parcels]),
                },
                lines=[
                    {
                        "ExternalOrderLineCode": line.row.external_id or line.row.row_number,
                        "ArticleNumber": line.article.number,
                        "OrderedNumberOfItems": _number(line.ordered),
                        "PickedNumberOfItems": _number(line.picked),
                        "SerialNumbers": join_list(
                            [item.serial for item in line.picked_items if item.serial]
                        ),
                    }
                    for line in order.lines
                ],
            )
            self._write(Message.DISPATCHES, order.number, document, confirmation=True)
        returned = tuple((line.line_id, line.returned) for line in order.lines)
        if any(line.returned for line in order.lines) and (
            self._published_returns.get(order.number) != returned
        ):
            self._published_returns[order.number] = returned
            self._write(
                Message.RETURNS,
                order.number,
                Document(
                    header={
                        "GoodsOwnerOrderNumber": order.number,
                        "ReturnId": f"{order.order_id}-{next(self._sequence)}",
                        "ReturnedTime": _time(order.last_returned),
                    },
                    lines=[
                        {
                            "ExternalOrderLineCode": line.row.external_id or line.row.row_number,
                            "ArticleNumber": line.article.number,
                            "ReturnedNumberOfItems": _number(line.returned),
                            "ReturnCauses": join_list(
                                list(
                                    dict.fromkeys(
                                        item.return_cause.name
                                        for item in line.picked_items
                                        if item.returned and item.return_cause
                                    )
                                )
                            ),
                        }
                        for line in order.lines
                        if line.returned
                    ],
                ),
            )

    def _publish_return_order(self, return_order: ReturnOrder) -> None:
        key = f"{return_order.order.number}/{return_order.number}"
        signature = tuple((line.line_id, line.returned) for line in return_order.lines)
        if not any(line.returned for line in return_order.lines) or (
            self._published_returns.get(key) == signature
        ):
            return
        self._published_returns[key] = signature
        lines = []
        for line in return_order.lines:
            if not line.returned:
                continue
            causes = [item.cause for item in line.items if item.cause] or (
                [line.cause] if line.cause else []
            )
            order_line = line.order_line
            lines.append(
                {
                    "ExternalOrderLineCode": order_line.row.external_id
                    or order_line.row.row_number,
                    "ArticleNumber": order_line.article.number,
                    "ReturnedNumberOfItems": _number(line.returned),
                    "ReturnCauses": join_list(list(dict.fromkeys(c.name for c in causes))),
                }
            )
        self._write(
            Message.RETURNS,
            return_order.order.number,
            Document(
                header={
                    "GoodsOwnerOrderNumber": return_order.order.number,
                    "ReturnOrderNumber": return_order.number,
                    "ReturnId": f"{return_order.return_order_id}-{next(self._sequence)}",
                    "ReturnedTime": _time(return_order.last_returned),
                },
                lines=lines,
            ),
        )

    def _publish_stock(self, full: bool) -> None:
        # Every change to an article's figures touches its stock time; without one since
        # the last report there is nothing new to report (and no need to derive figures).
        articles = self.state.articles.values()
        mark = (len(articles), max((a.stock_changed for a in articles), default=None))
        if mark == self._stock_mark and not full and self.stock_reports != "full":
            return
        self._stock_mark = mark
        inventory = self.state.inventory()
        current: dict[str, dict[str, str]] = {}
        for number, figures in inventory.items():
            article = self.state.articles[number]
            external = article.document.external_number_of_items
            current[number] = {
                "NumberOfItems": _number(figures.number_of_items),
                "NumberOfLockedItems": _number(figures.number_of_locked_items),
                "NumberOfBookedItems": _number(figures.booked),
                "AllocatedNumberOfItems": _number(figures.allocated),
                "PickedToBeCollectedNumberOfItems": _number(figures.picked_to_be_collected),
                "ToReceiveNumberOfItems": _number(figures.to_receive),
                "SellableNumberOfItems": _number(figures.sellable),
                "ExternalNumberOfItems": "" if external is None else _number(external),
            }
        full = full or self.stock_reports == "full"
        changed = {
            sku: row for sku, row in current.items() if self._published_stock.get(sku) != row
        }
        if not changed and not full:
            return
        if full:
            lines = [{"ArticleNumber": sku, **row} for sku, row in sorted(current.items())]
        else:
            lines = []
            for sku, row in sorted(changed.items()):
                old = self._published_stock.get(sku, {})
                delta: dict[str, str] = {"ArticleNumber": sku}
                for name, value in row.items():
                    if name == "ExternalNumberOfItems":
                        delta[name] = value
                    else:
                        change = Decimal(value) - Decimal(old.get(name) or "0")
                        delta[name] = format(change.normalize(), "f") if change else "0"
                lines.append(delta)
        self._published_stock = current
        if not lines:
            return
        now = self._clock()
        self._write(
            Message.STOCK,
            now.strftime("%Y%m%dT%H%M%S%fZ"),
            Document(
                header={
                    "ReportId": uuid.uuid4().hex,
                    "Kind": "FULL" if full else "DELTA",
                    "SnapshotTime": now.isoformat(),
                },
                lines=lines,
            ),
        )

    def _write(
        self, message: Message, key: str, document: Document, *, confirmation: bool = False
    ) -> None:
        """Write one file as a warehouse system does: a temporary name, then a rename."""
        codec = self.codec
        if self.faults.take("wrong_encoding", message):
            wrong = (
                "latin-1"
                if codec.encoding.lower().replace("_", "-") in ("utf-8", "utf8")
                else "utf-8"
            )
            codec = Codec(
                codec.format, codec.delimiter, wrong, codec.decimal_separator, codec.headers
            )
        data = codec.encode(SCHEMAS[message], document)
        folder = self.folder(message)
        stamp = self._clock().strftime("%Y%m%dT%H%M%S%fZ")
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in key)
        name = (
            f"{SCHEMAS[message].code}_{safe}_{stamp}_{next(self._sequence):06d}.{codec.extension}"
        )
        if self.faults.take("partial", message):
            # An upload that died: a fragment under the temporary name, never renamed.
            (folder / f"{name}.part").write_bytes(data[: max(1, len(data) // 2)])
        if self.faults.take("malformed", message):
            data = data[: max(1, len(data) * 2 // 3)]
        _write_atomic(folder / name, data)
        self.written += 1
        if confirmation and self.faults.take("duplicate", message):
            _write_atomic(folder / f"DUP_{name}", data)
            self.written += 1


def _write_atomic(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_bytes(data)
    os.replace(temp, path)


def _final(name: str) -> bool:
    return not name.startswith(".") and not name.endswith((".tmp", ".part", ".filepart"))


def _float(value: str | None, codec: Codec) -> float | None:
    if not value:
        return None
    return float(codec.parse_number(value, "-", 0, "-"))


def _time(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat() if moment else ""


def _cancel_result(number: str, result: str, reason: str) -> Document:
    return Document(header={"GoodsOwnerOrderNumber": number, "Result": result, "Reason": reason})
