"""Placing and cancelling orders: what checkout and the merchant's staff do in Centra."""

from __future__ import annotations

from centrasync.errors import RecordValidationError

from .model import Address, Order, OrderLine, OrderStatus
from .specs import AddressSpec, OrderSpec
from .state import WorldState

__all__ = ["OrderOps"]

_SHIPWALLET_KEYS = ("method", "pickup", "deliverytime", "doorcode", "courier_instructions", "id")


def _address(spec: AddressSpec) -> Address:
    return Address(**spec.model_dump())


class OrderOps(WorldState):
    """Order lifecycle outside the Order API."""

    def place_order(self, spec: OrderSpec) -> Order:
        """Create a confirmed order and allocate its lines in the store's primary warehouse.

        Refuses (naming the line and field) when a size is unknown or its free-to-allocate
        stock is short, so a test never builds an order Centra could not have accepted.
        """
        store = self.store(spec.store)
        number = self._next["order"]
        record = f"order {number}"
        unknown = set(spec.shipwallet) - set(_SHIPWALLET_KEYS)
        if unknown:
            raise RecordValidationError(
                f"unknown Ingrid keys {sorted(unknown)}", record=record, field="shipwallet"
            )
        lines: list[OrderLine] = []
        wanted: dict[int, int] = {}
        for index, line_spec in enumerate(spec.lines):
            line_record = f"{record} line {index + 1}"
            if line_spec.size_id is not None:
                ref = self.sizes.get(line_spec.size_id)
                if ref is None:
                    raise RecordValidationError(
                        f"no size has id {line_spec.size_id}", record=line_record, field="size_id"
                    )
            elif line_spec.ean is not None:
                ref = self.size_by_ean(line_spec.ean, record=line_record)
            else:
                raise RecordValidationError("give ean or size_id", record=line_record, field="ean")
            if ref.product.is_bundle:
                raise RecordValidationError(
                    "bundles cannot be ordered in the emulator", record=line_record, field="ean"
                )
            wanted[ref.size.id] = wanted.get(ref.size.id, 0) + line_spec.qty
            level = self.stock_level(store.primary_warehouse_id, ref.size.id)
            if level.physical - level.allocated < wanted[ref.size.id]:
                raise RecordValidationError(
                    f"only {level.physical - level.allocated} free to allocate of "
                    f"{ref.physical_sku} in warehouse {store.primary_warehouse_id}",
                    record=line_record,
                    field="qty",
                )
            list_price = ref.product.prices.get(store.currency, 0.0)
            lines.append(
                OrderLine(
                    id=0,
                    size_id=ref.size.id,
                    qty=line_spec.qty,
                    price=list_price if line_spec.price is None else line_spec.price,
                    original_price=list_price,
                    warehouse_id=store.primary_warehouse_id,
                    comment=line_spec.comment,
                )
            )
        created = spec.created_at or self.now()
        if created.tzinfo is None:
            raise RecordValidationError("must be timezone-aware", record=record, field="created_at")
        self.new_id("order")
        for line in lines:
            line.id = self.new_id("line")
            self._allocate(line.warehouse_id, line.size_id, line.qty)
        billing = _address(spec.billing)
        plugin = spec.payment_plugin if spec.account_id == 0 else "invoice"
        order = Order(
            number=number,
            store_uri=store.uri,
            selection_id=self.selection_id(number),
            created_at=created,
            modified_at=created,
            customer_id=spec.customer_id,
            account_id=spec.account_id,
            account_name=spec.account_name,
            currency=store.currency,
            billing=billing,
            delivery=billing if spec.delivery is None else _address(spec.delivery),
            lines=lines,
            shipping_list=spec.shipping_list,
            shipping_value=spec.shipping_value,
            handling_value=spec.handling_value,
            voucher_value=spec.voucher_value,
            payment_plugin=plugin,
            payment_type="cc" if spec.account_id == 0 else "inv",
            payment_reference=self.payment_reference(number),
            payment_method=plugin.split("_", 1)[0],
            other_comment=spec.other_comment,
            po_number=spec.po_number,
            shipwallet={f"shipwallet_{k}": v for k, v in spec.shipwallet.items()},
        )
        self.orders[number] = order
        self.emit("order", "create", number, store.uri)
        return order

    def _allocate(self, warehouse_id: int, size_id: int, qty: int) -> None:
        """Move allocated stock; the row's available figure changes, so its stock time does.

        [I] Centra's ``stock_modified`` filter is documented as "stock changed after"; an
        allocation changes ``allocatedStock`` and ``availableStock`` of the row.
        """
        level = self.stock_level(warehouse_id, size_id)
        level.allocated += qty
        level.modified_at = self.now()

    def cancel_order(self, number: int) -> Order:
        """Cancel what is not shipped: unshipped shipments go, allocations are released."""
        order = self.order(number)
        if order.status is OrderStatus.CANCELLED:
            return order
        for shipment in self.live_shipments(order):
            if not shipment.shipped:
                shipment.cancelled = True
                self.emit("shipment", "update", shipment.id, order.store_uri)
        for line in order.lines:
            remaining = self.unshipped(order, line)
            if remaining > 0:
                line.cancelled_qty += remaining
                self._allocate(line.warehouse_id, line.size_id, -remaining)
        if any(s.shipped for s in self.live_shipments(order)):
            self.refresh_status(order)
        else:
            order.status = OrderStatus.CANCELLED
            order.modified_at = self.now()
        # [I] The webhook docs list no cancel action; a cancellation is an order "update".
        self.emit("order", "update", number, order.store_uri)
        return order

    def update_order(
        self,
        number: int,
        *,
        delivery: AddressSpec | None = None,
        other_comment: str | None = None,
        internal_comment: str | None = None,
        hold: bool | None = None,
    ) -> Order:
        """Staff edit an order in the admin: Centra announces it as an order "update"."""
        order = self.order(number)
        if delivery is not None:
            order.delivery = _address(delivery)
        if other_comment is not None:
            order.other_comment = other_comment
        if internal_comment is not None:
            order.internal_comment = internal_comment
        if hold is not None:
            order.hold = hold
        order.modified_at = self.now()
        self.emit("order", "update", number, order.store_uri)
        return order

    def set_order_capture_declines(self, number: int, declines: bool) -> Order:
        order = self.order(number)
        order.capture_declines = declines
        return order
