"""FairShare: worker processes on one state store divide the leases evenly between them.

Each test plays several processes, one :class:`FairShare` each, on one SQLite store whose
clock, like the shares' own, is a number of seconds the test moves forward.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from centrasync.store import StateStore
from centrasync.store.sql import open_store
from centrasync.sync.share import LEASE_TTL, FairShare

STORES = ("se", "us")
SIDE_FLOWS = ("articles", "returns", "stock")
TTL = LEASE_TTL.total_seconds()


class Clock:
    """Seconds since the start, for the shares, and the same moment as UTC for the store."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds

    def utc(self) -> datetime:
        return datetime(2026, 11, 29, 9, 0, tzinfo=UTC) + timedelta(seconds=self.seconds)

    def advance(self, seconds: float) -> None:
        self.seconds += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def state(clock: Clock) -> AsyncIterator[StateStore]:
    opened = await open_store("sqlite+aiosqlite:///:memory:", clock=clock.utc)
    yield opened
    await opened.close()


def process(state: StateStore, clock: Clock, owner: str) -> FairShare:
    """A process's share over the leases of two stores: shipments, and three more flows."""
    share = FairShare(state, owner, clock=clock)
    for store in STORES:
        share.add(f"worker/{store}", "shipments")
        for flow in SIDE_FLOWS:
            share.add(f"worker/{store}/{flow}", "other")
    return share


LEASES = [
    f"worker/{store}{suffix}"
    for store in STORES
    for suffix in ("", *(f"/{flow}" for flow in SIDE_FLOWS))
]


async def join(share: FairShare) -> None:
    """Count ``share``'s process as a member, as ``membership_held`` does at start-up."""
    assert await share.state.acquire_lease(share.membership, share.owner, share.ttl)


async def take_all(share: FairShare) -> set[str]:
    return {lease for lease in LEASES if await share.take(lease, LEASE_TTL)}


async def holders(state: StateStore) -> dict[str, str]:
    return {lease.name: lease.owner for lease in await state.list_leases()}


async def test_a_process_alone_takes_every_lease(state: StateStore, clock: Clock) -> None:
    alone = process(state, clock, "w1")
    await join(alone)
    assert await take_all(alone) == set(LEASES)
    assert not any([await alone.give_back_if_over(lease) for lease in LEASES])


async def test_three_processes_divide_each_kind_of_lease(state: StateStore, clock: Clock) -> None:
    shares = [process(state, clock, owner) for owner in ("w1", "w2", "w3")]
    for share in shares:
        await join(share)
    taken = [await take_all(share) for share in shares]

    assert set().union(*taken) == set(LEASES), "every lease has a holder"
    assert [len(t) for t in taken] == [3, 3, 2]
    shipment_holders = [i for i, t in enumerate(taken) if t & {"worker/se", "worker/us"}]
    assert len(shipment_holders) == 2, "two processes run the two stores' shipments"
    assert await holders(state) == {
        **{lease: f"w{i + 1}" for i, t in enumerate(taken) for lease in t},
        **{share.membership: share.owner for share in shares},
    }


async def test_the_first_process_gives_back_what_newcomers_take(
    state: StateStore, clock: Clock
) -> None:
    first, second = process(state, clock, "w1"), process(state, clock, "w2")
    await join(first)
    assert await take_all(first) == set(LEASES)

    await join(second)
    clock.advance(1)  # the first process counts its members again
    given_back = {lease for lease in LEASES if await first.give_back_if_over(lease)}
    assert len(given_back) == 4
    assert {first.held("shipments"), first.held("other")} == {1, 3}
    assert await take_all(second) == given_back
    assert not any([await first.give_back_if_over(lease) for lease in LEASES])


async def test_survivors_take_over_a_dead_process_share_once_it_expires(
    state: StateStore, clock: Clock
) -> None:
    shares = [process(state, clock, owner) for owner in ("w1", "w2", "w3")]
    for share in shares:
        await join(share)
    taken = [await take_all(share) for share in shares]
    survivors = shares[:2]

    # w3 dies: it renews nothing more. Until its leases expire, nobody takes them.
    clock.advance(TTL / 2)
    for share in survivors:
        await join(share)
        for lease in taken[shares.index(share)]:
            assert await share.take(lease, LEASE_TTL)
    assert [await take_all(share) - taken[i] for i, share in enumerate(survivors)] == [set(), set()]

    clock.advance(TTL / 2 + 1)
    for share in survivors:
        await join(share)
    after = [await take_all(share) for share in survivors]
    assert after[0] | after[1] == set(LEASES)
    assert {len(a) for a in after} == {4}
    assert shares[2].owner not in (await holders(state)).values()


async def test_a_lease_nobody_takes_for_a_whole_ttl_is_taken_beyond_the_share(
    state: StateStore, clock: Clock
) -> None:
    """Two members, but the other serves different stores: its share leaves ours idle."""
    ours = process(state, clock, "w1")
    await join(ours)
    assert await state.acquire_lease("member/elsewhere", "w9", LEASE_TTL)
    assert len(await take_all(ours)) == 4
    idle = [lease for lease in LEASES if lease not in await holders(state)]
    assert len(idle) == 4

    clock.advance(TTL - 1)
    assert await state.acquire_lease("member/elsewhere", "w9", LEASE_TTL)
    await join(ours)
    assert len(await take_all(ours)) == 4, "still only the share"
    clock.advance(1)
    assert await ours.take(idle[0], LEASE_TTL)
    assert not await ours.give_back_if_over(idle[0]), "kept while the members stay"


async def test_a_lease_extended_less_than_a_third_of_its_ttl_ago_is_not_asked_again(
    state: StateStore, clock: Clock
) -> None:
    """A loop takes its lease every tick; the store hears of it once a third of a ttl."""
    share = process(state, clock, "w1")
    await join(share)
    assert await share.take("worker/se", LEASE_TTL)
    first = {lease.name: lease.expires_at for lease in await state.list_leases()}["worker/se"]

    clock.advance(TTL / 3 - 0.5)
    assert await share.take("worker/se", LEASE_TTL)
    kept = {lease.name: lease.expires_at for lease in await state.list_leases()}["worker/se"]
    assert kept == first, "no store call within a third of the ttl"

    clock.advance(1)
    assert await share.take("worker/se", LEASE_TTL)
    later = {lease.name: lease.expires_at for lease in await state.list_leases()}["worker/se"]
    assert later == clock.utc() + LEASE_TTL


async def test_a_refused_fence_makes_the_next_take_ask_the_store(
    state: StateStore, clock: Clock
) -> None:
    share = process(state, clock, "w1")
    await join(share)
    assert await share.take("worker/se", LEASE_TTL)
    hold = share.hold("worker/se")
    hold.fence_refused(hold.current_fence())

    clock.advance(1)
    assert await share.take("worker/se", LEASE_TTL)
    taken = {lease.name: lease.expires_at for lease in await state.list_leases()}["worker/se"]
    assert taken == clock.utc() + LEASE_TTL
