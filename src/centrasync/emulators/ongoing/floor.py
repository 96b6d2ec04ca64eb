"""What the warehouse staff do: allocate, pick, ship, receive, take returns, count stock.

These are the operations behind the ``/_emulator/`` control API and the auto-operator.
The emulator trusts the operator the way the WMS trusts its scanners: a pick is never
refused for lack of recorded stock, and physical stock never drops below zero [I].
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from centrasync.emulators.ongoing.model import (
    OngoingApiError,
    Order,
    OrderLine,
    OrderStatus,
    Parcel,
    PickedItem,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    ReceivedItem,
    ReturnCause,
)
from centrasync.emulators.ongoing.return_orders import ReturnOrderRecords, ReturnRequest

__all__ = [
    "AutoOperatorSettings",
    "LineQuantity",
    "OngoingState",
    "ParcelRequest",
    "PickRequest",
    "ReturnRequest",
]

_PICK_LOCATION = "A1"
_RECEIVE_LOCATION = "IN1"


@dataclass(frozen=True)
class PickRequest:
    article_number: str
    quantity: float
    serial_numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParcelRequest:
    tracking_number: str
    tracking_url: str | None = None
    parcel_number: str | None = None
    weight: float | None = None


@dataclass(frozen=True)
class LineQuantity:
    article_number: str
    quantity: float


@dataclass(frozen=True)
class AutoOperatorSettings:
    """``interval`` None = off; orders listed in ``short_pick_order_numbers`` are short-picked.

    Orders in ``held_order_numbers`` are left alone, as staff would leave an order that
    waits for a customer call: a test or the demo can cancel such an order and know the
    warehouse has not started on it. In-orders in ``held_purchase_order_numbers`` are not
    received by the operator, so a test or the demo can receive them by hand, in parts.
    """

    interval: float | None = None
    short_pick_order_numbers: frozenset[str] = field(default_factory=frozenset)
    held_order_numbers: frozenset[str] = field(default_factory=frozenset)
    held_purchase_order_numbers: frozenset[str] = field(default_factory=frozenset)


class OngoingState(ReturnOrderRecords):
    """The whole emulated warehouse: records plus the floor operations on them."""

    auto_operator = AutoOperatorSettings()

    # -- outbound -----------------------------------------------------------------------

    def allocate(self, order_number: str) -> Order:
        """Reserve free stock for every line, as far as it goes; status → Allocated."""
        order = self.order_by_number(order_number)
        self._require_workable(order, "allocated")
        return self._allocate(order, self._free_stock())

    def ship_open_orders(self) -> list[str]:
        """Allocate, pick in full and ship every open order, oldest first; their numbers.

        The warehouse working through its whole queue at once. Free stock is worked out
        once and drawn down order by order, which is what allocating them one by one
        would do, without re-deriving every article's figures for each order.
        """
        free = self._free_stock()
        shipped = []
        for order in sorted(self.orders.values(), key=lambda o: o.order_id):
            if order.is_active and order.status in (OrderStatus.OPEN, OrderStatus.RELEASED):
                self._allocate(order, free)
                self.pick(order.number, None)
                self.ship(order.number, None)
                shipped.append(order.number)
        return shipped

    def _free_stock(self) -> dict[str, float]:
        return {number: figures.free_to_allocate for number, figures in self.inventory().items()}

    def _allocate(self, order: Order, free: dict[str, float]) -> Order:
        for line in order.lines:
            take = min(max(0.0, line.ordered - line.allocated), free[line.article.number])
            line.allocated += take
            free[line.article.number] -= take
        if order.status < OrderStatus.ALLOCATED:
            self.set_status(order, OrderStatus.ALLOCATED)
        self.touch_stock(line.article for line in order.lines)
        return order

    def pick(self, order_number: str, picks: Sequence[PickRequest] | None) -> Order:
        """Pick goods; ``None`` picks every line in full, less than ordered is a short pick."""
        order = self.order_by_number(order_number)
        self._require_workable(order, "picked")
        if picks is None:
            picks = [
                PickRequest(line.article.number, line.ordered - line.picked) for line in order.lines
            ]
        # Plan the whole request first, so a refusal leaves the order untouched.
        plan: list[tuple[OrderLine, float, list[str]]] = []
        planned: dict[int, float] = defaultdict(float)
        for request in picks:
            if request.quantity < 0:
                raise OngoingApiError(
                    400, f"Order {order_number}: quantity for {request.article_number} is negative"
                )
            if len(request.serial_numbers) > request.quantity:
                raise OngoingApiError(
                    400,
                    f"Order {order_number}: {len(request.serial_numbers)} serial numbers for "
                    f"{request.quantity:g} picked items of {request.article_number}",
                )
            remaining = request.quantity
            serials = list(request.serial_numbers)
            for line in self._lines_for(order, request.article_number):
                take = min(remaining, line.ordered - line.picked - planned[line.line_id])
                if take <= 0:
                    continue
                with_serial = min(len(serials), int(take))
                plan.append((line, take, serials[:with_serial]))
                serials = serials[with_serial:]
                planned[line.line_id] += take
                remaining -= take
            if remaining > 0:
                raise OngoingApiError(
                    409,
                    f"Order {order_number}: cannot pick {request.quantity:g} of "
                    f"{request.article_number}, more than is left to pick",
                )
        now = self.now()
        for line, take, serials in plan:
            self._pick_line(line, take, serials, now)
        order.last_picked = now
        self.set_status(order, OrderStatus.PICKED)
        self.touch_stock(line.article for line in order.lines)
        return order

    def _pick_line(
        self, line: OrderLine, quantity: float, serials: list[str], now: datetime
    ) -> None:
        line.picked += quantity
        line.allocated = max(line.allocated, line.picked)
        in_date = line.article.lot_in_date
        left = quantity
        while serials and left >= 1:
            line.picked_items.append(
                PickedItem(self.next_item_id(), 1.0, serials.pop(0), now, in_date, _PICK_LOCATION)
            )
            left -= 1
        if left > 0:
            line.picked_items.append(
                PickedItem(self.next_item_id(), left, "", now, in_date, _PICK_LOCATION)
            )

    def ship(
        self,
        order_number: str,
        parcels: Sequence[ParcelRequest] | None,
        transporter_code: str | None = None,
        service_code: str | None = None,
    ) -> Order:
        """Hand a picked order to the carrier; shipping again only adds parcels.

        Shipping sets Collected (500) with ``shippedTime``, as the vendor's shipped example
        order shows [I]; the picked goods leave the physical stock.
        """
        order = self.order_by_number(order_number)
        already_shipped = order.shipped_time is not None
        if not already_shipped and order.status != OrderStatus.PICKED:
            text = self.statuses.order_text(order.status)
            raise OngoingApiError(
                409, f"Order {order_number} is not picked (status {order.status} {text})"
            )
        now = self.now()
        if not parcels:
            parcels = [self._invented_parcel(order, len(order.parcels) + 1)]
        for request in parcels:
            parcel_id = self.next_parcel_id()
            order.parcels.append(
                Parcel(
                    parcel_id,
                    request.parcel_number or f"00370{order.order_id:07d}{parcel_id:04d}",
                    request.tracking_number,
                    request.tracking_url,
                    request.weight,
                    created=now,
                )
            )
        order.transporter_code = transporter_code or order.transporter_code
        order.service_code = service_code or order.service_code
        if not already_shipped:
            for line in order.lines:
                article = line.article
                article.number_of_items = max(0.0, article.number_of_items - line.picked)
            order.shipped_time = now
            # One shipment per order: the emulated transport booking [I].
            order.shipment_id = self.next_shipment_id()
            self.set_status(order, OrderStatus.COLLECTED)
            self.touch_stock(line.article for line in order.lines)
        order.updated = now
        return order

    @staticmethod
    def _invented_parcel(order: Order, sequence: int) -> ParcelRequest:
        tracking = f"EMU{order.order_id}{sequence:02d}SE"
        return ParcelRequest(tracking, f"https://tracking.example.com/track?id={tracking}")

    def return_goods(self, order_number: str, returns: Sequence[ReturnRequest]) -> Order:
        """Register goods coming back on a shipped order's own lines, back into stock."""
        order = self._shipped(order_number)
        plan = self.spread_returns(order, returns)
        now = self.now()
        for line, take, cause in plan:
            line.returned += take
            _mark_returned(line, take, self.return_cause(cause), now, self.next_item_id)
            line.article.number_of_items += take
        order.last_returned = now
        order.updated = now
        self.touch_stock(line.article for line in order.lines)
        return order

    def set_order_status(self, order_number: str, status: int) -> Order:
        """Set a status by hand; back to Open or Error also puts allocated and picked goods back.

        That is the manual step Ongoing's own Centra connector asks of the warehouse before
        a cancel can succeed (reference §7).
        """
        if status not in self.statuses.order:
            raise OngoingApiError(400, f"Order status {status} does not exist")
        order = self.order_by_number(order_number)
        if order.is_active and status in (OrderStatus.OPEN, OrderStatus.ERROR):
            for line in order.lines:
                line.allocated = 0.0
                line.picked = 0.0
                line.picked_items.clear()
        self.set_status(order, status)
        self.touch_stock(line.article for line in order.lines)
        return order

    def _require_workable(self, order: Order, verb: str) -> None:
        if not order.is_active or order.status == OrderStatus.ERROR:
            text = self.statuses.order_text(order.status)
            raise OngoingApiError(
                409, f"Order {order.number} cannot be {verb} (status {order.status} {text})"
            )

    @staticmethod
    def _lines_for(order: Order, article_number: str) -> list[OrderLine]:
        lines = [line for line in order.lines if line.article.number == article_number]
        if not lines:
            raise OngoingApiError(
                409, f"Order {order.number} has no line for article {article_number}"
            )
        return lines

    # -- inbound and stock ----------------------------------------------------------------

    def receive(self, number: str, receipts: Sequence[LineQuantity] | None) -> PurchaseOrder:
        """Receive goods against an in-order; partial receipts accumulate (Deflection 400)."""
        purchase_order = self.purchase_order_by_number(number)
        if purchase_order.status == PurchaseOrderStatus.CANCELLED:
            raise OngoingApiError(409, f"Purchase order {number} is cancelled")
        if receipts is None:
            receipts = [
                LineQuantity(line.article.number, line.advised - line.received)
                for line in purchase_order.lines
                if line.advised > line.received
            ]
            if not receipts:
                raise OngoingApiError(409, f"Purchase order {number} has nothing left to receive")
        plan: list[tuple[list[PurchaseOrderLine], float]] = []
        for receipt in receipts:
            lines = [
                line
                for line in purchase_order.lines
                if line.article.number == receipt.article_number
            ]
            if not lines:
                raise OngoingApiError(
                    409, f"Purchase order {number} has no line for article {receipt.article_number}"
                )
            if receipt.quantity <= 0:
                raise OngoingApiError(
                    400,
                    f"Purchase order {number}: quantity for {receipt.article_number} must be > 0",
                )
            plan.append((lines, receipt.quantity))
        now = self.now()
        for lines, quantity in plan:
            self._receive_lines(lines, quantity, now)
        complete = all(line.received >= line.advised for line in purchase_order.lines)
        status = PurchaseOrderStatus.RECEIVED if complete else PurchaseOrderStatus.DEFLECTION
        self.set_purchase_order_status(purchase_order, status)
        purchase_order.last_receive_time = now
        self.touch_stock(line.article for line in purchase_order.lines)
        return purchase_order

    def _receive_lines(
        self, lines: list[PurchaseOrderLine], quantity: float, now: datetime
    ) -> None:
        remaining = quantity
        for index, line in enumerate(lines):
            is_last = index == len(lines) - 1
            take = remaining if is_last else min(remaining, max(0.0, line.advised - line.received))
            if take <= 0:
                continue
            line.received += take
            line.items.append(ReceivedItem(self.next_item_id(), take, now, _RECEIVE_LOCATION))
            line.article.number_of_items += take
            line.article.last_in_date = now
            remaining -= take

    def adjust_stock(
        self, article_number: str, number_of_items: float, locked: float | None = None
    ) -> None:
        """A stock-take: set the physical count (and optionally the locked count)."""
        if number_of_items < 0 or (locked is not None and locked < 0):
            raise OngoingApiError(400, f"Article {article_number}: stock cannot be negative")
        article = self.article_by_number(article_number)
        if number_of_items > article.number_of_items:
            # The count found goods the records did not have: they came in now [I].
            article.last_in_date = self.now()
        article.number_of_items = number_of_items
        if locked is not None:
            article.locked = locked
        self.touch_stock([article])

    def set_opening_stock(self, counts: Mapping[str, float]) -> tuple[int, int]:
        """Goods already on the shelves: counted now, or when their article is created.

        A warehouse that takes over a shop's goods has them before the article registry
        reaches it; each count waits for its article (from ``PUT /articles`` or an order
        line) and becomes its physical stock then. Returns (counted now, waiting).
        """
        bad = sorted(number for number, count in counts.items() if count < 0)
        if bad:
            raise OngoingApiError(400, f"Article {bad[0]}: stock cannot be negative")
        counted = 0
        for number, count in counts.items():
            if number in self.articles:
                self.adjust_stock(number, count)
                counted += 1
            else:
                self.opening_stock[number] = count
        return counted, len(counts) - counted

    # -- the auto-operator ------------------------------------------------------------------

    async def operator_step(self) -> str | None:
        """Do the next single piece of work, oldest document first; None when idle.

        Order work comes before in-orders: allocate an open order, else pick an allocated
        one (short by one item on its first line if listed), else ship a picked one with
        an invented parcel, else receive an in-order in full. Held documents are skipped.
        """
        held = self.auto_operator.held_order_numbers
        held_in = self.auto_operator.held_purchase_order_numbers
        for order in sorted(self.orders.values(), key=lambda o: o.order_id):
            if not order.is_active or order.number in held:
                continue
            if order.status in (OrderStatus.OPEN, OrderStatus.RELEASED):
                self.allocate(order.number)
                return f"allocated order {order.number}"
            if order.status == OrderStatus.ALLOCATED:
                self.pick(order.number, self._auto_picks(order))
                return f"picked order {order.number}"
            if order.status == OrderStatus.PICKED:
                self.ship(order.number, None)
                return f"shipped order {order.number}"
        for purchase_order in sorted(
            self.purchase_orders.values(), key=lambda p: p.purchase_order_id
        ):
            if (
                purchase_order.expects_goods
                and purchase_order.number not in held_in
                and any(line.advised > line.received for line in purchase_order.lines)
            ):
                self.receive(purchase_order.number, None)
                return f"received purchase order {purchase_order.number}"
        return None

    def _auto_picks(self, order: Order) -> list[PickRequest] | None:
        if order.number not in self.auto_operator.short_pick_order_numbers:
            return None
        picks = [
            PickRequest(line.article.number, line.ordered - line.picked) for line in order.lines
        ]
        if picks:
            first = picks[0]
            picks[0] = PickRequest(first.article_number, max(0.0, first.quantity - 1))
        return picks


def _mark_returned(
    line: OrderLine,
    quantity: float,
    cause: ReturnCause | None,
    now: datetime,
    new_id: Callable[[], int],
) -> None:
    """Flag picked items as returned, splitting a bulk item when only part comes back."""
    left = quantity
    for item in list(line.picked_items):
        if left <= 0:
            break
        if item.returned:
            continue
        if item.number_of_items > left:
            kept = PickedItem(
                new_id(),
                item.number_of_items - left,
                item.serial,
                item.picked_time,
                item.in_date,
                item.location,
            )
            line.picked_items.append(kept)
            item.number_of_items = left
        item.returned = True
        item.return_date = now
        item.return_cause = cause
        left -= item.number_of_items
