"""Centra product row → WMS article, as Ongoing's own Centra connector maps it.

Pure functions: the field table of the connector's article registry (the seed's table,
reference ``ongoing-api.md`` §12), its default filter, the content hash that tells a changed
article from an unchanged one, and the uniqueness rule for article numbers.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict
from decimal import Decimal

from centrasync.centra.models import ProductRow
from centrasync.config import StoreSettings
from centrasync.errors import RecordValidationError
from centrasync.store.base import Json
from centrasync.wms.models import Article

from .mapping import article_number

__all__ = [
    "ambiguous_numbers",
    "article_name",
    "article_to_json",
    "content_hash",
    "describe_product",
    "filter_reason",
    "product_to_article",
    "weight_in_kg",
]

_KG_PER_UNIT = {"kg": Decimal(1), "g": Decimal("0.001"), "lb": Decimal("0.45359237")}


def _wire_to_attribute(name: str) -> str:
    """``variantSku`` → ``variant_sku``: the model attribute behind a wire name."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def filter_reason(row: ProductRow, settings: StoreSettings) -> str | None:
    """Why the row stays out of the WMS, or None when it goes in."""
    required = settings.article_filters
    empty = [name for name in required if not str(getattr(row, _wire_to_attribute(name))).strip()]
    if empty:
        return f"{', '.join(empty)} empty (article_filters: {', '.join(required)} must have values)"
    if not row.active and not settings.sync_inactive_products:
        return "inactive in Centra and sync_inactive_products is off"
    return None


def article_name(row: ProductRow) -> str:
    """Product, variant and size names joined by spaces, e.g. ``WinterJacket Black 38``.

    ``product`` is the name Centra's admin uses; a row without one falls back to ``name``.
    """
    product = row.product.strip() or row.name.strip()
    return " ".join(part for part in (product, row.variant.strip(), row.size.strip()) if part)


def weight_in_kg(weight: Decimal | None, unit: str, *, record: str) -> Decimal | None:
    """The weight in kilograms; Centra may keep it in grams (or pounds)."""
    if weight is None:
        return None
    if not weight.is_finite() or weight < 0:
        raise RecordValidationError(
            f"must be a weight >= 0, got {weight}", record=record, field="weight"
        )
    # [I] The docs' rows always name the unit; an empty one is read as kg, the examples' unit.
    factor = _KG_PER_UNIT.get(unit.strip().lower() or "kg")
    if factor is None:
        raise RecordValidationError(
            f"unknown unit {unit!r} (known: g, kg, lb)", record=record, field="weightUnit"
        )
    return weight * factor


def _country(row: ProductRow, record: str) -> str | None:
    code = row.country_of_origin.strip().upper()
    if not code:
        return None
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise RecordValidationError(
            f"must be an ISO 3166 alpha-2 code, got {row.country_of_origin!r}",
            record=record,
            field="countryOfOrigin",
        )
    return code


def _price(row: ProductRow) -> Decimal | None:
    # [I] The row lists one price per pricelist of the plugin's store and Ongoing names no
    # pricelist, so the first listed price is taken.
    return next((p.price for p in row.prices if p.price is not None), None)


def describe_product(row: ProductRow) -> str:
    """How messages name a row: product SKU, article name, stock item and EAN."""
    return (
        f"product {row.sku} {article_name(row)!r} "
        f"(stock item {row.stock_item_id or '?'}, EAN {row.ean or 'none'})"
    )


def product_to_article(row: ProductRow, settings: StoreSettings) -> Article:
    """The article one product row becomes under the store's settings.

    Raises :class:`RecordValidationError` naming the product and the Centra field.
    """
    record = describe_product(row)
    number = article_number(
        row, settings.article_number, settings.article_number_fields, record=record
    )
    return Article(
        sku=number,
        name=article_name(row),
        barcode=row.ean.strip() or None,
        weight_kg=weight_in_kg(row.weight, row.weight_unit, record=record),
        country_of_origin=_country(row, record),
        hs_code=row.harm_code.strip() or None,
        unit_price=_price(row) if settings.sync_article_price else None,
        # Only with sync_inactive_products does an inactive row get here at all.
        is_active=row.active,
    )


def article_to_json(article: Article) -> dict[str, Json]:
    """A JSON view of an article; equal amounts always read the same (``0.85``, not ``0.850``)."""
    view: dict[str, Json] = {}
    for name, value in asdict(article).items():
        view[name] = format(value.normalize(), "f") if isinstance(value, Decimal) else value
    return view


def content_hash(article: Article) -> str:
    """A stable digest of everything the WMS gets; equal content, equal hash."""
    text = json.dumps(article_to_json(article), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ambiguous_numbers(claims: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    """Numbers claimed by more than one stock item, from ``(number, item)`` pairs."""
    items: dict[str, dict[str, None]] = defaultdict(dict)
    for number, item in claims:
        items[number][item] = None
    return {number: tuple(found) for number, found in items.items() if len(found) > 1}
