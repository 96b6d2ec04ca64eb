"""The Integration API client stays under the environment's quota instead of meeting 429s.

The emulator and the client's budget share a hand-moved clock, so the pacing is exact and
nothing sleeps for real.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import SecretStr

from centrasync.centra.integration.client import IntegrationApiClient
from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.faults import EmulatorTransport
from centrasync.errors import RateLimitedError
from centrasync.http import RetryPolicy
from centrasync.http.quota import QuotaBudget
from fake_clock import FakeClock

TOKEN = "tok-pacing"
URL = "http://centra.test/graphql"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2025, 1, 15, 10, 0, tzinfo=UTC))


@pytest.fixture
async def emu(clock: FakeClock) -> AsyncIterator[CentraEmulator]:
    emulator = CentraEmulator(seed="demo", clock=clock, graphql_token=TOKEN)
    yield emulator
    await emulator.aclose()


async def quotas(emu: CentraEmulator, **sizes: int) -> None:
    async with httpx.AsyncClient(
        transport=EmulatorTransport(emu.app), base_url="http://centra.test"
    ) as control:
        answer = await control.put("/_emulator/rate-limits", json={"quotas": sizes})
        assert answer.status_code == 200, answer.text


class Yielding(httpx.AsyncBaseTransport):
    """Lets the other callers run while a request is on its way, as a network would."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)
        return await self.inner.handle_async_request(request)


def client(
    emu: CentraEmulator, clock: FakeClock, budget: QuotaBudget | None, **kw: object
) -> IntegrationApiClient:
    return IntegrationApiClient(
        URL,
        SecretStr(TOKEN),
        transport=Yielding(EmulatorTransport(emu.app)),
        budget=budget,
        sleep=clock.sleep,
        now=clock,
        retry=RetryPolicy(max_attempts=3, max_retry_after=60),
        **kw,  # type: ignore[arg-type]
    )


def budget_on(clock: FakeClock) -> QuotaBudget:
    return QuotaBudget(clock=lambda: clock().timestamp(), sleep=clock.sleep)


async def test_a_loop_of_queries_meets_no_429_and_takes_what_the_quota_allows(
    emu: CentraEmulator, clock: FakeClock
) -> None:
    await quotas(emu, requests_10s=6, requests_1h=1000)
    start = clock()
    async with client(emu, clock, budget_on(clock)) as api:
        for _ in range(40):
            await api.orders(limit=5)
        assert api.transport.stats.rate_limited == 0
        requests = api.transport.stats.attempts  # the loop and the rateLimits reads
    elapsed = (clock() - start).total_seconds()
    bound = (requests - 6) / 0.6  # six at once, then 0.6 a second
    assert bound <= elapsed <= bound * 1.05 + 1


async def test_concurrent_callers_share_one_budget(emu: CentraEmulator, clock: FakeClock) -> None:
    await quotas(emu, requests_10s=5, complexity_10s=2000)
    budget = budget_on(clock)
    async with client(emu, clock, budget) as one, client(emu, clock, budget) as two:
        await asyncio.gather(*(c.orders(limit=3) for c in (one, two) for _ in range(10)))
        assert one.transport.stats.rate_limited == two.transport.stats.rate_limited == 0


async def test_concurrent_first_calls_wait_for_one_rate_limits_read(
    emu: CentraEmulator, clock: FakeClock
) -> None:
    """The budget starts assuming Growth (60 a 10 s); the environment allows 3: the callers
    wait for the first report instead of sending on the assumption."""
    await quotas(emu, requests_10s=3)
    budget = budget_on(clock)
    async with client(emu, clock, budget) as api:
        await asyncio.gather(*(api.orders(limit=2) for _ in range(12)))
        assert api.transport.stats.rate_limited == 0
        assert api.transport.stats.attempts == 13  # one rateLimits read, then the queries
    assert {(s.kind, s.seconds): s.quota for s in budget.state()}["requests", 10] == 3


async def test_complexity_is_paced_too(emu: CentraEmulator, clock: FakeClock) -> None:
    await quotas(emu, complexity_10s=300)
    async with client(emu, clock, budget_on(clock)) as api:
        for _ in range(8):
            await api.shipments(limit=2)
        assert api.transport.stats.rate_limited == 0
    assert sum(clock.slept) > 0


async def test_without_a_budget_a_429_is_waited_out_as_retry_after_says(
    emu: CentraEmulator, clock: FakeClock
) -> None:
    await quotas(emu, requests_10s=1, requests_1h=100)
    async with client(emu, clock, None) as api:
        await api.rate_limits()
        await api.rate_limits()
        assert api.transport.stats.rate_limited == 1
    # Retry-After is the Unix time when the bucket holds one again: 10 s on.
    assert clock.slept == [pytest.approx(10.0, abs=0.0015)]


async def test_use_by_another_integration_costs_a_429_then_the_budget_follows(
    emu: CentraEmulator, clock: FakeClock
) -> None:
    await quotas(emu, requests_10s=4)
    budget = budget_on(clock)
    async with client(emu, clock, budget) as ours, client(emu, clock, None) as theirs:
        await ours.orders(limit=1)  # reads rateLimits first: 2 of 4 used
        await theirs.rate_limits()
        await theirs.rate_limits()  # the bucket is empty; our budget thinks 2 are left
        await ours.orders(limit=1)
        await ours.orders(limit=1)
        assert ours.transport.stats.rate_limited == 1
        # The 429 and its retry, then a fresh rateLimits read before the next query.
        assert ours.transport.stats.attempts == 6


async def test_a_429_past_the_retries_is_rate_limited_error(
    emu: CentraEmulator, clock: FakeClock
) -> None:
    await quotas(emu, requests_10s=1, requests_1h=1)
    async with client(emu, clock, None) as api:
        await api.rate_limits()
        with pytest.raises(RateLimitedError) as refused:
            await api.rate_limits()
    assert refused.value.retry_after is not None and refused.value.retry_after > 60
