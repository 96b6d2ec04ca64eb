"""``POST /order``'s body, read into the :class:`OrderSpec` a placed order is made from.

Orders created this way are paid elsewhere (an ERP, a POS, a marketplace), so they carry
no Centra payment plugin; ``payment`` says what the other system did. Refusals carry the
documented ``code``: -1 products can't be added, -2 stock error, -3 empty order, -4
required fields missing, -5 order number exists, -7 anything else.

Options without a counterpart in the Order API's answers (``sendEmail``, ``buyerName``,
``warehouseGroup``, ``itemText``, ...) are kept in the write log with the whole body.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from centrasync.errors import RecordValidationError

from .api_common import as_amount, as_bool, as_int
from .model import SizeRef, Store
from .specs import AddressSpec, OrderLineSpec, OrderSpec
from .state import Refusal
from .wire import parse_local
from .world import World

__all__ = ["CODE_FOR_FIELD", "order_dates", "order_spec", "payment_fields", "place"]

# The field a refused placement names -> the documented code.
CODE_FOR_FIELD = {"qty": -2, "number": -5, "ean": -1, "size_id": -1}
_ADDRESS_KEYS = ("company", "address", "coaddress", "city", "state", "zipcode", "email", "tele")


def _refuse(msg: str, code: int) -> Refusal:
    return Refusal(msg, code=code)


def _address(raw: Any, name: str, *, required: bool) -> AddressSpec | None:
    if raw is None and not required:
        return None
    if not isinstance(raw, dict):
        raise _refuse(f"{name} is required", -4)
    if required:
        for key in ("email", "country"):
            if not raw.get(key):
                raise _refuse(f"{name}.{key} is required", -4)
    person = " ".join(str(raw[k]) for k in ("firstName", "lastName") if raw.get(k))
    fields = {key: str(raw[key]) for key in _ADDRESS_KEYS if raw.get(key) not in (None, "")}
    try:
        return AddressSpec(
            name=person or str(raw.get("attn") or ""),
            cell=str(raw.get("cell") or ""),
            country=str(raw.get("country") or "SE"),
            **fields,
        )
    except ValidationError:
        raise _refuse(f"{name}.country must be an ISO 3166 alpha-2 code", -4) from None


def _size(world: World, item: dict[str, Any], index: int) -> SizeRef:
    """By ``id`` (stockItemId), ``ean``, or ``sku`` (full SKU, or a size SKU alone)."""
    ref: SizeRef | None = None
    if item.get("id") not in (None, ""):
        ref = world.sizes.get(as_int(item["id"], f"products[{index}].id"))
    elif item.get("ean"):
        found = world.find_size(str(item["ean"]))
        ref = found if found is not None and found.size.ean == str(item["ean"]) else None
    elif item.get("sku"):
        sku = str(item["sku"])
        ref = world.find_size(sku)
        if ref is None:
            matches = [r for r in world.sizes.values() if r.size.sku and r.size.sku == sku]
            ref = matches[0] if len(matches) == 1 else None
    else:
        raise _refuse(f"products[{index}] needs id, ean or sku", -4)
    if ref is None:
        key = item.get("id") or item.get("ean") or item.get("sku")
        raise _refuse(f"product {key} can not be added", -1)
    return ref


def _line(world: World, item: Any, index: int) -> OrderLineSpec:
    if not isinstance(item, dict):
        raise _refuse(f"products[{index}] must be an object", -4)
    if item.get("qty") in (None, ""):
        raise _refuse(f"products[{index}].qty is required", -4)
    qty = as_int(item["qty"], f"products[{index}].qty")
    if qty < 1:
        raise _refuse(f"products[{index}].qty must be at least 1", -4)
    ref = _size(world, item, index)
    unit, original = item.get("unitPrice"), item.get("originalPrice")
    return OrderLineSpec(
        size_id=ref.size.id,
        qty=qty,
        price=None if unit is None else as_amount(unit, "unitPrice"),
        original_price=None if original is None else as_amount(original, "originalPrice"),
        comment=str(item.get("comment") or ""),
    )


def payment_fields(raw: Any) -> dict[str, Any]:
    """``payment {auth, capture}``: its reference, method, and whether it was captured."""
    if not isinstance(raw, dict):
        return {}
    auth = raw.get("auth") if isinstance(raw.get("auth"), dict) else {}
    capture = raw.get("capture") if isinstance(raw.get("capture"), dict) else {}
    assert isinstance(auth, dict) and isinstance(capture, dict)
    reference = capture.get("transaction") or auth.get("transaction")
    method = capture.get("method") or auth.get("method")
    fields: dict[str, Any] = {"paid_elsewhere": str(capture.get("status")) == "1"}
    if reference:
        fields["payment_reference"] = str(reference)
    if method:
        fields["payment_method"] = str(method)
    return fields


def order_dates(body: dict[str, Any], store: Store) -> dict[str, datetime]:
    """``orderDate``, ``deliveryDate``, ``cancelDate`` in the store's zone, by model name."""
    dates: dict[str, datetime] = {}
    for key, name in (
        ("orderDate", "created_at"),
        ("deliveryDate", "delivery_date"),
        ("cancelDate", "cancel_date"),
    ):
        if body.get(key):
            try:
                dates[name] = parse_local(str(body[key]), store.zone)
            except ValueError:
                raise _refuse(f"{key} must be YYYY-mm-dd or YYYY-mm-dd HH:MM:SS", -4) from None
    return dates


def _matches(body: dict[str, Any], id_key: str, name_key: str, value: int, name: str) -> bool:
    if body.get(id_key) not in (None, ""):
        return as_int(body[id_key], id_key) == value
    return body.get(name_key) in (None, "", name)


def order_spec(world: World, store: Store, body: Any) -> OrderSpec:
    """The order a ``POST /order`` body describes, or the documented refusal."""
    if not isinstance(body, dict):
        raise _refuse("the order must be an object", -7)
    if as_bool(body.get("forceCreate"), False) or not as_bool(body.get("adjustStock"), True):
        # [I] Back-ordered lines are not emulated: refused rather than quietly ignored.
        raise _refuse("forceCreate and adjustStock false are not supported", -7)
    products = body.get("products")
    if not isinstance(products, list) or not products:
        raise _refuse("the order has no products", -3)
    if not _matches(body, "marketId", "market", store.market_id, store.uri) or not _matches(
        body, "pricelistId", "pricelist", store.pricelist_id, store.currency
    ):
        raise _refuse("market or pricelist is not this store's", -7)  # [I]
    wholesale = body.get("accountId") not in (None, "", 0, "0")
    invoice = _address(
        body.get("invoiceAddress") or body.get("address"), "invoiceAddress", required=not wholesale
    )
    delivery = _address(
        body.get("deliveryAddress") or body.get("address"), "deliveryAddress", required=False
    )
    dates = order_dates(body, store)
    number = body.get("orderNumber")
    try:
        return OrderSpec(
            store=store.uri,
            lines=[_line(world, item, i) for i, item in enumerate(products)],
            customer_id=as_int(body.get("customerId") or 0, "customerId"),
            account_id=as_int(body["accountId"], "accountId") if wholesale else 0,
            billing=invoice or AddressSpec(),
            delivery=delivery,
            shipping_list=str(body.get("shippingList") or "standard"),
            shipping_value=as_amount(body.get("shippingValue") or 0, "shippingValue"),
            voucher_value=as_amount(body.get("voucherValue") or 0, "voucherValue"),
            other_comment=str(body.get("comment") or ""),
            internal_comment=str(body.get("internalComment") or ""),
            po_number=str(body.get("poNumber") or ""),
            payment_plugin="",
            number=None if number in (None, "") else as_int(number, "orderNumber"),
            internal_order=as_bool(body.get("internalOrder"), False),
            create_only=as_bool(body.get("createOnly"), False),
            **dates,
            **(
                {"payment_reference": "", "payment_method": ""}
                | payment_fields(body.get("payment"))
            ),
        )
    except ValidationError as exc:
        raise _refuse(f"invalid order: {exc.errors()[0]['msg']}", -4) from None


def place(world: World, store: Store, body: Any) -> dict[str, Any]:
    """Create one order; the answer Centra gives for it (``orders``, or ``order``)."""
    spec = order_spec(world, store, body)
    try:
        order = world.place_order(spec)
    except RecordValidationError as exc:
        raise _refuse(exc.message, CODE_FOR_FIELD.get(exc.field, -7)) from None
    world.record("order_creations", store.uri, order=order.number, body=body)
    if spec.create_only:
        return {"status": "ok", "order": order.number}
    return {"status": "ok", "orders": [order.number]}
