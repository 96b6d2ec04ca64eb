"""Holding a lease: when a holder may still send, and a pass stopped when renewal fails."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from centrasync.errors import LeaseLostError
from centrasync.http import check_before_sending
from centrasync.store.base import Fence, Lease
from centrasync.sync.leases import SAFE_SHARE, LeaseHold, while_holding

TTL = timedelta(seconds=15)


class Monotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def held(clock: Monotonic, token: int = 3) -> LeaseHold:
    hold = LeaseHold("worker/se", TTL, clock=clock)
    lease = Lease("worker/se", "w1", datetime(2026, 12, 7, tzinfo=UTC), token)
    hold.taken(lease, clock(), TTL)
    return hold


def test_a_holder_sends_only_within_the_share_of_the_ttl_it_trusts() -> None:
    clock = Monotonic()
    hold = held(clock)
    hold.check()
    clock.now += TTL.total_seconds() * SAFE_SHARE - 0.01
    hold.check()
    clock.now += 0.02  # a pause: no renewal for longer than it may trust the lease
    with pytest.raises(LeaseLostError, match="may have run out"):
        hold.check()
    hold.renewed(clock(), TTL)
    hold.check()


def test_fences_come_from_the_hold_and_a_refusal_of_the_current_one_lets_go() -> None:
    clock = Monotonic()
    hold = held(clock, token=3)
    assert hold.current_fence() == Fence("worker/se", 3)
    hold.fence_refused(Fence("worker/se", 2))
    assert hold.held, "an older fence's refusal says nothing about the current one"
    hold.fence_refused(Fence("worker/se", 3))
    assert not hold.held
    with pytest.raises(LeaseLostError):
        hold.current_fence()
    with pytest.raises(LeaseLostError, match="not held"):
        hold.check()


async def test_the_work_sends_under_the_hold_and_returns_its_result() -> None:
    hold = LeaseHold("worker/se", timedelta(seconds=0.3))
    hold.taken(Lease("worker/se", "w1", datetime.now(UTC), 1), hold.clock(), hold.ttl)
    renewals = 0

    async def renew() -> bool:
        nonlocal renewals
        renewals += 1
        hold.renewed(hold.clock(), hold.ttl)
        return True

    async def work() -> str:
        for _ in range(5):
            check_before_sending()
            await asyncio.sleep(0.1)
        return "done"

    assert await while_holding(hold, renew, work) == "done"
    assert renewals >= 3, "renewed every third of the ttl through a longer pass"


async def test_a_failed_renewal_stops_the_work_at_once() -> None:
    hold = LeaseHold("worker/se", timedelta(seconds=0.3))
    hold.taken(Lease("worker/se", "w1", datetime.now(UTC), 1), hold.clock(), hold.ttl)
    stopped = asyncio.Event()

    async def renew() -> bool:
        return False

    async def work() -> None:
        try:
            await asyncio.sleep(5)
        finally:
            stopped.set()

    with pytest.raises(LeaseLostError, match="could not be renewed"):
        await while_holding(hold, renew, work)
    assert stopped.is_set() and not hold.held
