"""The goods owner's write lane: one write at a time, orders before catalogue writes,
which still get a turn after a run of orders; sent by the lane's own task."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from centrasync.http import guarding_sends
from centrasync.wms.ongoing.lane import URGENT_RUN, WriteLane


async def run(lane: WriteLane, plan: list[bool]) -> tuple[list[int], int]:
    """Queue writes (True = urgent) behind a held lane; the order they ran, the most at once."""
    done: list[int] = []
    inside = 0
    most = 0
    release = asyncio.Event()

    async def holder() -> None:
        await lane.run(release.wait)

    async def write(index: int, urgent: bool) -> None:
        async def send() -> None:
            nonlocal inside, most
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0)
            done.append(index)
            inside -= 1

        await lane.run(send, urgent=urgent)

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
        async def send() -> None:
            ran.append(name)
            await asyncio.sleep(0)

        await lane.run(send, urgent=urgent)

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
        async def send() -> None:
            ran.append(name)
            await asyncio.sleep(0.01)

        await lane.run(send, urgent=urgent)

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


async def test_the_next_write_goes_out_before_the_last_caller_resumes() -> None:
    lane = WriteLane()
    events: list[str] = []

    async def write(name: str) -> str:
        async def send() -> str:
            events.append(f"{name} sent")
            await asyncio.sleep(0)
            return name

        answer = await lane.run(send)
        events.append(f"{answer} resumed")
        return answer

    assert await asyncio.gather(write("a"), write("b")) == ["a", "b"]
    assert events == ["a sent", "b sent", "a resumed", "b resumed"]
    assert not lane.busy


async def test_a_failed_write_fails_its_caller_and_the_lane_goes_on() -> None:
    lane = WriteLane()

    async def refused() -> None:
        raise ValueError("refused by the warehouse")

    async def accepted() -> str:
        return "ok"

    failing = asyncio.create_task(lane.run(refused))
    later = asyncio.create_task(lane.run(accepted))
    with pytest.raises(ValueError, match="refused by the warehouse"):
        await failing
    assert await later == "ok"


async def test_a_caller_cancelled_mid_write_cancels_that_write_only() -> None:
    lane = WriteLane()
    sending = asyncio.Event()
    outcome: list[str] = []

    async def hanging() -> None:
        sending.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            outcome.append("write cancelled")
            raise

    async def next_write() -> str:
        return "next"

    stuck = asyncio.create_task(lane.run(hanging))
    await sending.wait()
    queued = asyncio.create_task(lane.run(next_write))
    await asyncio.sleep(0)
    stuck.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stuck
    assert await asyncio.wait_for(queued, 1) == "next"
    assert outcome == ["write cancelled"]
    assert not lane.busy


async def test_when_the_loop_stops_every_task_no_caller_is_left_waiting() -> None:
    lane = WriteLane()
    sending = asyncio.Event()

    async def hanging() -> None:
        sending.set()
        await asyncio.sleep(60)

    callers = [asyncio.create_task(lane.run(hanging)) for _ in range(3)]
    await sending.wait()
    # What asyncio.run does on its way out: cancel every task but its own.
    for task in asyncio.all_tasks():
        if task is not asyncio.current_task():
            task.cancel()
    results = await asyncio.wait_for(asyncio.gather(*callers, return_exceptions=True), 1)
    assert all(isinstance(result, asyncio.CancelledError) for result in results)
    assert not lane.busy

    async def fine() -> str:
        return "fine"

    assert await lane.run(fine) == "fine"


class Dying(BaseException):
    """Stands for SystemExit or KeyboardInterrupt raised inside a write."""


async def test_a_process_ending_exception_reaches_its_caller_and_nothing_more_is_sent() -> None:
    lane = WriteLane()
    sent: list[str] = []

    async def fatal() -> None:
        sent.append("fatal")
        raise Dying

    async def later() -> None:
        sent.append("later")

    dying = asyncio.create_task(lane.run(fatal))
    queued = asyncio.create_task(lane.run(later))
    with pytest.raises(Dying):
        await dying
    with pytest.raises(asyncio.CancelledError):
        await queued
    assert sent == ["fatal"]
    assert not lane.busy


class LeaseLost(Exception):
    pass


async def test_a_queued_write_whose_caller_may_no_longer_send_is_not_sent() -> None:
    """The check is the caller's, asked as the write's turn comes, not as it was queued."""
    lane = WriteLane()
    sent: list[str] = []
    release = asyncio.Event()
    lost = [False]

    def stale_check() -> None:
        if lost[0]:
            raise LeaseLost("the lease ran out while the write waited")

    async def send(name: str) -> str:
        sent.append(name)
        return name

    blocker = asyncio.create_task(lane.run(release.wait))
    await asyncio.sleep(0)
    with guarding_sends(stale_check):
        stale = asyncio.create_task(lane.run(lambda: send("stale")))
    fresh = asyncio.create_task(lane.run(lambda: send("fresh")))
    await asyncio.sleep(0)
    lost[0] = True  # paused past its lease while queued
    release.set()

    with pytest.raises(LeaseLost):
        await stale
    assert await fresh == "fresh"
    await blocker
    assert sent == ["fresh"]
