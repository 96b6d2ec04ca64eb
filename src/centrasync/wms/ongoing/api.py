"""The Ongoing REST protocol layer: requests, error mapping, ID-cursor paging, the write lane.

Everything that knows HTTP lives here; :mod:`.client` speaks in warehouse terms on top of
it. Nothing from httpx or pydantic leaves this module: transport failures, statuses and
unparseable bodies all become :mod:`centrasync.errors`.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from centrasync.errors import (
    AuthenticationError,
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
from centrasync.http import parse_retry_after
from centrasync.http.transports import IDEMPOTENT, ResilientTransport
from centrasync.wms.models import Listing, Unreadable

from .lane import WriteLane

__all__ = ["SYSTEM", "Identity", "OngoingApi", "QueryParams", "joined", "listed", "write_lane"]

SYSTEM = "ongoing"
M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")
QueryParams = Sequence[tuple[str, str | int | float | bool | None]]

# One lane per (event loop, base URL, goods owner). Ongoing executes writes for a goods
# owner one at a time and parallel ones queue and time out (reference §8), so every
# connector in this process talking to the same account must share one lane. Keying by
# loop as well keeps a lane from being used on a loop it was not created on.
_LANES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, int], WriteLane]] = (
    weakref.WeakKeyDictionary()
)


def write_lane(base_url: str, goods_owner_id: int) -> WriteLane:
    """The lane every write for this account takes; must be called on a running loop."""
    lanes = _LANES.setdefault(asyncio.get_running_loop(), {})
    key = (str(httpx.URL(base_url)).rstrip("/").lower(), goods_owner_id)
    return lanes.setdefault(key, WriteLane())


def _remote_message(body: str) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip() or None
    if isinstance(data, dict):
        for key in ("message", "Message", "error", "title"):
            if isinstance(data.get(key), str):
                return str(data[key])
    return None


def raise_for_status(response: httpx.Response, endpoint: str, secrets: Sequence[str] = ()) -> None:
    """Map a non-2xx answer to the error tree (CONTRIBUTING.md, situation → exception).

    A server may echo what we sent, so the body is scrubbed of our secrets first.
    """
    status = response.status_code
    if status < 400:
        return
    body = redact(response.text, *secrets)
    context: dict[str, Any] = {"system": SYSTEM, "endpoint": endpoint, "status": status}
    if status == 401:
        raise AuthenticationError("the API user name or password was refused", **context)
    if status == 403:
        raise PermissionDeniedError("the API user may not use this endpoint", **context)
    if status == 404:
        raise NotFoundError("no such object", body=body, **context)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"), datetime.now(UTC))
        raise RateLimitedError("rate limited", retry_after=retry_after, body=body, **context)
    if status >= 500:
        raise ServerError("the warehouse system failed", body=body, **context)
    message = _remote_message(body)
    raise RemoteRefusedError(
        f"refused: {message}" if message else "refused",
        remote_message=message,
        body=body,
        **context,
    )


async def joined(pages: AsyncGenerator[list[R]] | AsyncGenerator[Listing[R]]) -> list[R]:
    """Every item of every page, in one list; the pages are closed even on a failure."""
    items: list[R] = []
    async with aclosing(pages):
        async for page in pages:
            items.extend(page)
    return items


async def listed(pages: AsyncGenerator[Listing[R]]) -> Listing[R]:
    """Every page's documents and unreadable ones, in one listing."""
    items: list[R] = []
    rejected: list[Unreadable] = []
    async with aclosing(pages):
        async for page in pages:
            items.extend(page.items)
            rejected.extend(page.rejected)
    return Listing(tuple(items), tuple(rejected))


@dataclass(frozen=True)
class Identity:
    """Where a listed document keeps its id (the paging cursor) and our number for it.

    Read from the raw JSON, so a document that fails validation can still be named, and
    paged past, while the others of its page are read.
    """

    kind: str
    id_path: tuple[str, ...]
    number_path: tuple[str, ...]

    def of(self, row: Any) -> tuple[int | None, str | None]:
        ident, number = _dig(row, self.id_path), _dig(row, self.number_path)
        if isinstance(ident, str) and ident.strip().isdigit():
            ident = int(ident)
        return (
            ident if isinstance(ident, int) and not isinstance(ident, bool) else None,
            str(number) if isinstance(number, str | int) and str(number).strip() else None,
        )

    def name(self, ident: int | None, number: str | None, index: int) -> str:
        if number is not None:
            return f"{self.kind} {number!r}"
        return f"{self.kind} id {ident}" if ident is not None else f"{self.kind} #{index}"


def _dig(row: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(row, dict):
            return None
        row = row.get(key)
    return row


def _field(exc: ValidationError) -> tuple[str, str]:
    """The first problem's field (vendor names, dotted) and message."""
    first = exc.errors()[0]
    return ".".join(str(part) for part in first["loc"]) or "body", first["msg"]


class OngoingApi:
    """Typed GET/PUT/PATCH/DELETE against one goods owner, over an injected httpx client."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        goods_owner_id: int,
        *,
        transport: ResilientTransport,
        lane: Callable[[], WriteLane],
        page_size: int,
        secrets: Sequence[str] = (),
    ) -> None:
        self._client = client
        self._transport = transport
        self._secrets = tuple(secrets)
        self.goods_owner_id = goods_owner_id
        self._lane = lane
        self.page_size = page_size

    async def _send(
        self, method: str, path: str, *, params: QueryParams = (), body: Any = None
    ) -> httpx.Response:
        endpoint = f"{method} {path}"
        query: list[tuple[str, str | int | float | bool | None]] = [
            ("goodsOwnerId", self.goods_owner_id)
        ]
        query.extend(params)
        # Every call here is safe to repeat: PUT is an upsert by business key, PATCH sets
        # an absolute value, DELETE of a cancelled order succeeds (reference §2, §8).
        extensions = {IDEMPOTENT: True}
        try:
            response = await self._client.request(
                method, path, params=query, json=body, extensions=extensions
            )
            await response.aread()
        except httpx.TimeoutException as exc:
            raise NetworkError(
                f"timed out: {type(exc).__name__}", system=SYSTEM, endpoint=endpoint
            ) from exc
        except httpx.HTTPError as exc:
            raise NetworkError(
                redact(f"request failed: {type(exc).__name__}: {exc}", *self._secrets),
                system=SYSTEM,
                endpoint=endpoint,
            ) from exc
        raise_for_status(response, endpoint, self._secrets)
        return response

    @staticmethod
    def _json(response: httpx.Response, endpoint: str, secrets: Sequence[str]) -> Any:
        try:
            return json.loads(response.content.decode("utf-8-sig"))
        except ValueError as exc:
            raise MalformedResponseError(
                "the body is not JSON",
                system=SYSTEM,
                endpoint=endpoint,
                status=response.status_code,
                body=redact(response.text, *secrets),
            ) from exc

    @staticmethod
    def _validate(adapter: TypeAdapter[Any], data: Any, endpoint: str) -> Any:
        try:
            return adapter.validate_python(data)
        except ValidationError as exc:
            where, message = _field(exc)
            raise MalformedResponseError(
                f"unexpected JSON at {where}: {message} ({exc.error_count()} problem(s))",
                system=SYSTEM,
                endpoint=endpoint,
            ) from exc

    async def _read(self, path: str, params: QueryParams, parse: Callable[[Any, str], R]) -> R:
        """GET and ``parse`` the JSON; an answer that is not the documented JSON (cut short,
        a gateway's page) is read again within the retry policy, since a read changes nothing.
        """
        endpoint = f"GET {path}"
        reads = 0
        while True:
            reads += 1
            response = await self._send("GET", path, params=params)
            try:
                return parse(self._json(response, endpoint, self._secrets), endpoint)
            except MalformedResponseError:
                if not await self._transport.wait_to_reread(reads):
                    raise

    async def get(self, path: str, model: type[M], params: QueryParams = ()) -> M:
        adapter = TypeAdapter(model)
        result: M = await self._read(
            path, params, lambda data, endpoint: self._validate(adapter, data, endpoint)
        )
        return result

    async def get_all(
        self,
        path: str,
        model: type[M],
        *,
        row_id: Callable[[M], int],
        cursor_param: str,
        size_param: str,
        params: QueryParams = (),
    ) -> list[M]:
        """Every row of :meth:`pages`, in one list."""
        return await joined(
            self.pages(
                path,
                model,
                row_id=row_id,
                cursor_param=cursor_param,
                size_param=size_param,
                params=params,
            )
        )

    async def pages(
        self,
        path: str,
        model: type[M],
        *,
        row_id: Callable[[M], int],
        cursor_param: str,
        size_param: str,
        params: QueryParams = (),
        identity: Identity | None = None,
    ) -> AsyncGenerator[Listing[M]]:
        """Every row, page by page: ``cursor_param`` = highest id seen + 1, until a page is empty.

        Yielded as they come, so a caller reading a whole catalogue can keep what it needs
        of each page instead of every parsed row. A row already yielded is not yielded
        again. A cursor that does not move forward means the server ignored it (the
        ``page`` / ``pageSize`` trap of reference §2); looping would never end, so it raises.
        Without ``identity`` a row that fails validation fails the page; with it, the row
        is rejected by name and field and the others are read.
        """
        endpoint = f"GET {path}"
        adapter = TypeAdapter(list[model])  # type: ignore[valid-type]

        def parse(data: Any, endpoint: str) -> tuple[list[M], list[tuple[int | None, Unreadable]]]:
            if identity is None or not isinstance(data, list):
                return self._validate(adapter, data, endpoint), []
            try:
                return adapter.validate_python(data), []
            except ValidationError:
                return self._sorted_out(model, data, identity, endpoint)

        seen: set[int] = set()

        def first_sight(ident: int) -> bool:
            if ident in seen:
                return False
            seen.add(ident)
            return True

        cursor: int | None = None
        while True:
            page_params = [*params, (size_param, self.page_size)]
            if cursor is not None:
                page_params.append((cursor_param, cursor))
            page, bad = await self._read(path, page_params, parse)
            good_ids = [row_id(row) for row in page]
            ids = good_ids + [i for i, _ in bad if i is not None]
            if not ids:
                if not bad:
                    return
                raise MalformedResponseError(
                    f"no row of the page has a readable id to page on: {bad[0][1].error}",
                    system=SYSTEM,
                    endpoint=endpoint,
                )
            next_cursor = max(ids) + 1
            if cursor is not None and next_cursor <= cursor:
                raise MalformedResponseError(
                    f"paging cursor did not advance ({cursor_param}={cursor} returned ids up to "
                    f"{max(ids)}); the server ignored it",
                    system=SYSTEM,
                    endpoint=endpoint,
                )
            fresh = [row for row, i in zip(page, good_ids, strict=True) if first_sight(i)]
            rejected = [u for i, u in bad if i is None or first_sight(i)]
            if fresh or rejected:
                yield Listing(tuple(fresh), tuple(rejected))
            cursor = next_cursor

    async def listing(
        self, path: str, model: type[M], identity: Identity, params: QueryParams = ()
    ) -> Listing[M]:
        """Every row of an unpaged read; a row that fails validation is rejected by name and
        field, and the others are read."""
        adapter = TypeAdapter(list[model])  # type: ignore[valid-type]

        def parse(data: Any, endpoint: str) -> Listing[M]:
            if not isinstance(data, list):
                return Listing(tuple(self._validate(adapter, data, endpoint)))
            try:
                return Listing(tuple(adapter.validate_python(data)))
            except ValidationError:
                good, bad = self._sorted_out(model, data, identity, endpoint)
                return Listing(tuple(good), tuple(unreadable for _, unreadable in bad))

        result: Listing[M] = await self._read(path, params, parse)
        return result

    @staticmethod
    def _sorted_out(
        model: type[M], rows: list[Any], identity: Identity, endpoint: str
    ) -> tuple[list[M], list[tuple[int | None, Unreadable]]]:
        """The rows that validate, and the others, each named with its first bad field."""
        good: list[M] = []
        bad: list[tuple[int | None, Unreadable]] = []
        for index, row in enumerate(rows):
            try:
                good.append(model.model_validate(row))
            except ValidationError as exc:
                ident, number = identity.of(row)
                field, message = _field(exc)
                error = RecordValidationError(
                    message,
                    record=identity.name(ident, number, index),
                    field=field,
                    system=SYSTEM,
                    endpoint=endpoint,
                )
                bad.append((ident, Unreadable(number, error, row)))
        return good, bad

    async def _write(self, method: str, path: str, body: BaseModel | None) -> httpx.Response:
        payload = (
            None if body is None else body.model_dump(mode="json", by_alias=True, exclude_none=True)
        )
        # Catalogue writes give way to orders, cancellations and reported quantities.
        urgent = not path.startswith("articles")
        return await self._lane().run(lambda: self._send(method, path, body=payload), urgent=urgent)

    async def write(self, method: str, path: str, body: BaseModel | None = None) -> None:
        """A PATCH or DELETE, serialised on the account's write lane.

        A 200 whose body is not JSON (a gateway's error page) may never have reached
        Ongoing, so it is not taken as done; an empty body is.
        """
        response = await self._write(method, path, body)
        if response.content.strip():
            self._json(response, f"{method} {path}", self._secrets)

    async def put(self, path: str, body: BaseModel, response_model: type[M]) -> M:
        """An upsert, serialised on the account's write lane; returns the parsed answer."""
        response = await self._write("PUT", path, body)
        endpoint = f"PUT {path}"
        result: M = self._validate(
            TypeAdapter(response_model), self._json(response, endpoint, self._secrets), endpoint
        )
        return result
