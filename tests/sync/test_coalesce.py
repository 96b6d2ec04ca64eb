"""One lookup in flight at a time; what is asked meanwhile goes together in the next."""

from __future__ import annotations

import asyncio

import pytest

from centrasync.sync.coalesce import CoalescedLookup


class Directory:
    """Knows the even ids; each call is noted and answered when ``release`` is set."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []
        self.release = asyncio.Event()
        self.fail_next = False

    async def __call__(self, ids: list[int]) -> dict[int, str]:
        self.calls.append(ids)
        await self.release.wait()
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("lookup refused")
        return {i: f"shipment {i}" for i in ids if i % 2 == 0}


async def test_what_is_asked_while_a_lookup_is_out_goes_in_one_next_lookup() -> None:
    directory = Directory()
    lookup = CoalescedLookup(directory, most=200)
    first = asyncio.create_task(lookup([2]))
    await asyncio.sleep(0)
    later = [asyncio.create_task(lookup(ids)) for ids in ([4, 5], [6], [4])]
    await asyncio.sleep(0)
    directory.release.set()
    assert await first == {2: "shipment 2"}
    assert [await task for task in later] == [
        {4: "shipment 4"},
        {6: "shipment 6"},
        {4: "shipment 4"},
    ]
    assert directory.calls == [[2], [4, 5, 6]]


async def test_a_failed_lookup_fails_its_askers_only() -> None:
    directory = Directory()
    directory.fail_next = True
    lookup = CoalescedLookup(directory, most=200)
    failing = asyncio.create_task(lookup([2]))
    await asyncio.sleep(0)
    after = asyncio.create_task(lookup([8]))
    directory.release.set()
    with pytest.raises(RuntimeError, match="lookup refused"):
        await failing
    assert await after == {8: "shipment 8"}


async def test_a_lookup_takes_at_most_its_limit_of_ids() -> None:
    directory = Directory()
    lookup = CoalescedLookup(directory, most=3)
    first = asyncio.create_task(lookup([0]))
    await asyncio.sleep(0)
    later = [asyncio.create_task(lookup([i, i + 1])) for i in (10, 20, 30)]
    await asyncio.sleep(0)
    directory.release.set()
    await asyncio.gather(first, *later)
    assert directory.calls == [[0], [10, 11], [20, 21], [30, 31]]


async def test_an_asker_cancelled_meanwhile_leaves_the_others_their_answer() -> None:
    directory = Directory()
    lookup = CoalescedLookup(directory, most=200)
    first = asyncio.create_task(lookup([2]))
    await asyncio.sleep(0)
    gone = asyncio.create_task(lookup([4]))
    kept = asyncio.create_task(lookup([6]))
    await asyncio.sleep(0)
    gone.cancel()
    directory.release.set()
    assert await first == {2: "shipment 2"}
    assert await kept == {6: "shipment 6"}
    assert gone.cancelled()
