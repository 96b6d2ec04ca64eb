"""Shipments, capture, completion and returns, with the Order API's documented refusals.

Messages quoted from Centra's docs are used verbatim; where the docs give none, the
message is marked [I] and phrased in the same style.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from .model import (
    Charges,
    Order,
    OrderStatus,
    ReturnLine,
    ReturnRecord,
    Shipment,
    ShipmentLine,
    StockChangeLine,
    Store,
)
from .state import Refusal, WorldState

__all__ = ["Completion", "FulfilmentOps", "LineChange", "ReturnCosts", "ShippingInfo"]

_T = TypeVar("_T")


def _given(value: _T | None, current: _T) -> _T:
    return current if value is None else value


@dataclass(frozen=True)
class LineChange:
    """One entry of ``products`` in an update: a new quantity and/or a serial number."""

    qty: int | None = None
    serial_number: str | None = None


@dataclass(frozen=True)
class ReturnCosts:
    """The money fields of ``POST /return``: each a value, or taken from the shipment."""

    return_cost: float = 0.0
    shipping: float = 0.0
    shipping_from_shipment: bool = False
    handling: float = 0.0
    handling_from_shipment: bool = False
    voucher: float = 0.0
    voucher_from_shipment: bool = False


@dataclass(frozen=True)
class Completion:
    """What the warehouse reports when a shipment leaves (PUT /shipment, or create+shipped)."""

    carrier: str = ""
    service: str = ""
    packages: int = 0
    tracking: str = ""
    return_slip_tracking: str = ""
    send_email: bool | None = None
    internal_comment: str = ""
    # When the goods left; default the moment of the call.
    shipped_at: datetime | None = None


@dataclass(frozen=True)
class ShippingInfo:
    """Shipping details set before the goods leave; None leaves a field as it is."""

    carrier: str | None = None
    service: str | None = None
    packages: int | None = None
    tracking: str | None = None
    return_slip_tracking: str | None = None


class FulfilmentOps(WorldState):
    """Shipment and return operations of the Order API and of the control API."""

    # -- lookups scoped to one plugin instance ------------------------------------------

    def store_order(self, store: Store, number: int) -> Order | None:
        order = self.orders.get(number)
        return order if order is not None and order.store_uri == store.uri else None

    def store_shipment(self, store: Store, ref: str | int) -> Shipment | None:
        shipment = self.find_shipment(ref)
        if shipment is None or shipment.cancelled:
            return None
        order = self.orders[shipment.order_number]
        return shipment if order.store_uri == store.uri else None

    def _declines(self, order: Order, shipment: Shipment | None) -> bool:
        return order.capture_declines or (shipment is not None and shipment.capture_declines)

    # -- create --------------------------------------------------------------------------

    def create_shipment(
        self,
        store: Store,
        number: int,
        products: dict[int, int],
        *,
        gtg: bool = False,
        capture: bool = True,
        completion: Completion | None = None,
        via: str = "order_api",
        paid: bool = False,
        created_at: datetime | None = None,
        additional_message: str = "",
    ) -> Shipment:
        """Create a shipment; with ``capture`` a PSP decline means nothing is created.

        ``paid`` marks it paid without a capture (captured outside Centra).
        """
        order = self.store_order(store, number)
        if order is None:
            raise Refusal("order does not exist", order=str(number))
        if order.status is OrderStatus.CANCELLED:
            raise Refusal("order is cancelled", order=str(number))  # [I] msg undocumented
        if not order.allocated:
            # [I] No warehouse holds the goods yet (createOnly, or waiting for check-first).
            raise Refusal("order is not allocated", order=str(number))
        products = self.expand_bundles(order, products)
        wanted = {line_id: qty for line_id, qty in products.items() if qty > 0}
        if not wanted:
            raise Refusal("no products to ship", order=str(number))  # [I]
        for line_id, qty in wanted.items():
            line = self.line(order, line_id)
            if line is None or qty > self.unshipped(order, line):
                # [I] Centra documents no message for an unknown line or too many units.
                raise Refusal(f"product line {line_id} can not be shipped", order=str(number))
        if capture and self._declines(order, None):
            self.record("captures", store.uri, shipment=None, order=number, outcome="declined")
            raise Refusal("can not capture order", order=str(number))
        order.shipments_created += 1
        now = self.now()
        shipment = Shipment(
            id=self.new_id("shipment"),
            number=f"{order.number}-{order.shipments_created}",
            order_number=order.number,
            created_at=created_at or now,
            lines=[
                ShipmentLine(id=self.new_id("shipment_line"), order_line_id=line_id, qty=qty)
                for line_id, qty in wanted.items()
            ],
            gtg=gtg or completion is not None,
            paid=capture or order.paid_elsewhere or paid,
            captured=capture,
            additional_message=additional_message,
        )
        shipment.paid_at = now if shipment.paid else None
        shipment.captured_at = now if capture else None
        self.add_shipment(shipment)
        if capture:
            self.record(
                "captures", store.uri, shipment=shipment.number, order=number, outcome="captured"
            )
        self.record(
            "shipment_creations",
            store.uri,
            shipment=shipment.number,
            order=number,
            products=dict(wanted),
            gtg=shipment.gtg,
            capture=capture,
            via=via,
        )
        self.emit("shipment", "create", shipment.id, store.uri)
        if shipment.gtg:
            self.emit("shipment", "good_to_go", shipment.id, store.uri)
        if completion is not None:
            self._ship(store, order, shipment, completion)
        self.refresh_status(order)
        self._announce_order(order)
        return shipment

    # -- update ----------------------------------------------------------------------

    def update_shipment(
        self, store: Store, ref: str, *, gtg: bool | None, products: dict[int, LineChange]
    ) -> Shipment:
        """Change quantities (only while untouched), GTG and serial numbers (any time)."""
        shipment = self.store_shipment(store, ref)
        if shipment is None:
            raise Refusal("shipment does not exist", shipment=ref)  # [I]
        order = self.orders[shipment.order_number]
        current = {sl.order_line_id: sl for sl in shipment.lines}
        qty_changes = {
            line_id: change.qty
            for line_id, change in products.items()
            if change.qty is not None
            and (line_id not in current or current[line_id].qty != change.qty)
        }
        serials = {k: c.serial_number for k, c in products.items() if c.serial_number is not None}
        for line_id in serials:
            if line_id not in current and line_id not in qty_changes:
                raise Refusal(
                    f"product line {line_id} is not on the shipment", shipment=shipment.number
                )  # [I]
        if qty_changes:
            self._check_editable(shipment)
            self._apply_quantities(order, shipment, qty_changes)
        for sl in shipment.lines:
            if sl.order_line_id in serials:
                sl.serial_numbers.append(str(serials[sl.order_line_id]))
        became_gtg = gtg is True and not shipment.gtg
        if gtg is not None:
            shipment.gtg = gtg
        self.record(
            "shipment_updates",
            store.uri,
            shipment=shipment.number,
            gtg=gtg,
            products={
                str(k): {"qty": v.qty, "serialNumber": v.serial_number} for k, v in products.items()
            },
        )
        self.emit("shipment", "update", shipment.id, store.uri)  # [I] action for an update
        if became_gtg:
            self.emit("shipment", "good_to_go", shipment.id, store.uri)
        self.refresh_status(order)
        return shipment

    def amend_shipment(
        self,
        store: Store,
        ref: str | int,
        *,
        info: ShippingInfo | None = None,
        additional_message: str | None = None,
        gtg: bool | None = None,
        paid: bool | None = None,
    ) -> Shipment:
        """The Integration API's ``updateShipment``: shipping info, message, GTG and paid.

        Shipping info and GTG cannot change once the shipment is sent, as the docs say;
        ``paid`` marks it paid without a capture (paid outside Centra).
        """
        shipment = self.store_shipment(store, ref)
        if shipment is None:
            raise Refusal("shipment does not exist", shipment=ref)  # [I]
        if shipment.shipped and (info is not None or gtg is not None):
            raise Refusal("shipment is sent and can not be updated", shipment=shipment.number)
        if paid is False and shipment.captured:
            raise Refusal("shipment is captured and can not be updated", shipment=shipment.number)
        if info is not None:
            shipment.carrier = _given(info.carrier, shipment.carrier)
            shipment.service = _given(info.service, shipment.service)
            shipment.packages = _given(info.packages, shipment.packages)
            shipment.tracking = _given(info.tracking, shipment.tracking)
            shipment.return_slip_tracking = _given(
                info.return_slip_tracking, shipment.return_slip_tracking
            )
        if additional_message is not None:
            shipment.additional_message = additional_message
        if paid is not None and paid != shipment.paid:
            shipment.paid = paid
            shipment.paid_at = self.now() if paid else None
        became_gtg = gtg is True and not shipment.gtg
        if gtg is not None:
            shipment.gtg = gtg
        self.record(
            "shipment_updates",
            store.uri,
            shipment=shipment.number,
            gtg=gtg,
            paid=paid,
            additionalMessage=additional_message,
            shipmentInfo=None if info is None else dataclasses.asdict(info),
            via="integration_api",
        )
        self.emit("shipment", "update", shipment.id, store.uri)
        if became_gtg:
            self.emit("shipment", "good_to_go", shipment.id, store.uri)
        return shipment

    def _check_editable(self, shipment: Shipment) -> None:
        # Documented messages, checked in the order the docs list the states.
        if shipment.shipped:
            raise Refusal("shipment is sent and can not be updated", shipment=shipment.number)
        if shipment.captured:
            raise Refusal("shipment is captured and can not be updated", shipment=shipment.number)
        if shipment.paid:
            raise Refusal("shipment is paid and can not be updated", shipment=shipment.number)
        if any(r.shipment_id == shipment.id for r in self.returns.values()):
            raise Refusal("shipment has refunds and can not be updated", shipment=shipment.number)

    def _apply_quantities(self, order: Order, shipment: Shipment, changes: dict[int, int]) -> None:
        for line_id, qty in changes.items():
            line = self.line(order, line_id)
            if line is None or qty < 0 or qty > self.unshipped(order, line, exclude=shipment.id):
                raise Refusal(
                    f"product line {line_id} can not be shipped", shipment=shipment.number
                )  # [I]
        remaining = {sl.order_line_id: sl.qty for sl in shipment.lines} | changes
        if not any(qty > 0 for qty in remaining.values()):
            raise Refusal("shipment can not be empty", shipment=shipment.number)  # [I]
        kept = [sl for sl in shipment.lines if changes.get(sl.order_line_id, sl.qty) > 0]
        for sl in kept:
            sl.qty = changes.get(sl.order_line_id, sl.qty)
        known = {sl.order_line_id for sl in kept}
        for line_id, qty in changes.items():
            if line_id not in known and qty > 0:
                kept.append(
                    ShipmentLine(id=self.new_id("shipment_line"), order_line_id=line_id, qty=qty)
                )
        shipment.lines = kept

    def make_good_to_go(self, ref: str | int) -> Shipment:
        """Control API: the merchant (or an automation) releases a shipment to the warehouse."""
        shipment = self.shipment(ref)
        if not shipment.gtg:
            shipment.gtg = True
            self.emit(
                "shipment", "good_to_go", shipment.id, self.orders[shipment.order_number].store_uri
            )
        return shipment

    # -- capture and complete ----------------------------------------------------------

    def capture(self, store: Store, ref: str) -> Shipment:
        shipment = self.store_shipment(store, ref)
        if shipment is None:
            raise Refusal("shipment does not exist", shipment=ref)  # [I]
        self._capture(store, shipment)
        return shipment

    def _capture(self, store: Store, shipment: Shipment) -> None:
        if shipment.captured or shipment.paid:
            return
        order = self.orders[shipment.order_number]
        if self._declines(order, shipment):
            self.record(
                "captures",
                store.uri,
                shipment=shipment.number,
                order=order.number,
                outcome="declined",
            )
            raise Refusal("capture failed", order=order.number, shipment=shipment.number)
        shipment.captured = shipment.paid = True
        shipment.captured_at = shipment.paid_at = self.now()
        self.record(
            "captures", store.uri, shipment=shipment.number, order=order.number, outcome="captured"
        )
        self.emit("shipment", "update", shipment.id, store.uri)  # [I]

    def complete(
        self,
        store: Store,
        number: int,
        ref: str,
        completion: Completion,
        *,
        capture: bool = True,
        gtg: bool | None = None,
    ) -> Shipment:
        """``PUT /shipment``: needs paid + GTG; ``shipped`` is implied by the call [I]."""
        shipment = self.store_shipment(store, ref)
        if shipment is None or shipment.order_number != number:
            raise Refusal("shipment does not exist", order=number, shipment=ref)  # [I]
        if shipment.shipped:
            raise Refusal("shipment is already completed", order=number, shipment=ref)  # [I]
        order = self.orders[number]
        if capture:
            self._capture(store, shipment)
        if not shipment.paid:
            raise Refusal("shipment is not paid", order=number, shipment=shipment.number)  # [I]
        if gtg:
            shipment.gtg = True
        if not shipment.gtg:
            raise Refusal(
                "shipment is not good to go", order=number, shipment=shipment.number
            )  # [I]
        self._ship(store, order, shipment, completion)
        self.refresh_status(order)
        self._announce_order(order)
        return shipment

    def _announce_order(self, order: Order) -> None:
        """An order ``update``; for the events queue ``COMPLETED`` once all of it shipped."""
        done = order.status is OrderStatus.COMPLETED
        self.emit(
            "order", "update", order.number, order.store_uri, change="COMPLETED" if done else None
        )

    def _ship(self, store: Store, order: Order, shipment: Shipment, done: Completion) -> None:
        shipment.shipped = True
        shipment.shipped_at = done.shipped_at or self.now()
        shipment.carrier, shipment.service = done.carrier, done.service
        shipment.packages = done.packages
        shipment.tracking = done.tracking
        shipment.return_slip_tracking = done.return_slip_tracking
        shipment.send_email = done.send_email
        if done.tracking:
            shipment.tracking_url = f"https://tracking.example.com/{done.tracking}"
        if done.internal_comment:
            shipment.internal_comment = "\n".join(
                c for c in (shipment.internal_comment, done.internal_comment) if c
            )
        for sl in shipment.lines:
            line = self.line(order, sl.order_line_id)
            assert line is not None, "shipment lines always point at their order's lines"
            level = self.stock_level(line.warehouse_id, line.size_id)
            level.physical -= sl.qty
            level.allocated -= sl.qty
            level.modified_at = shipment.shipped_at
        self.record(
            "completions",
            store.uri,
            shipment=shipment.number,
            order=order.number,
            carrier=done.carrier,
            service=done.service,
            packages=done.packages,
            tracking=done.tracking,
            returnSlipTracking=done.return_slip_tracking,
            sendEmail=done.send_email,
            internalComment=done.internal_comment,
        )
        # [I] No "shipped" webhook action is documented; the events queue says COMPLETED.
        self.emit("shipment", "update", shipment.id, store.uri, change="COMPLETED")

    # -- delete and cancel -------------------------------------------------------------

    def delete_shipment(self, store: Store, ref: str) -> tuple[int, str]:
        shipment = self.store_shipment(store, ref)
        if shipment is None:
            raise Refusal("shipment does not exist", shipment=ref)  # [I]
        # [I] A capture or a completion creates an invoice in Centra, which blocks deletion.
        if shipment.captured or shipment.shipped:
            raise Refusal(
                "shipment has invoices or creditnotes and could not be deleted.",
                shipment=shipment.number,
            )
        self.remove_shipment(shipment)
        order = self.orders[shipment.order_number]
        self.record("shipment_deletions", store.uri, shipment=shipment.number, order=order.number)
        # [I] No delete action is documented for webhooks; the events queue has DELETED.
        self.emit("shipment", "delete", shipment.id, store.uri)
        self.refresh_status(order)
        self.emit("order", "update", order.number, store.uri)
        return order.number, shipment.number

    def cancel_shipment(self, ref: str | int) -> Shipment:
        """Control API: staff cancel an unshipped shipment; its units return to the order."""
        shipment = self.shipment(ref)
        if shipment.shipped:
            raise Refusal("shipment is sent and can not be cancelled", shipment=shipment.number)
        if not shipment.cancelled:
            shipment.cancelled = True
            order = self.orders[shipment.order_number]
            self.refresh_status(order)
            # [I] No cancel action is documented: the shipment and its order get "update".
            self.emit("shipment", "update", shipment.id, order.store_uri)
            self.emit("order", "update", order.number, order.store_uri)
        return shipment

    def set_shipment_capture_declines(self, ref: str | int, declines: bool) -> Shipment:
        shipment = self.shipment(ref)
        shipment.capture_declines = declines
        return shipment

    # -- returns -----------------------------------------------------------------------

    def create_return(
        self,
        store: Store,
        ref: str,
        products: dict[int, int],
        *,
        return_stock: bool | None,
        comment: str | None,
        created_at: datetime | None,
        refund: bool,
        costs: ReturnCosts = ReturnCosts(),
        send_email: bool | None = None,
        restock_warehouse_id: int | None = None,
    ) -> tuple[ReturnRecord, list[int]]:
        """Return what can be returned; Centra creates the return even if some lines fail.

        Restocked goods go back to the warehouse each line was allocated in, or to
        ``restock_warehouse_id`` (the Integration API's "send items to a different
        warehouse"); either way in one stock change per warehouse.
        """
        shipment = self.store_shipment(store, ref)
        # [I] Only a shipped shipment has goods to return.
        if shipment is None or not shipment.shipped:
            raise Refusal("return could not be created.")
        order = self.orders[shipment.order_number]
        products = self.expand_bundles(order, products)
        by_order_line = {sl.order_line_id: sl for sl in shipment.lines}
        restock = store.return_stock_default if return_stock is None else return_stock
        lines: list[ReturnLine] = []
        restocked: dict[int, list[StockChangeLine]] = {}
        for line_id, qty in products.items():
            sl = by_order_line.get(line_id)
            if sl is None or qty <= 0 or qty > sl.qty - self._returned(sl.id):
                continue
            order_line = self.line(order, line_id)
            assert order_line is not None
            lines.append(
                ReturnLine(
                    id=self.new_id("return_line"),
                    shipment_line_id=sl.id,
                    order_line_id=line_id,
                    qty=qty,
                    price=order_line.price,
                )
            )
            if restock:
                warehouse_id = restock_warehouse_id or order_line.warehouse_id
                level = self.stock_level(warehouse_id, order_line.size_id)
                level.physical += qty
                level.modified_at = self.now()
                restocked.setdefault(warehouse_id, []).append(
                    StockChangeLine(
                        id=0, size_id=order_line.size_id, delivered=qty, shipment_line_id=sl.id
                    )
                )
        if not lines:
            raise Refusal("return could not be created.")
        left = self._charges_left(shipment)
        record = ReturnRecord(
            id=self.new_id("return"),
            shipment_id=shipment.id,
            created_at=created_at or self.now(),
            lines=lines,
            return_stock=restock,
            comment=comment,
            completed=refund,
            refunded=refund,
            return_cost=costs.return_cost,
            shipping_cost=left.shipping if costs.shipping_from_shipment else costs.shipping,
            handling_cost=left.handling if costs.handling_from_shipment else costs.handling,
            voucher_value=left.voucher if costs.voucher_from_shipment else costs.voucher,
        )
        self.returns[record.id] = record
        for warehouse_id, moved in restocked.items():
            change = self.add_stock_change(
                warehouse_id, f"Return {record.id}", "RETURN", moved, at=record.created_at
            )
            if change is not None:
                record.stock_change_id = change.id
        returned = [ln.order_line_id for ln in lines]
        self.record(
            "returns",
            store.uri,
            returnId=record.id,
            shipment=shipment.number,
            products={str(ln.order_line_id): ln.qty for ln in lines},
            returnStock=restock,
            comment=comment,
            refund=refund,
            sendEmail=send_email,
            returnCost=record.return_cost,
            shippingCost=record.shipping_cost,
            shippingCostFromShipment=costs.shipping_from_shipment,
            handlingCost=record.handling_cost,
            handlingCostFromShipment=costs.handling_from_shipment,
            voucherValue=record.voucher_value,
            voucherValueFromShipment=costs.voucher_from_shipment,
        )
        self.emit("return", "create", record.id, store.uri)
        return record, returned

    def _charges_left(self, shipment: Shipment) -> Charges:
        """The shipment's charges less what earlier returns of it already took back [I]."""
        charged = self.charges(shipment)
        earlier = [r for r in self.returns.values() if r.shipment_id == shipment.id]
        return Charges(
            shipping=max(0.0, charged.shipping - sum(r.shipping_cost for r in earlier)),
            handling=max(0.0, charged.handling - sum(r.handling_cost for r in earlier)),
            voucher=max(0.0, charged.voucher - sum(r.voucher_value for r in earlier)),
        )

    def _returned(self, shipment_line_id: int) -> int:
        return sum(
            ln.qty
            for r in self.returns.values()
            for ln in r.lines
            if ln.shipment_line_id == shipment_line_id
        )

    def update_return(
        self, store: Store, return_id: int, *, completed: bool | None, refund: bool
    ) -> ReturnRecord:
        record = self.returns.get(return_id)
        if record is None or self.store_shipment_of_return(store, record) is None:
            raise Refusal(f"Return with id={return_id} does not exist")
        if completed is not None:
            record.completed = completed
        if refund:
            record.refunded = True
        self.record(
            "return_updates", store.uri, returnId=return_id, completed=completed, refund=refund
        )
        self.emit(
            "return", "update", record.id, store.uri, change="COMPLETED" if completed else None
        )
        return record

    def store_shipment_of_return(self, store: Store, record: ReturnRecord) -> Shipment | None:
        return self.store_shipment(store, record.shipment_id)
