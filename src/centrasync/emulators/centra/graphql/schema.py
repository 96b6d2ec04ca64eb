"""The executable schema: ``schema.graphql`` with the emulator's resolvers bound by ariadne.

Built once per process: everything a request depends on (the world, the token, the zone)
reaches the resolvers through the context. Two things are read from the SDL itself:
the permission each field needs (its description's "Required permission: X", falling back
to the interface's field), and which fields are ``DateTimeTz``, whose values the schema
formats in the merchant zone with the field's ``format`` argument.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any

from ariadne import (
    InterfaceType,
    ScalarType,
    UnionType,
    make_executable_schema,
)
from graphql import (
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    default_field_resolver,
    get_named_type,
)

from . import mutations, queries
from .context import Info, context_of
from .phpdate import TimeInput, parse_date, php_format

__all__ = ["SDL", "executable_schema", "guard_permissions", "permission_of", "permissions"]

SDL = resources.files(__package__).joinpath("schema.graphql").read_text(encoding="utf-8")
DEFAULT_FORMAT = "Y-m-d\\TH:i:sP"
_PERMISSION = re.compile(r"Required permission: ([A-Za-z][\w.]*:(?:read|write))")


def _parse_int64(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("an Int64 is a whole number")
    number = int(value)
    if not -(2**63) <= number < 2**63:
        raise ValueError("out of the Int64 range")
    return number


def _serialize_date(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _typename(obj: Any, *_: Any) -> str:
    name = getattr(obj, "typename", None)
    assert isinstance(name, str), f"{type(obj).__name__} names no GraphQL type"
    return name


def _bindables() -> list[Any]:
    scalars = [
        ScalarType("DateTimeTz", serializer=str, value_parser=TimeInput.parse),
        ScalarType("Date", serializer=_serialize_date, value_parser=parse_date),
        ScalarType("Int64", serializer=int, value_parser=_parse_int64),
    ]
    abstract = [
        InterfaceType(name, _typename)
        for name in (
            "Order",
            "OrderLine",
            "Shipment",
            "Return",
            "OrderDiscount",
            "ObjectWithAttributes",
            "Attribute",
            "AttributeElement",
        )
    ]
    return [*scalars, *abstract, UnionType("EventTarget", _typename)]


def _formatted(inner: Callable[..., Any] | None) -> Callable[..., Any]:
    """A ``DateTimeTz`` field: the aware value, written in the merchant zone."""

    def resolve(parent: Any, info: Info, format: str = DEFAULT_FORMAT, **kwargs: Any) -> str | None:
        value = (inner or default_field_resolver)(parent, info, **kwargs)
        if value is None:
            return None
        assert isinstance(value, datetime) and value.tzinfo is not None
        return php_format(value.astimezone(context_of(info).zone), format)

    return resolve


@cache
def executable_schema() -> GraphQLSchema:
    schema = make_executable_schema(
        SDL,
        *_bindables(),
        *queries.bindables,
        *mutations.bindables,
        convert_names_case=True,
    )
    for named in schema.type_map.values():
        if isinstance(named, GraphQLObjectType) and not named.name.startswith("__"):
            for definition in named.fields.values():
                if get_named_type(definition.type).name == "DateTimeTz":
                    definition.resolve = _formatted(definition.resolve)
    return schema


def _own_permission(definition: GraphQLField) -> str | None:
    found = _PERMISSION.search(definition.description or "")
    return found.group(1) if found else None


@cache
def _permission_map() -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for named in executable_schema().type_map.values():
        if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            continue
        for name, definition in named.fields.items():
            permission = _own_permission(definition)
            for interface in named.interfaces:
                inherited = interface.fields.get(name)
                if permission is None and inherited is not None:
                    permission = _own_permission(inherited)
            if permission is not None:
                found[(named.name, name)] = permission
    return found


def permission_of(type_name: str, field_name: str) -> str | None:
    return _permission_map().get((type_name, field_name))


def permissions() -> frozenset[str]:
    """Every permission some field of the schema needs."""
    return frozenset(_permission_map().values())


def guard_permissions(next_: Callable[..., Any], root: Any, info: Info, **arguments: Any) -> Any:
    """Middleware: a field the token lacks the permission for is Centra's top-level error."""
    permission = permission_of(info.parent_type.name, info.field_name)
    if permission is not None and permission not in context_of(info).token.permissions:
        raise GraphQLError(
            f"You need {permission} permission to access {info.field_name}.",
            extensions={"category": "authorization"},
        )
    return next_(root, info, **arguments)
