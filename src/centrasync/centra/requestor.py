"""The Order API protocol layer: one request in, one checked JSON envelope out.

Everything Centra-specific about *talking* (the auth header, the ``status: "no"`` envelope,
403 ``Not Allowed``, loose bodies) is decided here, and every third-party exception
(httpx, json, pydantic) is translated into :mod:`centrasync.errors` before it can escape.
Typed endpoint methods live in :mod:`centrasync.centra.client`.

Retries are decided by :class:`~centrasync.http.ResilientTransport`: it repeats a
request after 429 always, after 5xx or a dropped connection only when the request is
marked idempotent. Captures, completions, new returns and delivery acceptances are marked
non-idempotent, so an ambiguous failure surfaces as an error for the flow to resolve by
reading state back, instead of risking a second capture or a second return. Only a GET
answered 200 with a body that does not parse is sent again from here, under the same
policy: the transport cannot tell such a body from a good one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
from pydantic import BaseModel, ValidationError

from centrasync.errors import (
    AuthenticationError,
    CaptureDeclinedError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RecordValidationError,
    RemoteRefusedError,
    ServerError,
    redact,
)
from centrasync.http import Priority, parse_retry_after
from centrasync.http.transports import IDEMPOTENT, PRIORITY, ResilientTransport

from .loose import ZONE_CONTEXT_KEY

__all__ = ["OrderApiRequestor", "check_envelope", "validate_record"]

SYSTEM = "centra"
M = TypeVar("M", bound=BaseModel)

# The two capture refusals Centra documents (106, 109, 110); anything else is a plain "no".
_CAPTURE_DECLINED = re.compile(r"capture failed|can ?not capture|capture (?:was )?declined", re.I)


def _refusal_message(body: Mapping[str, Any]) -> str:
    msg = body.get("msg")
    if msg is None:
        return "refused without a message"
    return msg if isinstance(msg, str) else json.dumps(msg, sort_keys=True)


def check_envelope(
    endpoint: str,
    response: httpx.Response,
    *,
    secret: str | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, Any]:
    """Map one response to its JSON object or to the error the caller should act on.

    Pure apart from reading ``response``; ``endpoint`` is ``"<METHOD> /<path>"`` and names
    the call in every error. ``secret`` is masked in any body quoted in an error.
    """
    status = response.status_code
    text = redact(response.text, secret) if status != 200 else ""
    where: dict[str, Any] = {"system": SYSTEM, "endpoint": endpoint, "status": status}
    if status == 401:
        raise AuthenticationError("Centra refused the API-Authorization secret", body=text, **where)
    if status == 403:
        if "not allowed" in text.lower():
            raise PermissionDeniedError(
                f"{endpoint} is not in the Order API plugin's allowed endpoints",
                body=text,
                **where,
            )
        raise AuthenticationError(
            "Centra refused the request (wrong secret or plugin disabled)", body=text, **where
        )
    if status == 404:
        raise NotFoundError("Centra has no such resource", body=text, **where)
    if status == 429:
        wait = parse_retry_after(response.headers.get("retry-after"), now())
        raise RateLimitedError("Centra rate limit hit", retry_after=wait, body=text, **where)
    if status >= 500:
        raise ServerError("Centra failed to answer", body=text, **where)
    if status != 200:
        raise RemoteRefusedError(f"unexpected HTTP {status}", body=text, **where)
    try:
        body = response.json()
    except ValueError:
        raise MalformedResponseError(
            "body is not JSON (truncated or an error page)",
            body=redact(response.text, secret),
            **where,
        ) from None
    if not isinstance(body, dict):
        raise MalformedResponseError(
            f"expected a JSON object, got {type(body).__name__}",
            body=redact(response.text, secret),
            **where,
        )
    outcome = body.get("status")
    if outcome == "ok":
        return body
    if outcome == "no":
        message = redact(_refusal_message(body), secret)
        kind = CaptureDeclinedError if _CAPTURE_DECLINED.search(message) else RemoteRefusedError
        raise kind(
            f"Centra refused: {message}",
            remote_message=message,
            details={k: v for k, v in body.items() if k not in ("status", "msg")},
            **where,
        )
    raise MalformedResponseError(
        f"envelope has status {outcome!r}, expected 'ok' or 'no'",
        body=redact(response.text, secret),
        **where,
    )


def validate_record(model: type[M], data: Any, *, zone: ZoneInfo, record: str, endpoint: str) -> M:
    """Validate one record with the store's zone, naming record and field on failure."""
    try:
        return model.model_validate(data, context={ZONE_CONTEXT_KEY: zone})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(record)"
        raise RecordValidationError(
            first["msg"], record=record, field=field, system=SYSTEM, endpoint=endpoint
        ) from exc


async def send_once(
    http: httpx.AsyncClient,
    request: httpx.Request,
    *,
    secret: str,
    endpoint: str,
    system: str = SYSTEM,
) -> httpx.Response:
    """Send through the resilient transport; what it could not complete is a NetworkError
    whose message never carries ``secret``."""
    try:
        return await http.send(request)
    except httpx.HTTPError as exc:
        raise NetworkError(
            f"no complete answer: {redact(str(exc), secret) or type(exc).__name__}",
            system=system,
            endpoint=endpoint,
        ) from exc


class OrderApiRequestor:
    """Sends one call through an injected ``httpx.AsyncClient`` and checks the envelope."""

    def __init__(self, http: httpx.AsyncClient, secret: str, transport: ResilientTransport) -> None:
        self._http = http
        self._secret = secret
        self._transport = transport

    def __repr__(self) -> str:
        return f"OrderApiRequestor(base_url={str(self._http.base_url)!r})"

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Mapping[str, Any] | None = None,
        idempotent: bool,
        priority: Priority,
    ) -> dict[str, Any]:
        """One round trip; returns the ``status: "ok"`` object or raises a typed error.

        A GET whose answer is not the documented JSON (cut short, a gateway's page) is
        read again, within the transport's retry policy: a read changes nothing.
        """
        endpoint = f"{method} /{path}"
        request = self._http.build_request(
            method,
            path,
            params=dict(params or {}),
            json=body,
            extensions={IDEMPOTENT: idempotent, PRIORITY: priority},
        )
        reads = 0
        while True:
            reads += 1
            response = await send_once(self._http, request, secret=self._secret, endpoint=endpoint)
            try:
                return check_envelope(endpoint, response, secret=self._secret)
            except MalformedResponseError:
                if method != "GET" or not await self._transport.wait_to_reread(reads):
                    raise
