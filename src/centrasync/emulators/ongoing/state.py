"""The records of one emulated goods owner and everything the REST API may do to them.

Pure Python and synchronous: each method runs to completion without awaiting, so within
one event loop every change is atomic. The warehouse-floor work (allocate, pick, ship,
receive, return, stock-take) lives in :mod:`.floor`, on top of these records.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from centrasync.emulators.ongoing.model import (
    DEFAULT_STATUSES,
    Article,
    Inventory,
    OngoingApiError,
    Order,
    OrderLine,
    OrderStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Site,
    StatusTable,
)
from centrasync.emulators.ongoing.payloads import ArticleIn, OrderIn, PurchaseOrderIn

__all__ = ["Records"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Records:
    """Articles, orders and purchase orders of one goods owner, with ascending ids."""

    def __init__(
        self,
        goods_owner_id: int = 1,
        *,
        goods_owner_name: str = "Emulated goods owner",
        warehouse: str = "demo",
        clock: Callable[[], datetime] | None = None,
        statuses: StatusTable = DEFAULT_STATUSES,
    ) -> None:
        self.goods_owner_id = goods_owner_id
        self.goods_owner_name = goods_owner_name
        self.site = Site(warehouse, goods_owner_id, goods_owner_name)
        self.statuses = statuses
        self._clock = clock or _utc_now
        self.reset()

    def reset(self) -> None:
        """Forget every record; ids start again from their first values."""
        self.articles: dict[str, Article] = {}
        self.orders: dict[int, Order] = {}
        # Order number -> order id; numbers never change (a PUT upserts by number).
        self._order_numbers: dict[str, int] = {}
        self.purchase_orders: dict[int, PurchaseOrder] = {}
        # Counted stock of articles not created yet; each is applied when its article is.
        self.opening_stock: dict[str, float] = {}
        self._article_ids = itertools.count(1001)
        self._order_ids = itertools.count(50001)
        self._order_line_ids = itertools.count(40001)
        self._purchase_order_ids = itertools.count(201)
        self._purchase_order_line_ids = itertools.count(501)
        self._item_ids = itertools.count(60001)
        self._parcel_ids = itertools.count(301)
        self._shipment_ids = itertools.count(7001)
        # Ongoing keeps a customer per customer number; the order's consignee is one.
        self._customer_ids = itertools.count(21001)
        self._customers: dict[str, int] = {}

    def now(self) -> datetime:
        moment = self._clock()
        if moment.tzinfo is None:
            raise ValueError("the emulator clock must return aware datetimes")
        return moment.astimezone(UTC)

    # -- articles ---------------------------------------------------------------------

    def upsert_article(self, document: ArticleIn) -> tuple[Article, bool]:
        """Create or fully replace an article; the number is the business key."""
        now = self.now()
        article = self.articles.get(document.article_number)
        if article is None:
            opening = self.opening_stock.pop(document.article_number, 0.0)
            article = Article(
                next(self._article_ids),
                document,
                created=now,
                data_updated=now,
                stock_changed=now,
                number_of_items=opening,
                last_in_date=now if opening > 0 else None,
            )
            self.articles[document.article_number] = article
            return article, True
        article.document = document
        article.data_updated = now
        return article, False

    def article_for_line(self, article_number: str) -> Article:
        """The article a line refers to, created bare if unknown.

        The vendor examples show articles referenced only by orders and purchase orders
        (``1009``, ``CK2``) read back with an empty name and fresh ids right after the
        articles created by ``PUT /articles``: the example tenant creates them on the fly.
        """
        article = self.articles.get(article_number)
        if article is None:
            stub = ArticleIn(
                goods_owner_id=self.goods_owner_id,
                article_number=article_number,
                article_name="",
                product_code="",
            )
            article, _ = self.upsert_article(stub)
        return article

    def article_by_number(self, article_number: str) -> Article:
        article = self.articles.get(article_number)
        if article is None:
            raise OngoingApiError(404, f"Article '{article_number}' does not exist")
        return article

    def touch_stock(self, articles: Iterable[Article]) -> None:
        """Record that an article's stock figures changed (for ``stockInfoChangedFrom``)."""
        now = self.now()
        for article in articles:
            article.stock_changed = now

    def inventory(self) -> dict[str, Inventory]:
        """Derive every article's stock figures in one pass over orders and POs."""
        booked: dict[str, float] = defaultdict(float)
        allocated: dict[str, float] = defaultdict(float)
        picked: dict[str, float] = defaultdict(float)
        to_receive: dict[str, float] = defaultdict(float)
        for order in self.orders.values():
            if not order.is_active:
                continue
            for line in order.lines:
                key = line.article.number
                booked[key] += line.ordered
                allocated[key] += max(0.0, line.allocated - line.picked)
                picked[key] += line.picked
        for purchase_order in self.purchase_orders.values():
            if not purchase_order.expects_goods:
                continue
            for po_line in purchase_order.lines:
                to_receive[po_line.article.number] += max(0.0, po_line.advised - po_line.received)
        return {
            number: Inventory(
                number_of_items=article.number_of_items,
                locked=article.locked,
                booked=booked[number],
                allocated=allocated[number],
                picked_to_be_collected=picked[number],
                to_receive=to_receive[number],
            )
            for number, article in self.articles.items()
        }

    # -- orders -------------------------------------------------------------------------

    def order_by_id(self, order_id: int) -> Order:
        order = self.orders.get(order_id)
        if order is None:
            raise OngoingApiError(404, f"Order with ID {order_id} does not exist")
        return order

    def order_by_number(self, order_number: str) -> Order:
        order = self._find_order(order_number)
        if order is None:
            raise OngoingApiError(404, f"Order with order number '{order_number}' does not exist")
        return order

    def _find_order(self, order_number: str) -> Order | None:
        order_id = self._order_numbers.get(order_number)
        return None if order_id is None else self.orders.get(order_id)

    def upsert_order(self, document: OrderIn) -> tuple[Order, bool]:
        """Create or fully replace an order; refused once the warehouse has started."""
        _check_unique_rows(
            f"Order {document.order_number}", [line.row_number for line in document.order_lines]
        )
        now = self.now()
        order = self._find_order(document.order_number)
        if order is None:
            lines = [
                OrderLine(
                    next(self._order_line_ids), row, self.article_for_line(row.article_number)
                )
                for row in document.order_lines
            ]
            order = Order(
                next(self._order_ids),
                document,
                lines,
                status=OrderStatus.OPEN,
                created=now,
                updated=now,
                status_changed=now,
                consignee_id=self._customer_id(document, None),
            )
            self.orders[order.order_id] = order
            self._order_numbers[order.number] = order.order_id
            self.touch_stock(line.article for line in lines)
            return order, True
        self._refuse_if_started(order, "updated")
        old_ids = {line.row.row_number: line.line_id for line in order.lines}
        touched = [line.article for line in order.lines]
        order.lines = [
            OrderLine(
                old_ids.get(row.row_number) or next(self._order_line_ids),
                row,
                self.article_for_line(row.article_number),
            )
            for row in document.order_lines
        ]
        order.document = document
        order.consignee_id = self._customer_id(document, order.consignee_id)
        order.updated = now
        self.touch_stock([*touched, *(line.article for line in order.lines)])
        return order, False

    def _customer_id(self, document: OrderIn, current: int | None) -> int:
        """The consignee's customer id: one per customer number; without a number, the
        order keeps the customer it has, or gets a new one [I]."""
        number = document.consignee.customer_number
        if number is None:
            return current if current is not None else next(self._customer_ids)
        if number not in self._customers:
            self._customers[number] = next(self._customer_ids)
        return self._customers[number]

    def _refuse_if_started(self, order: Order, verb: str) -> None:
        if order.status == OrderStatus.CANCELLED:
            raise OngoingApiError(400, f"Order {order.number} is cancelled and cannot be {verb}")
        if order.status in self.statuses.order_started:
            text = self.statuses.order_text(order.status)
            raise OngoingApiError(
                400,
                f"Order {order.number} cannot be {verb}: the warehouse has started working on "
                f"it (status {order.status} {text})",
            )

    def cancel_order(self, order_id: int) -> Order:
        """Cancel before the warehouse starts: status 1000 [I]; a repeat is a success."""
        order = self.order_by_id(order_id)
        if order.status == OrderStatus.CANCELLED:
            return order
        self._refuse_if_started(order, "cancelled")
        self.set_status(order, OrderStatus.CANCELLED)
        self.touch_stock(line.article for line in order.lines)
        return order

    def set_status(self, order: Order, status: int) -> None:
        order.status = status
        order.status_changed = self.now()
        order.updated = order.status_changed

    def order_line(self, order_id: int, line_id: int) -> tuple[Order, OrderLine]:
        order = self.order_by_id(order_id)
        for line in order.lines:
            if line.line_id == line_id:
                return order, line
        raise OngoingApiError(404, f"Order line {line_id} does not exist on order {order_id}")

    def report_picked(self, order_id: int, line_id: int, reported: float) -> Order:
        order, line = self.order_line(order_id, line_id)
        line.reported = reported
        return order

    def report_all_picked(self, order_id: int) -> Order:
        order = self.order_by_id(order_id)
        for line in order.lines:
            line.reported = line.picked
        return order

    def report_returned(self, order_id: int, line_id: int, reported: float) -> Order:
        order, line = self.order_line(order_id, line_id)
        line.reported_returned = reported
        return order

    def report_all_returned(self, order_id: int) -> Order:
        order = self.order_by_id(order_id)
        for line in order.lines:
            line.reported_returned = line.returned
        return order

    # -- purchase orders ----------------------------------------------------------------

    def purchase_order_by_id(self, purchase_order_id: int) -> PurchaseOrder:
        purchase_order = self.purchase_orders.get(purchase_order_id)
        if purchase_order is None:
            raise OngoingApiError(404, f"Purchase order with ID {purchase_order_id} does not exist")
        return purchase_order

    def purchase_order_by_number(self, number: str) -> PurchaseOrder:
        found = self._find_purchase_order(number)
        if found is None:
            raise OngoingApiError(
                404, f"Purchase order with order number '{number}' does not exist"
            )
        return found

    def _find_purchase_order(self, number: str) -> PurchaseOrder | None:
        return next((p for p in self.purchase_orders.values() if p.number == number), None)

    def upsert_purchase_order(self, document: PurchaseOrderIn) -> tuple[PurchaseOrder, bool]:
        """Create or fully replace an in-order; refused once receiving has started."""
        number = document.purchase_order_number
        _check_unique_rows(
            f"Purchase order {number}", [r.row_number for r in document.purchase_order_lines]
        )
        now = self.now()
        purchase_order = self._find_purchase_order(number)
        old_ids: dict[str, int] = {}
        touched: list[Article] = []
        if purchase_order is not None:
            self._refuse_if_receiving(purchase_order, "updated")
            old_ids = {line.row.row_number: line.line_id for line in purchase_order.lines}
            touched = [line.article for line in purchase_order.lines]
        lines = [
            PurchaseOrderLine(
                old_ids.get(row.row_number) or next(self._purchase_order_line_ids),
                row,
                self.article_for_line(row.article_number),
            )
            for row in document.purchase_order_lines
        ]
        self.touch_stock([*touched, *(line.article for line in lines)])
        if purchase_order is None:
            purchase_order = PurchaseOrder(
                next(self._purchase_order_ids),
                document,
                lines,
                status=PurchaseOrderStatus.NOTIFIED,
                created=now,
                status_changed=now,
            )
            self.purchase_orders[purchase_order.purchase_order_id] = purchase_order
            return purchase_order, True
        purchase_order.document = document
        purchase_order.lines = lines
        return purchase_order, False

    def _refuse_if_receiving(self, purchase_order: PurchaseOrder, verb: str) -> None:
        number = purchase_order.number
        if purchase_order.status == PurchaseOrderStatus.CANCELLED:
            raise OngoingApiError(400, f"Purchase order {number} is cancelled and cannot be {verb}")
        if purchase_order.status in self.statuses.purchase_order_started:
            text = self.statuses.purchase_order_text(purchase_order.status)
            raise OngoingApiError(
                400,
                f"Purchase order {number} cannot be {verb}: the warehouse has started "
                f"receiving it (status {purchase_order.status} {text})",
            )

    def cancel_purchase_order(self, purchase_order_id: int) -> PurchaseOrder:
        purchase_order = self.purchase_order_by_id(purchase_order_id)
        if purchase_order.status == PurchaseOrderStatus.CANCELLED:
            return purchase_order
        self._refuse_if_receiving(purchase_order, "cancelled")
        self.set_purchase_order_status(purchase_order, PurchaseOrderStatus.CANCELLED)
        self.touch_stock(line.article for line in purchase_order.lines)
        return purchase_order

    def set_purchase_order_status(self, purchase_order: PurchaseOrder, status: int) -> None:
        purchase_order.status = status
        purchase_order.status_changed = self.now()

    def purchase_order_line(
        self, purchase_order_id: int, line_id: int
    ) -> tuple[PurchaseOrder, PurchaseOrderLine]:
        purchase_order = self.purchase_order_by_id(purchase_order_id)
        for line in purchase_order.lines:
            if line.line_id == line_id:
                return purchase_order, line
        raise OngoingApiError(
            404,
            f"Purchase order line {line_id} does not exist on purchase order {purchase_order_id}",
        )

    def report_received(self, purchase_order_id: int, line_id: int, reported: float) -> None:
        _, line = self.purchase_order_line(purchase_order_id, line_id)
        line.reported = reported

    def report_all_received(self, purchase_order_id: int) -> None:
        for line in self.purchase_order_by_id(purchase_order_id).lines:
            line.reported = line.received

    def next_item_id(self) -> int:
        return next(self._item_ids)

    def next_parcel_id(self) -> int:
        return next(self._parcel_ids)

    def next_shipment_id(self) -> int:
        return next(self._shipment_ids)


def _check_unique_rows(record: str, row_numbers: list[str]) -> None:
    seen: set[str] = set()
    for row_number in row_numbers:
        if row_number in seen:
            raise OngoingApiError(
                400, f"{record}: rowNumber '{row_number}' appears on more than one line"
            )
        seen.add(row_number)
