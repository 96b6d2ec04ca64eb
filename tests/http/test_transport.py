from __future__ import annotations

import asyncio

import httpx
import pytest

from centrasync.http import Priority, RateBudget, RetryPolicy, guarding_sends
from centrasync.http.transports import IDEMPOTENT, PRIORITY, ResilientTransport


class FlakyServer:
    """Answers each request from a script of (status, headers) or exceptions, then 200."""

    def __init__(self, script: list[tuple[int, dict[str, str]] | Exception]) -> None:
        self.script = list(script)
        self.seen: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request.method)
        if self.script:
            step = self.script.pop(0)
            if isinstance(step, Exception):
                raise step
            status, headers = step
            return httpx.Response(status, headers=headers, json={"status": "no"})
        return httpx.Response(200, json={"status": "ok"})


def client_for(server: FlakyServer, sleeps: list[float], **kw: object) -> httpx.AsyncClient:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    transport = ResilientTransport(
        httpx.MockTransport(server),
        policy=RetryPolicy(max_attempts=4, base_delay=0.1),
        sleep=sleep,
        jitter=lambda: 1.0,
        **kw,  # type: ignore[arg-type]
    )
    return httpx.AsyncClient(transport=transport, base_url="http://remote.test")


async def test_get_retries_5xx_then_succeeds() -> None:
    server = FlakyServer([(503, {}), (502, {})])
    sleeps: list[float] = []
    async with client_for(server, sleeps) as client:
        response = await client.get("/things")
    assert response.status_code == 200
    assert len(server.seen) == 3
    assert sleeps == [0.1, 0.2]


async def test_429_waits_for_retry_after_even_for_writes() -> None:
    server = FlakyServer([(429, {"Retry-After": "2"})])
    sleeps: list[float] = []
    async with client_for(server, sleeps) as client:
        response = await client.put("/shipment", json={})
    assert response.status_code == 200
    assert sleeps == [2.0]


async def test_write_not_repeated_after_ambiguous_5xx() -> None:
    server = FlakyServer([(500, {})])
    sleeps: list[float] = []
    async with client_for(server, sleeps) as client:
        response = await client.put("/shipment", json={})
    assert response.status_code == 500
    assert server.seen == ["PUT"]


async def test_write_marked_idempotent_is_retried() -> None:
    server = FlakyServer([(500, {})])
    sleeps: list[float] = []
    async with client_for(server, sleeps) as client:
        response = await client.put("/articles", json={}, extensions={IDEMPOTENT: True})
    assert response.status_code == 200
    assert server.seen == ["PUT", "PUT"]


async def test_connect_error_retried_for_writes_read_error_not() -> None:
    request = httpx.Request("POST", "http://remote.test/x")
    server = FlakyServer([httpx.ConnectError("refused", request=request)])
    sleeps: list[float] = []
    async with client_for(server, sleeps) as client:
        assert (await client.post("/return", json={})).status_code == 200
    server = FlakyServer([httpx.ReadError("reset", request=request)])
    async with client_for(server, sleeps) as client:
        with pytest.raises(httpx.ReadError):
            await client.post("/return", json={})


async def test_gives_up_after_max_attempts_with_last_response() -> None:
    server = FlakyServer([(503, {})] * 10)
    sleeps: list[float] = []
    async with client_for(server, sleeps) as client:
        response = await client.get("/things")
    assert response.status_code == 503
    assert len(server.seen) == 4


async def test_429_pauses_the_shared_budget() -> None:
    """The retry's own sleep is faked, so any wall time spent comes from the budget pause."""
    budget = RateBudget(rate=1000, burst=5)
    server = FlakyServer([(429, {"Retry-After": "0.3"})])
    sleeps: list[float] = []
    async with client_for(server, sleeps, budget=budget) as client:
        transport = client._transport
        assert isinstance(transport, ResilientTransport)
        loop = asyncio.get_running_loop()
        started = loop.time()
        response = await client.get("/x", extensions={PRIORITY: Priority.CATALOGUE})
        waited = loop.time() - started
    assert response.status_code == 200
    assert transport.stats.rate_limited == 1
    assert sleeps == [0.3]
    assert waited > 0.2


class Refused(Exception):
    """What the send check of a caller that lost its lease raises."""


async def test_a_send_check_is_asked_before_every_attempt() -> None:
    """A caller whose check starts refusing during a backoff sends nothing more."""
    server = FlakyServer([(503, {})])
    allowed = [True]

    def check() -> None:
        if not allowed[0]:
            raise Refused("lease lost")

    async def sleep(seconds: float) -> None:
        allowed[0] = False  # the lease lapses while the retry waits

    transport = ResilientTransport(
        httpx.MockTransport(server), policy=RetryPolicy(max_attempts=3), sleep=sleep
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
        with guarding_sends(check), pytest.raises(Refused):
            await client.get("/shipments")
        assert server.seen == ["GET"], "the retry was never sent"
        assert (await client.get("/shipments")).status_code == 200, "outside the guard: sent"
