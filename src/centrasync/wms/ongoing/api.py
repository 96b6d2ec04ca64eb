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
    RemoteRefusedError,
    ServerError,
    redact,
)
from centrasync.http import IDEMPOTENT, parse_retry_after

from .lane import WriteLane

__all__ = ["SYSTEM", "OngoingApi", "QueryParams", "joined", "write_lane"]

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


async def joined(pages: AsyncGenerator[list[R]]) -> list[R]:
    """Every item of every page, in one list; the pages are closed even on a failure."""
    items: list[R] = []
    async with aclosing(pages):
        async for page in pages:
            items.extend(page)
    return items


class OngoingApi:
    """Typed GET/PUT/PATCH/DELETE against one goods owner, over an injected httpx client."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        goods_owner_id: int,
        *,
        lane: Callable[[], WriteLane],
        page_size: int,
        secrets: Sequence[str] = (),
    ) -> None:
        self._client = client
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
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "body"
            raise MalformedResponseError(
                f"unexpected JSON at {where}: {first['msg']} ({exc.error_count()} problem(s))",
                system=SYSTEM,
                endpoint=endpoint,
            ) from exc

    async def get(self, path: str, model: type[M], params: QueryParams = ()) -> M:
        response = await self._send("GET", path, params=params)
        endpoint = f"GET {path}"
        result: M = self._validate(
            TypeAdapter(model), self._json(response, endpoint, self._secrets), endpoint
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
    ) -> AsyncGenerator[list[M]]:
        """Every row, page by page: ``cursor_param`` = highest id seen + 1, until a page is empty.

        Yielded as they come, so a caller reading a whole catalogue can keep what it needs
        of each page instead of every parsed row. A row already yielded is not yielded
        again. A cursor that does not move forward means the server ignored it (the
        ``page`` / ``pageSize`` trap of reference §2); looping would never end, so it raises.
        """
        endpoint = f"GET {path}"
        adapter = TypeAdapter(list[model])  # type: ignore[valid-type]
        seen: set[int] = set()
        cursor: int | None = None
        while True:
            page_params = [*params, (size_param, self.page_size)]
            if cursor is not None:
                page_params.append((cursor_param, cursor))
            response = await self._send("GET", path, params=page_params)
            page: list[M] = self._validate(
                adapter, self._json(response, endpoint, self._secrets), endpoint
            )
            if not page:
                return
            ids = [row_id(row) for row in page]
            next_cursor = max(ids) + 1
            if cursor is not None and next_cursor <= cursor:
                raise MalformedResponseError(
                    f"paging cursor did not advance ({cursor_param}={cursor} returned ids up to "
                    f"{max(ids)}); the server ignored it",
                    system=SYSTEM,
                    endpoint=endpoint,
                )
            fresh = []
            for row, ident in zip(page, ids, strict=True):
                if ident not in seen:
                    seen.add(ident)
                    fresh.append(row)
            if fresh:
                yield fresh
            cursor = next_cursor

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
