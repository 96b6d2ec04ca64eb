"""Placing and cancelling orders: what checkout and the merchant's staff do in Centra."""

from __future__ import annotations

from typing import Any

from centrasync.errors import RecordValidationError

from .allocation import AllocationOps
from .model import Address, AllocationPolicy, Order, OrderLine, OrderStatus, SizeRef, Store, Terms
from .specs import AddressSpec, OrderLineSpec, OrderSpec, TermsSpec
from .state import Refusal

__all__ = ["OrderOps"]

_SHIPWALLET_KEYS = ("method", "pickup", "deliverytime", "doorcode", "courier_instructions", "id")


def _address(spec: AddressSpec) -> Address:
    return Address(**spec.model_dump())


def _appended(current: str, text: str, replace: bool) -> str:
    """[I] Appended text goes on a line of its own."""
    if replace or not current:
        return text
    return f"{current}\n{text}"


def _terms(spec: TermsSpec | None) -> Terms | None:
    return None if spec is None else Terms(**spec.model_dump())


class OrderOps(AllocationOps):
    """Order lifecycle outside the Order API."""

    def place_order(self, spec: OrderSpec) -> Order:
        """Create a confirmed order and allocate its lines in the store's primary warehouse.

        Refuses (naming the line and field) when a size is unknown or its free-to-allocate
        stock is short, so a test never builds an order Centra could not have accepted. A
        bundle becomes its own line plus one line per item, which alone are allocated. An
        order for ``ship_from`` warehouses goes to them first (:meth:`start_fulfilment`); a
        ``create_only`` order waits, unallocated, for :meth:`complete_order`.
        """
        store = self.store(spec.store)
        number = self._next["order"] if spec.number is None else spec.number
        record = f"order {number}"
        if number in self.orders:
            raise RecordValidationError("the order number exists", record=record, field="number")
        unknown = set(spec.shipwallet) - set(_SHIPWALLET_KEYS)
        if unknown:
            raise RecordValidationError(
                f"unknown Ingrid keys {sorted(unknown)}", record=record, field="shipwallet"
            )
        policy = self._ship_from_policy(spec.ship_from, record)
        lines: list[OrderLine] = []
        wanted: dict[int, int] = {}
        for index, line_spec in enumerate(spec.lines):
            line_record = f"{record} line {index + 1}"
            drafted = self._draft_lines(store, line_spec, line_record)
            for line in drafted:
                if line.is_bundle:
                    continue
                wanted[line.size_id] = wanted.get(line.size_id, 0) + line.qty
                if policy == "direct":
                    self._check_free(store.primary_warehouse_id, line.size_id, wanted, line_record)
            lines.extend(drafted)
        if policy == "direct_then_confirm" and not any(
            self._free(w, wanted) for w in [*spec.ship_from, store.primary_warehouse_id]
        ):
            raise RecordValidationError(
                "no warehouse has the goods free to allocate", record=record, field="ship_from"
            )
        for name in ("created_at", "delivery_date", "cancel_date"):
            moment = getattr(spec, name)
            if moment is not None and moment.tzinfo is None:
                raise RecordValidationError("must be timezone-aware", record=record, field=name)
        self._next["order"] = max(self._next["order"], number + 1)
        bundle_line_id = 0
        for line in lines:
            line.id = self.new_id("line")
            if line.is_bundle:
                bundle_line_id = line.id
            elif line.bundle_line_id is not None:
                line.bundle_line_id = bundle_line_id
        created = spec.created_at or self.now()
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
            status=(
                OrderStatus.INCOMPLETE
                if spec.create_only
                else OrderStatus.PENDING
                if spec.pending
                else OrderStatus.CONFIRMED
            ),
            shipping_list=spec.shipping_list,
            shipping_value=spec.shipping_value,
            handling_value=spec.handling_value,
            voucher_value=spec.voucher_value,
            payment_plugin=plugin,
            payment_type="cc" if spec.account_id == 0 else "inv",
            payment_reference=(
                self.payment_reference(number)
                if spec.payment_reference is None
                else spec.payment_reference
            ),
            payment_method=(
                plugin.split("_", 1)[0] if spec.payment_method is None else spec.payment_method
            ),
            other_comment=spec.other_comment,
            internal_comment=spec.internal_comment,
            po_number=spec.po_number,
            shipping_terms=_terms(spec.shipping_terms),
            payment_terms=_terms(spec.payment_terms),
            shipwallet={f"shipwallet_{k}": v for k, v in spec.shipwallet.items()},
            allocated=False,
            internal=spec.internal_order,
            paid_elsewhere=spec.paid_elsewhere,
            delivery_date=spec.delivery_date,
            cancel_date=spec.cancel_date,
        )
        self.orders[number] = order
        if not spec.create_only:
            self.start_fulfilment(order, spec.ship_from)
        return order

    def _ship_from_policy(self, warehouses: list[int], record: str) -> AllocationPolicy:
        """The one policy of the ship-from warehouses ("direct" without any)."""
        policies = set()
        for warehouse_id in warehouses:
            if warehouse_id not in self.warehouses:
                raise RecordValidationError(
                    f"warehouse {warehouse_id} does not exist", record=record, field="ship_from"
                )
            policies.add(self.warehouses[warehouse_id].allocation_policy)
        if not policies:
            return "direct"
        if len(policies) > 1 or "direct" in policies:
            raise RecordValidationError(
                "ship-from warehouses must all be check_first or all direct_then_confirm",
                record=record,
                field="ship_from",
            )
        (policy,) = policies
        return policy

    def _free(self, warehouse_id: int, wanted: dict[int, int]) -> bool:
        return all(
            (level := self.stock.get((warehouse_id, size_id))) is not None
            and level.physical - level.allocated >= qty
            for size_id, qty in wanted.items()
        )

    def complete_order(self, order: Order) -> Order:
        """Finalise a ``create_only`` order: allocate it now, as Complete Order does.

        [I] Centra may back-order what is short by then; the emulator refuses instead.
        """
        if order.status is not OrderStatus.INCOMPLETE:
            return order
        primary = self.stores[order.store_uri].primary_warehouse_id
        if not self.can_allocate(order, primary):
            raise Refusal("stock error: products are out of stock", order=order.number)  # [I]
        order.status = OrderStatus.CONFIRMED
        order.modified_at = self.now()
        self.start_fulfilment(order, [])
        return order

    def _size_of(self, line: OrderLineSpec, record: str) -> SizeRef:
        if line.size_id is not None:
            ref = self.sizes.get(line.size_id)
            if ref is None:
                raise RecordValidationError(
                    f"no size has id {line.size_id}", record=record, field="size_id"
                )
            return ref
        if line.ean is not None:
            return self.size_by_ean(line.ean, record=record)
        raise RecordValidationError("give ean or size_id", record=record, field="ean")

    def _draft_lines(self, store: Store, spec: OrderLineSpec, record: str) -> list[OrderLine]:
        """The order line(s) one ordered row becomes, ids still unset.

        A bundle is its line followed by its items' lines (``bundle_line_id`` marks them);
        the bundle's price is split over the items in proportion to their list prices, as
        Centra's bundle modes document it.
        """
        ref = self._size_of(spec, record)
        list_price = ref.product.prices.get(store.currency, 0.0)
        price = list_price if spec.price is None else spec.price
        head = OrderLine(
            id=0,
            size_id=ref.size.id,
            qty=spec.qty,
            price=price,
            original_price=list_price if spec.original_price is None else spec.original_price,
            warehouse_id=store.primary_warehouse_id,
            comment=spec.comment,
            is_bundle=ref.product.is_bundle,
        )
        if not ref.product.is_bundle:
            return [head]
        items = [(self.sizes[size_id], per) for size_id, per in ref.product.bundle_items]
        if not items:
            raise RecordValidationError("the bundle has no items", record=record, field="ean")
        weights = [item.product.prices.get(store.currency, 0.0) * per for item, per in items]
        total = sum(weights)
        shares = [w / total for w in weights] if total else [1 / len(items)] * len(items)
        return [head] + [
            OrderLine(
                id=0,
                size_id=item.size.id,
                qty=spec.qty * per,
                price=round(price * share / per, 2),
                original_price=item.product.prices.get(store.currency, 0.0),
                warehouse_id=store.primary_warehouse_id,
                bundle_line_id=0,
            )
            for (item, per), share in zip(items, shares, strict=True)
        ]

    def _check_free(
        self, warehouse_id: int, size_id: int, wanted: dict[int, int], record: str
    ) -> None:
        level = self.stock_level(warehouse_id, size_id)
        if level.physical - level.allocated < wanted[size_id]:
            raise RecordValidationError(
                f"only {level.physical - level.allocated} free to allocate of "
                f"{self.sizes[size_id].physical_sku} in warehouse {warehouse_id}",
                record=record,
                field="qty",
            )

    def cancel_order(self, number: int) -> Order:
        """Cancel what is not shipped: unshipped shipments go, allocations are released."""
        order = self.order(number)
        if order.status is OrderStatus.CANCELLED:
            return order
        self.close_allocation(order)
        for shipment in self.live_shipments(order):
            if not shipment.shipped:
                shipment.cancelled = True
                self.emit("shipment", "update", shipment.id, order.store_uri)
        for line in self.physical_lines(order):
            remaining = self.unshipped(order, line)
            if remaining > 0:
                if order.allocated:
                    self.move_allocation(line.warehouse_id, line.size_id, -remaining)
                line.cancelled_qty += remaining
        for bundle in order.lines:
            if bundle.is_bundle:
                # [I] A bundle stays ordered as far as its items all still are.
                kept = min(
                    (item.qty - item.cancelled_qty) // per
                    for item, per in self.bundle_items(order, bundle)
                )
                bundle.cancelled_qty = bundle.qty - kept
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

    def edit_order(
        self,
        store: Store,
        number: int,
        *,
        internal_comment: str | None,
        replace_internal_comment: bool,
        comment: str | None,
        replace_comment: bool,
        extra_attributes: dict[str, Any],
    ) -> Order:
        """``PUT /orders``: append to (or replace) the comments, set custom attributes.

        An attribute sent as ``""`` is removed, as the docs say.
        """
        order = self.orders.get(number)
        if order is None:
            raise Refusal("order does not exist", order=number)  # [I]
        if order.store_uri != store.uri:
            # Each plugin instance here sells in its own market.
            raise Refusal("order in wrong market", order=number)
        if internal_comment is not None:
            order.internal_comment = _appended(
                order.internal_comment, internal_comment, replace_internal_comment
            )
        if comment is not None:
            order.other_comment = _appended(order.other_comment, comment, replace_comment)
        for key, value in extra_attributes.items():
            if value == "":
                order.extra_attributes.pop(key, None)
            else:
                order.extra_attributes[key] = value
        order.modified_at = self.now()
        self.record(
            "order_updates",
            store.uri,
            order=number,
            internalComment=internal_comment,
            replaceInternalComment=replace_internal_comment,
            comment=comment,
            replaceComment=replace_comment,
            extraAttributes=dict(extra_attributes),
        )
        self.emit("order", "update", number, store.uri)
        return order

    def confirm_order(self, number: int) -> bool:
        """Move a pending order to Confirmed; False when there was nothing to confirm."""
        order = self.orders.get(number)
        if order is None or order.status is OrderStatus.INCOMPLETE:
            raise Refusal("order does not exist", order=number)  # [I]
        if order.status is OrderStatus.CANCELLED:
            raise Refusal("order is cancelled", order=number)  # [I]
        if order.status is not OrderStatus.PENDING:
            return False
        order.status = OrderStatus.CONFIRMED
        order.modified_at = self.now()
        self.emit("order", "update", number, order.store_uri)
        return True

    def set_order_capture_declines(self, number: int, declines: bool) -> Order:
        order = self.order(number)
        order.capture_declines = declines
        return order
