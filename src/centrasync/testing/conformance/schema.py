"""One vendor API's OpenAPI 3.1 document, and the check of one answer against it.

OpenAPI 3.1's schemas are JSON Schema 2020-12, so ``jsonschema`` validates them directly,
with the document registered as one resource so ``#/components/...`` references resolve.
Formats are checked by this module's own checker (``date``, ``date-time``, ``uri``), so a
format never passes unchecked because an optional package is missing.

Two extensions of the document say what OpenAPI has no word for:

- ``x-unmatched-route`` (top level): the responses any path under the server's base that
  no operation serves gives (the vendor's "not found" / "method not allowed" answers);
- every operation lists each status it can answer; a status it does not list is a finding.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match
from referencing import Registry
from referencing.jsonschema import DRAFT202012

__all__ = ["ApiSchema", "Operation", "format_checker", "load_document"]

_METHODS = ("get", "put", "post", "patch", "delete")
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
_DATE = re.compile(r"\d{4}-\d\d-\d\d")
_TEMPLATE = re.compile(r"\{([^}]+)\}")
# A finding quotes at most this many schema errors per answer.
_MAX_ERRORS = 5


def _is_date_time(value: object) -> bool:
    """Formats constrain strings only; any other type passes (its ``type`` decides)."""
    if not isinstance(value, str):
        return True
    if not _RFC3339.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc)


def format_checker() -> FormatChecker:
    """RFC 3339 date-times (an offset or ``Z`` required), ISO dates and absolute URIs."""
    checker = FormatChecker(formats=())
    checker.checks("date-time")(_is_date_time)
    checker.checks("date")(_is_date)
    checker.checks("uri")(_is_uri)
    return checker


@cache
def load_document(name: str) -> Mapping[str, Any]:
    """The OpenAPI document ``<name>.json`` shipped beside this module."""
    text = resources.files(__package__).joinpath(f"{name}.json").read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


@dataclass(frozen=True)
class Operation:
    """One method on one path template of the document."""

    method: str
    path: str
    pointer: str

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class _Route:
    path: str
    pattern: re.Pattern[str]
    variables: int


class ApiSchema:
    """Checks answers of one API against its document; see :meth:`check`."""

    def __init__(self, name: str, document: Mapping[str, Any]) -> None:
        self.name = name
        self.document = document
        self._uri = f"urn:centrasync:conformance:{name}"
        resource = DRAFT202012.create_resource(dict(document))
        self._registry: Registry[Any] = Registry().with_resource(self._uri, resource)
        self._checker = format_checker()
        self._base = self._pattern(document["servers"][0]["url"], {})
        self._routes = sorted(
            (self._route(path, item) for path, item in document["paths"].items()),
            key=lambda route: route.variables,
        )

    @classmethod
    def load(cls, name: str) -> ApiSchema:
        """The document shipped in this package: ``centra-order-api`` or ``ongoing-rest-v1``."""
        return cls(name, load_document(name))

    # -- routes -------------------------------------------------------------------------

    @staticmethod
    def _pattern(template: str, parameters: Mapping[str, Any]) -> str:
        """A regex for a path template: an integer variable matches digits only."""
        parts = _TEMPLATE.split(template)
        for i in range(1, len(parts), 2):
            integer = parameters.get(parts[i], {}).get("type") == "integer"
            parts[i] = r"\d+" if integer else r"[^/]+"
        for i in range(0, len(parts), 2):
            parts[i] = re.escape(parts[i])
        return "".join(parts)

    def _route(self, path: str, item: Mapping[str, Any]) -> _Route:
        parameters: dict[str, Any] = {}
        for holder in (item, *(item[m] for m in _METHODS if m in item)):
            for parameter in holder.get("parameters", []):
                parameter = self._deref(parameter)
                if parameter.get("in") == "path":
                    parameters[parameter["name"]] = parameter.get("schema", {})
        pattern = re.compile(self._base + self._pattern(path, parameters))
        return _Route(path, pattern, len(_TEMPLATE.findall(path)))

    def _deref(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in node:
            node = self._at(node["$ref"].removeprefix("#"))
        return node

    def _at(self, pointer: str) -> Mapping[str, Any]:
        node: Any = self.document
        for token in pointer.lstrip("/").split("/"):
            node = node[token.replace("~1", "/").replace("~0", "~")]
        result: Mapping[str, Any] = node
        return result

    def in_api(self, path: str) -> bool:
        """Whether ``path`` lies under the server's base (``/api/{uri}``, ...)."""
        return re.match(self._base + "(/|$)", path) is not None

    def operation(self, method: str, path: str) -> Operation | None:
        """The operation serving ``method`` on ``path``; literal paths before templates."""
        for route in self._routes:
            if route.pattern.fullmatch(path):
                if method.lower() in self.document["paths"][route.path]:
                    pointer = f"/paths/{_escape(route.path)}/{method.lower()}"
                    return Operation(method.upper(), route.path, pointer)
                return None
        return None

    def operations(self) -> Iterator[Operation]:
        """Every operation of the document."""
        for path, item in self.document["paths"].items():
            for method in _METHODS:
                if method in item:
                    yield Operation(method.upper(), path, f"/paths/{_escape(path)}/{method}")

    # -- answers ------------------------------------------------------------------------

    def response_pointer(self, operation: Operation | None, status: int) -> str | None:
        """Where the document describes this status for the operation (or unmatched route)."""
        base = f"{operation.pointer}/responses" if operation else "/x-unmatched-route"
        responses = self._at(base) if operation or "x-unmatched-route" in self.document else {}
        key = next(
            (k for k in (str(status), f"{status // 100}XX", "default") if k in responses), None
        )
        if key is None:
            return None
        pointer = f"{base}/{key}"
        while "$ref" in (target := self._at(pointer)):
            pointer = target["$ref"].removeprefix("#")
        return pointer

    def validate(self, pointer: str, value: object) -> list[str]:
        """The schema errors of ``value`` against the schema at ``pointer`` in the document."""
        validator = Draft202012Validator(
            {"$ref": f"{self._uri}#{pointer}"},
            registry=self._registry,
            format_checker=self._checker,
        )
        # Inside oneOf / anyOf, name the deepest failure of the closest branch, not the choice.
        errors = sorted(
            (best_match([error]) for error in validator.iter_errors(value)),
            key=lambda e: [str(part) for part in e.absolute_path],
        )
        found = [f"{error.json_path}: {error.message[:300]}" for error in errors[:_MAX_ERRORS]]
        if len(errors) > _MAX_ERRORS:
            found.append(f"... and {len(errors) - _MAX_ERRORS} more")
        return found

    def check(self, method: str, path: str, status: int, body: bytes) -> tuple[str, list[str]]:
        """What answered (operation key, or ``unmatched``) and the problems of one answer."""
        operation = self.operation(method, path)
        served = operation.key if operation else "unmatched"
        pointer = self.response_pointer(operation, status)
        if pointer is None:
            what = (
                f"{operation.key} does not list status {status}"
                if operation
                else (f"no schema for {method.upper()} {path} (status {status})")
            )
            return served, [what]
        content = self._at(pointer).get("content")
        if not content:
            return served, [] if not body else [f"{served} {status}: a body where none is"]
        try:
            value = json.loads(body)
        except ValueError:
            return served, [f"{served} {status}: the body is not JSON: {body[:120]!r}"]
        schema_pointer = f"{pointer}/content/{_escape(next(iter(content)))}/schema"
        problems = self.validate(schema_pointer, value)
        return served, [f"{served} {status}: {problem}" for problem in problems]

    def check_webhook(self, name: str, body: bytes) -> list[str]:
        """The problems of one webhook call's form body against ``webhooks.<name>``.

        The body is ``payload=<url-encoded JSON>``; the JSON is checked against the
        ``contentSchema`` of the form's ``payload`` field.
        """
        fields = parse_qs(body.decode("ascii"), keep_blank_values=True, strict_parsing=True)
        if list(fields) != ["payload"] or len(fields["payload"]) != 1:
            return [f"webhook {name}: the form is not one payload field: {list(fields)}"]
        try:
            payload = json.loads(fields["payload"][0])
        except ValueError:
            return [f"webhook {name}: the payload is not JSON"]
        content = f"/webhooks/{_escape(name)}/post/requestBody/content"
        media = _escape(next(iter(self._at(content))))
        pointer = f"{content}/{media}/schema/properties/payload/contentSchema"
        return [f"webhook {name}: {problem}" for problem in self.validate(pointer, payload)]
