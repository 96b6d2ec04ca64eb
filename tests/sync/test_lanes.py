"""Working through records a few at a time: the bound, the count and failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from centrasync.sync.lanes import KeyedLocks, for_each


class Gauge:
    """Counts the items in hand at once and remembers the most."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0
        self.started: list[int] = []
        self.finished: list[int] = []

    async def work(self, item: int) -> bool:
        self.started.append(item)
        self.now += 1
        self.most = max(self.most, self.now)
        await asyncio.sleep(0.001 * (item % 3))
        self.now -= 1
        self.finished.append(item)
        return item % 2 == 0


@settings(max_examples=40, deadline=None)
@given(count=st.integers(0, 60), limit=st.integers(1, 12))
def test_every_item_once_never_more_than_the_limit_at_once(count: int, limit: int) -> None:
    gauge = Gauge()
    done = asyncio.run(for_each(range(count), gauge.work, limit=limit))
    assert sorted(gauge.finished) == list(range(count))
    assert done == sum(1 for item in range(count) if item % 2 == 0)
    assert gauge.most <= limit
    if count >= limit:
        assert gauge.most == limit


async def test_the_first_failure_is_raised_after_the_items_in_hand_finish() -> None:
    gauge = Gauge()

    async def work(item: int) -> bool:
        if item == 3:
            raise ValueError("item 3: quantity is not a number")
        return await gauge.work(item)

    with pytest.raises(ValueError, match="item 3"):
        await for_each(range(100), work, limit=4)
    # Items 0-2 and 4-6 were in hand or taken before the failure was seen; no lane took
    # more after it, and none was left half done.
    assert set(gauge.started) == set(gauge.finished)
    assert len(gauge.started) < 10


async def test_a_process_going_down_cancels_every_lane() -> None:
    class Killed(BaseException):
        pass

    gate = asyncio.Event()
    cancelled: list[int] = []

    async def work(item: int) -> bool:
        if item == 0:
            await asyncio.sleep(0)
            raise Killed
        try:
            await gate.wait()
        except asyncio.CancelledError:
            cancelled.append(item)
            raise
        return True

    with pytest.raises(Killed):
        await for_each(range(5), work, limit=3)
    assert sorted(cancelled) == [1, 2]


async def test_limit_one_works_in_order() -> None:
    gauge = Gauge()
    await for_each([5, 1, 4], gauge.work, limit=1)
    assert gauge.started == [5, 1, 4]
    assert gauge.most == 1


async def test_items_read_page_by_page_are_worked_on_before_the_last_page_is_in() -> None:
    events: list[str] = []

    async def pages() -> AsyncGenerator[int]:
        for page in range(3):
            events.append(f"page {page} read")
            await asyncio.sleep(0.01)
            for item in range(page * 4, page * 4 + 4):
                yield item

    async def work(item: int) -> bool:
        events.append(f"item {item} done")
        await asyncio.sleep(0)
        return True

    assert await for_each(pages(), work, limit=3) == 12
    assert events.index("item 0 done") < events.index("page 1 read")
    assert sorted(e for e in events if e.startswith("item")) == sorted(
        f"item {item} done" for item in range(12)
    )


async def test_a_failed_page_read_stops_the_lanes_and_an_early_stop_closes_the_reads() -> None:
    closed: list[str] = []

    async def failing_pages() -> AsyncGenerator[int]:
        yield 1
        raise ValueError("page 2: the WMS answered 500")

    async def work(item: int) -> bool:
        return True

    with pytest.raises(ValueError, match="page 2"):
        await for_each(failing_pages(), work, limit=4)

    async def endless() -> AsyncGenerator[int]:
        try:
            item = 0
            while True:
                yield item
                item += 1
        finally:
            closed.append("closed")

    async def refuse_five(item: int) -> bool:
        if item == 5:
            raise ValueError("item 5: unknown SKU")
        return True

    with pytest.raises(ValueError, match="item 5"):
        await for_each(endless(), refuse_five, limit=2)
    assert closed == ["closed"]


async def test_keyed_locks_serialise_one_key_and_forget_it_when_nobody_waits() -> None:
    locks = KeyedLocks()
    inside: list[str] = []
    most = {"a": 0}

    async def work(key: str) -> None:
        async with locks.hold(key):
            inside.append(key)
            most[key] = max(most.get(key, 0), inside.count(key))
            await asyncio.sleep(0)
            inside.remove(key)

    await asyncio.gather(*(work(key) for key in ["a", "b", "a", "c", "a"] * 20))
    assert most["a"] == 1, "one holder of a key at a time"
    assert len(locks) == 0, "no lock is kept once nobody holds or waits for it"
