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

    async def aclose(self) -> None:
        """Nothing: the harness closes the transport its clients share, once."""

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
    closes it); ``sent`` collects every operation name a client sent; ``emulator`` is the
    in-process emulator, if any.
    """

    client: IntegrationApiClient
    control: httpx.AsyncClient
    store: str
    order_api_headers: dict[str, str]
    client_with: Callable[..., AbstractAsyncContextManager[IntegrationApiClient]]
    open_client: Callable[[str], IntegrationApiClient]
    sent: set[str] = field(default_factory=set)
    # The in-process emulator (None when served elsewhere): a test seeds a value no
    # control route makes, such as a malformed field.
    emulator: CentraEmulator | None = None


@asynccontextmanager
async def centra_harness(
    *,
    url: str | None = None,
    token: str = _TOKEN,
    secret: str = _SECRET,
    store: str = "wms",
    retry: RetryPolicy | None = None,
    budget: QuotaBudget | None = None,
) -> AsyncIterator[CentraHarness]:
    """A seeded world, a client with every permission, and a control client.

    In-process by default. With ``url``, the emulator served there (``centrasync emulate
    centra --seed demo --uri <store> --secret <secret> --graphql-token <token>``) is reset
    to its seed first, and everything goes over the network.
    """
    sent: set[str] = set()
    policy = retry or RetryPolicy(max_attempts=3, base_delay=0.01)
    emulator: CentraEmulator | None = None
    if url is None:
        emulator = CentraEmulator(seed="demo", secret=secret, graphql_token=token)
        network: httpx.AsyncBaseTransport = EmulatorTransport(emulator.app)
        control_transport: httpx.AsyncBaseTransport = EmulatorTransport(emulator.app)
        base = _BASE
    else:
        network, control_transport, base = (
            httpx.AsyncHTTPTransport(),
            httpx.AsyncHTTPTransport(),
            url,
        )
    transport = RecordingTransport(network, sent)

    def open_client(bearer: str) -> IntegrationApiClient:
        return IntegrationApiClient(
            f"{base}/graphql", SecretStr(bearer), transport=transport, retry=policy, budget=budget
        )

    async with httpx.AsyncClient(
        transport=control_transport, base_url=base, timeout=30.0
    ) as control:
        if emulator is None:
            (await control.post("/_emulator/reset")).raise_for_status()

        @asynccontextmanager
        async def client_with(
            permissions: Sequence[str], **extra: Any
        ) -> AsyncIterator[IntegrationApiClient]:
            made = await control.post(
                "/_emulator/tokens", json={"permissions": list(permissions), **extra}
            )
            made.raise_for_status()
            async with open_client(made.json()["token"]) as client:
                yield client

        try:
            async with open_client(token) as client:
                yield CentraHarness(
                    client=client,
                    control=control,
                    store=store,
                    order_api_headers={"API-Authorization": secret},
                    client_with=client_with,
                    open_client=open_client,
                    sent=sent,
                    emulator=emulator,
                )
        finally:
            await network.aclose()
            if emulator is not None:
                await emulator.aclose()
