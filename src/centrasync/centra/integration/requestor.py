"""The Integration API protocol layer: one operation in, its checked ``data`` out.

Centra's statuses (reference §3.2): only 200 is success; 400 is a query the server will
never run; 403 a token that is invalid or expired; 429 the environment's quota; 499 a
query so slow the connection was closed (a network failure to the caller: ask for less). A 200 with
``errors`` is a failure too (the typed result would be incomplete): an ``authorization``
error is a missing permission, anything else a refusal. Mutations are checked for
``userErrors`` by the client, which knows the payload's field.

The bearer token is only ever in the ``Authorization`` header of the injected client; every
text that reaches an error passes :func:`~centrasync.errors.redact` with it first.

Each request carries its cost for :class:`~centrasync.http.quota.PacedTransport`: one
request, one mutation for a mutation, and the complexity the same operation cost last time
(the server's formula is not published; until an operation has been seen, the dearest seen
so far). The real cost, ``extensions.complexity``, is settled against the reservation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from centrasync.errors import (
    MalformedResponseError,
    MissingPermissionError,
    NetworkError,
    RateLimitedError,
    RemoteRefusedError,
    ServerError,
    TokenInvalidError,
    redact,
)
from centrasync.http import Priority, parse_retry_after
from centrasync.http.quota import ANSWERED_AT, COST, QuotaBudget
from centrasync.http.transports import IDEMPOTENT, PRIORITY, ResilientTransport

from ..requestor import send_once
from .operations import Operation

__all__ = [
    "SYSTEM",
    "Answer",
    "IntegrationApiRequestor",
    "check_answer",
    "dump_variables",
    "raise_field_errors",
]

SYSTEM = "centra integration api"
_NEEDS = re.compile(r"You need (\S+) permission")


class Answer:
    """A 200 answer: ``data``, the ``extensions`` (complexity, permissions used) and the
    field ``errors`` (empty unless the caller asked to see them instead of an exception)."""

    __slots__ = ("answered_at", "data", "errors", "extensions")

    def __init__(
        self,
        data: dict[str, Any],
        extensions: dict[str, Any],
        errors: list[dict[str, Any]] | None = None,
        answered_at: float | None = None,
    ) -> None:
        self.data = data
        self.extensions = extensions
        self.errors = errors or []
        self.answered_at = answered_at
        """When the answer arrived, on the quota budget's clock (None: no budget)."""

    @property
    def missing_permissions(self) -> tuple[str, ...]:
        """The permissions the field errors say the token lacks, in order, once each."""
        found: dict[str, None] = {}
        for error in self.errors:
            needed = _NEEDS.search(str(error.get("message", "")))
            if needed:
                found[needed.group(1)] = None
        return tuple(found)

    @property
    def complexity(self) -> int:
        value = self.extensions.get("complexity")
        return value if isinstance(value, int) else 0

    @property
    def permissions_used(self) -> tuple[str, ...]:
        used = self.extensions.get("permissionsUsed")
        return tuple(p for p in used if isinstance(p, str)) if isinstance(used, list) else ()


def _messages(body: Any) -> str:
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return ""
    return "; ".join(str(e.get("message")) for e in errors if isinstance(e, dict))


def check_answer(
    endpoint: str,
    response: httpx.Response,
    *,
    token: str | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """Map one response to ``(data, extensions, errors)`` or to the error to act on.

    Pure apart from reading ``response``. ``errors`` are the 200's field errors, which the
    caller turns into exceptions (:func:`raise_field_errors`) unless it wants them.
    """
    status = response.status_code
    where: dict[str, Any] = {"system": SYSTEM, "endpoint": endpoint, "status": status}
    text = redact(response.text, token)
    if status == 403:
        raise TokenInvalidError(
            "Integration API token invalid or expired: configure a new one", body=text, **where
        )
    if status == 429:
        wait = parse_retry_after(response.headers.get("retry-after"), now())
        raise RateLimitedError(
            "Integration API rate limit hit", retry_after=wait, body=text, **where
        )
    if status == 499:
        raise NetworkError(
            "Centra closed the connection: the query ran too long (499)", body=text, **where
        )
    if status >= 500:
        raise ServerError("Centra failed to answer", body=text, **where)
    try:
        body = response.json()
    except ValueError:
        if status == 200:
            raise MalformedResponseError(
                "body is not JSON (truncated or an error page)", body=text, **where
            ) from None
        body = None
    if status == 400:
        reason = redact(_messages(body), token) or "invalid request"
        raise RemoteRefusedError(f"the query was refused: {reason}", body=text, **where)
    if status != 200:
        raise RemoteRefusedError(f"unexpected HTTP {status}", body=text, **where)
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict | None):
        raise MalformedResponseError("expected a GraphQL response object", body=text, **where)
    extensions = body.get("extensions")
    errors = body.get("errors")
    return (
        body.get("data") or {},
        extensions if isinstance(extensions, dict) else {},
        [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else [],
    )


def raise_field_errors(endpoint: str, errors: list[dict[str, Any]], token: str | None) -> None:
    """A missing permission first (a person must fix the token), else the first refusal."""
    if not errors:
        return
    where: dict[str, Any] = {"system": SYSTEM, "endpoint": endpoint, "status": 200}
    for error in errors:
        extensions = error.get("extensions")
        if isinstance(extensions, dict) and extensions.get("category") == "authorization":
            message = redact(str(error.get("message", "")), token)
            needed = _NEEDS.search(message)
            path = ".".join(str(p) for p in error.get("path") or ())
            raise MissingPermissionError(
                f"the token lacks a permission: {message}",
                permission=needed.group(1) if needed else None,
                path=path,
                **where,
            )
    reason = redact("; ".join(str(e.get("message")) for e in errors), token)
    raise RemoteRefusedError(f"the query failed: {reason}", **where)


class IntegrationApiRequestor:
    """Sends operations through an injected ``httpx.AsyncClient`` and checks the answer."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        url: str,
        token: str,
        transport: ResilientTransport,
        budget: QuotaBudget | None,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._http = http
        self._url = url
        self._token = token
        self._transport = transport
        self._budget = budget
        self._now = now
        self._costs: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"IntegrationApiRequestor(url={self._url!r})"

    def _estimate(self, operation: Operation) -> int:
        known = self._costs.get(operation.name)
        if known is not None:
            return known
        return max(self._costs.values(), default=0)

    async def execute(
        self,
        operation: Operation,
        variables: Mapping[str, Any] | None = None,
        *,
        priority: Priority = Priority.ORDER_FLOW,
        raise_errors: bool = True,
    ) -> Answer:
        """One round trip; the answer without field errors, or a typed error.

        A query whose 200 body does not parse is read again under the retry policy.
        ``raise_errors=False`` returns a 200's field errors in the answer instead (for a
        probe that wants every missing permission, not the first).
        """
        endpoint = f"{operation.kind} {operation.name}"
        estimate = self._estimate(operation)
        cost = {
            "requests": 1.0,
            "complexity": float(estimate),
            "mutations": 1.0 if operation.kind == "mutation" else 0.0,
        }
        request = self._http.build_request(
            "POST",
            self._url,
            json={
                "query": operation.text,
                "variables": dict(variables or {}),
                "operationName": operation.name,
            },
            extensions={IDEMPOTENT: operation.idempotent, PRIORITY: priority, COST: cost},
        )
        reads = 0
        while True:
            reads += 1
            response = await send_once(
                self._http, request, secret=self._token, endpoint=endpoint, system=SYSTEM
            )
            try:
                data, extensions, errors = check_answer(
                    endpoint, response, token=self._token, now=self._now
                )
            except MalformedResponseError:
                if operation.kind != "query" or not await self._transport.wait_to_reread(reads):
                    raise
                continue
            break
        answer = Answer(data, extensions, errors, request.extensions.get(ANSWERED_AT))
        self._costs[operation.name] = answer.complexity
        if self._budget is not None:
            self._budget.settle("complexity", answer.complexity - estimate)
        if raise_errors:
            raise_field_errors(endpoint, errors, self._token)
        return answer


def dump_variables(value: Any) -> Any:
    """Variables as JSON values: aware datetimes in ISO-8601 with their offset.

    A naive datetime is refused: Centra would read it in the merchant zone, and nothing
    inside centrasync means local time.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime in GraphQL variables: use an aware UTC one")
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): dump_variables(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [dump_variables(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    raise TypeError(f"{type(value).__name__} is not a GraphQL variable value")
