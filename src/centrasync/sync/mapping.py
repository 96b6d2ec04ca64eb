"""Centra shipment → warehouse outbound order, as Ongoing's own Centra connector maps it.

Pure functions: no I/O, no clients. The rules follow the field-mapping table of Ongoing's
Centra integration (reference ``ongoing-api.md`` §12, the seed's table): every row of it has
a slot on :class:`OutboundOrder`, so a connector sends the whole table and nothing is dropped.

Per store, ``field_mapping`` replaces the Centra source of a target field (e.g.
``{"remark": "internalComment"}``) and ``shipment_filters`` decides which shipments go to
the warehouse at all. Names on the Centra side are the Order API's wire names
(``deliveryCountry``, ``shipwallet_pickup``, ``variantSku``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from centrasync.centra.models import Address as CentraAddress
from centrasync.centra.models import CentraModel, Shipment, ShipmentLine
from centrasync.config import ArticleNumberStrategy, StoreSettings
from centrasync.errors import ConfigError, RecordValidationError
from centrasync.wms.models import Address, OutboundOrder, OutboundOrderLine, is_http_url

__all__ = [
    "B2B",
    "B2C",
    "MAPPABLE_FIELDS",
    "MappedOrder",
    "article_number",
    "mapped_order_to_json",
    "order_type",
    "shipment_passes_filters",
    "shipment_to_outbound_order",
    "shipment_value",
    "validate_field_mapping",
    "validate_shipment_filters",
]

B2B = "B2B"
B2C = "B2C"

# The SKU parts each strategy concatenates, by Centra wire name, in order.
_STRATEGY_FIELDS: dict[ArticleNumberStrategy, tuple[str, ...]] = {
    ArticleNumberStrategy.EAN: ("ean",),
    ArticleNumberStrategy.SKU: ("sku",),
    ArticleNumberStrategy.SKU_VARIANT: ("sku", "variantSku"),
    ArticleNumberStrategy.SKU_VARIANT_SIZE: ("sku", "variantSku", "sizeSku"),
}

# Target fields a store may re-source with ``field_mapping``, and their default Centra field.
_FIELD_SOURCES: dict[str, str] = {
    "order_number": "shipmentId",
    "reference": "orderId",
    "customer_number": "customerId",
    "remark": "otherComment",
    "service_point": "shipwallet_pickup",
    "service": "shipwallet_method",
    "postcode": "deliveryZipcode",
    "city": "deliveryCity",
    "state": "deliveryState",
    "country_code": "deliveryCountry",
    "email": "deliveryEmail",
    "telephone": "deliveryTele",
    "mobile": "deliveryCell",
    "customer_price": "grandTotalValue",
    "invoice_number": "proforma",
    "delivery_note": "deliveryNote",
    "marketplace": "marketplace_source",
    "marketplace_order_number": "marketplace_source_id",
}
# Targets that follow a rule rather than one field; an override replaces the whole rule.
_RULE_TARGETS = frozenset({"name", "address1", "address2", "phone", "invoice_url"})
MAPPABLE_FIELDS = frozenset(_FIELD_SOURCES) | _RULE_TARGETS


@dataclass(frozen=True)
class MappedOrder:
    """What one shipment maps to: the order the warehouse should pick.

    A wrapper rather than the bare order so the flows' call sites (``mapped.order``) and
    the stored request payload (:func:`mapped_order_to_json`) keep one shape whatever the
    mapping learns to produce next to the order.
    """

    order: OutboundOrder


# -- reading Centra fields by wire name ---------------------------------------------------


def _flat_fields(record: CentraModel) -> dict[str, Any]:
    """The record's scalar fields by Centra wire name, addresses flattened back out.

    The models gather ``deliveryName``, ``deliveryCity``, … into one address object; the
    mapping table and the store settings speak the flat wire names, so undo that here.
    """
    dumped = record.model_dump(by_alias=True, mode="json")
    flat: dict[str, Any] = {}
    for key, value in dumped.items():
        if key in ("delivery", "billing") and isinstance(value, dict):
            for part, part_value in value.items():
                flat[key + part.capitalize()] = part_value
        elif not isinstance(value, dict | list):
            flat[key] = value
    return flat


def _known_shipment_fields() -> frozenset[str]:
    names: set[str] = set()
    for name, info in Shipment.model_fields.items():
        alias = info.alias or name
        if name in ("delivery", "billing"):
            names.update(alias + part.capitalize() for part in CentraAddress.model_fields)
        elif name not in ("products", "invoices", "tax_breakdown"):
            names.add(alias)
    names.difference_update({"shippingTerms", "paymentTerms"})
    return frozenset(names)


_SHIPMENT_FIELDS = _known_shipment_fields()


def _as_text(value: Any, record: str, field_name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dict | list):
        raise RecordValidationError("expected a single value", record=record, field=field_name)
    return str(value)


def shipment_value(shipment: Shipment, field_name: str) -> str:
    """One shipment field as text, by Centra wire name; absent fields read as ``""``.

    Merchant-specific fields are kept as extras and only appear on the shipments that
    carry them, so an absent field is an empty value rather than a configuration error.
    """
    record = f"shipment {shipment.shipment_id}"
    return _as_text(_flat_fields(shipment).get(field_name), record, field_name)


def _line_value(line: CentraModel, field_name: str, record: str) -> str:
    """A line or product field by wire name (``variantSku``) or model name (``variant_sku``)."""
    for name, info in type(line).model_fields.items():
        if field_name in (name, info.alias):
            return _as_text(getattr(line, name), record, field_name)
    return _as_text((line.model_extra or {}).get(field_name), record, field_name)


# -- article numbers --------------------------------------------------------------------


def _describe_line(line: CentraModel) -> str:
    if isinstance(line, ShipmentLine):
        return f"line {line.line_id}"
    sku = _line_value(line, "sku", "product")
    return f"product {sku}" if sku else "product"


def article_number(
    line_or_product: CentraModel,
    strategy: ArticleNumberStrategy,
    fields: Sequence[str] = (),
    *,
    record: str | None = None,
    field_prefix: str = "",
) -> str:
    """The WMS article number of a shipment line or product row under a store's strategy.

    Every part the strategy uses must have a value: Ongoing's connector documents "SKU,
    variant SKU, size SKU must have values", and a partial number would collide with
    another size. ``fields`` are Centra wire names (``variantSku``) or model names
    (``variant_sku``) and are only used with the ``custom`` strategy.
    """
    if strategy is ArticleNumberStrategy.CUSTOM:
        if not fields:
            raise ConfigError("article_number_fields: required when article_number = 'custom'")
        parts = tuple(fields)
    else:
        parts = _STRATEGY_FIELDS[strategy]
    record = record or _describe_line(line_or_product)
    values: list[str] = []
    for part in parts:
        value = _line_value(line_or_product, part, record)
        if not value.strip():
            raise RecordValidationError(
                f"needed for the {strategy.value} article number but empty",
                record=record,
                field=field_prefix + part,
            )
        values.append(value)
    return "".join(values)


# -- field mapping and filters ----------------------------------------------------------


def validate_field_mapping(field_mapping: Mapping[str, str]) -> None:
    """Refuse overrides of targets the mapping does not have, naming the key."""
    for target, source in field_mapping.items():
        if target not in MAPPABLE_FIELDS:
            raise ConfigError(
                f"field_mapping.{target}: unknown target field "
                f"(known: {', '.join(sorted(MAPPABLE_FIELDS))})"
            )
        if not isinstance(source, str) or not source:
            raise ConfigError(f"field_mapping.{target}: must name a Centra shipment field")


def validate_shipment_filters(filters: Mapping[str, Any]) -> None:
    """Refuse filters on fields a shipment does not have, naming the key."""
    for key, expected in filters.items():
        if key not in _SHIPMENT_FIELDS:
            raise ConfigError(f"shipment_filters.{key}: unknown shipment field")
        values = expected if isinstance(expected, list | tuple) else [expected]
        for value in values:
            if not isinstance(value, str | int | float | bool):
                raise ConfigError(
                    f"shipment_filters.{key}: expected a value or a list of values, got {value!r}"
                )


def _matches(actual: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and actual is expected
    if actual is None:
        return False
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        try:
            return Decimal(str(actual)) == Decimal(str(expected))
        except ArithmeticError:
            return False
    return str(actual) == str(expected)


def shipment_passes_filters(shipment: Shipment, filters: Mapping[str, Any]) -> bool:
    """Whether a shipment goes to the warehouse under a store's ``shipment_filters``.

    A scalar filter value must equal the field (``{"paid": true}``); a list means any of
    them (``{"deliveryCountry": ["SE", "NO"]}``). All filters must hold.
    """
    validate_shipment_filters(filters)
    fields = _flat_fields(shipment)
    for key, expected in filters.items():
        options = expected if isinstance(expected, list | tuple) else [expected]
        if not any(_matches(fields.get(key), option) for option in options):
            return False
    return True


# -- the shipment mapping ---------------------------------------------------------------


def order_type(shipment: Shipment) -> str:
    """B2B for wholesale accounts; Centra sends ``accountId`` ``"0"`` for direct-to-consumer.

    Ongoing documents the type as "based on endpoint"; the Order API serves both kinds from
    one endpoint, so the account id is the most likely form of that distinction [I].
    """
    return B2B if shipment.account_id not in (None, "", "0") else B2C


class _Source:
    """Reads target fields of one shipment, honouring the store's overrides."""

    def __init__(self, shipment: Shipment, overrides: Mapping[str, str]) -> None:
        self.shipment = shipment
        self.overrides = overrides
        self.record = f"shipment {shipment.shipment_id}"
        # Dumped once: a mapping reads some twenty fields of the same shipment.
        self._flat = _flat_fields(shipment)

    def get(self, target: str, rule: Callable[[], str] | None = None) -> str:
        source = self.overrides.get(target)
        if source is not None:
            return self._value(source)
        if rule is not None:
            return rule().strip()
        return self._value(_FIELD_SOURCES[target])

    def _value(self, field_name: str) -> str:
        return _as_text(self._flat.get(field_name), self.record, field_name).strip()

    def field_of(self, target: str, default: str) -> str:
        """The Centra field an error about ``target`` should name."""
        return self.overrides.get(target, default)


def _name_rule(shipment: Shipment) -> str:
    delivery = shipment.delivery
    # The seed's table says "deliveryName for B2B and deliveryCompany for B2C", read as
    # written. Consumers rarely fill in a company and wholesale contacts sometimes leave the
    # name blank, so an empty first choice falls back to the other rather than failing.
    if order_type(shipment) == B2B:
        return delivery.name.strip() or delivery.company.strip()
    return delivery.company.strip() or delivery.name.strip()


def _address1_rule(shipment: Shipment) -> str:
    delivery = shipment.delivery
    return delivery.coaddress if delivery.coaddress.strip() else delivery.address


def _address2_rule(shipment: Shipment) -> str:
    delivery = shipment.delivery
    return delivery.address if delivery.coaddress.strip() else ""


def _phone_rule(shipment: Shipment) -> str:
    return shipment.delivery.cell.strip() or shipment.delivery.tele.strip()


def _invoice_url_rule(shipment: Shipment) -> str:
    # "The latest" of Centra's invoice list; Centra appends new invoices, so the last [I].
    return shipment.invoices[-1] if shipment.invoices else ""


def _required(
    source: _Source, target: str, default_field: str, rule: Callable[[], str] | None
) -> str:
    value = source.get(target, rule)
    if not value:
        raise RecordValidationError(
            "must not be empty: the warehouse needs it to ship",
            record=source.record,
            field=source.field_of(target, default_field),
        )
    return value


def _amount(source: _Source, target: str) -> Decimal | None:
    """A money field as an exact Decimal; empty is None, anything else must be an amount."""
    text = source.get(target)
    if not text:
        return None
    field_name = source.field_of(target, _FIELD_SOURCES[target])
    try:
        amount = Decimal(text)
    except ArithmeticError:
        raise RecordValidationError(
            f"must be an amount, got {text!r}", record=source.record, field=field_name
        ) from None
    if not amount.is_finite() or amount < 0:
        raise RecordValidationError(
            f"must be a finite amount >= 0, got {text}", record=source.record, field=field_name
        )
    return amount


def _url(source: _Source, target: str, default_field: str, rule: Callable[[], str]) -> str | None:
    value = source.get(target, rule)
    if not value:
        return None
    if not is_http_url(value):
        # The value stays out of the message: document links may carry access tokens.
        raise RecordValidationError(
            "must be an absolute http(s) URL",
            record=source.record,
            field=source.field_of(target, default_field),
        )
    return value


def _lines(
    shipment: Shipment, settings: StoreSettings, record: str
) -> tuple[OutboundOrderLine, ...]:
    currency = shipment.currency.strip() or None
    lines: list[OutboundOrderLine] = []
    for index, line in enumerate(shipment.products):
        prefix = f"products[{index}]."
        if line.qty is None or line.qty <= 0:
            raise RecordValidationError(
                f"must be a positive quantity, got {line.qty}", record=record, field=prefix + "qty"
            )
        sku = article_number(
            line,
            settings.article_number,
            settings.article_number_fields,
            record=record,
            field_prefix=prefix,
        )
        lines.append(
            OutboundOrderLine(
                line_key=line.line_id,
                sku=sku,
                quantity=Decimal(line.qty),
                unit_price=line.price,
                currency=currency,
            )
        )
    return tuple(lines)


def shipment_to_outbound_order(shipment: Shipment, settings: StoreSettings) -> MappedOrder:
    """Map one Good-to-Go shipment to the order the warehouse should pick.

    Raises :class:`RecordValidationError` naming the shipment and the Centra field when
    the shipment cannot become a valid order, and :class:`ConfigError` for a bad
    ``field_mapping``.
    """
    validate_field_mapping(settings.field_mapping)
    src = _Source(shipment, settings.field_mapping)
    record = src.record
    phone = src.get("phone", lambda: _phone_rule(shipment)) or None
    email = src.get("email") or None
    ship_to = Address(
        name=_required(src, "name", "deliveryName", lambda: _name_rule(shipment)),
        address1=_required(src, "address1", "deliveryAddress", lambda: _address1_rule(shipment)),
        address2=src.get("address2", lambda: _address2_rule(shipment)) or None,
        postcode=_required(src, "postcode", "deliveryZipcode", None),
        city=_required(src, "city", "deliveryCity", None),
        country_code=_required(src, "country_code", "deliveryCountry", None).upper(),
        state=src.get("state") or None,
        email=email,
        phone=phone,
    )
    order = OutboundOrder(
        order_number=_required(src, "order_number", "shipmentId", None),
        ship_to=ship_to,
        lines=_lines(shipment, settings, record),
        customer_number=src.get("customer_number") or None,
        reference=src.get("reference") or None,
        service=src.get("service") or None,
        service_point=src.get("service_point") or None,
        remark=src.get("remark") or None,
        currency=shipment.currency.strip() or None,
        order_type=order_type(shipment),
        customer_price=_amount(src, "customer_price"),
        invoice_number=src.get("invoice_number") or None,
        invoice_url=_url(src, "invoice_url", "invoices", lambda: _invoice_url_rule(shipment)),
        delivery_note=src.get("delivery_note") or None,
        marketplace=src.get("marketplace") or None,
        marketplace_order_number=src.get("marketplace_order_number") or None,
        notification_mobile=phone,
        notification_email=email,
        telephone=src.get("telephone") or None,
        mobile=src.get("mobile") or None,
    )
    return MappedOrder(order=order)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def mapped_order_to_json(mapped: MappedOrder) -> dict[str, Any]:
    """A JSON-ready view of a mapped order (quantities and money as decimal strings)."""
    return {"order": _jsonable(dataclasses.asdict(mapped.order))}
