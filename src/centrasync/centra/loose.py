"""Field types that read Centra's loose JSON and hold strict Python values.

Centra writes the same thing several ways: ids as ``"83651"`` or ``83651``, flags as ``0``,
``1``, ``"1"`` or ``true``, money as ``3978.75`` or ``"3978.75"``, quantities as ``1`` or
``"1"`` (centra-api.md §2.3). Every model field uses one of these annotated types, so a
value has one strict form once it is inside centrasync whatever the wire said.

Times are special: a naive Centra string only means something together with the store's
zone, which the caller passes as pydantic validation context (``{"zone": ZoneInfo}``);
see :mod:`centrasync.centra.models`.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, PlainSerializer, ValidationInfo

from centrasync.errors import RecordValidationError

from .timezones import has_offset, parse_centra_datetime

__all__ = [
    "ZONE_CONTEXT_KEY",
    "BundleRef",
    "CentraDateTime",
    "CentraId",
    "Flag",
    "Money",
    "OptionalCentraId",
    "Quantity",
    "Text",
]

ZONE_CONTEXT_KEY = "zone"

_TRUE = frozenset({"1", "true", "yes"})
_FALSE = frozenset({"0", "false", "no"})
_UTC_ZONE = ZoneInfo("UTC")
# No amount or quantity in a shop reaches 10^15 or needs more than 12 decimals.
_MAX_EXPONENT = 15
_MIN_EXPONENT = -12
# JSON may escape half of a surrogate pair ("\ud800"); such a string is no Unicode text and
# cannot be encoded to store or send on, so the record is refused here, by field.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _unicode(text: str) -> str:
    if _LONE_SURROGATE.search(text):
        raise ValueError("not valid Unicode text: it holds a lone surrogate (\\ud800-\\udfff)")
    return text


def _to_id(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is a flag, not an id")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return _unicode(value).strip() or None
    raise ValueError(f"{value!r} is not an id (expected a string or an integer)")


def _to_bundle_ref(value: Any) -> str | None:
    """``isPartOfBundle`` is a bundle id, or false/0/"" when the line is not in a bundle."""
    if value is False or value == 0 or value == "0":
        return None
    return _to_id(value)


def _to_flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError(f"{value!r} is not a flag (expected 0/1, true/false or '0'/'1')")


def _to_decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is a flag, not an amount")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite amount")
        # repr of a float is its shortest round-tripping form: 3978.75, not 3978.7499999…
        value = repr(value)
    if isinstance(value, int | str | Decimal):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
        if not number.is_finite():
            raise ValueError(f"{value!r} is not a finite amount")
        # Exponents outside the decimal context would raise Overflow in later arithmetic.
        if number and not _MIN_EXPONENT <= number.adjusted() < _MAX_EXPONENT:
            raise ValueError(f"{value!r} is out of range")
        return number
    raise ValueError(f"{value!r} is not a number")


def _to_quantity(value: Any) -> int | None:
    number = _to_decimal(value)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise ValueError(f"{value!r} is not a whole quantity")
    return int(number)


def _to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return _unicode(value)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"expected text, got {type(value).__name__}")


def _to_utc(value: Any, info: ValidationInfo) -> datetime | None:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime; centrasync holds aware UTC times only")
        return value
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{value!r} is not a Centra time")
    zone = (info.context or {}).get(ZONE_CONTEXT_KEY)
    field_name = info.field_name or "?"
    try:
        if isinstance(zone, ZoneInfo):
            return parse_centra_datetime(value, zone, field=field_name)
        # Without the store's zone only unset values and times with an offset have a meaning.
        parsed = parse_centra_datetime(value, _UTC_ZONE, field=field_name)
    except RecordValidationError as exc:
        raise ValueError(exc.message) from None
    if parsed is not None and value is not None and not has_offset(value):
        raise ValueError(
            "a naive Centra time needs the store's zone: validate with context={'zone': ZoneInfo}"
        )
    return parsed


CentraId = Annotated[str, BeforeValidator(_to_id)]
"""A required id: ``83651`` and ``"83651"`` are both ``"83651"``."""

OptionalCentraId = Annotated[str | None, BeforeValidator(_to_id)]
"""An id that may be absent: ``None`` and ``""`` become ``None``."""

BundleRef = Annotated[str | None, BeforeValidator(_to_bundle_ref)]

Flag = Annotated[bool, BeforeValidator(_to_flag)]

Money = Annotated[
    Decimal | None,
    BeforeValidator(_to_decimal),
    PlainSerializer(lambda v: None if v is None else str(v), return_type=str | None),
]
"""An amount as an exact Decimal; emitted as a string so no float ever rounds it."""

Quantity = Annotated[int | None, BeforeValidator(_to_quantity)]

Text = Annotated[str, BeforeValidator(_to_text)]
"""Free text; ``null`` becomes ``""`` and numbers (zip codes, harm codes) become strings."""

CentraDateTime = Annotated[
    datetime | None,
    BeforeValidator(_to_utc),
]
"""A Centra time, held as aware UTC; naive strings are read in the context's zone."""
