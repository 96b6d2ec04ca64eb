"""Construction, lifetime and shared helpers of the Order API client.

:class:`OrderApiBase` builds the HTTP stack (``ResilientTransport`` around the injected
transport, auth headers, timeout) and owns the small helpers every endpoint uses: rendering
filter times in the merchant zone, validating records with the store zone, and following
Centra's ``next`` query strings. The typed endpoints are in :mod:`centrasync.centra.client`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from centrasync.errors import MalformedResponseError, RecordValidationError
from centrasync.http import AsyncClosing, Priority, RateBudget, RetryPolicy
from centrasync.http.transports import ResilientTransport

from .requestor import SYSTEM, OrderApiRequestor, validate_record
from .results import Page
from .timezones import MerchantZone
from .types import Moment

__all__ = ["OrderApiBase"]

M = TypeVar("M", bound=BaseModel)


class OrderApiBase(AsyncClosing):
    """One Order API plugin instance: ``<host>/api/<uri>/`` plus its shared secret.

    An async context manager; it owns the ``httpx.AsyncClient`` it builds around
    ``transport`` (default: a real network transport). ``sleep`` is what the retry loop
    waits with, so tests inject a recorder instead of sleeping.
    """

    def __init__(
        self,
        base_url: str,
        secret: str,
        timezone: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        budget: RateBudget | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.zone = MerchantZone(timezone)
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.transport = ResilientTransport(
            transport or httpx.AsyncHTTPTransport(), policy=retry, budget=budget, sleep=sleep
        )
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=self.transport,
            timeout=httpx.Timeout(timeout),
            headers={"API-Authorization": secret, "Accept": "application/json"},
        )
        self._api = OrderApiRequestor(self._http, secret, self.transport)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, timezone={self.zone.name!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- helpers -------------------------------------------------------------------------

    def _when(self, moment: Moment | None, name: str) -> str | None:
        return None if moment is None else self.zone.to_centra(moment, field=name)

    def _one(self, model: type[M], data: Any, record: str, endpoint: str) -> M:
        return validate_record(model, data, zone=self.zone.zone, record=record, endpoint=endpoint)

    def _many(
        self, model: type[M], rows: Any, kind: str, key: str, endpoint: str, nxt: str | None = None
    ) -> Page[M]:
        if not isinstance(rows, list):
            raise MalformedResponseError(
                f"expected a list of {kind} records", system=SYSTEM, endpoint=endpoint
            )
        items: list[M] = []
        rejected: list[RecordValidationError] = []
        for index, row in enumerate(rows):
            ident = row.get(key) if isinstance(row, dict) else None
            record = f"{kind} {ident}" if ident not in (None, "") else f"{kind} #{index}"
            try:
                items.append(self._one(model, row, record, endpoint))
            except RecordValidationError as exc:
                rejected.append(exc)
        return Page(tuple(items), tuple(rejected), nxt)

    @staticmethod
    def _params(**values: Any) -> dict[str, str | int]:
        return {k: v for k, v in values.items() if v is not None}

    async def _follow(
        self,
        path: str,
        model: type[M],
        kind: str,
        params: dict[str, str | int],
    ) -> AsyncIterator[Page[M]]:
        """Follow ``next`` query strings until absent; a repeated ``next`` is a loop."""
        endpoint = f"GET /{path}"
        seen: set[str] = set()
        while True:
            body = await self._api.call(
                "GET", path, params=params, idempotent=True, priority=Priority.CATALOGUE
            )
            nxt = body.get("next") or None
            if nxt is not None and not isinstance(nxt, str):
                raise MalformedResponseError(
                    f"'next' is {type(nxt).__name__}, expected a query string",
                    system=SYSTEM,
                    endpoint=endpoint,
                )
            yield self._many(model, body.get("products"), kind, "stockItemId", endpoint, nxt)
            if nxt is None:
                return
            if nxt in seen:
                raise MalformedResponseError(
                    f"paging loop: Centra sent next={nxt!r} twice", system=SYSTEM, endpoint=endpoint
                )
            seen.add(nxt)
            params = {**params, **dict(httpx.URL(nxt).params)}
