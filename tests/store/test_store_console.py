"""The console's questions of the store, on SQLite and PostgreSQL: search, keyset pages,
a record's effects, the last change per flow, open dead letters and the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest

from centrasync.errors import RecordValidationError
from centrasync.store import RecordKind, RecordQuery, RecordRef, StateStore
from fake_clock import FakeClock


def _ship(key: str, store: str = "se") -> RecordRef:
    return RecordRef(store, RecordKind.SHIPMENT, key)


async def _all_pages(store: StateStore, query: RecordQuery, limit: int) -> list[str]:
    keys: list[str] = []
    after: str | None = None
    while True:
        page = await store.search_records(query, after=after, limit=limit)
        keys.extend(record.ref.key for record in page.records)
        if page.after is None:
            return keys
        after = page.after


async def test_pages_run_newest_first_without_gaps_or_repeats(
    store: StateStore, clock: FakeClock
) -> None:
    # Several records share a timestamp, so the id must break the ties between pages.
    for index in range(23):
        await store.upsert_record(_ship(f"100{index:02d}-1"))
        if index % 3 == 0:
            clock.advance(seconds=1)
    keys = await _all_pages(store, RecordQuery(), limit=5)
    assert keys == [f"100{index:02d}-1" for index in reversed(range(23))]


async def test_filters_combine_in_sql(store: StateStore, clock: FakeClock) -> None:
    await store.upsert_record(_ship("1001-1"), centra_order="1001", wms_id="W1")
    await store.upsert_record(_ship("1001-2"), centra_order="1001")
    await store.upsert_record(_ship("2001-1", store="us"), centra_order="2001")
    await store.transition(_ship("1001-2"), "capture_declined")
    await store.upsert_record(RecordRef("se", RecordKind.ARTICLE, "SKU-9"))
    await store.upsert_record(RecordRef("se", RecordKind.STOCK, "SKU-9"))
    clock.advance(hours=2)
    await store.upsert_record(_ship("3001-1"))

    async def keys(**filters: object) -> list[str]:
        page = await store.search_records(RecordQuery(**filters), limit=50)  # type: ignore[arg-type]
        return [str(record.ref) for record in page.records]

    assert await keys(number="1001") == ["se/shipment/1001-2", "se/shipment/1001-1"]
    assert await keys(number="1001-1") == ["se/shipment/1001-1"]
    assert await keys(state="capture_declined") == ["se/shipment/1001-2"]
    assert await keys(wms_id="W1") == ["se/shipment/1001-1"]
    assert await keys(store="us") == ["us/shipment/2001-1"]
    assert await keys(sku="SKU-9") == ["se/stock/SKU-9", "se/article/SKU-9"]
    assert await keys(sku="SKU-9", kind=RecordKind.ARTICLE) == ["se/article/SKU-9"]
    late = clock.now - timedelta(hours=1)
    assert await keys(since=late) == ["se/shipment/3001-1"]
    assert len(await keys(until=late)) == 5


async def test_a_forged_page_position_is_refused(store: StateStore) -> None:
    with pytest.raises(RecordValidationError, match="page position"):
        await store.search_records(RecordQuery(), after="yesterday|1")


async def test_effects_latest_change_open_dead_letters_and_audit(
    store: StateStore, clock: FakeClock
) -> None:
    ref = _ship("1001-1")
    await store.upsert_record(ref)
    await store.begin_effect(f"wms-order/{ref}", ref, {"order": 1})
    await store.complete_effect(f"wms-order/{ref}", {"id": 7})
    await store.begin_effect(f"capture/{ref}", ref, None)
    assert [e.key for e in await store.effects_of(ref)] == [
        f"wms-order/{ref}",
        f"capture/{ref}",
    ]
    first = clock.now
    clock.advance(minutes=1)
    await store.upsert_record(_ship("1002-1"), initial_state="capture_declined")
    assert await store.latest_change("se", RecordKind.SHIPMENT) == clock.now
    assert (
        await store.latest_change("se", RecordKind.SHIPMENT, excluding={"capture_declined"})
        == first
    )
    assert await store.latest_change("se", RecordKind.STOCK) is None

    entry = await store.park(_ship("1002-1"), "capture declined: possible fraud")
    assert await store.count_open_dead("se") == 1
    await store.resolve_dead(entry.id)
    assert await store.count_open_dead("se") == 0

    await store.add_audit("alice", "retry", str(ref), "parked -> retry")
    await store.add_audit("bob", "retry", "se/shipment/1002-1", "password=hunter2")
    entries = await store.list_audit()
    assert [(e.who, e.target) for e in entries] == [
        ("bob", "se/shipment/1002-1"),
        ("alice", str(ref)),
    ]
    assert entries[0].detail is not None and "hunter2" not in entries[0].detail
    assert [e.who for e in await store.list_audit(target=str(ref))] == ["alice"]
