"""Properties of the Integration API's cursors and dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from graphql import GraphQLError
from hypothesis import given
from hypothesis import strategies as st

from centrasync.emulators.centra.graphql.paging import (
    Connection,
    Sorter,
    decode_cursor,
    encode_cursor,
)
from centrasync.emulators.centra.graphql.phpdate import TimeInput, php_format

ZONES = st.sampled_from(
    [ZoneInfo("Europe/Stockholm"), ZoneInfo("America/New_York"), ZoneInfo("UTC")]
)
MOMENTS = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
).map(lambda m: m.replace(microsecond=0))


@dataclass(frozen=True)
class Row:
    id: int
    rank: int


SORTER: Sorter[Row] = Sorter(keys={"id": lambda r: r.id, "rank": lambda r: r.rank}, identity="id")
ROWS = st.lists(st.integers(0, 5), max_size=40).map(
    lambda ranks: [Row(i + 1, rank) for i, rank in enumerate(ranks)]
)
SORTS = st.sampled_from(["id_ASC", "id_DESC", "rank_ASC", "rank_DESC"])


def _expected(rows: list[Row], sort: str) -> list[int]:
    ordered, _, _ = SORTER.order(rows, [sort])
    return [r.id for r in ordered]


@given(ROWS, SORTS, st.integers(1, 7))
def test_paging_forward_visits_every_row_once_in_order(
    rows: list[Row], sort: str, size: int
) -> None:
    seen: list[int] = []
    after = None
    while True:
        page = Connection.build(SORTER, rows, [sort], size, after, None, None)
        seen += [row.id for _, row in page.rows]
        assert page.total_count == len(rows)
        if not page.has_next:
            break
        after = page.rows[-1][0]
    assert seen == _expected(rows, sort)


@given(ROWS, SORTS, st.integers(1, 7))
def test_paging_backward_visits_every_row_once_in_order(
    rows: list[Row], sort: str, size: int
) -> None:
    seen: list[int] = []
    before = None
    while True:
        page = Connection.build(SORTER, rows, [sort], None, None, size, before)
        seen = [row.id for _, row in page.rows] + seen
        if not page.has_previous:
            break
        before = page.rows[0][0]
    assert seen == _expected(rows, sort)


@given(ROWS, SORTS, st.integers(1, 7), st.data())
def test_a_cursor_stays_valid_when_its_row_goes(
    rows: list[Row], sort: str, size: int, data: st.DataObject
) -> None:
    first = Connection.build(SORTER, rows, [sort], size, None, None, None)
    if not first.rows:
        return
    cursor, last = first.rows[-1]
    gone = data.draw(st.sampled_from(rows))
    remaining = [r for r in rows if r is not gone]
    rest = Connection.build(SORTER, remaining, [sort], 100, cursor, None, None)
    order = _expected(rows, sort)
    after_cursor = order[order.index(last.id) + 1 :]
    assert [row.id for _, row in rest.rows] == [i for i in after_cursor if i != gone.id]


@given(st.text(min_size=0, max_size=30), st.integers())
def test_cursors_round_trip_any_value(value: str, ident: int) -> None:
    cursor = encode_cursor("name", value, "id", ident)
    assert decode_cursor(cursor) == [("name", value), ("id", str(ident))]


def test_the_docs_example_cursor_is_a_number_cursor() -> None:
    assert encode_cursor("number", 166, "number", 166) == "bnVtYmVyOjE2Ng=="


@pytest.mark.parametrize("bad", ["not base64!", "bm9jb2xvbg==", ""])
def test_a_malformed_cursor_is_the_clients_error(bad: str) -> None:
    with pytest.raises(GraphQLError, match="cursor"):
        Connection.build(SORTER, [Row(1, 1)], None, 1, bad, None, None)


@given(MOMENTS, ZONES)
def test_the_default_format_reads_back_as_the_same_instant(
    moment: datetime, zone: ZoneInfo
) -> None:
    text = php_format(moment.astimezone(zone), "Y-m-d\\TH:i:sP")
    assert TimeInput.parse(text).resolve(zone, moment) == moment
    assert php_format(moment.astimezone(zone), "c") == moment.astimezone(zone).isoformat()
    assert php_format(moment.astimezone(zone), "U") == str(int(moment.timestamp()))


@given(MOMENTS, ZONES)
def test_naive_input_is_wall_time_in_the_merchant_zone(moment: datetime, zone: ZoneInfo) -> None:
    wall = moment.astimezone(zone).replace(tzinfo=None)
    resolved = TimeInput.parse(wall.strftime("%Y-%m-%d %H:%M:%S")).resolve(zone, moment)
    assert resolved == wall.replace(tzinfo=zone).astimezone(UTC)


@given(MOMENTS, st.integers(-500, 500))
def test_relative_input_counts_from_now(now: datetime, hours: int) -> None:
    zone = ZoneInfo("Europe/Stockholm")
    assert TimeInput.parse(f"{hours:+d} hours").resolve(zone, now) == now + timedelta(hours=hours)
    assert TimeInput.parse(f"{abs(hours)} hours ago").resolve(zone, now) == now - timedelta(
        hours=abs(hours)
    )
    yesterday = TimeInput.parse("yesterday").resolve(zone, now).astimezone(zone)
    assert (yesterday.date(), yesterday.hour) == (
        now.astimezone(zone).date() - timedelta(days=1),
        0,
    )


@pytest.mark.parametrize("bad", ["31/12/2024", "2024-13-01", "soon", ""])
def test_unreadable_dates_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        TimeInput.parse(bad)
