"""The analytics notes and row digests, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from centrasync.store.base import StateStore
from fake_clock import FakeClock


async def test_a_note_waits_until_a_load_after_it_is_finished(
    store: StateStore, clock: FakeClock
) -> None:
    await store.note_for_analytics("se", [("orders", 1001), ("shipments", 7)])
    await store.note_for_analytics("se", [("orders", 1001)])  # a second webhook, one row
    await store.note_for_analytics("us", [("orders", 1001)])
    assert await store.analytics_backlog("se") == 2

    claim = await store.claim_analytics("se", 10, claim_for=timedelta(minutes=1))
    assert sorted(claim.objects) == [("orders", 1001), ("shipments", 7)]
    assert claim.attempts == 1
    assert (await store.claim_analytics("se", 10)).objects == ()

    await store.release_analytics(claim, "Centra said no")
    again = await store.claim_analytics("se", 10, claim_for=timedelta(minutes=1))
    assert again.attempts == 2 and len(again.objects) == 2

    clock.advance(seconds=1)
    await store.note_for_analytics("se", [("shipments", 7)])  # changed during the load
    await store.finish_analytics(again)
    assert await store.pending_analytics("se") == [("shipments", 7)]
    lapsed = await store.claim_analytics("se", 10, claim_for=timedelta(minutes=1))
    assert lapsed.objects == (("shipments", 7),)
    clock.advance(minutes=2)  # the claimer died: its claim lapses
    assert (await store.claim_analytics("se", 10)).objects == (("shipments", 7),)
    assert await store.pending_analytics("us") == [("orders", 1001)]


async def test_digests_count_the_rows_that_are_new_or_changed(store: StateStore) -> None:
    assert await store.known_digests("se", "orders") == 0
    assert await store.record_digests("se", "orders", {"1001": "a", "1002": "b"}) == 2
    assert await store.record_digests("se", "orders", {"1001": "a", "1002": "c", "1003": "d"}) == 2
    assert await store.known_digests("se", "orders") == 3
    assert await store.known_digests("se", "returns") == 0


async def test_a_parked_object_keeps_its_payload_out_of_the_claims_until_retried(
    store: StateStore,
) -> None:
    await store.note_for_analytics("se", [("returns", 7), ("orders", 1001)])
    claim = await store.claim_analytics("se", 10)
    await store.park_analytics("se", "returns", 7, "returns 7: field 'x': bad", {"id": 7})
    await store.finish_analytics(claim)

    [parked] = await store.parked_analytics("se")
    assert (parked.resource, parked.object_id, parked.payload) == ("returns", 7, {"id": 7})
    assert parked.error == "returns 7: field 'x': bad"
    assert await store.analytics_backlog("se") == 0
    assert (await store.claim_analytics("se", 10)).objects == ()
    assert "se" in await store.store_names()

    assert await store.retry_analytics("se", [("returns", 7)]) == 1
    assert await store.parked_analytics("se") == []
    assert (await store.claim_analytics("se", 10)).objects == (("returns", 7),)


async def test_a_new_webhook_for_a_parked_object_puts_it_back_in_line(store: StateStore) -> None:
    await store.note_for_analytics("se", [("orders", 1001)])
    await store.park_analytics("se", "orders", 1001, "orders 1001: field 'x': bad", None)
    await store.note_for_analytics("se", [("orders", 1001)])
    assert await store.parked_analytics("se") == []
    assert await store.analytics_backlog("se") == 1
