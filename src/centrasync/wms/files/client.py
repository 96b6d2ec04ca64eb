"""``FilesWarehouse``: the :class:`~centrasync.wms.Warehouse` port over SFTP file exchange.

A file warehouse keeps no figures for us to query: it takes files and, later, writes
files back. So the connector keeps the protocol's state itself, as small JSON documents
in a state folder on the same SFTP server (shared by every engine process, and beside the
files it describes): per order what was sent and confirmed and what was reported to
Centra, per in-order the same, per order its returns, and one stock document.

Writing (us → warehouse): one business document per file, named
``<prefix><CODE>_<key>_<digest>.<ext>``, so the name carries the record's key and its
content; a name already sent, or found in the in-folder or the folder the warehouse moves
imported files to, is not written again. Uploads are atomic (temporary name, then rename).

Reading (warehouse → us): each file in an out-folder is read once, oldest first; its
content is applied to the state documents (idempotently: confirmations are cumulative
and only move forward, reports carry an id), and only then is the file moved to the
archive folder. A file that cannot be read is moved to the error folder with a
``.reason.txt`` beside it naming file, line and field, listed once as
:class:`~centrasync.wms.models.Unreadable`, and the other files carry on.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import posixpath
import re
import uuid
from collections import defaultdict
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import unquote

from centrasync.config import FileFolders, FilesSettings
from centrasync.errors import ConfigError, RecordValidationError, RetryLaterError
from centrasync.http import AsyncClosing
from centrasync.wms.models import (
    Article,
    CancelOutcome,
    InOrder,
    Listing,
    OrderRef,
    OutboundOrder,
    Parcel,
    ReceivedInOrder,
    ReceivedLine,
    RecordFailure,
    ReturnedLine,
    ReturnedOrder,
    ShippedLine,
    ShippedOrder,
    StockLevel,
    Unreadable,
    UpsertResult,
)

from . import mapping
from .formats import INBOUND, SCHEMAS, Codec, Document, FileFormatError, Format, Message
from .sftp import SYSTEM, SftpLogin, SftpSession

__all__ = ["FilesWarehouse", "codec_for", "safe_key"]

T = TypeVar("T")
Doc = dict[str, Any]
_ZERO = Decimal(0)
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")
# Stock report ids remembered against duplicates; older ones are long archived.
_REMEMBERED_REPORTS = 2000


def safe_key(key: str) -> str:
    """A record key as a file-name part: ASCII letters, digits, ``_ . -``, the rest as %XX
    of its UTF-8 bytes (``%`` too), so ``urllib.parse.unquote`` gives the key back."""
    return _SAFE.sub(lambda match: "".join(f"%{b:02X}" for b in match.group().encode()), key)


def codec_for(settings: FilesSettings) -> Codec:
    return Codec(
        format=Format(settings.format),
        delimiter=settings.delimiter,
        encoding=settings.encoding,
        decimal_separator=settings.decimal_separator,
        headers=settings.headers,
    )


def _q(value: Decimal) -> str:
    return str(value)


def _d(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else _ZERO


class FilesWarehouse(AsyncClosing):
    """A warehouse that exchanges files with us on an SFTP server."""

    def __init__(
        self,
        login: SftpLogin,
        *,
        folders: FileFolders | None = None,
        codec: Codec | None = None,
        root: str = ".",
        file_prefix: str = "",
        answer_timeout: float = 30.0,
        poll_interval: float = 0.5,
        page_size: int = 100,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.sftp = SftpSession(login)
        self.folders = folders or FileFolders()
        self.codec = codec or Codec()
        self.root = root
        self.prefix = file_prefix
        self.answer_timeout = answer_timeout
        self.poll_interval = poll_interval
        self.page_size = page_size
        self._clock = clock or (lambda: datetime.now(UTC))
        self._doc_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._ingest_locks: defaultdict[Message, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.files_written = 0
        self.files_read = 0

    @classmethod
    def from_settings(
        cls, settings: FilesSettings, password: str | None, *, timeout: float = 30.0
    ) -> FilesWarehouse:
        login = SftpLogin(
            settings.host,
            settings.port,
            settings.user,
            password=password,
            private_key=settings.private_key,
            known_hosts=settings.known_hosts if settings.check_host_key else None,
            timeout=timeout,
        )
        return cls(
            login,
            folders=settings.folders,
            codec=codec_for(settings),
            root=settings.root,
            file_prefix=settings.file_prefix,
            answer_timeout=settings.answer_timeout,
            poll_interval=settings.poll_interval,
            page_size=settings.page_size,
        )

    async def aclose(self) -> None:
        await self.sftp.aclose()

    async def ping(self) -> str:
        """Log in, find every folder, and prove write permission where we write.

        The probe in each in-folder has a temporary name, which a warehouse never imports,
        and is removed at once. Raises the connector's errors; returns what was checked.
        """
        missing = []
        for message in Message:
            if not await self.sftp.exists(self.folder(message)):
                missing.append(self.folder(message))
        if missing:
            raise ConfigError(f"folder(s) missing on the SFTP server: {', '.join(missing)}")
        writable = [self.folder(message) for message in INBOUND]
        writable += [self.path(self.folders.state), self.path(self.folders.archive)]
        for folder in writable:
            probe = posixpath.join(folder, f".centrasync-check-{uuid.uuid4().hex[:8]}.tmp")
            await self.sftp.makedirs(folder)
            await self.sftp.write_atomic(probe, b"check", replace=True)
            await self.sftp.remove(probe)
        return f"{len(Message)} folders found, {len(writable)} writable"

    # -- paths and state documents --------------------------------------------------------

    def path(self, *parts: str) -> str:
        return posixpath.normpath(posixpath.join(self.root, *parts))

    def folder(self, message: Message) -> str:
        return self.path(str(getattr(self.folders, message.value)))

    def _state_path(self, kind: str, key: str) -> str:
        return self.path(self.folders.state, kind, f"{safe_key(key)}.json")

    async def _load(self, kind: str, key: str) -> Doc | None:
        data = await self.sftp.read(self._state_path(kind, key))
        if data is None:
            return None
        loaded: Doc = json.loads(data)
        return loaded

    async def _save(self, kind: str, key: str, doc: Doc) -> None:
        body = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
        await self.sftp.write_atomic(self._state_path(kind, key), body, replace=True)

    async def _update(self, kind: str, key: str, change: Callable[[Doc], None]) -> Doc:
        """Read, change and write one state document, one change at a time per process."""
        async with self._doc_locks[f"{kind}/{key}"]:
            doc = await self._load(kind, key) or {"number": key}
            change(doc)
            await self._save(kind, key, doc)
            return doc

    def _marker(self, kind: str, key: str) -> str:
        return self.path(self.folders.state, "unreported", kind, safe_key(key))

    async def _set_marker(self, kind: str, key: str, on: bool) -> None:
        if on:
            await self.sftp.write_atomic(self._marker(kind, key), key.encode(), replace=True)
        else:
            await self.sftp.remove(self._marker(kind, key))

    async def _marked(self, kind: str) -> list[str]:
        folder = self.path(self.folders.state, "unreported", kind)
        return sorted(unquote(file.name) for file in await self.sftp.list_files(folder))

    # -- writing files ----------------------------------------------------------------------

    def _name(self, message: Message, key: str, data: bytes | None) -> str:
        schema = SCHEMAS[message]
        digest = "" if data is None else "_" + hashlib.sha256(data).hexdigest()[:12]
        return f"{self.prefix}{schema.code}_{safe_key(key)}{digest}.{self.codec.extension}"

    async def _consumed(self, folder: str, name: str) -> bool:
        """Whether the warehouse already imported this file (moved it to its consumed
        folder). A file still waiting in the in-folder is found by the rename instead,
        which refuses an existing name."""
        consumed = self.folders.consumed
        return consumed is not None and await self.sftp.exists(
            posixpath.join(folder, consumed, name)
        )

    async def _send(
        self,
        message: Message,
        key: str,
        document: Document,
        sent: Sequence[str] = (),
        *,
        name: str | None = None,
    ) -> str:
        """Write the document once; the file's name, which the caller records as sent."""
        data = self.codec.encode(SCHEMAS[message], document)
        name = name or self._name(message, key, data)
        if name in sent:
            return name
        folder = self.folder(message)
        if await self._consumed(folder, name):
            return name
        if await self.sftp.write_atomic(posixpath.join(folder, name), data):
            self.files_written += 1
        return name

    # -- reading files ----------------------------------------------------------------------

    async def _ingest(
        self, message: Message, apply: Callable[[str, Document], Awaitable[None]]
    ) -> list[Unreadable]:
        """Apply every file waiting in the message's out-folder, then archive it."""
        async with self._ingest_locks[message]:
            schema = SCHEMAS[message]
            folder = self.folder(message)
            rejected: list[Unreadable] = []
            for file in await self.sftp.list_files(folder):
                source = posixpath.join(folder, file.name)
                data = await self.sftp.read(source)
                if data is None:
                    continue  # another process took it
                self.files_read += 1
                try:
                    document = self.codec.decode(schema, file.name, data)
                    await apply(file.name, document)
                except FileFormatError as exc:
                    rejected.append(await self._park(message, file.name, data, exc))
                    continue
                archive = self.path(self.folders.archive, message.value, file.name)
                await self.sftp.move(source, archive)
            return rejected

    async def _park(
        self, message: Message, name: str, data: bytes, exc: FileFormatError
    ) -> Unreadable:
        folder = self.path(self.folders.error, message.value)
        await self.sftp.write_atomic(
            posixpath.join(folder, f"{name}.reason.txt"), f"{exc}\n".encode(), replace=True
        )
        await self.sftp.move(
            posixpath.join(self.folder(message), name), posixpath.join(folder, name)
        )
        where = f"file {name}" + (f" line {exc.line}" if exc.line is not None else "")
        error = RecordValidationError(
            exc.reason, record=where, field=exc.field or "content", system=SYSTEM
        )
        return Unreadable(exc.number, error, data.decode("utf-8", errors="replace"))

    # -- articles -----------------------------------------------------------------------------

    async def upsert_articles(self, articles: Sequence[Article]) -> UpsertResult:
        """One item-master file per call, named after its first SKU (and how many follow)
        and its content: the same batch again is not written twice."""
        if not articles:
            return UpsertResult()
        key = articles[0].sku if len(articles) == 1 else f"{articles[0].sku}+{len(articles) - 1}"
        await self._send(Message.ITEMS, key, mapping.item_master_document(articles, self.codec))
        return UpsertResult(upserted=tuple(article.sku for article in articles))

    # -- outbound orders ------------------------------------------------------------------------

    async def upsert_outbound_order(self, order: OutboundOrder) -> OrderRef:
        number = order.order_number
        async with self._doc_locks[f"orders/{number}"]:
            doc = await self._load("orders", number) or {"number": number}
            sent = list(doc.get("sent", []))
            name = await self._send(
                Message.ORDERS, number, mapping.order_document(order, self.codec), sent
            )
            if name not in sent:
                doc["sent"] = [*sent, name]
                await self._save("orders", number, doc)
        return OrderRef(number, number)

    async def find_outbound_order(self, order_number: str) -> OrderRef | None:
        doc = await self._load("orders", order_number)
        if doc is None or not doc.get("sent"):
            return None
        return OrderRef(order_number, order_number)

    async def cancel_outbound_order(self, order_number: str) -> CancelOutcome:
        await self._ingest_dispatches()
        await self._ingest_cancel_results()
        doc = await self._load("orders", order_number)
        if doc is None or not doc.get("sent"):
            return CancelOutcome.NOT_FOUND
        known = _cancel_outcome(doc)
        if known is CancelOutcome.CANCELLED:
            return known
        # Even after a pick was confirmed the warehouse is asked: staff may have put the
        # goods back (the order is open again), and its answer is the truth.

        def request(doc: Doc) -> None:
            doc["cancel_requests"] = doc.get("cancel_requests", 0) + 1
            doc["cancel"] = None

        if known is not None or not doc.get("cancel_requests"):
            doc = await self._update("orders", order_number, request)
        attempt = int(doc["cancel_requests"])
        await self._send(
            Message.CANCELLATIONS,
            order_number,
            mapping.cancel_document(order_number, self._clock()),
            name=self._name(Message.CANCELLATIONS, f"{order_number}_{attempt}", None),
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.answer_timeout
        while True:
            await self._ingest_cancel_results()
            doc = await self._load("orders", order_number) or {}
            outcome = _cancel_outcome(doc)
            if outcome is not None:
                return outcome
            if loop.time() >= deadline:
                raise RetryLaterError(
                    f"the warehouse has not answered the cancellation of {order_number} yet",
                    system=SYSTEM,
                )
            await asyncio.sleep(self.poll_interval)

    async def _ingest_cancel_results(self) -> list[Unreadable]:
        async def apply(name: str, document: Document) -> None:
            number, result, reason = mapping.read_cancel_result(name, document, self.codec)

            def record(doc: Doc) -> None:
                doc["cancel"] = result
                doc["cancel_reason"] = reason
                if result == "CANCELLED":
                    # Nothing of a cancelled order leaves the warehouse: picks it had
                    # confirmed were put back, so none is left to report.
                    reported = doc.setdefault("reported", {})
                    for key, line in doc.get("lines", {}).items():
                        line["picked"] = reported.get(key, "0")
                        line["serials"] = []

            doc = await self._update("orders", number, record)
            await self._set_marker("shipped", number, _behind(doc, "picked"))

        return await self._ingest(Message.CANCEL_RESULTS, apply)

    # -- shipped and reported -------------------------------------------------------------------

    async def _ingest_dispatches(self) -> list[Unreadable]:
        async def apply(name: str, document: Document) -> None:
            dispatch = mapping.read_dispatch(name, document, self.codec)

            def merge(doc: Doc) -> None:
                _merge_dispatch(doc, dispatch)

            doc = await self._update("orders", dispatch.order_number, merge)
            await self._set_marker("shipped", dispatch.order_number, _behind(doc, "picked"))

        return await self._ingest(Message.DISPATCHES, apply)

    async def list_shipped_unreported(self) -> Listing[ShippedOrder]:
        rejected = await self._ingest_dispatches()
        orders = []
        for number in await self._marked("shipped"):
            doc = await self._load("orders", number)
            if doc is None or not _behind(doc, "picked"):
                await self._set_marker("shipped", number, False)
                continue
            orders.append(_shipped_order(doc))
        return Listing(tuple(orders), tuple(rejected))

    async def iter_shipped_unreported(self) -> AsyncGenerator[Listing[ShippedOrder]]:
        listing = await self.list_shipped_unreported()
        for start in range(0, max(len(listing.items), 1), self.page_size):
            rejected = listing.rejected if start == 0 else ()
            yield Listing(listing.items[start : start + self.page_size], rejected)

    async def mark_lines_reported(
        self, order: ShippedOrder, reported: Mapping[str, Decimal]
    ) -> None:
        await self._mark("orders", "shipped", "picked", order.order_number, reported)

    async def _mark(
        self, kind: str, marker: str, figure: str, number: str, reported: Mapping[str, Decimal]
    ) -> None:
        record = f"{kind[:-1]} {number!r}"

        def change(doc: Doc) -> None:
            lines = doc.get("lines", {})
            for key, value in reported.items():
                if key not in lines:
                    raise RecordValidationError(
                        f"no line {key!r} in the warehouse's figures", record=record, field=key
                    )
                if value > _d(lines[key][figure]):
                    raise RecordValidationError(
                        f"reported {value} is more than {figure} {lines[key][figure]}",
                        record=record,
                        field=key,
                    )
            marks = doc.setdefault("reported", {})
            for key, value in reported.items():
                marks[key] = _q(value)

        doc = await self._update(kind, number, change)
        await self._set_marker(marker, number, _behind(doc, figure))

    # -- in-orders --------------------------------------------------------------------------------

    async def upsert_in_order(self, in_order: InOrder) -> OrderRef:
        number = in_order.in_order_number
        async with self._doc_locks[f"in_orders/{number}"]:
            doc = await self._load("in_orders", number) or {"number": number}
            sent = list(doc.get("sent", []))
            name = await self._send(
                Message.IN_ORDERS, number, mapping.in_order_document(in_order, self.codec), sent
            )
            if name not in sent:
                doc["sent"] = [*sent, name]
                await self._save("in_orders", number, doc)
        return OrderRef(number, number)

    async def _ingest_receipts(self) -> list[Unreadable]:
        async def apply(name: str, document: Document) -> None:
            receipt = mapping.read_receipt(name, document, self.codec)

            def merge(doc: Doc) -> None:
                doc["wms_id"] = receipt.wms_id
                lines = doc.setdefault("lines", {})
                for key, sku, advised, received in receipt.lines:
                    line = lines.setdefault(key, {"sku": sku, "received": "0"})
                    line["sku"] = sku or line["sku"]
                    line["advised"] = _q(advised)
                    line["received"] = _q(max(_d(line["received"]), received))

            doc = await self._update("in_orders", receipt.in_order_number, merge)
            await self._set_marker("received", receipt.in_order_number, _behind(doc, "received"))

        return await self._ingest(Message.RECEIPTS, apply)

    async def list_received_unreported(self) -> Listing[ReceivedInOrder]:
        rejected = await self._ingest_receipts()
        found = []
        for number in await self._marked("received"):
            doc = await self._load("in_orders", number)
            if doc is None or not _behind(doc, "received"):
                await self._set_marker("received", number, False)
                continue
            reported = doc.get("reported", {})
            lines = tuple(
                ReceivedLine(
                    key,
                    line["sku"],
                    _d(line.get("advised")),
                    _d(line["received"]),
                    _d(reported.get(key)),
                )
                for key, line in sorted(doc["lines"].items())
            )
            found.append(ReceivedInOrder(number, str(doc.get("wms_id") or number), lines))
        return Listing(tuple(found), tuple(rejected))

    async def mark_receipts_reported(
        self, in_order: ReceivedInOrder, reported: Mapping[str, Decimal]
    ) -> None:
        await self._mark("in_orders", "received", "received", in_order.in_order_number, reported)

    # -- returns ----------------------------------------------------------------------------------

    async def _ingest_returns(self) -> list[Unreadable]:
        async def apply(name: str, document: Document) -> None:
            notice = mapping.read_return(name, document, self.codec)

            def merge(doc: Doc) -> None:
                _merge_return(doc, notice)

            doc = await self._update("returns", notice.order_number, merge)
            await self._set_marker("returned", notice.order_number, _behind(doc, "returned"))

        return await self._ingest(Message.RETURNS, apply)

    async def list_returns_unreported(self) -> Listing[ReturnedOrder]:
        rejected = await self._ingest_returns()
        found = []
        for number in await self._marked("returned"):
            doc = await self._load("returns", number)
            if doc is None or not _behind(doc, "returned"):
                await self._set_marker("returned", number, False)
                continue
            reported = doc.get("reported", {})
            lines = tuple(
                ReturnedLine(
                    key,
                    line["sku"],
                    _d(line["returned"]),
                    _d(reported.get(key)),
                    tuple(line.get("causes", ())),
                )
                for key, line in sorted(doc.get("lines", {}).items())
            )
            found.append(ReturnedOrder(number, number, lines))
        return Listing(tuple(found), tuple(rejected))

    async def mark_returns_reported(
        self, order: ReturnedOrder, reported: Mapping[str, Decimal]
    ) -> None:
        await self._mark("returns", "returned", "returned", order.order_number, reported)

    async def list_return_orders(
        self, returned_since: datetime | None = None
    ) -> Listing[ReturnedOrder]:
        rejected = await self._ingest_returns()
        folder = self.path(self.folders.state, "returns")
        found = []
        for file in await self.sftp.list_files(folder):
            data = await self.sftp.read(posixpath.join(folder, file.name))
            if data is None:
                continue
            doc = json.loads(data)
            for return_order, entry in sorted(doc.get("return_orders", {}).items()):
                at = entry.get("returned_at")
                if (
                    returned_since is not None
                    and at
                    and datetime.fromisoformat(at) < returned_since
                ):
                    continue
                lines = tuple(
                    ReturnedLine(
                        key, line["sku"], _d(line["returned"]), _ZERO, tuple(line.get("causes", ()))
                    )
                    for key, line in sorted(entry["lines"].items())
                )
                found.append(ReturnedOrder(doc["number"], return_order, lines, return_order))
        found.sort(key=lambda order: (order.order_number, order.return_order or ""))
        return Listing(tuple(found), tuple(rejected))

    # -- stock ------------------------------------------------------------------------------------

    async def _ingest_stock(self) -> list[Unreadable]:
        """Stock reports in one pass: every waiting report is applied to the one stock
        document, which is written once, and only then are the reports archived."""
        message = Message.STOCK
        async with self._ingest_locks[message]:
            schema = SCHEMAS[message]
            folder = self.folder(message)
            rejected: list[Unreadable] = []
            reports: list[tuple[str, mapping.ReadStock]] = []
            for file in await self.sftp.list_files(folder):
                data = await self.sftp.read(posixpath.join(folder, file.name))
                if data is None:
                    continue
                self.files_read += 1
                try:
                    document = self.codec.decode(schema, file.name, data)
                    reports.append((file.name, mapping.read_stock(file.name, document, self.codec)))
                except FileFormatError as exc:
                    rejected.append(await self._park(message, file.name, data, exc))
            if reports:

                def merge(doc: Doc) -> None:
                    for _, report in reports:
                        _merge_stock(doc, report)

                await self._update("stock", "levels", merge)
                for name, _ in reports:
                    archive = self.path(self.folders.archive, message.value, name)
                    await self.sftp.move(posixpath.join(folder, name), archive)
            return rejected

    async def read_stock(
        self,
        changed_since: datetime | None = None,
        *,
        skus: Sequence[str] | None = None,
        warehouses: Sequence[str] | None = None,
    ) -> list[StockLevel]:
        """Every SKU's last reported stock; ``warehouses`` is not narrowed, since a file
        warehouse reports one site per goods owner."""
        await self._ingest_stock()
        if skus is not None and not skus:
            return []
        doc = await self._load("stock", "levels") or {}
        wanted = None if skus is None else set(skus)
        levels = []
        for sku, entry in sorted(doc.get("skus", {}).items()):
            if wanted is not None and sku not in wanted:
                continue
            if (
                changed_since is not None
                and datetime.fromisoformat(entry["changed_at"]) < changed_since
            ):
                continue
            levels.append(_stock_level(sku, entry["figures"]))
        return levels

    async def iter_stock(
        self,
        changed_since: datetime | None = None,
        *,
        skus: Sequence[str] | None = None,
        warehouses: Sequence[str] | None = None,
    ) -> AsyncGenerator[list[StockLevel]]:
        levels = await self.read_stock(changed_since, skus=skus, warehouses=warehouses)
        for start in range(0, len(levels), self.page_size):
            yield levels[start : start + self.page_size]

    async def set_external_stock(self, levels: Mapping[str, Decimal]) -> UpsertResult:
        doc = await self._load("stock", "levels") or {}
        known = doc.get("skus", {})
        accepted = {sku: value for sku, value in levels.items() if sku in known}
        failed = tuple(
            RecordFailure(sku, "the warehouse has reported no stock of this article")
            for sku in levels
            if sku not in known
        )
        if accepted:
            document = mapping.external_stock_document(accepted, self.codec)
            digest = hashlib.sha256(
                json.dumps(sorted((k, str(v)) for k, v in accepted.items())).encode()
            )
            await self._send(Message.EXTERNAL_STOCK, digest.hexdigest()[:16], document)
        return UpsertResult(upserted=tuple(accepted), failed=failed)


# -- the state documents' rules -------------------------------------------------------------


def _cancel_outcome(doc: Doc) -> CancelOutcome | None:
    answer = doc.get("cancel")
    if answer == "CANCELLED":
        return CancelOutcome.CANCELLED
    if answer == "REJECTED":
        return CancelOutcome.TOO_LATE
    if answer == "NOT_FOUND":
        return CancelOutcome.NOT_FOUND
    return None


def _behind(doc: Doc, figure: str) -> bool:
    """Whether some line's figure is ahead of what was reported."""
    reported = doc.get("reported", {})
    return any(
        _d(line.get(figure)) > _d(reported.get(key)) for key, line in doc.get("lines", {}).items()
    )


def _merge_dispatch(doc: Doc, dispatch: mapping.ReadDispatch) -> None:
    """Apply a confirmation; figures only move forward, parcels and serials add up."""
    doc["wms_id"] = dispatch.wms_id
    lines = doc.setdefault("lines", {})
    for line in dispatch.lines:
        known = lines.setdefault(line.line_key, {"sku": line.sku, "picked": "0", "serials": []})
        known["sku"] = line.sku or known["sku"]
        known["ordered"] = _q(line.ordered)
        known["picked"] = _q(max(_d(known["picked"]), line.picked))
        known["serials"] = list(dict.fromkeys([*known["serials"], *line.serials]))
    if dispatch.shipped:
        if not doc.get("shipped"):
            doc["shipped_at"] = dispatch.shipped_at.isoformat() if dispatch.shipped_at else None
        doc["shipped"] = True
    parcels = [tuple(parcel) for parcel in doc.get("parcels", [])]
    for parcel in dispatch.parcels:
        if parcel not in parcels:
            parcels.append(parcel)
    doc["parcels"] = [list(parcel) for parcel in parcels]
    doc["carrier"] = dispatch.carrier or doc.get("carrier") or ""
    doc["service"] = dispatch.service or doc.get("service") or ""


def _shipped_order(doc: Doc) -> ShippedOrder:
    reported = doc.get("reported", {})
    lines = tuple(
        ShippedLine(
            key,
            line["sku"],
            _d(line.get("ordered")),
            _d(line["picked"]),
            _d(reported.get(key)),
            tuple(line.get("serials", ())),
        )
        for key, line in sorted(doc.get("lines", {}).items())
    )
    shipped = bool(doc.get("shipped"))
    parcels = tuple(
        Parcel(number or None, tracking or None, url or None)
        for number, tracking, url in doc.get("parcels", [])
    )
    at = doc.get("shipped_at")
    return ShippedOrder(
        order_number=doc["number"],
        wms_id=doc["number"],
        lines=lines,
        shipped=shipped,
        parcels=parcels if shipped else (),
        carrier=doc.get("carrier") or None,
        service=doc.get("service") or None,
        shipped_at=datetime.fromisoformat(at) if at else None,
    )


def _merge_return(doc: Doc, notice: mapping.ReadReturn) -> None:
    if notice.return_order is None:
        lines = doc.setdefault("lines", {})
    else:
        entry = doc.setdefault("return_orders", {}).setdefault(notice.return_order, {"lines": {}})
        if notice.returned_at is not None:
            entry["returned_at"] = notice.returned_at.isoformat()
        lines = entry["lines"]
    for key, sku, returned, causes in notice.lines:
        known = lines.setdefault(key, {"sku": sku, "returned": "0", "causes": []})
        known["returned"] = _q(max(_d(known["returned"]), returned))
        known["causes"] = list(dict.fromkeys([*known["causes"], *causes]))


_FIGURES = (
    "NumberOfItems",
    "NumberOfLockedItems",
    "NumberOfBookedItems",
    "AllocatedNumberOfItems",
    "PickedToBeCollectedNumberOfItems",
    "ToReceiveNumberOfItems",
    "SellableNumberOfItems",
)


def _merge_stock(doc: Doc, report: mapping.ReadStock) -> None:
    """Apply a report once: a full one replaces each SKU's figures (unless older than the
    last full one applied), a delta adds its movements."""
    seen = doc.setdefault("reports", [])
    if report.report_id in seen:
        return
    seen.append(report.report_id)
    del seen[:-_REMEMBERED_REPORTS]
    at = report.snapshot_at.isoformat()
    if report.full:
        last = doc.get("last_full")
        if last is not None and datetime.fromisoformat(last) > report.snapshot_at:
            return
        doc["last_full"] = at
    skus = doc.setdefault("skus", {})
    for sku, figures in report.figures.items():
        entry = skus.get(sku)
        old = entry["figures"] if entry else {name: "0" for name in _FIGURES}
        new: dict[str, str | None] = {}
        for name in _FIGURES:
            value = figures.get(name) or _ZERO
            new[name] = _q(value if report.full else _d(old.get(name)) + value)
        external = figures.get("ExternalNumberOfItems")
        new["ExternalNumberOfItems"] = (
            _q(external) if external is not None else old.get("ExternalNumberOfItems")
        )
        if entry is None or new != old:
            skus[sku] = {"figures": new, "changed_at": at}


def _stock_level(sku: str, figures: Mapping[str, str | None]) -> StockLevel:
    external = figures.get("ExternalNumberOfItems")
    return StockLevel(
        sku=sku,
        on_hand=_d(figures.get("NumberOfItems")),
        available=_d(figures.get("SellableNumberOfItems")),
        allocated=_d(figures.get("AllocatedNumberOfItems")),
        locked=_d(figures.get("NumberOfLockedItems")),
        booked=_d(figures.get("NumberOfBookedItems")),
        to_receive=_d(figures.get("ToReceiveNumberOfItems")),
        picked_not_collected=_d(figures.get("PickedToBeCollectedNumberOfItems")),
        external=None if external is None else _d(external),
    )
