"""The goods owner's write lane: one write at a time, orders before catalogue writes,
which still get a turn after a run of orders."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from centrasync.wms.ongoing.lane import URGENT_RUN, WriteLane


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


@settings(max_examples=100, deadline=None)
@given(plan=st.lists(st.booleans(), max_size=40))
def test_urgent_writes_first_yet_routine_ones_never_starve(plan: list[bool]) -> None:
    done, most = asyncio.run(run(WriteLane(), plan))
    assert most <= 1
    assert sorted(done) == list(range(len(plan)))
    urgent = [i for i in done if plan[i]]
    routine = [i for i in done if not plan[i]]
    assert urgent == sorted(urgent) and routine == sorted(routine)
    in_a_row = 0
    for position, index in enumerate(done):
        routine_waits = any(not plan[i] for i in done[position:])
        urgent_waits = any(plan[i] for i in done[position:])
        if plan[index]:
            in_a_row += 1
            assert not routine_waits or in_a_row <= URGENT_RUN
        else:
            # A routine write goes ahead of a waiting urgent one only when it is owed a turn.
            assert not urgent_waits or in_a_row == URGENT_RUN
            in_a_row = 0


async def test_catalogue_writes_move_while_orders_keep_the_lane_busy() -> None:
    lane = WriteLane()
    ran: list[str] = []
    streams = 8

    async def write(name: str, urgent: bool) -> None:
        async with lane.turn(urgent=urgent):
            ran.append(name)
            await asyncio.sleep(0)

    async def orders(stream: int) -> None:
        # Several streams, so another order always waits when the lane is handed on.
        for number in range(5 * URGENT_RUN):
            await write(f"order {stream}.{number}", True)

    busy = [asyncio.create_task(orders(stream)) for stream in range(streams)]
    await asyncio.sleep(0)
    await write("article", False)
    assert ran.index("article") <= URGENT_RUN + streams
    await asyncio.gather(*busy)


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
