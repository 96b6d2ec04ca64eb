"""The store's analytics mapping checked against the tables it applies to.

The settings model refuses what is wrong on its own (a column name that is not
snake_case, two columns taking one field). What needs the tables is checked here, for
every command that loads the configuration and for ``centrasync check``: a field no table
loads, a named column that would overwrite a loaded field or another named column, a
personal field mapped while personal data is excluded. Attribute names are Centra's own
configuration, so only Centra can say whether they exist: :func:`unseen_attributes` looks
at the latest orders and products and names the mapped attributes none of them carries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from difflib import get_close_matches

from centrasync.centra.integration.client import IntegrationApiClient
from centrasync.config import AnalyticsSettings, PersonalData
from centrasync.errors import ConfigError

from .rows import ORDERS, PRODUCT_VARIANTS, PRODUCTS, TABLES, Table, is_personal, loaded_fields

__all__ = ["unseen_attributes", "validate_mapping"]

_SAMPLE = 50


def _unknown(where: str, name: str, known: Iterable[str]) -> ConfigError:
    close = get_close_matches(name, sorted(known), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ConfigError(f"{where}: {name!r} is not a field any analytics table loads{hint}")


def _kept(table: Table, settings: AnalyticsSettings) -> set[str]:
    """The columns ``table`` ends with after exclusions and renames, before attributes."""
    names = set(table.columns) | {"store"}
    if table.attributes:
        names.add("attributes")
    names -= set(settings.exclude)
    if settings.personal_data is PersonalData.EXCLUDE:
        names = {name for name in names if not is_personal(name)}
    for column, source in settings.columns.items():
        if source in names:
            names.discard(source)
            names.add(column)
    return names


def validate_mapping(settings: AnalyticsSettings, where: str) -> None:
    """Raise :class:`ConfigError` naming ``where`` (``stores.<name>.analytics``) and the
    key at fault, for the first mistake found."""
    known = loaded_fields()
    for name in settings.exclude:
        if name not in known:
            raise _unknown(f"{where}.exclude", name, known)
    for column, source in settings.columns.items():
        key = f"{where}.columns.{column}"
        if source not in known:
            raise _unknown(key, source, known)
        if is_personal(source) and settings.personal_data is PersonalData.EXCLUDE:
            raise ConfigError(
                f'{key}: {source!r} is personal data, which personal_data = "exclude" '
                'never loads; set personal_data = "hash" to load it hashed'
            )
        for table in TABLES.values():
            fields = table.fields()
            if source in fields and column in fields and column not in settings.exclude:
                raise ConfigError(
                    f"{key}: {table.name} already loads a field {column!r}; "
                    "choose another column name or exclude that field"
                )
    for kind, tables in (("order", (ORDERS,)), ("product", (PRODUCTS, PRODUCT_VARIANTS))):
        for column in settings.attributes_of(kind):
            key = f"{where}.{kind}_attributes.{column}"
            for table in tables:
                if column in _kept(table, settings):
                    raise ConfigError(
                        f"{key}: {table.name} already has a column {column!r}; "
                        "choose another column name"
                    )


def _names(found: Iterable[Iterable[str]]) -> set[str]:
    return {name for names in found for name in names}


async def unseen_attributes(
    client: IntegrationApiClient, settings: AnalyticsSettings
) -> dict[str, str]:
    """Mapped attributes (``<kind>_attributes.<column>`` → attribute name) that none of
    the latest orders or products carries: most likely a misspelt name."""
    wanted: Mapping[str, Mapping[str, str]] = {
        "order": settings.order_attributes,
        "product": settings.product_attributes,
    }
    seen: dict[str, set[str]] = {"order": set(), "product": set()}
    if wanted["order"]:
        orders = await client.order_history(sort=["updatedAt_DESC"], limit=_SAMPLE)
        seen["order"] = _names([a.type.name for a in o.attributes] for o in orders)
    if wanted["product"]:
        products = await client.catalogue(sort=["updatedAt_DESC"], limit=_SAMPLE)
        seen["product"] = _names([a.type.name for a in p.attributes] for p in products) | _names(
            [a.type.name for a in v.attributes] for p in products for v in p.variants
        )
    return {
        f"{kind}_attributes.{column}": name
        for kind, columns in wanted.items()
        for column, name in columns.items()
        if name not in seen[kind]
    }
