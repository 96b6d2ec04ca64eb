"""Return orders: the warehouse's own documents for goods coming back on a shipped order.

A return order names the customer order and, per line, one of its lines and how many
are expected back. Many warehouses register returns this way rather than on the order's
own lines: what comes back on a return order is booked on it (``returnedNumberOfItems``,
``returnedArticleItems``) and not on the customer order's lines [I], so a client has to
read both. A line can never take back more than went out on its order line, counting
returns on the order itself and on every return order.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from centrasync.emulators.ongoing.model import (
    DEFAULT_RETURN_CAUSES,
    OngoingApiError,
    Order,
    OrderLine,
    ReturnCause,
    ReturnedArticleItem,
    ReturnOrder,
    ReturnOrderLine,
    ReturnOrderStatus,
)
from centrasync.emulators.ongoing.payloads import (
    CodeName,
    CustomerOrderLineRefIn,
    CustomerOrderRefIn,
    ReturnOrderIn,
    ReturnOrderLineIn,
)
from centrasync.emulators.ongoing.state import Records

__all__ = ["ReturnOrderRecords", "ReturnRequest"]


@dataclass(frozen=True)
class ReturnRequest:
    """Goods of one article coming back, with the cause the warehouse gives."""

    article_number: str
    quantity: float
    cause: str | None = None


class ReturnOrderRecords(Records):
    """The records plus return orders, return causes and the returns booked on them."""

    def reset(self) -> None:
        super().reset()
        self.return_orders: dict[int, ReturnOrder] = {}
        self.return_causes: dict[str, ReturnCause] = {c.code: c for c in DEFAULT_RETURN_CAUSES}
        self._return_order_ids = itertools.count(801)
        self._return_order_line_ids = itertools.count(901)
        self._return_cause_ids = itertools.count(len(DEFAULT_RETURN_CAUSES) + 1)

    # -- return causes ----------------------------------------------------------------------

    def return_cause(self, code: str | None, name: str | None = None) -> ReturnCause | None:
        """The cause with this code (or, failing that, this name), added if new [I]."""
        if not code and not name:
            return None
        key = code or name or ""
        cause = self.return_causes.get(key) or next(
            (c for c in self.return_causes.values() if c.name == key), None
        )
        if cause is None:
            cause = ReturnCause(next(self._return_cause_ids), key, name or key)
            self.return_causes[cause.code] = cause
        return cause

    def _cause_of(self, pair: CodeName | None) -> ReturnCause | None:
        return None if pair is None else self.return_cause(pair.code, pair.name)

    # -- return orders ----------------------------------------------------------------------

    def return_order_by_id(self, return_order_id: int) -> ReturnOrder:
        found = self.return_orders.get(return_order_id)
        if found is None:
            raise OngoingApiError(404, f"Return order with ID {return_order_id} does not exist")
        return found

    def return_order_by_number(self, number: str) -> ReturnOrder:
        found = self._find_return_order(number)
        if found is None:
            raise OngoingApiError(
                404, f"Return order with return order number '{number}' does not exist"
            )
        return found

    def _find_return_order(self, number: str) -> ReturnOrder | None:
        return next((r for r in self.return_orders.values() if r.number == number), None)

    def upsert_return_order(self, document: ReturnOrderIn) -> tuple[ReturnOrder, bool]:
        """Create or replace a return order; refused once goods came back on it [I].

        The customer order and each of its lines must exist: a return order refers to
        Ongoing's ids, so a wrong one is a 400 naming the field.
        """
        record = f"Return order {document.return_order_number}"
        order_id = document.customer_order.order_id
        order = None if order_id is None else self.orders.get(order_id)
        if order is None:
            raise OngoingApiError(
                400, f"{record}: customerOrder.orderId: order {order_id} does not exist"
            )
        rows = [row.return_order_row_number for row in document.return_order_lines]
        if len(set(rows)) != len(rows):
            raise OngoingApiError(400, f"{record}: returnOrderRowNumber repeats on its lines")
        order_lines = [
            self._customer_line(record, order, index, row)
            for index, row in enumerate(document.return_order_lines)
        ]
        now = self.now()
        existing = self._find_return_order(document.return_order_number)
        old_ids: dict[str, int] = {}
        if existing is not None:
            if existing.status in self.statuses.return_order_started:
                text = self.statuses.return_order_text(existing.status)
                raise OngoingApiError(
                    400,
                    f"{record} cannot be updated: goods came back on it "
                    f"(status {existing.status} {text})",
                )
            old_ids = {line.row_number: line.line_id for line in existing.lines}
        lines = [
            ReturnOrderLine(
                old_ids.get(row.return_order_row_number) or next(self._return_order_line_ids),
                row.return_order_row_number,
                order_line,
                row.to_be_returned_number_of_items,
                self._cause_of(row.return_cause),
            )
            for row, order_line in zip(document.return_order_lines, order_lines, strict=True)
        ]
        if existing is None:
            return_order = ReturnOrder(
                next(self._return_order_ids),
                document,
                order,
                lines,
                status=ReturnOrderStatus.NOTIFIED,
                created=now,
                status_changed=now,
            )
            self.return_orders[return_order.return_order_id] = return_order
            return return_order, True
        existing.document, existing.order, existing.lines = document, order, lines
        return existing, False

    @staticmethod
    def _customer_line(record: str, order: Order, index: int, row: ReturnOrderLineIn) -> OrderLine:
        line_id = row.customer_order_line.order_line_id
        for line in order.lines:
            if line.line_id == line_id:
                return line
        raise OngoingApiError(
            400,
            f"{record}: returnOrderLines.{index}.customerOrderLine.orderLineId: order "
            f"{order.number} has no line {line_id}",
        )

    def returned_on_return_orders(self, order_line: OrderLine) -> float:
        return sum(
            line.returned
            for return_order in self.return_orders.values()
            for line in return_order.lines
            if line.order_line is order_line
        )

    def unreturned(self, order_line: OrderLine) -> float:
        """What went out on an order line and has not come back, by either road."""
        return order_line.picked - order_line.returned - self.returned_on_return_orders(order_line)

    # -- the warehouse takes goods back ----------------------------------------------------

    def spread_returns(
        self,
        order: Order,
        requests: Sequence[ReturnRequest],
        among: Sequence[OrderLine] | None = None,
    ) -> list[tuple[OrderLine, float, str | None]]:
        """Which order lines (of ``among``, default all) each request's goods came back
        from, as far as each has goods out by either road; a request for more than is out
        is a 409, and nothing moves."""
        candidates = order.lines if among is None else among
        plan: list[tuple[OrderLine, float, str | None]] = []
        planned: dict[int, float] = defaultdict(float)
        for request in requests:
            lines = [line for line in candidates if line.article.number == request.article_number]
            if not lines:
                raise OngoingApiError(
                    409, f"Order {order.number} has no line for article {request.article_number}"
                )
            returnable = sum(self.unreturned(line) - planned[line.line_id] for line in lines)
            if request.quantity <= 0 or request.quantity > returnable:
                raise OngoingApiError(
                    409,
                    f"Order {order.number}: cannot return {request.quantity:g} of "
                    f"{request.article_number}; {returnable:g} shipped and not yet returned",
                )
            remaining = request.quantity
            for line in lines:
                take = min(remaining, self.unreturned(line) - planned[line.line_id])
                if take <= 0:
                    continue
                plan.append((line, take, request.cause))
                planned[line.line_id] += take
                remaining -= take
        return plan

    def open_return_order(
        self, order_number: str, number: str | None, requests: Sequence[ReturnRequest]
    ) -> ReturnOrder:
        """The warehouse registers a return order for goods that came back unannounced, a
        line per order line they came from, and books the goods on it at once."""
        order = self._shipped(order_number)
        plan = self.spread_returns(order, requests)
        if number is None:
            earlier = sum(r.order is order for r in self.return_orders.values())
            number = f"{order_number}-R{earlier + 1}"
        if self._find_return_order(number) is not None:
            raise OngoingApiError(409, f"Return order {number} exists already")
        rows = [
            ReturnOrderLineIn(
                return_order_row_number=str(index),
                customer_order_line=CustomerOrderLineRefIn(order_line_id=line.line_id),
                to_be_returned_number_of_items=quantity,
                return_cause=None if cause is None else CodeName(code=cause),
            )
            for index, (line, quantity, cause) in enumerate(plan, start=1)
        ]
        document = ReturnOrderIn(
            goods_owner_id=self.goods_owner_id,
            return_order_number=number,
            customer_order=CustomerOrderRefIn(order_id=order.order_id),
            return_order_lines=rows,
        )
        return_order, _ = self.upsert_return_order(document)
        self._book(
            return_order, [(line, line.to_be_returned, line.cause) for line in return_order.lines]
        )
        return return_order

    def take_back(self, number: str, requests: Sequence[ReturnRequest] | None) -> ReturnOrder:
        """Book goods that came back on an announced return order; None takes back all it
        still expects. Goods go to its lines of their article, each as far as its order
        line has goods out; more than announced is taken [I]."""
        return_order = self.return_order_by_number(number)
        self._shipped(return_order.order.number)
        if requests is None:
            requests = [
                ReturnRequest(line.order_line.article.number, line.to_be_returned - line.returned)
                for line in return_order.lines
                if line.to_be_returned > line.returned
            ]
            if not requests:
                raise OngoingApiError(409, f"Return order {number} expects nothing more")
        by_order_line = {id(line.order_line): line for line in return_order.lines}
        among = [line.order_line for line in by_order_line.values()]
        plan = [
            (by_order_line[id(order_line)], quantity, cause)
            for order_line, quantity, cause in self.spread_returns(
                return_order.order, requests, among
            )
        ]
        self._book(
            return_order,
            [(line, qty, self.return_cause(cause) or line.cause) for line, qty, cause in plan],
        )
        return return_order

    def _shipped(self, order_number: str) -> Order:
        order = self.order_by_number(order_number)
        if order.shipped_time is None:
            raise OngoingApiError(409, f"Order {order_number} has not been shipped")
        return order

    def _book(
        self,
        return_order: ReturnOrder,
        plan: Sequence[tuple[ReturnOrderLine, float, ReturnCause | None]],
    ) -> None:
        """The goods are back: on the return order's lines and in stock."""
        now = self.now()
        for line, quantity, cause in plan:
            line.returned += quantity
            line.items.append(ReturnedArticleItem(quantity, now, cause))
            line.order_line.article.number_of_items += quantity
        complete = all(line.returned >= line.to_be_returned for line in return_order.lines)
        return_order.status = (
            ReturnOrderStatus.RETURNED if complete else ReturnOrderStatus.PARTLY_RETURNED
        )
        return_order.status_changed = now
        return_order.last_returned = now
        self.touch_stock(line.order_line.article for line in return_order.lines)
