"""Supplier orders and their deliveries (in-deliveries), accepted once by the warehouse."""

from __future__ import annotations

from datetime import datetime

from centrasync.errors import RecordValidationError

from .model import StockChangeLine, Store, SupplierDelivery, SupplierOrder, SupplierOrderLine
from .specs import SupplierDeliverySpec, SupplierOrderSpec
from .state import Refusal, WorldState

__all__ = ["SupplyOps"]


class SupplyOps(WorldState):
    """Purchasing as the Order API's supplier endpoints see it."""

    def add_supplier_order(self, spec: SupplierOrderSpec) -> SupplierOrder:
        record = "supplier order"
        if spec.warehouse_id not in self.warehouses:
            raise RecordValidationError(
                f"warehouse {spec.warehouse_id} does not exist", record=record, field="warehouse_id"
            )
        lines = [
            SupplierOrderLine(
                size_id=self.size_by_ean(line.ean, record=f"{record} line {i + 1}").size.id,
                qty=line.qty,
                cost=line.cost,
                currency=line.currency,
            )
            for i, line in enumerate(spec.lines)
        ]
        order = SupplierOrder(
            id=self.new_id("supplier_order"),
            supplier_name=spec.supplier_name,
            supplier_country=spec.supplier_country,
            warehouse_id=spec.warehouse_id,
            created_at=self.now(),
            etd=spec.etd,
            eta=spec.eta,
            lines=lines,
            message=spec.message,
            confirmed=spec.confirmed,
        )
        self.supplier_orders[order.id] = order
        # Purchasing belongs to no store: only an emulator-wide webhook plugin hears of it.
        self.emit("purchase_order", "create", order.id, None)
        return order

    def supplier_order(self, order_id: int) -> SupplierOrder:
        order = self.supplier_orders.get(order_id)
        if order is None:
            raise RecordValidationError(
                f"supplier order {order_id} does not exist", record="delivery", field="order_id"
            )
        return order

    def add_supplier_delivery(self, order_id: int, spec: SupplierDeliverySpec) -> SupplierDelivery:
        """A delivery announced on a supplier order; by default everything not yet delivered."""
        order = self.supplier_order(order_id)
        if spec.quantities is None:
            quantities = {
                line.size_id: self._undelivered(order, line.size_id) for line in order.lines
            }
        else:
            quantities = {
                self.size_by_ean(ean, record=f"delivery on {order_id}").size.id: qty
                for ean, qty in spec.quantities.items()
            }
        return self._new_delivery(order, {k: v for k, v in quantities.items() if v > 0}, spec.eta)

    def _undelivered(self, order: SupplierOrder, size_id: int) -> int:
        ordered = sum(line.qty for line in order.lines if line.size_id == size_id)
        announced = sum(
            d.accepted.get(size_id, 0) if d.accepted_at else d.quantities.get(size_id, 0)
            for d in self.supplier_deliveries.values()
            if d.order_id == order.id
        )
        return ordered - announced

    def _received(self, order: SupplierOrder, size_id: int) -> int:
        return sum(
            d.accepted.get(size_id, 0)
            for d in self.supplier_deliveries.values()
            if d.order_id == order.id and d.accepted_at
        )

    def _new_delivery(
        self, order: SupplierOrder, quantities: dict[int, int], eta: datetime | None
    ) -> SupplierDelivery:
        order.deliveries += 1
        delivery = SupplierDelivery(
            id=self.new_id("supplier_delivery"),
            number=f"{order.id}-{order.deliveries}",
            order_id=order.id,
            created_at=self.now(),
            eta=eta if eta is not None else order.eta,
            etd=order.etd,
            quantities=quantities,
        )
        self.supplier_deliveries[delivery.id] = delivery
        self.emit("purchase_order_delivery", "create", delivery.id, None)
        return delivery

    def store_delivery(self, store: Store, ref: str) -> SupplierDelivery | None:
        """By ``id`` (``"364"``) or ``deliveryId`` (``"957-1"``), both accepted by the API."""
        text = ref.strip()
        for delivery in self.supplier_deliveries.values():
            if text in (str(delivery.id), delivery.number) and self.delivery_visible(
                store, delivery
            ):
                return delivery
        return None

    def delivery_visible(self, store: Store, delivery: SupplierDelivery) -> bool:
        order = self.supplier_orders[delivery.order_id]
        return order.confirmed and order.warehouse_id == store.supplier_delivery_warehouse_id

    def accept_delivery(
        self, store: Store, ref: str, received: dict[int, int], *, insert_stock: bool
    ) -> SupplierDelivery | None:
        """Accept once; an under-delivery creates and returns an additional delivery."""
        delivery = self.store_delivery(store, ref)
        if delivery is None:
            raise Refusal("delivery does not exist")  # [I]
        if delivery.accepted_at is not None:
            raise Refusal("delivery is already accepted")  # [I]
        unknown = [size_id for size_id in received if size_id not in delivery.quantities]
        if unknown:
            # [I] Over-delivery of an announced item is allowed; an unannounced item is not.
            raise Refusal("products are not part of the delivery")
        order = self.supplier_orders[delivery.order_id]
        delivery.accepted_at = self.now()
        delivery.accepted = {k: v for k, v in received.items() if v > 0}
        if insert_stock:
            for size_id, qty in delivery.accepted.items():
                level = self.stock_level(order.warehouse_id, size_id)
                level.physical += qty
                level.modified_at = delivery.accepted_at
            change = self.add_stock_change(
                order.warehouse_id,
                f"Supplier delivery {delivery.number}",
                "SUPPLIER_DELIVERY",
                [
                    StockChangeLine(id=0, size_id=size_id, delivered=qty)
                    for size_id, qty in delivery.accepted.items()
                ],
            )
            delivery.stock_change_id = None if change is None else change.id
        remainder = {
            size_id: qty - received.get(size_id, 0)
            for size_id, qty in delivery.quantities.items()
            if qty - received.get(size_id, 0) > 0
        }
        additional = self._new_delivery(order, remainder, delivery.eta) if remainder else None
        self.record(
            "supplier_acceptances",
            store.uri,
            delivery=delivery.number,
            deliveryId=delivery.id,
            received={str(k): v for k, v in delivery.accepted.items()},
            insertStock=insert_stock,
            additionalDelivery=additional.number if additional else None,
        )
        self.emit("purchase_order_delivery", "update", delivery.id, None, change="COMPLETED")
        done = all(self._received(order, line.size_id) >= line.qty for line in order.lines)
        self.emit("purchase_order", "update", order.id, None, change="COMPLETED" if done else None)
        return additional
