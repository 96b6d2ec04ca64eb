"""QuotaBudget: token buckets mirroring a server's, on a hand-moved clock."""

from __future__ import annotations

import httpx
import pytest

from centrasync.http.quota import COST, PacedTransport, QuotaBudget


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def budget_on(clock: Clock) -> QuotaBudget:
    return QuotaBudget(clock=clock, sleep=clock.sleep)


async def test_nothing_waits_before_the_first_report(clock: Clock) -> None:
    budget = budget_on(clock)
    for _ in range(100):
        await budget.acquire({"requests": 1})
    assert clock.slept == [] and not budget.known


async def test_requests_are_paced_at_the_refill_rate_once_the_bucket_is_empty(
    clock: Clock,
) -> None:
    budget = budget_on(clock)
    budget.sync("requests", 10, 60, remaining=5, at=clock())
    for _ in range(5 + 12):
        await budget.acquire({"requests": 1})
    # 5 left, then 6 a second: 12 more take 2 seconds.
    # Each wait is rounded up to the next millisecond past a half-millisecond margin.
    assert sum(clock.slept) == pytest.approx(2.0, abs=0.015)
    assert budget.waited == sum(clock.slept)


async def test_the_tightest_window_sets_the_pace(clock: Clock) -> None:
    budget = budget_on(clock)
    budget.sync("requests", 10, 60, remaining=60, at=clock())
    budget.sync("requests", 3600, 5000, remaining=0, at=clock())
    await budget.acquire({"requests": 1})
    assert sum(clock.slept) == pytest.approx(3600 / 5000, abs=0.0015)


async def test_a_report_refills_from_when_it_arrived_and_never_raises_the_count(
    clock: Clock,
) -> None:
    budget = budget_on(clock)
    arrived = clock()
    clock.now += 1.0
    budget.sync("complexity", 10, 1000, remaining=500, at=arrived)
    (state,) = budget.state()
    assert state.tokens == pytest.approx(600)  # 500 then, 100 refilled since
    budget.sync("complexity", 10, 1000, remaining=900, at=clock())
    assert budget.state()[0].tokens == pytest.approx(600), "the lower count wins"
    budget.sync("complexity", 10, 2000, remaining=1900, at=clock())
    assert budget.state()[0].tokens == pytest.approx(1900), "a new quota is taken as reported"


async def test_settle_charges_what_an_answer_cost_beyond_the_reservation(clock: Clock) -> None:
    budget = budget_on(clock)
    budget.sync("complexity", 10, 100, remaining=100, at=clock())
    await budget.acquire({"complexity": 10})
    budget.settle("complexity", 80)  # it cost 90
    await budget.acquire({"complexity": 20})
    assert sum(clock.slept) == pytest.approx(1.0, abs=0.0015)  # 10 short at 10 a second


async def test_a_cost_above_the_quota_waits_for_a_full_bucket(clock: Clock) -> None:
    budget = budget_on(clock)
    budget.sync("complexity", 10, 100, remaining=50, at=clock())
    await budget.acquire({"complexity": 500})
    assert sum(clock.slept) == pytest.approx(5.0, abs=0.0015)


async def test_a_429_pauses_the_budget_and_empties_what_the_request_drew_on(
    clock: Clock,
) -> None:
    budget = budget_on(clock)
    budget.sync("requests", 10, 10, remaining=5, at=clock())
    budget.sync("mutations", 10, 10, remaining=5, at=clock())
    answers = [httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(200)]
    transport = PacedTransport(httpx.MockTransport(lambda request: answers.pop(0)), budget)
    request = httpx.Request("POST", "http://x/graphql", extensions={COST: {"requests": 1}})
    assert (await transport.handle_async_request(request)).status_code == 429
    assert {s.kind: s.tokens for s in budget.state()} == {"requests": 0, "mutations": 5}
    assert budget.stale
    assert (await transport.handle_async_request(request)).status_code == 200
    assert clock.slept == [pytest.approx(3.0, abs=0.0015)]
    budget.sync("requests", 10, 10, remaining=7, at=clock(), replace=True)
    assert budget.state()[0].tokens == pytest.approx(7), "the report replaces the guess"
