"""The Integration API client bound to the Centra emulator, for :class:`IntegrationApiContract`.

:func:`centra_harness` builds a seeded emulator (the ``demo`` world), a client with a token
holding every permission, a control client for the emulator's ``/_emulator/`` routes and
its Order API, and a way to make clients with other tokens. Everything runs in-process
through ``EmulatorTransport``; the transport records the operations sent, so the contract
can prove each test sent what it claims to cover.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import SecretStr

from centrasync.centra.integration.client import IntegrationApiClient
from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.faults import EmulatorTransport
from centrasync.http import RetryPolicy
from centrasync.http.quota import QuotaBudget

__all__ = ["CentraHarness", "RecordingTransport", "centra_harness"]

_BASE = "http://centra.test"
_SECRET = "s3cret"
_TOKEN = "contract-token"


class RecordingTransport(httpx.AsyncBaseTransport):
    """Passes requests on and notes the ``operationName`` of each GraphQL request."""

    def __init__(self, inner: httpx.AsyncBaseTransport, sent: set[str]) -> None:
        self.inner = inner
        self.sent = sent

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/graphql"):
            body = json.loads(request.content or b"{}")
            if isinstance(body, dict) and isinstance(body.get("operationName"), str):
                self.sent.add(body["operationName"])
        return await self.inner.handle_async_request(request)


@dataclass
class CentraHarness:
    """A client on a fresh emulator world, and the means to change that world.

    ``control`` speaks to the emulator's root: ``/_emulator/…`` and the Order API at
    ``/api/<store>/`` with ``order_api_headers``. ``client_with(permissions)`` opens a
    client whose token holds only those permissions (and ``**token`` extras such as
    ``integration_name``); ``open_client(token)`` one with any token text (the caller
    closes it); ``sent`` collects every operation name a client sent.
    """

    client: IntegrationApiClient
    control: httpx.AsyncClient
    store: str
    order_api_headers: dict[str, str]
    client_with: Callable[..., AbstractAsyncContextManager[IntegrationApiClient]]
    open_client: Callable[[str], IntegrationApiClient]
    sent: set[str] = field(default_factory=set)


@asynccontextmanager
async def centra_harness(
    *, retry: RetryPolicy | None = None, budget: QuotaBudget | None = None
) -> AsyncIterator[CentraHarness]:
    """A seeded Centra emulator, a client with every permission, and its control client."""
    emulator = CentraEmulator(seed="demo", secret=_SECRET, graphql_token=_TOKEN)
    sent: set[str] = set()
    transport = RecordingTransport(EmulatorTransport(emulator.app), sent)
    policy = retry or RetryPolicy(max_attempts=3, base_delay=0.01)

    def open_client(token: str) -> IntegrationApiClient:
        return IntegrationApiClient(
            f"{_BASE}/graphql", SecretStr(token), transport=transport, retry=policy, budget=budget
        )

    async with httpx.AsyncClient(
        transport=EmulatorTransport(emulator.app), base_url=_BASE
    ) as control:

        @asynccontextmanager
        async def client_with(
            permissions: Sequence[str], **token: Any
        ) -> AsyncIterator[IntegrationApiClient]:
            made = await control.post(
                "/_emulator/tokens", json={"permissions": list(permissions), **token}
            )
            made.raise_for_status()
            async with open_client(made.json()["token"]) as client:
                yield client

        try:
            async with open_client(_TOKEN) as client:
                yield CentraHarness(
                    client=client,
                    control=control,
                    store="wms",
                    order_api_headers={"API-Authorization": _SECRET},
                    client_with=client_with,
                    open_client=open_client,
                    sent=sent,
                )
        finally:
            await emulator.aclose()
