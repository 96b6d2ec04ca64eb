"""The record-step policy: outcomes for what a step raises, effects refused after being
confirmed elsewhere, and a ladder that keeps late answers from moving a record back."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from centrasync.errors import RemoteRefusedError, RetryLaterError
from centrasync.store.base import RecordKind, RecordRef, StateStore
from centrasync.store.sql import open_store
from centrasync.sync.effects import Confirmations, apply_once
from centrasync.sync.policy import Ladder, Outcome, Park, ParkedStates, RecordPolicy
from centrasync.sync.tally import Tally

REF = RecordRef("se", RecordKind.SHIPMENT, "1042-1")
LADDER = Ladder.of(("new", "retry"), ("sent",), ("completed", "invalid", "refused", "failed"))


@pytest.fixture
async def state() -> AsyncIterator[StateStore]:
    store = await open_store("sqlite+aiosqlite:///:memory:")
    try:
        yield store
    finally:
        await store.close()


def policy(state: StateStore, tally: Tally, **kw: object) -> RecordPolicy:
    parked = ParkedStates(invalid="invalid", refused="refused", failed="failed")
    return RecordPolicy(state, tally, "se", "outbound", parked, 3, ladder=LADDER, **kw)


async def test_what_a_step_raises_becomes_an_outcome(state: StateStore) -> None:
    tally = Tally()
    steps = policy(state, tally)
    await state.upsert_record(REF)

    async def flaky() -> Outcome:
        raise RetryLaterError("HTTP 503")

    async def refused() -> Outcome:
        raise RemoteRefusedError("no such shipment")

    assert await steps.run(REF, flaky) is Outcome.RETRY_LATER
    record = await state.get_record(REF)
    assert record is not None and (record.state, record.last_error) == ("new", "HTTP 503")
    assert await steps.run(REF, refused) is Outcome.PARKED
    record = await state.get_record(REF)
    assert record is not None and record.state == "refused"
    [dead] = await state.list_dead("se")
    assert dead.reason == "no such shipment"
    assert tally.failed_count["se", "outbound"] == 1
    assert tally.parked_count["se", "outbound"] == 1

    with pytest.raises(RetryLaterError):
        await policy(state, tally, stop_on_retry=True).run(REF, flaky)


async def test_a_late_step_never_moves_a_record_back(state: StateStore) -> None:
    steps = policy(state, Tally())
    await state.upsert_record(REF)
    await steps.move(REF, "sent", note="sent")
    await steps.move(REF, "completed", note="completed")
    await steps.move(REF, "sent", note="a late answer")
    record = await state.get_record(REF)
    assert record is not None and record.state == "completed"
    await state.transition(REF, "retry", note="a person asked")  # a person is not guarded
    await steps.move(REF, "sent", note="re-driven")
    record = await state.get_record(REF)
    assert record is not None and record.state == "sent"


async def test_a_refusal_of_an_effect_another_holder_confirmed_is_no_reason_to_park(
    state: StateStore,
) -> None:
    """The warehouse refuses a repeat of an order another process already got through."""
    await state.upsert_record(REF)

    async def refused_as_a_repeat() -> dict[str, str]:
        # Meanwhile the new holder of the work confirmed the same effect.
        await state.complete_effect("wms-order/1042-1", {"wms_id": "7"})
        raise RemoteRefusedError("order 1042-1 has been started and cannot be changed")

    outcome = await apply_once(state, "wms-order/1042-1", REF, {}, refused_as_a_repeat)
    assert outcome == {"wms_id": "7"}
    assert await state.list_dead("se") == []


async def test_a_refused_repeat_of_an_effect_in_doubt_is_looked_for_again(
    state: StateStore,
) -> None:
    """The earlier attempt was still on its way when the look missed it, then it landed.

    A worker paused mid-write: the holder taking over finds the order in doubt, looks for
    it before the paused write has landed, sends it again, and the warehouse, which has
    started on the order the paused write created, refuses the repeat.
    """
    await state.upsert_record(REF)
    await state.begin_effect("wms-order/1042-1", REF, {})  # the paused process's attempt
    looks: list[str] = []

    async def look() -> dict[str, str] | None:
        looks.append("look")
        return None if len(looks) == 1 else {"wms_id": "7", "found": "already in the WMS"}

    async def refused_as_a_repeat() -> dict[str, str]:
        raise RemoteRefusedError("order 1042-1 has been started and cannot be changed")

    outcome = await apply_once(state, "wms-order/1042-1", REF, {}, refused_as_a_repeat, look=look)
    assert outcome == {"wms_id": "7", "found": "already in the WMS"}
    assert looks == ["look", "look"]
    assert await _status(state, "wms-order/1042-1") == "succeeded"


async def test_an_effect_that_keeps_failing_is_parked_as_failed(state: StateStore) -> None:
    steps = policy(state, Tally())
    await state.upsert_record(REF)
    calls = 0

    async def unavailable() -> dict[str, str]:
        nonlocal calls
        calls += 1
        raise RetryLaterError("HTTP 503")

    async def step() -> Outcome | Park:
        found = await steps.effect("wms-order/1042-1", REF, {"n": 1}, unavailable)
        return found if isinstance(found, Park) else Outcome.MOVED

    outcomes = [await steps.run(REF, step) for _ in range(4)]
    assert outcomes == [Outcome.RETRY_LATER] * 3 + [Outcome.PARKED]
    assert calls == 3
    record = await state.get_record(REF)
    assert record is not None and record.state == "failed"


async def test_an_outcome_held_while_a_confirming_transaction_is_open_waits_for_the_next(
    state: StateStore,
) -> None:
    """A call may land while the outcomes held before it commit; it must not be dropped."""
    refs = [RecordRef("se", RecordKind.ARTICLE, key) for key in ("A1", "A2")]
    for ref in refs:
        await state.begin_effect(f"put/{ref.key}", ref, {})
    held = Confirmations()
    held.add("put/A1", {"written": 1}, ())
    async with state.transaction() as tx:
        await held.confirm(tx)
        held.add("put/A2", {"written": 2}, ())
    held.clear()
    assert [await _status(state, f"put/{ref.key}") for ref in refs] == ["succeeded", "pending"]
    await held.commit(state)
    assert await _status(state, "put/A2") == "succeeded"


async def _status(state: StateStore, key: str) -> str:
    effect = await state.get_effect(key)
    assert effect is not None
    return effect.status.value
