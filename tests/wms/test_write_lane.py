"""The goods owner's write lane: one write at a time, orders before catalogue writes."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from centrasync.wms.ongoing.lane import WriteLane


async def run(lane: WriteLane, plan: list[bool]) -> tuple[list[int], int]:
    """Queue writes (True = urgent) behind a held lane; the order they ran, the most at once."""
    done: list[int] = []
    inside = 0
    most = 0
    release = asyncio.Event()

    async def holder() -> None:
        async with lane.turn():
            await release.wait()

    async def write(index: int, urgent: bool) -> None:
        nonlocal inside, most
        async with lane.turn(urgent=urgent):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0)
            done.append(index)
            inside -= 1

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    writes = [asyncio.create_task(write(i, urgent)) for i, urgent in enumerate(plan)]
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(first, *writes)
    return done, most


@settings(max_examples=60, deadline=None)
@given(plan=st.lists(st.booleans(), max_size=20))
def test_urgent_writes_first_each_kind_in_arrival_order(plan: list[bool]) -> None:
    done, most = asyncio.run(run(WriteLane(), plan))
    urgent = [i for i, u in enumerate(plan) if u]
    routine = [i for i, u in enumerate(plan) if not u]
    assert done == urgent + routine
    assert most <= 1


async def test_a_cancelled_waiter_neither_runs_nor_blocks_the_lane() -> None:
    lane = WriteLane()
    ran: list[str] = []

    async def write(name: str, urgent: bool = True) -> None:
        async with lane.turn(urgent=urgent):
            ran.append(name)
            await asyncio.sleep(0.01)

    first = asyncio.create_task(write("first"))
    await asyncio.sleep(0)
    gone = asyncio.create_task(write("gone"))
    later = asyncio.create_task(write("later", urgent=False))
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.gather(first, later)
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert ran == ["first", "later"]
    assert not lane.busy
