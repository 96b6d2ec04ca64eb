"""What every Ongoing REST route shares: Basic auth, the goods owner, its write lane, input.

HTTP Basic auth, ``goodsOwnerId`` on every list read and in every ``PUT`` body, JSON only,
ID-cursor paging and repeated-key array parameters, as the reference describes. Writes
(PUT, PATCH, DELETE) run one at a time per goods owner, as on the live system (§8).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, TypeVar

from fastapi import Request

from centrasync.emulators.ongoing.floor import OngoingState
from centrasync.emulators.ongoing.model import OngoingApiError, parse_time
from centrasync.emulators.ongoing.payloads import CodeName

__all__ = [
    "BasicAuth",
    "GoodsOwner",
    "QueryArgs",
    "distinct_code_names",
    "json_body",
    "page",
    "record_label",
    "status_list",
    "within",
]

T = TypeVar("T")

_GOODS_OWNER = "goodsOwnerId"


class BasicAuth:
    """FastAPI dependency: the one API user's HTTP Basic credentials, compared in constant time."""

    def __init__(self, user: str, password: str) -> None:
        self._user = user.encode()
        self._password = password.encode()

    def __call__(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        given_user, given_password = b"", b""
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                decoded = b""
            given_user, _, given_password = decoded.partition(b":")
        user_ok = hmac.compare_digest(given_user, self._user)
        password_ok = hmac.compare_digest(given_password, self._password)
        if not (user_ok and password_ok):
            raise OngoingApiError(401, "Authorization has been denied for this request.")


class GoodsOwner:
    """The goods owner the API user reaches: its state, the owner checks and its write lane."""

    def __init__(self, state: OngoingState, write_delay: float) -> None:
        self.state = state
        self._write_delay = write_delay
        self._write_lane = asyncio.Lock()

    def check(self, goods_owner_id: int | None) -> None:
        if goods_owner_id is None:
            raise OngoingApiError(400, "goodsOwnerId is required")
        if goods_owner_id != self.state.goods_owner_id:
            # The user may only reach its own goods owner; the code is an inference [I].
            raise OngoingApiError(403, f"The user has no access to goods owner {goods_owner_id}")

    def query(
        self, request: Request, params: Collection[str] = (), *, owner_required: bool = False
    ) -> QueryArgs:
        """The route's query parameters, after refusing any the spec does not list for it.

        ``goodsOwnerId`` is understood everywhere: required on list reads
        (``owner_required``), checked wherever it is given. The live API ignores
        parameters it does not know and answers the unfiltered list, which a client cannot
        tell from a filtered one; the emulator names them in a 400 instead [I].
        """
        args = QueryArgs(request)
        unknown = sorted(set(args.names()) - set(params) - {_GOODS_OWNER})
        if unknown:
            route = f"{request.method} {request.url.path}"
            known = ", ".join(sorted({*params, _GOODS_OWNER}))
            raise OngoingApiError(
                400,
                f"{route} does not take the query parameter(s) {', '.join(unknown)} "
                f"(it takes {known})",
            )
        goods_owner_id = args.integer(_GOODS_OWNER)
        if owner_required or goods_owner_id is not None:
            self.check(goods_owner_id)
        return args

    @asynccontextmanager
    async def write_turn(self) -> AsyncIterator[None]:
        """Hold the goods owner's single write lane, taking ``write_delay`` to process."""
        async with self._write_lane:
            if self._write_delay > 0:
                await asyncio.sleep(self._write_delay)
            yield


class QueryArgs:
    """Typed access to query parameters; arrays are repeated keys, never comma lists."""

    def __init__(self, request: Request) -> None:
        self._params = request.query_params

    def text(self, name: str) -> str | None:
        return self._params.get(name)

    def names(self) -> list[str]:
        return list(self._params.keys())

    def texts(self, name: str) -> list[str]:
        return self._params.getlist(name)

    def integers(self, name: str) -> list[int]:
        values = self._params.getlist(name)
        try:
            return [int(value) for value in values]
        except ValueError as exc:
            raise OngoingApiError(400, f"The values {values} are not valid for {name}") from exc

    def integer(self, name: str) -> int | None:
        value = self._params.get(name)
        if value is None:
            return None
        try:
            return int(value)
        except ValueError as exc:
            raise OngoingApiError(400, f"The value '{value}' is not valid for {name}") from exc

    def flag(self, name: str) -> bool:
        value = self._params.get(name)
        if value is None:
            return False
        if value.lower() not in ("true", "false"):
            raise OngoingApiError(400, f"The value '{value}' is not valid for {name}")
        return value.lower() == "true"

    def time(self, name: str) -> datetime | None:
        value = self._params.get(name)
        return None if value is None else parse_time(value, name)


async def json_body(request: Request) -> Any:
    content_type = request.headers.get("content-type", "application/json")
    if "json" not in content_type.lower():
        raise OngoingApiError(415, f"Content type '{content_type}' is not supported: send JSON")
    raw = await request.body()
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OngoingApiError(400, f"The request body is not valid JSON: {exc}") from exc


def page(
    items: Iterable[T], key: Callable[[T], int], start: int | None, size: int | None
) -> list[T]:
    """Ascending by id from ``start``; at most ``size`` rows. An empty page ends a scan."""
    rows = sorted((item for item in items if start is None or key(item) >= start), key=key)
    return rows if size is None else rows[: max(size, 0)]


def within(value: Any, start: Any, end: Any) -> bool:
    if start is not None and (value is None or value < start):
        return False
    return not (end is not None and (value is None or value > end))


def record_label(kind: str, body: Any, field: str) -> str:
    """How an error names the record a body describes, e.g. ``Order 1042-1``."""
    value = body.get(field) if isinstance(body, dict) else None
    return f"{kind} (no {field})" if value is None else f"{kind} {value}"


def distinct_code_names(pairs: Iterable[CodeName | None]) -> list[dict[str, Any]]:
    """Each ``{code, name}`` once, by code, in code order (a type list built from use)."""
    seen: dict[str, CodeName] = {}
    for pair in pairs:
        if pair is not None and pair.code is not None:
            seen.setdefault(pair.code, pair)
    return [{"code": code, "name": seen[code].name} for code in sorted(seen)]


def status_list(key: str, table: Mapping[int, str]) -> dict[str, Any]:
    """A ``GET …/statuses`` answer: every code and text, in code order, under ``key``."""
    return {key: [{"number": number, "text": text} for number, text in sorted(table.items())]}
