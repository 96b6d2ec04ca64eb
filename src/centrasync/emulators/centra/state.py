"""The world's containers, id counters, clock and change notifications.

The rule-bearing operations live in sibling modules that extend :class:`WorldState`; this
module holds only what they all share: lookups, id allocation, the event feed for the
webhook sender and the log of everything an integration wrote.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from centrasync.errors import NotFoundError, RecordValidationError

from .model import (
    AllocationRequest,
    Charges,
    CheckFirstOffer,
    Event,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    ReturnRecord,
    Shipment,
    SizeRef,
    StockChange,
    StockChangeLine,
    StockLevel,
    Store,
    SupplierDelivery,
    SupplierOrder,
    Warehouse,
    WriteRecord,
)

__all__ = ["Clock", "Refusal", "WorldState", "system_clock"]

Clock = Callable[[], datetime]

# First values of each id space; distinct ranges make mixed-up ids fail loudly in tests.
_ID_STARTS = {
    "warehouse": 1,
    "product": 100,
    "variant": 1000,
    "size": 10000,
    "order": 1001,
    "line": 43001,
    "shipment": 1901,
    "shipment_line": 70001,
    "return": 5001,
    "return_line": 90001,
    "supplier_order": 951,
    "supplier_delivery": 361,
    "allocation_request": 1140,
    "stock_change": 8001,
    "stock_change_line": 120001,
}

# The events queue's change type of a webhook action, unless the emitter says otherwise.
_CHANGES = {"create": "CREATED", "delete": "DELETED"}


def system_clock() -> datetime:
    return datetime.now(UTC)


class Refusal(Exception):
    """A business refusal: the Order API answers HTTP 200 ``{"status": "no", "msg": ...}``.

    ``echo`` holds the fields Centra echoes next to ``msg`` (``order``, ``shipment``, an
    order create's ``code``), with the types of the documented examples. ``msg`` is an
    object keyed by field where Centra reports field errors (``POST /check-first``).
    """

    def __init__(self, msg: str | dict[str, str], **echo: Any) -> None:
        super().__init__(str(msg))
        self.msg = msg
        self.echo = echo


class WorldState:
    """Containers and shared helpers of the in-memory Centra."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or system_clock
        self.listeners: list[Callable[[Event], None]] = []
        self.clear()

    def clear(self) -> None:
        """Forget every record; listeners and the clock stay."""
        self.stores: dict[str, Store] = {}
        self.warehouses: dict[int, Warehouse] = {}
        self.products: dict[int, Product] = {}
        self.sizes: dict[int, SizeRef] = {}
        # EAN, UPC and physical SKU -> size id: the keys the Order API matches products on.
        self.size_keys: dict[str, int] = {}
        self.stock: dict[tuple[int, int], StockLevel] = {}
        self.orders: dict[int, Order] = {}
        self.shipments: dict[int, Shipment] = {}
        # Indexes over ``shipments`` (kept by add_shipment / remove_shipment), so looking a
        # shipment up stays cheap with tens of thousands of them.
        self._shipment_ids: dict[str, int] = {}
        self._order_shipments: dict[int, dict[int, Shipment]] = {}
        self.returns: dict[int, ReturnRecord] = {}
        self.supplier_orders: dict[int, SupplierOrder] = {}
        self.supplier_deliveries: dict[int, SupplierDelivery] = {}
        self.check_first_offers: dict[tuple[int, int], CheckFirstOffer] = {}
        self.allocation_requests: dict[int, AllocationRequest] = {}
        self.stock_changes: dict[int, StockChange] = {}
        self.writes: list[WriteRecord] = []
        self._next: dict[str, int] = dict(_ID_STARTS)

    def now(self) -> datetime:
        moment = self.clock()
        if moment.tzinfo is None:
            raise ValueError("the emulator clock must return aware datetimes")
        return moment.astimezone(UTC)

    def new_id(self, kind: str) -> int:
        value = self._next[kind]
        self._next[kind] = value + 1
        return value

    @staticmethod
    def selection_id(number: int) -> str:
        """The 32-hex order hash; derived from the number so it is stable across runs."""
        return hashlib.md5(f"centra-emulator-order-{number}".encode()).hexdigest()

    @staticmethod
    def payment_reference(number: int) -> str:
        """A PSP transaction reference (a UUID, as Klarna's in the docs), stable per order."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"centra-emulator-payment-{number}"))

    def emit(
        self,
        type_: str,
        action: str,
        object_id: int,
        store_uri: str | None,
        data: dict[str, Any] | None = None,
        *,
        change: str | None = None,
    ) -> None:
        """Announce a change; a shipment's announced change is also its last-modified time."""
        event = Event(
            type=type_,
            action=action,
            id=object_id,
            at=self.now(),
            store_uri=store_uri,
            data=data,
            change=change or _CHANGES.get(action, "UPDATED"),
        )
        if type_ == "shipment" and object_id in self.shipments:
            self.shipments[object_id].modified_at = event.at
        for listener in self.listeners:
            listener(event)

    def record(self, kind: str, store_uri: str, **data: Any) -> WriteRecord:
        entry = WriteRecord(kind=kind, at=self.now(), store_uri=store_uri, data=data)
        self.writes.append(entry)
        return entry

    def written(self, kind: str | None = None) -> list[WriteRecord]:
        return [w for w in self.writes if kind is None or w.kind == kind]

    # -- lookups ----------------------------------------------------------------------

    def store(self, uri: str) -> Store:
        try:
            return self.stores[uri]
        except KeyError:
            raise NotFoundError(f"store {uri!r} does not exist", system="centra-emulator") from None

    def warehouse(self, warehouse_id: int) -> Warehouse:
        try:
            return self.warehouses[warehouse_id]
        except KeyError:
            raise NotFoundError(
                f"warehouse {warehouse_id} does not exist", system="centra-emulator"
            ) from None

    def order(self, number: int) -> Order:
        try:
            return self.orders[number]
        except KeyError:
            raise NotFoundError(
                f"order {number} does not exist", system="centra-emulator"
            ) from None

    def find_shipment(self, ref: str | int) -> Shipment | None:
        """By internal id (int or digits) or by number ``"<order>-<n>"``; cancelled included."""
        text = str(ref).strip()
        if text.isdigit():
            return self.shipments.get(int(text))
        found = self._shipment_ids.get(text)
        return None if found is None else self.shipments.get(found)

    def add_shipment(self, shipment: Shipment) -> None:
        self.shipments[shipment.id] = shipment
        self._shipment_ids[shipment.number] = shipment.id
        self._order_shipments.setdefault(shipment.order_number, {})[shipment.id] = shipment

    def remove_shipment(self, shipment: Shipment) -> None:
        del self.shipments[shipment.id]
        self._shipment_ids.pop(shipment.number, None)
        self._order_shipments.get(shipment.order_number, {}).pop(shipment.id, None)

    def order_shipments(self, order_number: int) -> list[Shipment]:
        """Every shipment of the order, cancelled included, oldest first."""
        found = self._order_shipments.get(order_number, {})
        return sorted(found.values(), key=lambda s: s.id)

    def shipment(self, ref: str | int) -> Shipment:
        found = self.find_shipment(ref)
        if found is None:
            raise NotFoundError(f"shipment {ref} does not exist", system="centra-emulator")
        return found

    def size_by_ean(self, ean: str, *, record: str) -> SizeRef:
        ref = self.find_size(ean)
        if ref is not None and ref.size.ean == ean:
            return ref
        raise RecordValidationError(f"no size has EAN {ean!r}", record=record, field="ean")

    def find_size(self, key: str) -> SizeRef | None:
        """Match the Order API's product key: EAN, UPC, or sku + variantSku + sizeSku."""
        size_id = self.size_keys.get(key.strip())
        return None if size_id is None else self.sizes[size_id]

    def stock_level(self, warehouse_id: int, size_id: int) -> StockLevel:
        return self.stock.setdefault((warehouse_id, size_id), StockLevel())

    def add_stock_change(
        self,
        warehouse_id: int,
        comment: str,
        kind: str,
        lines: list[StockChangeLine],
        *,
        at: datetime | None = None,
    ) -> StockChange | None:
        """Record a stock movement (lines that moved nothing are left out) and announce it."""
        moved = [line for line in lines if line.delivered]
        if not moved:
            return None
        for line in moved:
            line.id = self.new_id("stock_change_line")
        change = StockChange(
            id=self.new_id("stock_change"),
            warehouse_id=warehouse_id,
            created_at=at or self.now(),
            comment=comment,
            kind=kind,
            lines=moved,
        )
        self.stock_changes[change.id] = change
        self.emit("stock_change", "create", change.id, None)
        return change

    # -- order arithmetic shared by orders and fulfilment ------------------------------

    def live_shipments(self, order: Order) -> list[Shipment]:
        return [s for s in self.order_shipments(order.number) if not s.cancelled]

    def line(self, order: Order, line_id: int) -> OrderLine | None:
        return next((ln for ln in order.lines if ln.id == line_id), None)

    @staticmethod
    def physical_lines(order: Order) -> list[OrderLine]:
        """The lines that are goods: every line but a bundle's own (its items are lines)."""
        return [ln for ln in order.lines if not ln.is_bundle]

    @staticmethod
    def bundle_items(order: Order, bundle: OrderLine) -> list[tuple[OrderLine, int]]:
        """A bundle line's item lines, each with its units per bundle."""
        return [(ln, ln.qty // bundle.qty) for ln in order.lines if ln.bundle_line_id == bundle.id]

    def expand_bundles(self, order: Order, products: dict[int, int]) -> dict[int, int]:
        """``{lineId: qty}`` with a bundle's line id replaced by its items' lines [I].

        A client that only sees bundle lines ("Only bundles") can still ship and return.
        """
        expanded: dict[int, int] = {}
        for line_id, qty in products.items():
            line = self.line(order, line_id)
            parts = (
                [(line_id, 1)]
                if line is None or not line.is_bundle
                else [(item.id, per) for item, per in self.bundle_items(order, line)]
            )
            for part, per in parts:
                expanded[part] = expanded.get(part, 0) + qty * per
        return expanded

    def in_shipments(self, order: Order, line_id: int, *, exclude: int | None = None) -> int:
        """Units of an order line already placed on live shipments."""
        return sum(
            sl.qty
            for s in self.live_shipments(order)
            if s.id != exclude
            for sl in s.lines
            if sl.order_line_id == line_id
        )

    def unshipped(self, order: Order, line: OrderLine, *, exclude: int | None = None) -> int:
        """Units of a line not cancelled and not on any live shipment: room for a new one."""
        return line.qty - line.cancelled_qty - self.in_shipments(order, line.id, exclude=exclude)

    def charges(self, shipment: Shipment) -> Charges:
        """The order's shipping, handling and voucher ride on its first shipment [I]."""
        if not shipment.number.endswith("-1"):
            return Charges()
        order = self.orders[shipment.order_number]
        return Charges(order.shipping_value, order.handling_value, order.voucher_value)

    # -- allocation: which warehouse holds an order's goods ------------------------------

    def allocated_units(self, order: Order, line: OrderLine) -> int:
        """Units of a goods line held in its warehouse: not cancelled and not yet shipped."""
        shipped = sum(
            sl.qty
            for s in self.live_shipments(order)
            if s.shipped
            for sl in s.lines
            if sl.order_line_id == line.id
        )
        return line.qty - line.cancelled_qty - shipped

    def move_allocation(self, warehouse_id: int, size_id: int, qty: int) -> None:
        """Allocate (or release, with a negative ``qty``) units of a size in a warehouse.

        [I] Centra's ``stock_modified`` filter is documented as "stock changed after"; an
        allocation changes ``allocatedStock`` and ``availableStock`` of the row, so the
        row's stock time moves.
        """
        level = self.stock_level(warehouse_id, size_id)
        level.allocated += qty
        level.modified_at = self.now()

    def can_allocate(self, order: Order, warehouse_id: int) -> bool:
        """Whether the warehouse has every goods unit the order still needs free."""
        needed: dict[int, int] = {}
        for line in self.physical_lines(order):
            needed[line.size_id] = needed.get(line.size_id, 0) + self.allocated_units(order, line)
        for size_id, qty in needed.items():
            level = self.stock.get((warehouse_id, size_id))
            if qty > 0 and (level is None or level.physical - level.allocated < qty):
                return False
        return True

    def allocate_order(self, order: Order, warehouse_id: int) -> None:
        """Allocate what the order still needs in one warehouse (the caller checked room)."""
        for line in order.lines:
            line.warehouse_id = warehouse_id
            if not line.is_bundle:
                self.move_allocation(warehouse_id, line.size_id, self.allocated_units(order, line))
        order.allocated = True

    def release_order(self, order: Order) -> None:
        """Give back what the order holds, e.g. before it moves to another warehouse."""
        if not order.allocated:
            return
        for line in self.physical_lines(order):
            self.move_allocation(
                line.warehouse_id, line.size_id, -self.allocated_units(order, line)
            )
        order.allocated = False

    def fall_back(self, order: Order) -> None:
        """Regular fulfilment: the store's primary warehouse takes the order if it can [I]."""
        primary = self.stores[order.store_uri].primary_warehouse_id
        if not order.allocated and self.can_allocate(order, primary):
            self.allocate_order(order, primary)

    def refresh_status(self, order: Order) -> None:
        """Derive Processing / Completed from the order's shipments, as Centra does."""
        if order.status in (OrderStatus.CANCELLED, OrderStatus.ARCHIVED):
            return
        shipments = self.live_shipments(order)
        all_covered = all(self.unshipped(order, ln) == 0 for ln in self.physical_lines(order))
        if shipments and all_covered and all(s.shipped for s in shipments):
            order.status = OrderStatus.COMPLETED
        elif any(not s.shipped for s in shipments):
            order.status = OrderStatus.PROCESSING
        else:
            order.status = OrderStatus.CONFIRMED
        order.modified_at = self.now()
