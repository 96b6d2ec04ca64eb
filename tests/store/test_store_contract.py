"""The StateStore contract, run against SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from centrasync.errors import LeaseLostError, RecordValidationError, RetryLaterError
from centrasync.store import (
    Abandon,
    BeginOutcome,
    EffectStatus,
    Fence,
    NewRecord,
    RecordKind,
    RecordRef,
    StateStore,
    Step,
    dedup_key,
)
from centrasync.store.backends import PostgresBackend
from centrasync.store.engine import create_store_engine
from centrasync.store.sql import SqlStateStore, open_store
from fake_clock import FakeClock

SHIPMENT = RecordRef("se", RecordKind.SHIPMENT, "1042-1")
OTHER = RecordRef("se", RecordKind.RETURN, "R-7")


# -- ledger -----------------------------------------------------------------------------


async def test_new_record_starts_its_history_and_upsert_fills_ids(store: StateStore) -> None:
    created = await store.upsert_record(SHIPMENT, centra_id="1042")
    again = await store.upsert_record(SHIPMENT, wms_id="ON-55")

    assert created.state == "new"
    assert (again.centra_id, again.wms_id, again.state) == ("1042", "ON-55", "new")
    history = await store.history(SHIPMENT)
    assert [(t.from_state, t.to_state) for t in history] == [(None, "new")]


async def test_transition_records_history_payloads_and_errors(
    store: StateStore, clock: FakeClock
) -> None:
    await store.upsert_record(SHIPMENT)
    clock.advance(seconds=1)
    failed = await store.transition(
        SHIPMENT,
        "wms_failed",
        note="first try",
        request={"orderNumber": "1042-1", "password": "hunter2"},
        error="HTTP 503",
    )
    clock.advance(seconds=1)
    sent = await store.transition(
        SHIPMENT, "sent_to_wms", request={"orderNumber": "1042-1"}, response={"orderId": 55}
    )

    assert failed.last_error == "HTTP 503"
    assert failed.last_request == {"orderNumber": "1042-1", "password": "***"}
    assert sent.last_error is None, "a successful step clears the previous error"
    assert sent.last_response == {"orderId": 55}
    assert sent.attempts == 2
    assert sent.updated_at == clock.now
    history = await store.history(SHIPMENT)
    assert [(t.from_state, t.to_state, t.note) for t in history] == [
        (None, "new", "created"),
        ("new", "wms_failed", "first try"),
        ("wms_failed", "sent_to_wms", None),
    ]
    assert [t.at for t in history] == sorted(t.at for t in history)
    assert all(t.at.tzinfo is UTC for t in history)


async def test_transition_of_unknown_record_names_it(store: StateStore) -> None:
    with pytest.raises(RecordValidationError) as caught:
        await store.transition(SHIPMENT, "sent_to_wms")
    assert caught.value.record == "se/shipment/1042-1"
    assert caught.value.field == "key"


async def test_list_records_filters_by_kind_and_state(store: StateStore) -> None:
    for key in ("a", "b", "c"):
        await store.upsert_record(RecordRef("se", RecordKind.SHIPMENT, key))
    await store.upsert_record(RecordRef("no", RecordKind.SHIPMENT, "a"))
    await store.upsert_record(OTHER)
    await store.transition(RecordRef("se", RecordKind.SHIPMENT, "b"), "done")

    new_shipments = await store.list_records("se", kind=RecordKind.SHIPMENT, state="new")
    assert sorted(r.ref.key for r in new_shipments) == ["a", "c"]
    assert len(await store.list_records("se")) == 4
    assert len(await store.list_records("se", limit=2)) == 2


async def test_list_records_by_key_prefix_is_exact_and_case_sensitive(store: StateStore) -> None:
    for key in ("1042-1", "1042-2", "10421-1", "1043-1", "A_1", "a%1"):
        await store.upsert_record(RecordRef("se", RecordKind.SHIPMENT, key))
    await store.upsert_record(RecordRef("no", RecordKind.SHIPMENT, "1042-3"))

    async def keys(prefix: str) -> list[str]:
        found = await store.list_records("se", kind=RecordKind.SHIPMENT, key_prefix=prefix)
        return sorted(r.ref.key for r in found)

    assert await keys("1042-") == ["1042-1", "1042-2"]
    assert await keys("A_") == ["A_1"]
    assert await keys("a%") == ["a%1"]
    assert await keys("") == ["1042-1", "1042-2", "10421-1", "1043-1", "A_1", "a%1"]


async def test_get_records_reads_many_at_once_and_leaves_out_the_unknown(
    store: StateStore,
) -> None:
    keys = [f"S-{n}" for n in range(1200)]
    await store.upsert_records([NewRecord(RecordRef("se", RecordKind.STOCK, k)) for k in keys])
    await store.upsert_record(OTHER, centra_id="R")
    wanted = [RecordRef("se", RecordKind.STOCK, k) for k in [*keys, "missing"]]

    found = await store.get_records([*wanted, OTHER, RecordRef("no", RecordKind.RETURN, "R-7")])

    assert len(found) == 1201, "keys past one IN list, two kinds, unknown refs absent"
    assert found[OTHER].centra_id == "R"
    assert found[RecordRef("se", RecordKind.STOCK, "S-1199")].state == "new"
    assert await store.get_records([]) == {}


async def test_batches_upsert_and_transition_in_order(store: StateStore, clock: FakeClock) -> None:
    first = RecordRef("se", RecordKind.STOCK, "A")
    second = RecordRef("se", RecordKind.STOCK, "B")
    created = await store.upsert_records(
        [NewRecord(first, centra_id="1"), NewRecord(second, initial_state="sending")]
    )
    clock.advance(seconds=1)
    moved = await store.transition_records(
        [
            Step(first, "sending", request={"physical": 3, "token": "t0ps3cret"}),
            Step(first, "written", note="landed", response={"centra_before": 1}),
            Step(second, "written", error="was slow"),
        ]
    )

    assert [(r.ref, r.state, r.centra_id) for r in created] == [
        (first, "new", "1"),
        (second, "sending", None),
    ]
    assert [(r.ref.key, r.state) for r in moved] == [
        ("A", "sending"),
        ("A", "written"),
        ("B", "written"),
    ]
    assert moved[1].last_request == {"physical": 3, "token": "***"}
    assert (moved[1].attempts, moved[1].updated_at) == (1, clock.now)
    assert moved[2].last_error == "was slow"
    history = await store.history(first)
    assert [(t.from_state, t.to_state, t.note) for t in history] == [
        (None, "new", "created"),
        ("new", "sending", None),
        ("sending", "written", "landed"),
    ]


async def test_a_batch_with_an_unknown_record_changes_nothing(store: StateStore) -> None:
    known = RecordRef("se", RecordKind.STOCK, "A")
    await store.upsert_record(known)

    with pytest.raises(RecordValidationError) as caught:
        await store.transition_records(
            [Step(known, "written"), Step(RecordRef("se", RecordKind.STOCK, "B"), "written")]
        )

    assert caught.value.record == "se/stock/B"
    record = await store.get_record(known)
    assert record is not None
    assert record.state == "new"


async def test_effect_carries_its_records_moves(store: StateStore) -> None:
    writing = [NewRecord(SHIPMENT, centra_id="1042-1", initial_state="writing")]
    begun = await store.begin_effect("wms-order:1042-1", SHIPMENT, {"n": 1}, moves=writing)
    record = await store.get_record(SHIPMENT)
    assert begun.outcome is BeginOutcome.NEW
    assert record is not None
    assert (record.state, record.centra_id) == ("writing", "1042-1")

    sent = [Step(SHIPMENT, "sent", request={"n": 1}, response={"wms_id": 55})]
    done = await store.complete_effect("wms-order:1042-1", {"wms_id": 55}, moves=sent)
    record = await store.get_record(SHIPMENT)
    assert done.status is EffectStatus.SUCCEEDED
    assert record is not None
    assert (record.state, record.last_response) == ("sent", {"wms_id": 55})

    with pytest.raises(RecordValidationError):
        await store.complete_effect("never-begun", {}, moves=[Step(SHIPMENT, "lost")])
    record = await store.get_record(SHIPMENT)
    assert record is not None
    assert record.state == "sent", "a refused confirmation moves nothing"


async def test_transaction_commits_cursor_and_transition_together(store: StateStore) -> None:
    await store.upsert_record(SHIPMENT)
    page_end = datetime(2026, 3, 29, 1, tzinfo=UTC)

    async with store.transaction() as tx:
        await tx.advance_cursor("se", "shipments", page_end, ["1042-1"])
        await tx.transition(SHIPMENT, "sent_to_wms")

    cursor = await store.get_cursor("se", "shipments")
    assert cursor is not None
    assert cursor.value == page_end
    record = await store.get_record(SHIPMENT)
    assert record is not None
    assert record.state == "sent_to_wms"


async def test_transaction_rolls_back_everything_on_error(store: StateStore) -> None:
    await store.upsert_record(SHIPMENT)

    with pytest.raises(ZeroDivisionError):
        async with store.transaction() as tx:
            await tx.advance_cursor("se", "shipments", datetime(2026, 3, 29, tzinfo=UTC))
            await tx.transition(SHIPMENT, "sent_to_wms")
            await tx.begin_effect("wms-order:1042-1", SHIPMENT, {"orderNumber": "1042-1"})
            _ = 1 / 0

    assert await store.get_cursor("se", "shipments") is None
    assert await store.get_effect("wms-order:1042-1") is None
    record = await store.get_record(SHIPMENT)
    assert record is not None
    assert record.state == "new"
    assert len(await store.history(SHIPMENT)) == 1


async def test_outer_store_inside_its_transaction_is_refused_not_deadlocked(
    store: StateStore,
) -> None:
    async with store.transaction() as tx:
        await tx.upsert_record(SHIPMENT)
        with pytest.raises(RuntimeError, match="yielded by transaction"):
            await asyncio.wait_for(store.get_record(SHIPMENT), timeout=5)
        async with tx.transaction() as nested:
            await nested.transition(SHIPMENT, "joined")
    record = await store.get_record(SHIPMENT)
    assert record is not None
    assert record.state == "joined"


async def test_scan_pages_through_the_records_in_some_states_and_counts_all(
    store: StateStore,
) -> None:
    refs = [RecordRef("se", RecordKind.SHIPMENT, f"10{n:02d}-1") for n in range(7)]
    states = ["new", "sent", "completed", "sent", "new", "parked", "sent"]
    await store.upsert_records(
        [NewRecord(ref, initial_state=st) for ref, st in zip(refs, states, strict=True)]
    )
    await store.upsert_record(RecordRef("us", RecordKind.SHIPMENT, "1000-1"))
    await store.upsert_record(RecordRef("se", RecordKind.RETURN, "1000-1"))

    seen: list[str] = []
    after: str | None = None
    while page := await store.scan_records(
        "se", RecordKind.SHIPMENT, {"new", "sent"}, after_key=after, limit=2
    ):
        seen += [record.ref.key for record in page]
        after = page[-1].ref.key
    assert seen == [r.key for r, st in zip(refs, states, strict=True) if st in ("new", "sent")]
    assert await store.scan_records("se", RecordKind.SHIPMENT, set()) == []
    assert await store.count_records("se", RecordKind.SHIPMENT) == {
        "new": 2,
        "sent": 3,
        "completed": 1,
        "parked": 1,
    }
    counted = await store.count_records("se", RecordKind.SHIPMENT, states={"sent", "gone"})
    assert counted == {"sent": 3}
    assert await store.count_records("se", RecordKind.SHIPMENT, states=()) == {}


async def test_a_step_outside_only_from_is_left_out(store: StateStore) -> None:
    await store.upsert_record(SHIPMENT)
    await store.transition(SHIPMENT, "completed")
    late = Step(SHIPMENT, "sent", note="late", only_from=frozenset({"new", "sent"}))
    (record,) = await store.transition_records([late])
    assert record.state == "completed"
    assert [t.to_state for t in await store.history(SHIPMENT)] == ["new", "completed"]


async def test_a_note_keeps_the_state_and_needs_a_record(store: StateStore) -> None:
    assert not await store.note(SHIPMENT, "will retry", error="HTTP 503")
    await store.upsert_record(SHIPMENT)
    assert await store.note(SHIPMENT, "will retry", error="HTTP 503 token=abc123")
    record = await store.get_record(SHIPMENT)
    assert record is not None and record.state == "new"
    assert record.last_error is not None and "abc123" not in record.last_error
    history = await store.history(SHIPMENT)
    assert [(t.from_state, t.to_state, t.note) for t in history][-1] == (
        "new",
        "new",
        "will retry",
    )


async def test_the_centra_order_is_kept_once_known(store: StateStore) -> None:
    created = await store.upsert_record(SHIPMENT, centra_order="1042")
    assert created.centra_order == "1042"
    again = await store.upsert_record(SHIPMENT, wms_id="ON-1")
    assert (again.centra_order, again.wms_id) == ("1042", "ON-1")


# -- effects ----------------------------------------------------------------------------


async def test_begin_twice_sees_the_pending_intent(store: StateStore) -> None:
    first = await store.begin_effect("wms-order:1042-1", SHIPMENT, {"lines": 2})
    second = await store.begin_effect("wms-order:1042-1", SHIPMENT, {"lines": 3})

    assert first.outcome is BeginOutcome.NEW
    assert second.outcome is BeginOutcome.IN_DOUBT
    assert second.effect.status is EffectStatus.PENDING
    assert second.effect.intent == {"lines": 2}, "the intent that may have been applied stays"
    assert second.effect.attempts == 0, "a begin cut short by a crash is no failed attempt"


async def test_only_attempts_known_to_have_failed_count(store: StateStore) -> None:
    await store.begin_effect("wms-order:1042-1", SHIPMENT, {"lines": 2})
    noted = await store.note_effect_error("wms-order:1042-1", "HTTP 503")
    assert (noted.status, noted.attempts, noted.error) == (EffectStatus.PENDING, 1, "HTTP 503")
    refused = await store.fail_effect("wms-order:1042-1", "401 password=x", counted=False)
    assert (refused.status, refused.attempts) == (EffectStatus.FAILED, 1)
    await store.begin_effect("wms-order:1042-1", SHIPMENT, {"lines": 2})
    failed = await store.fail_effect("wms-order:1042-1", "HTTP 400")
    assert (failed.status, failed.attempts) == (EffectStatus.FAILED, 2)


async def test_a_finished_record_leaves_no_effect_pending(store: StateStore) -> None:
    await store.upsert_record(SHIPMENT)
    await store.begin_effect("wms-order/1042-1", SHIPMENT, {"lines": 2})
    await store.begin_effect("cancel/1042-1", SHIPMENT, None)
    await store.complete_effect(
        "cancel/1042-1",
        {"wms": "cancelled"},
        moves=[Step(SHIPMENT, "cancelled"), Abandon(SHIPMENT, "cancelled meanwhile")],
    )
    order = await store.get_effect("wms-order/1042-1")
    assert order is not None
    assert (order.status, order.error) == (EffectStatus.ABANDONED, "cancelled meanwhile")
    again = await store.begin_effect("wms-order/1042-1", SHIPMENT, {"lines": 2})
    assert again.outcome is BeginOutcome.IN_DOUBT, "it may have applied: look first"

    batch = RecordRef("se", RecordKind.STOCK, "stock-batch/ab")
    await store.begin_effect("stock/se/gen-1/ab", batch, None)
    await store.begin_effect("stock/se/gen-2/cd", batch, None)
    assert await store.abandon_effects("se", RecordKind.STOCK, "stock/se/gen-1/", "old") == 1
    kept = await store.get_effect("stock/se/gen-2/cd")
    assert kept is not None and kept.status is EffectStatus.PENDING


async def test_completed_effect_is_never_begun_again(store: StateStore) -> None:
    await store.begin_effect("capture:1042-1", SHIPMENT, {"amount": "10.00"})
    done = await store.complete_effect("capture:1042-1", {"transactionId": "T1"})
    again = await store.begin_effect("capture:1042-1", SHIPMENT, {"amount": "10.00"})
    repeat = await store.complete_effect("capture:1042-1", {"transactionId": "T2"})

    assert done.status is EffectStatus.SUCCEEDED
    assert done.completed_at is not None
    assert again.outcome is BeginOutcome.SUCCEEDED
    assert again.effect.outcome == {"transactionId": "T1"}
    assert repeat.outcome == {"transactionId": "T1"}, "the first confirmation wins"


async def test_failed_effect_is_retried_with_the_new_intent(store: StateStore) -> None:
    await store.begin_effect("return:R-7", OTHER, {"qty": 1})
    failed = await store.fail_effect("return:R-7", "HTTP 422 token=abc123")
    retry = await store.begin_effect("return:R-7", OTHER, {"qty": 2})

    assert failed.status is EffectStatus.FAILED
    assert failed.error is not None
    assert "abc123" not in failed.error
    assert retry.outcome is BeginOutcome.RETRY
    assert retry.effect.status is EffectStatus.PENDING
    assert retry.effect.intent == {"qty": 2}


async def test_effect_misuse_is_refused_with_record_and_field(store: StateStore) -> None:
    with pytest.raises(RecordValidationError) as unknown:
        await store.complete_effect("never-begun", {})
    assert (unknown.value.record, unknown.value.field) == ("effect never-begun", "key")

    await store.begin_effect("stock:SKU1", RecordRef("se", RecordKind.STOCK, "SKU1"), None)
    with pytest.raises(RecordValidationError, match="already belongs"):
        await store.begin_effect("stock:SKU1", RecordRef("se", RecordKind.STOCK, "SKU2"), None)


async def test_a_refusal_after_another_holder_confirmed_leaves_the_effect_confirmed(
    store: StateStore,
) -> None:
    stock = RecordRef("se", RecordKind.STOCK, "SKU1")
    await store.begin_effect("stock:SKU1", stock, None)
    await store.complete_effect("stock:SKU1", {"ok": True})
    late = await store.fail_effect("stock:SKU1", "HTTP 400: already started")
    assert (late.status, late.outcome, late.error) == (EffectStatus.SUCCEEDED, {"ok": True}, None)
    noted = await store.note_effect_error("stock:SKU1", "timeout")
    assert (noted.status, noted.attempts) == (EffectStatus.SUCCEEDED, 0)


async def test_concurrent_begins_have_exactly_one_winner(store: StateStore) -> None:
    results = await asyncio.gather(
        *(store.begin_effect("wms-order:race", SHIPMENT, {"n": n}) for n in range(6))
    )
    outcomes = sorted(r.outcome.value for r in results)
    assert outcomes == ["in_doubt"] * 5 + ["new"]


# -- cursors ----------------------------------------------------------------------------


async def test_cursor_moves_forward_only(store: StateStore) -> None:
    t0 = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    assert await store.get_cursor("se", "stock") is None

    await store.advance_cursor("se", "stock", t0, ["A"])
    same = await store.advance_cursor("se", "stock", t0, ["B"])
    older = await store.advance_cursor("se", "stock", t0 - timedelta(minutes=5), ["Z"])
    later = await store.advance_cursor("se", "stock", t0 + timedelta(seconds=1), ["C"])

    assert same.boundary_ids == {"A", "B"}, "records sharing the boundary time accumulate"
    assert (older.value, older.boundary_ids) == (t0, frozenset({"A", "B"}))
    assert (later.value, later.boundary_ids) == (t0 + timedelta(seconds=1), frozenset({"C"}))
    stored = await store.get_cursor("se", "stock")
    assert stored == later


async def test_cursor_refuses_naive_datetimes(store: StateStore) -> None:
    with pytest.raises(RecordValidationError) as caught:
        await store.advance_cursor("se", "orders", datetime(2026, 3, 29, 2, 30))
    assert caught.value.record == "cursor se:orders"
    assert caught.value.field == "value"
    assert await store.get_cursor("se", "orders") is None


async def test_cursor_round_trips_as_utc(store: StateStore) -> None:
    # 02:30 on the spring-forward night in Stockholm does not exist locally; 03:30 CEST does.
    local = datetime(2026, 3, 29, 3, 30, 15, 123456, tzinfo=ZoneInfo("Europe/Stockholm"))
    await store.advance_cursor("se", "orders", local)

    cursor = await store.get_cursor("se", "orders")
    assert cursor is not None
    assert cursor.value.tzinfo is UTC
    assert cursor.value == datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC)


# -- webhook inbox ----------------------------------------------------------------------


async def test_inbox_ignores_duplicates_per_store(store: StateStore) -> None:
    key = dedup_key("shipment", "update", "1042-1", "2026-03-29T01:00:00Z")
    assert await store.add_to_inbox("se", key, b'{"a":1}')
    assert not await store.add_to_inbox("se", key, b'{"a":1}')
    assert await store.add_to_inbox("no", key, b'{"a":1}'), "another store's event is distinct"

    assert await store.inbox_backlog("se") == 1
    assert await store.inbox_backlog("no") == 1


async def test_inbox_claims_hide_items_until_processed_or_lapsed(
    store: StateStore, clock: FakeClock
) -> None:
    for n in range(3):
        await store.add_to_inbox("se", f"event-{n}", f"body {n}".encode())

    first = await store.claim_inbox("se", 2, claim_for=timedelta(minutes=1))
    rest = await store.claim_inbox("se", 10, claim_for=timedelta(minutes=1))
    assert [i.dedup_key for i in first] == ["event-0", "event-1"]
    assert [i.body for i in rest] == [b"body 2"]
    assert await store.claim_inbox("se", 10) == []

    await store.mark_inbox_processed([first[0].id])
    await store.mark_inbox_failed(first[1].id, "Centra said no")
    retried = await store.claim_inbox("se", 10)
    assert [(i.dedup_key, i.attempts, i.error) for i in retried] == [
        ("event-1", 2, "Centra said no")
    ]

    clock.advance(minutes=2)
    lapsed = await store.claim_inbox("se", 10)
    assert [i.dedup_key for i in lapsed] == ["event-2"]
    assert await store.inbox_backlog("se") == 2


async def test_a_claim_is_marked_processed_at_once(store: StateStore) -> None:
    for n in range(3):
        await store.add_to_inbox("se", f"event-{n}", b"{}")
    claimed = await store.claim_inbox("se", 10, claim_for=timedelta(minutes=1))

    # One unknown id refuses the lot: nothing is marked, so nothing is lost.
    with pytest.raises(RecordValidationError) as caught:
        await store.mark_inbox_processed([claimed[0].id, 999])
    assert caught.value.record == "inbox item 999"
    assert await store.inbox_backlog("se") == 3

    await store.mark_inbox_processed([item.id for item in claimed])
    await store.mark_inbox_processed([])
    assert await store.inbox_backlog("se") == 0


async def test_unknown_inbox_item_is_named(store: StateStore) -> None:
    with pytest.raises(RecordValidationError) as caught:
        await store.mark_inbox_processed([999])
    assert (caught.value.record, caught.value.field) == ("inbox item 999", "id")


def test_dedup_key_separates_fields() -> None:
    assert dedup_key("a b", "c") != dedup_key("a", "b c")
    assert dedup_key("x", "y") == dedup_key("x", "y")


# -- dead letters -----------------------------------------------------------------------


async def test_parking_moves_the_record_with_its_dead_letter(store: StateStore) -> None:
    moves = [NewRecord(SHIPMENT, centra_id="1042"), Step(SHIPMENT, "invalid", error="bad zip")]
    dead = await store.park(SHIPMENT, "bad zip", {"zip": "?"}, moves=moves)
    record = await store.get_record(SHIPMENT)
    assert record is not None
    assert (record.state, record.centra_id, record.last_error) == ("invalid", "1042", "bad zip")
    assert (dead.record, dead.payload) == (SHIPMENT, {"zip": "?"})

    with pytest.raises(RecordValidationError):
        # All or nothing: a move that fails keeps the dead letter out too.
        await store.park(OTHER, "never", moves=[Step(OTHER, "invalid")])
    assert [d.record for d in await store.list_dead("se")] == [SHIPMENT]


async def test_parking_lists_refreshes_and_resolves(store: StateStore, clock: FakeClock) -> None:
    first = await store.park(SHIPMENT, "se/shipment/1042-1: field 'country': unknown", {"c": "XX"})
    clock.advance(minutes=1)
    again = await store.park(SHIPMENT, "se/shipment/1042-1: field 'country': still unknown")
    await store.park(OTHER, "se/return/R-7: field 'lineId': missing password=s3cret")

    assert again.id == first.id, "re-parking an unresolved record refreshes its entry"
    assert again.parked_at == clock.now
    dead = await store.list_dead("se")
    assert {d.record for d in dead} == {SHIPMENT, OTHER}
    assert all("s3cret" not in d.reason for d in dead)

    assert await store.resolve_dead(first.id)
    assert not await store.resolve_dead(first.id)
    assert [d.record for d in await store.list_dead("se")] == [OTHER]
    everything = await store.list_dead("se", include_resolved=True)
    assert [d.resolved_at is not None for d in everything if d.record == SHIPMENT] == [True]

    reparked = await store.park(SHIPMENT, "broken again")
    assert reparked.id != first.id


async def test_dead_letters_are_found_per_record_and_per_store(
    store: StateStore, clock: FakeClock
) -> None:
    first = await store.park(SHIPMENT, "bad zip")
    await store.resolve_dead(first.id)
    clock.advance(minutes=1)
    second = await store.park(SHIPMENT, "bad zip again")
    clock.advance(minutes=1)
    await store.park(OTHER, "no lines")
    await store.park(RecordRef("us", RecordKind.SHIPMENT, "1042-1"), "elsewhere")

    assert [d.id for d in await store.dead_letters_of(SHIPMENT)] == [second.id]
    every = await store.dead_letters_of(SHIPMENT, include_resolved=True)
    assert [d.id for d in every] == [second.id, first.id]
    assert await store.dead_records("se") == [OTHER, SHIPMENT], "most recently parked first"
    assert await store.dead_records("dk") == []


async def test_store_names_come_from_the_ledger_and_the_dead_letters(store: StateStore) -> None:
    assert await store.store_names() == []
    await store.upsert_record(RecordRef("us", RecordKind.SHIPMENT, "1-1"))
    await store.upsert_record(RecordRef("se", RecordKind.SHIPMENT, "1-1"))
    await store.upsert_record(RecordRef("se", RecordKind.ARTICLE, "SKU-1"))
    await store.park(RecordRef("dk", RecordKind.RETURN, "R-1"), "parked before any record")

    assert await store.store_names() == ["dk", "se", "us"]


# -- leases -----------------------------------------------------------------------------


async def test_find_lease_names_the_holder_even_once_expired(
    store: StateStore, clock: FakeClock
) -> None:
    assert await store.find_lease("worker/se") is None
    taken = await store.acquire_lease("worker/se", "w1", timedelta(seconds=10))
    clock.advance(seconds=11)

    assert await store.find_lease("worker/se") == taken


async def test_lease_contention_and_takeover_after_expiry(
    store: StateStore, clock: FakeClock
) -> None:
    ttl = timedelta(seconds=30)
    assert await store.acquire_lease("se:shipments", "worker-a", ttl)
    assert not await store.acquire_lease("se:shipments", "worker-b", ttl)
    assert await store.acquire_lease("se:shipments", "worker-a", ttl), "re-acquiring extends"
    assert not await store.renew_lease("se:shipments", "worker-b", ttl)

    clock.advance(seconds=20)
    assert await store.renew_lease("se:shipments", "worker-a", ttl)
    clock.advance(seconds=29)
    assert not await store.acquire_lease("se:shipments", "worker-b", ttl)

    clock.advance(seconds=2)
    assert await store.acquire_lease("se:shipments", "worker-b", ttl)
    assert not await store.renew_lease("se:shipments", "worker-a", ttl)
    assert not await store.release_lease("se:shipments", "worker-a")
    assert await store.release_lease("se:shipments", "worker-b")
    assert await store.acquire_lease("se:shipments", "worker-a", ttl)


async def test_lease_ttl_must_be_positive(store: StateStore) -> None:
    with pytest.raises(RecordValidationError) as caught:
        await store.acquire_lease("se:stock", "w", timedelta(0))
    assert (caught.value.record, caught.value.field) == ("lease se:stock", "ttl")


async def test_concurrent_acquirers_never_both_win(durable_url: str) -> None:
    stores = [await open_store(durable_url) for _ in range(2)]
    try:
        for round_ in range(10):
            name = f"se:race-{round_}"
            results = await asyncio.gather(
                *(
                    stores[n % 2].acquire_lease(name, f"worker-{n}", timedelta(minutes=1))
                    for n in range(6)
                )
            )
            assert sum(lease is not None for lease in results) == 1, results
    finally:
        for opened in stores:
            await opened.close()


async def test_concurrent_takeovers_of_an_expired_lease_never_both_win(
    durable_url: str, clock: FakeClock
) -> None:
    """The path where the row exists: on PostgreSQL the ``SKIP LOCKED`` read decides."""
    stores = [await open_store(durable_url, clock=clock) for _ in range(2)]
    ttl = timedelta(seconds=15)
    try:
        for round_ in range(10):
            name = f"se:expired-{round_}"
            assert await stores[0].acquire_lease(name, "dead-worker", ttl)
            clock.advance(seconds=ttl.total_seconds() + 1)
            results = await asyncio.gather(
                *(stores[n % 2].acquire_lease(name, f"worker-{n}", ttl) for n in range(6))
            )
            (winner,) = [lease for lease in results if lease is not None]
            (lease,) = [held for held in await stores[1].list_leases() if held.name == name]
            assert lease == winner
    finally:
        for opened in stores:
            await opened.close()


async def test_list_leases_names_the_holders_of_unexpired_leases(
    store: StateStore, clock: FakeClock
) -> None:
    assert await store.list_leases() == []
    assert await store.acquire_lease("worker/us", "w2", timedelta(seconds=30))
    assert await store.acquire_lease("worker/se", "w1", timedelta(seconds=10))

    leases = await store.list_leases()
    assert [(lease.name, lease.owner) for lease in leases] == [
        ("worker/se", "w1"),
        ("worker/us", "w2"),
    ]
    assert leases[0].expires_at == clock.now + timedelta(seconds=10)

    clock.advance(seconds=11)
    assert [lease.name for lease in await store.list_leases()] == ["worker/us"]
    assert await store.release_lease("worker/us", "w2")
    assert await store.list_leases() == []


async def test_the_token_grows_whenever_the_lease_changes_hands(
    store: StateStore, clock: FakeClock
) -> None:
    ttl = timedelta(seconds=30)
    first = await store.acquire_lease("worker/se", "w1", ttl)
    assert first is not None and first.token == 1
    kept = await store.acquire_lease("worker/se", "w1", ttl, token=first.token)
    assert kept is not None and kept.token == 1, "presenting its token, the holder extends"
    # The same owner name without the token: a restarted process, which fences off the old.
    again = await store.acquire_lease("worker/se", "w1", ttl)
    assert again is not None and again.token == 2
    assert not await store.renew_lease("worker/se", "w1", ttl, token=first.token)
    assert not await store.release_lease("worker/se", "w1", token=first.token)

    clock.advance(seconds=ttl.total_seconds() + 1)
    taken = await store.acquire_lease("worker/se", "w2", ttl, token=again.token)
    assert taken is not None and taken.token == 3, "another owner never keeps a token"
    assert await store.renew_lease("worker/se", "w2", ttl, token=3)
    assert [lease.token for lease in await store.list_leases()] == [3]
    assert await store.release_lease("worker/se", "w2", token=3)
    assert await store.list_leases() == []


class Holder:
    """A fence holder as a worker keeps one: the fence it got, and what the store said."""

    def __init__(self, fence: Fence | None) -> None:
        self.fence = fence
        self.refused: list[Fence] = []

    def current_fence(self) -> Fence:
        if self.fence is None:
            raise LeaseLostError("no lease held")
        return self.fence

    def fence_refused(self, fence: Fence) -> None:
        self.refused.append(fence)


async def test_a_fenced_view_writes_until_a_newer_holder_exists(
    store: StateStore, clock: FakeClock
) -> None:
    ttl = timedelta(seconds=15)
    lease = await store.acquire_lease("worker/se", "w1", ttl)
    assert lease is not None
    holder = Holder(lease.fence)
    fenced = store.fenced(holder)
    await fenced.upsert_record(SHIPMENT)
    async with fenced.transaction() as tx:
        await tx.transition(SHIPMENT, "sent")
    clock.advance(seconds=ttl.total_seconds() * 2)
    await fenced.transition(SHIPMENT, "sent", note="expired, but nobody took it over")

    assert await store.acquire_lease("worker/se", "w2", ttl)
    with pytest.raises(LeaseLostError):
        await fenced.transition(SHIPMENT, "completed")
    with pytest.raises(LeaseLostError):
        async with fenced.transaction() as tx:
            await tx.begin_effect("complete/se/1042-1", SHIPMENT, {"x": 1})
    with pytest.raises(LeaseLostError):
        await fenced.park(SHIPMENT, "stale")

    assert holder.refused == [lease.fence] * 3
    record = await store.get_record(SHIPMENT)
    assert record is not None and record.state == "sent"
    assert await fenced.get_record(SHIPMENT) == record, "reads are not fenced"
    assert await store.get_effect("complete/se/1042-1") is None
    assert await store.list_dead("se") == []


async def test_a_fenced_write_needs_a_fence(store: StateStore) -> None:
    with pytest.raises(LeaseLostError):
        await store.fenced(Holder(None)).upsert_record(SHIPMENT)
    assert await store.get_record(SHIPMENT) is None


async def test_postgres_judges_leases_by_the_servers_clock(
    pg_schema_url: Callable[[], str],
) -> None:
    """Two hosts whose clocks are an hour apart agree on who holds a lease."""
    url = pg_schema_url()
    ttl = timedelta(seconds=30)
    here = await open_store(url)
    engine = create_store_engine(url)
    # A host whose clock is an hour ahead would see the lease as long expired.
    ahead = SqlStateStore(
        engine,
        clock=lambda: datetime.now(UTC) + timedelta(hours=1),
        backend=PostgresBackend(engine, database_clock=True),
    )
    try:
        assert await here.acquire_lease("worker/se", "w1", ttl)
        assert not await ahead.acquire_lease("worker/se", "w2", ttl)
        (held,) = await ahead.list_leases()
        assert held.owner == "w1"
        assert held.expires_at - datetime.now(UTC) < ttl + timedelta(seconds=5)
    finally:
        await here.close()
        await ahead.close()


# -- crash recovery ---------------------------------------------------------------------


async def test_effect_begun_before_a_crash_is_in_doubt_after_restart(durable_url: str) -> None:
    before = await open_store(durable_url)
    await before.upsert_record(SHIPMENT)
    await before.begin_effect("wms-order:1042-1", SHIPMENT, {"orderNumber": "1042-1"})
    await before.close()

    after = await open_store(durable_url)
    try:
        effect = await after.get_effect("wms-order:1042-1")
        assert effect is not None
        assert effect.status is EffectStatus.PENDING
        resumed = await after.begin_effect("wms-order:1042-1", SHIPMENT, {"orderNumber": "x"})
        assert resumed.outcome is BeginOutcome.IN_DOUBT
        assert resumed.effect.intent == {"orderNumber": "1042-1"}
    finally:
        await after.close()


_KILLED_RUN = """
import asyncio, os, sys
from centrasync.store import RecordKind, RecordRef
from centrasync.store.sql import open_store

async def main(url):
    store = await open_store(url)
    ref = RecordRef("se", RecordKind.SHIPMENT, "1042-1")
    await store.begin_effect("wms-order:1042-1", ref, {"orderNumber": "1042-1"})
    os._exit(9)  # killed while the remote call is in flight: no complete, no close

asyncio.run(main(sys.argv[1]))
"""


async def test_effect_begun_by_a_killed_process_is_in_doubt(durable_url: str) -> None:
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", _KILLED_RUN, durable_url)
    assert await asyncio.wait_for(process.wait(), timeout=30) == 9

    store = await open_store(durable_url)
    try:
        resumed = await store.begin_effect("wms-order:1042-1", SHIPMENT, {"orderNumber": "x"})
        assert resumed.outcome is BeginOutcome.IN_DOUBT
        assert resumed.effect.intent == {"orderNumber": "1042-1"}
    finally:
        await store.close()


async def test_postgres_ends_a_transaction_its_process_left_idle(
    pg_schema_url: Callable[[], str],
) -> None:
    """A process stopped inside a transaction cannot hold its lease's row lock for good."""
    url = pg_schema_url()
    stalled = await open_store(url, stall_timeout=0.5)
    other = await open_store(url)
    ttl = timedelta(seconds=0.3)
    try:
        lease = await stalled.acquire_lease("worker/se", "w1", ttl)
        assert lease is not None
        fenced = stalled.fenced(Holder(lease.fence))
        with pytest.raises(RetryLaterError):
            async with fenced.transaction() as tx:
                await tx.upsert_record(SHIPMENT)  # the share lock on the lease row is held
                await asyncio.sleep(1.0)  # the process stalls here
                await tx.transition(SHIPMENT, "sent")
        assert await other.acquire_lease("worker/se", "w2", ttl), "the lease was taken over"
        assert await other.get_record(SHIPMENT) is None
    finally:
        await stalled.close()
        await other.close()
