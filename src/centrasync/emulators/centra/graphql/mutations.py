"""The Mutation type: every mutation answers a payload with ``userErrors`` / ``userWarnings``.

A mutation whose ``userErrors`` is not empty has failed and changed nothing; warnings are
reported beside a success. The rules are the world's (the Order API's), with the
Integration API's documented differences: a failed capture inside ``createShipment`` is a
warning and the shipment stays uncaptured, while ``captureShipment`` fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ariadne import MutationType
from graphql import GraphQLError

from centrasync.emulators.centra.catalogue import StockMove
from centrasync.emulators.centra.fulfilment import Completion, ReturnCosts, ShippingInfo
from centrasync.emulators.centra.model import Order, Shipment, SizeRef, Store
from centrasync.emulators.centra.state import Refusal

from .context import Context, Info, context_of
from .nodes import Money, OrderNode, ReturnNode, ShipmentNode, StockChangeNode
from .queries import (
    EventNode,
    conversion_view,
    find_order,
    integration_of,
    listener_view,
    visible_shipment,
)

__all__ = ["bindables"]

mutation = MutationType()
Input = dict[str, Any]
Path = Sequence[str | int]


class UserError(Exception):
    """Fails the mutation: answered as one ``userErrors`` entry, nothing changed."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.message = message
        self.path = [str(part) for part in path]


class Outcome:
    """A payload being built: the objects it names and the warnings so far."""

    def __init__(self) -> None:
        self.warnings: list[dict[str, Any]] = []

    def warn(self, message: str, path: Path) -> None:
        self.warnings.append({"message": message, "path": [str(p) for p in path]})

    def payload(self, **fields: Any) -> dict[str, Any]:
        return {**fields, "user_errors": [], "user_warnings": self.warnings}


def _failed(error: UserError, **empty: Any) -> dict[str, Any]:
    return {
        **empty,
        "user_errors": [{"message": error.message, "path": error.path}],
        "user_warnings": [],
    }


def _refused(refusal: Refusal, path: Path) -> UserError:
    return UserError(str(refusal.msg), path)


def _one_of(spec: Input | None, path: Path) -> tuple[str, Any]:
    given = [(k, v) for k, v in (spec or {}).items() if v is not None]
    if len(given) != 1:
        raise UserError("Exactly one input field should be provided", path)
    return given[0]


def _moment(ctx: Context, value: Any) -> datetime | None:
    return None if value is None else ctx.moment(value)


def _not_future(ctx: Context, moment: datetime | None, path: Path) -> None:
    if moment is not None and moment > ctx.now():
        raise UserError("The date can not be in the future", path)  # [I] message


def _remember(
    ctx: Context, outcome: Outcome, object_type: str, internal_id: int, external: str | None
) -> None:
    """``externalId``: an ID conversion for the token's integration."""
    if external is None:
        return
    if ctx.token.integration_name is None:
        outcome.warn("externalId needs a token with an integration name", ["input", "externalId"])
        return
    ctx.conversions.set(ctx.token.integration_name, object_type, internal_id, external)


def _store_of(ctx: Context, order: Order) -> Store:
    return ctx.world.stores[order.store_uri]


def _order(ctx: Context, spec: Input, path: Path) -> Order:
    how, value = _one_of(spec, path)
    order = find_order(ctx, value if how == "number" else None, value if how == "id" else None)
    if order is None:
        raise UserError("Order not found", path)  # [I] message
    return order


def _shipment(ctx: Context, shipment_id: int, path: Path) -> tuple[Shipment, Store]:
    shipment = visible_shipment(ctx, shipment_id)
    if shipment is None:
        raise UserError("Shipment not found", path)  # [I] message
    return shipment, _store_of(ctx, ctx.world.orders[shipment.order_number])


def _info(spec: Input | None) -> ShippingInfo | None:
    if spec is None:
        return None
    return ShippingInfo(
        carrier=spec.get("carrier"),
        service=spec.get("service"),
        packages=spec.get("packages_number"),
        tracking=spec.get("tracking_number"),
        return_slip_tracking=spec.get("return_tracking_number"),
    )


def _completion(spec: Input, shipped_at: datetime | None) -> Completion:
    info = _info(spec.get("shipment_info")) or ShippingInfo()
    return Completion(
        carrier=info.carrier or "",
        service=info.service or "",
        packages=info.packages or 0,
        tracking=info.tracking or "",
        return_slip_tracking=info.return_slip_tracking or "",
        send_email=spec.get("send_email"),
        shipped_at=shipped_at,
    )


# -- shipments -------------------------------------------------------------------------------


@mutation.field("createShipment")
def create_shipment(_: Any, info: Info, input: Input) -> dict[str, Any]:
    ctx = context_of(info)
    outcome = Outcome()
    try:
        order = _order(ctx, input["order"], ["input", "order"])
        store = _store_of(ctx, order)
        if input.get("lines") is None:
            products = {
                ln.id: ctx.world.unshipped(order, ln) for ln in ctx.world.physical_lines(order)
            }
        else:
            products = {}
            for index, line in enumerate(input["lines"]):
                line_id = line["order_line"]["id"]
                products[line_id] = products.get(line_id, 0) + line["quantity"]
                if line["quantity"] <= 0:
                    raise UserError(
                        "Quantity must be positive", ["input", "lines", index, "quantity"]
                    )
        shipped_at = _moment(ctx, input.get("shipped_at"))
        _not_future(ctx, shipped_at, ["input", "shippedAt"])
        capture = bool(input.get("capture"))
        try:
            shipment = ctx.world.create_shipment(
                store,
                order.number,
                products,
                gtg=bool(input.get("is_good_to_go")),
                capture=False,
                completion=None if shipped_at is None else _completion(input, shipped_at),
                via="integration_api",
                paid=bool(input.get("is_paid")) and not capture,
                created_at=_moment(ctx, input.get("created_at")),
                additional_message=input.get("additional_message") or "",
            )
        except Refusal as refusal:
            raise _refused(refusal, ["input"]) from None
    except UserError as error:
        return _failed(error, shipment=None)
    if capture:
        try:
            ctx.world.capture(store, shipment.number)
        except Refusal:
            # Documented: creation goes on, the capture failure is only a warning.
            outcome.warn("Capture failed: the payment provider declined it", ["input", "capture"])
    _remember(ctx, outcome, "Shipment", shipment.id, input.get("external_id"))
    return outcome.payload(shipment=ShipmentNode(ctx, shipment))


@mutation.field("updateShipment")
def update_shipment(_: Any, info: Info, id: int, input: Input) -> dict[str, Any]:
    ctx = context_of(info)
    outcome = Outcome()
    try:
        shipment, store = _shipment(ctx, id, ["id"])
        try:
            ctx.world.amend_shipment(
                store,
                shipment.id,
                info=_info(input.get("shipment_info")),
                additional_message=input.get("additional_message"),
                gtg=input.get("is_good_to_go"),
                paid=input.get("is_paid"),
            )
        except Refusal as refusal:
            raise _refused(refusal, ["input"]) from None
    except UserError as error:
        return _failed(error, shipment=None)
    _remember(ctx, outcome, "Shipment", shipment.id, input.get("external_id"))
    return outcome.payload(shipment=ShipmentNode(ctx, shipment))


@mutation.field("captureShipment")
def capture_shipment(_: Any, info: Info, id: int) -> dict[str, Any]:
    ctx = context_of(info)
    outcome = Outcome()
    try:
        shipment, store = _shipment(ctx, id, ["id"])
    except UserError as error:
        return _failed(error, shipment=None, payment_history_entry=None, payment_history_entries=[])
    order = ctx.world.orders[shipment.order_number]
    if shipment.captured or shipment.paid:
        outcome.warn("The shipment is already paid", ["id"])  # [I] message
        return outcome.payload(
            shipment=ShipmentNode(ctx, shipment),
            payment_history_entry=None,
            payment_history_entries=[],
        )
    node = ShipmentNode(ctx, shipment)
    try:
        ctx.world.capture(store, shipment.number)
    except Refusal:
        entry = _payment(ctx, order, node, "FAILED")
        return {
            "shipment": node,
            "payment_history_entry": entry,
            "payment_history_entries": [entry],
            "user_errors": [{"message": "Capture failed", "path": ["id"]}],  # [I] message
            "user_warnings": [],
        }
    entry = _payment(ctx, order, node, "SUCCESS")
    return outcome.payload(
        shipment=node, payment_history_entry=entry, payment_history_entries=[entry]
    )


def _payment(ctx: Context, order: Order, node: ShipmentNode, status: str) -> dict[str, Any]:
    value = node.total()
    return {
        "id": next(ctx.payment_ids),
        "created_at": ctx.now(),
        "status": status,
        "entry_type": "CAPTURE",
        "external_reference": order.payment_reference,
        "value": Money(value.value, value.code),
        "payment_method": order.payment_plugin,
        "params_json": "{}",
    }


@mutation.field("completeShipment")
def complete_shipment(_: Any, info: Info, id: int, input: Input) -> dict[str, Any]:
    ctx = context_of(info)
    outcome = Outcome()
    try:
        shipment, store = _shipment(ctx, id, ["id"])
        shipped_at = _moment(ctx, input.get("shipped_at"))
        _not_future(ctx, shipped_at, ["input", "shippedAt"])
        if input.get("additional_message") is not None:
            shipment.additional_message = input["additional_message"]
        try:
            ctx.world.complete(
                store,
                shipment.order_number,
                shipment.number,
                _completion(input, shipped_at),
                capture=False,
            )
        except Refusal as refusal:
            raise _refused(refusal, ["id"]) from None
    except UserError as error:
        return _failed(error, shipment=None)
    return outcome.payload(shipment=ShipmentNode(ctx, shipment))


@mutation.field("deleteShipment")
def delete_shipment(_: Any, info: Info, id: int) -> dict[str, Any]:
    ctx = context_of(info)
    try:
        shipment, store = _shipment(ctx, id, ["id"])
        try:
            ctx.world.delete_shipment(store, shipment.number)
        except Refusal as refusal:
            raise _refused(refusal, ["id"]) from None
    except UserError as error:
        return _failed(error)
    return Outcome().payload()


# -- returns ---------------------------------------------------------------------------------


def _cost(spec: Input | None, path: Path) -> tuple[float, bool]:
    if spec is None:
        return 0.0, False
    how, value = _one_of(spec, path)
    if how == "from_shipment":
        return 0.0, bool(value)
    return float(value["value"]), False


@mutation.field("createReturn")
def create_return(_: Any, info: Info, input: Input) -> dict[str, Any]:
    ctx = context_of(info)
    outcome = Outcome()
    try:
        _, shipment_id = _one_of(input["shipment"], ["input", "shipment"])
        shipment, store = _shipment(ctx, shipment_id, ["input", "shipment"])
        by_line = {sl.id: sl for sl in shipment.lines}
        products: dict[int, int] = {}
        for index, line in enumerate(input["lines"]):
            sl = by_line.get(line["shipment_line"]["id"])
            if sl is None:
                raise UserError(
                    "The shipment line is not on the shipment",
                    ["input", "lines", index, "shipmentLine"],
                )
            products[sl.order_line_id] = products.get(sl.order_line_id, 0) + line["quantity"]
        policy, value = _one_of(
            input["return_stock_action_policy"], ["input", "returnStockActionPolicy"]
        )
        restock_into = None
        if policy == "send_items_to_different_warehouse":
            restock_into = value.get("id")
            if restock_into not in ctx.world.warehouses:
                raise UserError(
                    "Warehouse not found",
                    ["input", "returnStockActionPolicy", "sendItemsToDifferentWarehouse"],
                )
        shipping, shipping_left = _cost(input.get("shipping_cost"), ["input", "shippingCost"])
        handling, handling_left = _cost(input.get("handling_cost"), ["input", "handlingCost"])
        voucher, voucher_left = _cost(input.get("voucher_value"), ["input", "voucherValue"])
        return_cost = input.get("return_cost")
        costs = ReturnCosts(
            return_cost=0.0 if return_cost is None else float(return_cost["value"]),
            shipping=shipping,
            shipping_from_shipment=shipping_left,
            handling=handling,
            handling_from_shipment=handling_left,
            voucher=voucher,
            voucher_from_shipment=voucher_left,
        )
        try:
            record, returned = ctx.world.create_return(
                store,
                shipment.number,
                products,
                return_stock=policy != "remove_items_from_stock",
                comment=input.get("comment"),
                created_at=_moment(ctx, input.get("created_at")),
                refund=False,
                costs=costs,
                restock_warehouse_id=restock_into,
            )
        except Refusal as refusal:
            raise _refused(refusal, ["input"]) from None
    except UserError as error:
        return _failed(error, **{"return": None})
    for index, line in enumerate(input["lines"]):
        if by_line[line["shipment_line"]["id"]].order_line_id not in returned:
            outcome.warn(
                "The line could not be returned: more than was shipped and not yet returned",
                ["input", "lines", index],
            )  # [I] message
    _remember(ctx, outcome, "Return", record.id, input.get("external_id"))
    return outcome.payload(**{"return": ReturnNode(ctx, record)})


@mutation.field("completeReturn")
def complete_return(_: Any, info: Info, id: int, input: Input | None = None) -> dict[str, Any]:
    ctx = context_of(info)
    record = ctx.world.returns.get(id)
    order = (
        None
        if record is None
        else ctx.world.orders[ctx.world.shipments[record.shipment_id].order_number]
    )
    if record is None or order is None or not ctx.sees(order.store_uri):
        return _failed(UserError("Return not found", ["id"]), **{"return": None})
    ctx.world.update_return(_store_of(ctx, order), id, completed=True, refund=False)
    return Outcome().payload(**{"return": ReturnNode(ctx, record)})


# -- stock -----------------------------------------------------------------------------------


def _warehouse(ctx: Context, spec: Input | None, path: Path) -> int:
    _, warehouse_id = _one_of(spec, path)
    if warehouse_id not in ctx.world.warehouses:
        raise UserError("Warehouse not found", path)
    return int(warehouse_id)


def _goods(ref: SizeRef | None, path: Path) -> SizeRef:
    if ref is None:
        raise UserError("Product size not found", path)
    if ref.product.is_bundle:
        raise UserError("A bundle has no stock of its own", path)
    return ref


def _size_in_variant(ctx: Context, variant_id: int, spec: Input, path: Path) -> SizeRef:
    how, value = _one_of(spec, path)
    for ref in ctx.world.sizes.values():
        if ref.variant.id == variant_id and (
            (how == "id" and ref.size.id == value) or (how == "name" and ref.size.name == value)
        ):
            return _goods(ref, path)
    raise UserError("Size not found in the product variant", path)


def _product_size(ctx: Context, spec: Input, path: Path) -> SizeRef:
    how, value = _one_of(spec, path)
    if how == "id":
        return _goods(ctx.world.sizes.get(value), path)
    for ref in ctx.world.sizes.values():
        keys = {"sku": [ref.physical_sku], "ean": [ref.size.ean], "upc": [ref.size.upc]}
        keys["any"] = [*keys["sku"], *keys["ean"], *keys["upc"]]
        if value and value in keys[how]:
            return _goods(ref, path)
    return _goods(None, path)


def _unit_cost(spec: Input | None) -> tuple[float | None, str | None]:
    if spec is None:
        return None, None
    return float(spec["value"]), str(spec["currency_iso_code"])


def _moves(ctx: Context, input: Input, quantity_key: str, outcome: Outcome) -> list[StockMove]:
    """The sizes and quantities of a stock input; a size named twice counts once (warned)."""
    moves: dict[int, StockMove] = {}

    def add(ref: SizeRef, quantity: int, cost: Input | None, path: Path) -> None:
        if quantity < 0:
            raise UserError("Stock value must be greater or equal to 0", path)
        if ref.size.id in moves:
            outcome.warn("Duplicate product size skipped", path)
            return
        unit_cost, currency = _unit_cost(cost)
        moves[ref.size.id] = StockMove(ref.size.id, quantity, unit_cost, currency)

    sizes_key = "size_stock_levels" if quantity_key == "quantity" else "size_changes"
    for v_index, variant in enumerate(input.get("product_variants") or []):
        base: list[str | int] = ["input", "productVariants", v_index]
        _, variant_id = _one_of(variant["product_variant"], [*base, "productVariant"])
        for s_index, size in enumerate(variant[sizes_key]):
            path = [*base, sizes_key, s_index]
            ref = _size_in_variant(ctx, variant_id, size["size"], [*path, "size"])
            add(ref, size[quantity_key], variant.get("unit_cost"), path)
    for index, row in enumerate(input.get("product_sizes") or []):
        path = ["input", "productSizes", index]
        ref = _product_size(ctx, row["product_size"], [*path, "productSize"])
        add(ref, row[quantity_key], row.get("unit_cost"), path)
    return list(moves.values())


@mutation.field("setStock")
def set_stock(_: Any, info: Info, input: Input) -> dict[str, Any]:
    ctx = context_of(info)
    outcome = Outcome()
    try:
        warehouse_id = _warehouse(ctx, input["warehouse"], ["input", "warehouse"])
        moves = _moves(ctx, input, "quantity", outcome)
    except UserError as error:
        return _failed(error, stock_changes=[])
    change, clamped = ctx.world.set_stock_levels(
        warehouse_id,
        moves,
        input["description"],
        free_to_allocate=input["stock_quantity_type"] == "FREE_TO_ALLOCATE",
    )
    for size_id in clamped:
        outcome.warn(
            f"Stock of product size {size_id} was raised to what orders have allocated",
            ["input"],
        )  # [I] message
    changes = [] if change is None else [StockChangeNode(ctx, change)]
    return outcome.payload(stock_changes=changes)


@mutation.field("changeStock")
def change_stock(_: Any, info: Info, input: Input) -> dict[str, Any]:
    ctx = context_of(info)
    outcome = Outcome()
    try:
        into = out = None
        if input.get("into_warehouse") is not None:
            into = _warehouse(ctx, input["into_warehouse"], ["input", "intoWarehouse"])
        if input.get("out_from_warehouse") is not None:
            out = _warehouse(ctx, input["out_from_warehouse"], ["input", "outFromWarehouse"])
        if into is None and out is None:
            raise UserError("Provide intoWarehouse, outFromWarehouse or both", ["input"])
        moves = _moves(ctx, input, "delivered_quantity", outcome)
        try:
            made = ctx.world.change_stock(into, out, moves, input["description"])
        except Refusal as refusal:
            raise _refused(refusal, ["input"]) from None
    except UserError as error:
        return _failed(error, stock_change=None)
    return outcome.payload(stock_change=StockChangeNode(ctx, made[-1]) if made else None)


# -- orders ----------------------------------------------------------------------------------


@mutation.field("confirmOrder")
def confirm_order(_: Any, info: Info, input: Input) -> dict[str, Any]:
    ctx = context_of(info)
    outcome = Outcome()
    try:
        order = _order(ctx, input["order"], ["input", "order"])
        try:
            if not ctx.world.confirm_order(order.number):
                outcome.warn("The order is already confirmed", ["input", "order"])  # [I]
        except Refusal as refusal:
            raise _refused(refusal, ["input", "order"]) from None
    except UserError as error:
        return _failed(error, order=None)
    return outcome.payload(order=OrderNode(ctx, order))


# -- events and ID conversion ----------------------------------------------------------------


def _integration(ctx: Context) -> str:
    try:
        return integration_of(ctx)
    except GraphQLError as error:
        raise UserError(error.message, ["input"]) from None


def _listener_specs(entries: list[Input]) -> list[tuple[str, frozenset[str] | None]]:
    return [
        (
            entry["object_type"],
            None if entry.get("change_types") is None else frozenset(entry["change_types"]),
        )
        for entry in entries
    ]


@mutation.field("setEventListeners")
def set_event_listeners(_: Any, info: Info, input: list[Input]) -> dict[str, Any]:
    ctx = context_of(info)
    try:
        integration = _integration(ctx)
    except UserError as error:
        return _failed(error, event_listeners=[])
    listeners = ctx.events.set_listeners(integration, _listener_specs(input))
    return Outcome().payload(event_listeners=[listener_view(lst) for lst in listeners])


@mutation.field("unsetEventListeners")
def unset_event_listeners(_: Any, info: Info, input: list[Input]) -> dict[str, Any]:
    ctx = context_of(info)
    try:
        integration = _integration(ctx)
    except UserError as error:
        return _failed(error, event_listeners=[])
    listeners = ctx.events.unset_listeners(integration, _listener_specs(input))
    return Outcome().payload(event_listeners=[listener_view(lst) for lst in listeners])


@mutation.field("confirmEvents")
def confirm_events(_: Any, info: Info, input: Input) -> dict[str, Any]:
    ctx = context_of(info)
    outcome = Outcome()
    try:
        integration = _integration(ctx)
    except UserError as error:
        return _failed(error, events=[])
    wanted = list(input["events_ids"])
    confirmed = ctx.events.confirm(integration, wanted)
    done = {event.id for event in confirmed}
    for index, event_id in enumerate(wanted):
        if event_id not in done:
            outcome.warn(
                f"Event {event_id} is not in the queue", ["input", "eventsIds", index]
            )  # [I] message
    return outcome.payload(events=[EventNode(ctx, event) for event in confirmed])


@mutation.field("setIdConversions")
def set_id_conversions(_: Any, info: Info, input: list[Input]) -> dict[str, Any]:
    ctx = context_of(info)
    try:
        integration = _integration(ctx)
        for index, entry in enumerate(input):
            if len(entry["external_id"].encode()) > 255:
                raise UserError(
                    "externalId is longer than 255 characters",
                    ["input", index, "externalId"],
                )
            if entry["internal_id"] < 1:
                raise UserError("internalId must be positive", ["input", index, "internalId"])
    except UserError as error:
        return _failed(error, id_conversions=[])
    made = [
        ctx.conversions.set(
            integration, entry["object_type"], entry["internal_id"], entry["external_id"]
        )
        for entry in input
    ]
    return Outcome().payload(id_conversions=[conversion_view(entry) for entry in made])


@mutation.field("unsetIdConversions")
def unset_id_conversions(_: Any, info: Info, input: list[Input]) -> dict[str, Any]:
    ctx = context_of(info)
    outcome = Outcome()
    try:
        integration = _integration(ctx)
        targets = []
        for index, entry in enumerate(input):
            how, value = _one_of(entry["id_conversion"], ["input", index, "idConversion"])
            key = {"id": "id", "internal_id": "internal_id", "external_id": "external_id"}[how]
            targets.append((index, entry["object_type"], key, value))
    except UserError as error:
        return _failed(error)
    for index, object_type, key, value in targets:
        found = [
            e
            for e in ctx.conversions.of(integration)
            if e.object_type == object_type and getattr(e, key) == value
        ]
        if not found:
            outcome.warn("No such ID conversion", ["input", index])  # [I] message
        for conversion in found:
            ctx.conversions.remove(conversion)
    return outcome.payload()


bindables = [mutation]
