from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from centrasync.centra import MerchantZone, format_centra_datetime, parse_centra_datetime
from centrasync.errors import ConfigError, RecordValidationError


@pytest.mark.parametrize(
    ("zone", "local", "utc"),
    [
        # Winter and summer on both sides of UTC; Auckland's summer is January.
        ("Europe/Stockholm", "2024-01-15 12:00:00", datetime(2024, 1, 15, 11, tzinfo=UTC)),
        ("Europe/Stockholm", "2024-07-15 12:00:00", datetime(2024, 7, 15, 10, tzinfo=UTC)),
        ("America/New_York", "2024-01-15 12:00:00", datetime(2024, 1, 15, 17, tzinfo=UTC)),
        ("America/New_York", "2024-07-15 12:00:00", datetime(2024, 7, 15, 16, tzinfo=UTC)),
        ("Asia/Tokyo", "2024-01-15 08:00:00", datetime(2024, 1, 14, 23, tzinfo=UTC)),
        ("Pacific/Auckland", "2024-01-15 12:00:00", datetime(2024, 1, 14, 23, tzinfo=UTC)),
        ("Pacific/Auckland", "2024-07-15 12:00:00", datetime(2024, 7, 15, 0, tzinfo=UTC)),
    ],
)
def test_naive_time_is_read_in_the_store_zone_and_rendered_back(
    zone: str, local: str, utc: datetime
) -> None:
    merchant = MerchantZone(zone)
    parsed = merchant.to_utc(local, field="orderDate")
    assert parsed == utc
    assert parsed is not None and parsed.tzinfo is UTC
    assert merchant.to_centra(utc) == local


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2012-02-04 15:16:13", datetime(2012, 2, 4, 14, 16, 13, tzinfo=UTC)),
        ("2019-01-28 01:15", datetime(2019, 1, 28, 0, 15, tzinfo=UTC)),  # supplier endpoints
        ("2019-01-28", datetime(2019, 1, 27, 23, 0, tzinfo=UTC)),
        (
            "2021-01-29 14:40:58.628033",  # webhook events
            datetime(2021, 1, 29, 13, 40, 58, 628033, tzinfo=UTC),
        ),
        ("2024-03-18T09:04:48+01:00", datetime(2024, 3, 18, 8, 4, 48, tzinfo=UTC)),
        ("0000-00-00 00:00:00", None),
        ("0000-00-00", None),
        ("", None),
        (None, None),
    ],
)
def test_every_documented_shape_parses(text: str | None, expected: datetime | None) -> None:
    assert parse_centra_datetime(text, ZoneInfo("Europe/Stockholm"), field="f") == expected


def test_repeated_hour_resolves_to_the_first_occurrence() -> None:
    # Stockholm, 2024-10-27: 03:00 CEST goes back to 02:00 CET, so 02:30 happens twice.
    merchant = MerchantZone("Europe/Stockholm")
    assert merchant.to_utc("2024-10-27 02:30:00", field="f") == datetime(
        2024, 10, 27, 0, 30, tzinfo=UTC
    )
    # Both instants render to the same wall time; Centra reads it back as the first one.
    first, second = (
        datetime(2024, 10, 27, 0, 30, tzinfo=UTC),
        datetime(2024, 10, 27, 1, 30, tzinfo=UTC),
    )
    assert merchant.to_centra(first) == merchant.to_centra(second) == "2024-10-27 02:30:00"


def test_skipped_hour_moves_forward_by_the_gap() -> None:
    # Stockholm, 2024-03-31: 02:00 CET jumps to 03:00 CEST; 02:30 never happens.
    merchant = MerchantZone("Europe/Stockholm")
    parsed = merchant.to_utc("2024-03-31 02:30:00", field="f")
    assert parsed == datetime(2024, 3, 31, 1, 30, tzinfo=UTC)
    assert merchant.to_centra(parsed) == "2024-03-31 03:30:00"


def test_new_york_dst_change_both_ways() -> None:
    merchant = MerchantZone("America/New_York")
    # 2024-03-10 02:30 does not exist; 2024-11-03 01:30 happens twice.
    assert merchant.to_utc("2024-03-10 02:30:00", field="f") == datetime(
        2024, 3, 10, 7, 30, tzinfo=UTC
    )
    assert merchant.to_utc("2024-11-03 01:30:00", field="f") == datetime(
        2024, 11, 3, 5, 30, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "bad", ["yesterday", "2024-13-01 00:00:00", "2024-02-30", "15/01/2024", "2024-01-01 25:00"]
)
def test_bad_strings_name_the_field(bad: str) -> None:
    with pytest.raises(RecordValidationError) as caught:
        parse_centra_datetime(bad, ZoneInfo("UTC"), field="orderDate", record="shipment 1-1")
    assert caught.value.field == "orderDate"
    assert "shipment 1-1" in str(caught.value)
    assert bad in str(caught.value)


def test_filters_refuse_naive_datetimes_and_pass_dates_through() -> None:
    zone = ZoneInfo("Asia/Tokyo")
    with pytest.raises(ValueError, match="newer_than"):
        format_centra_datetime(datetime(2024, 1, 1, 12), zone, field="newer_than")
    assert format_centra_datetime(date(2024, 1, 1), zone) == "2024-01-01"
    assert (
        format_centra_datetime(datetime(2024, 1, 1, 12, tzinfo=UTC), zone, seconds=False)
        == "2024-01-01 21:00"
    )


def test_unknown_zone_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="Mars/Olympus"):
        MerchantZone("Mars/Olympus")


ZONES = ["Europe/Stockholm", "America/New_York", "Asia/Tokyo", "Pacific/Auckland"]


@given(
    st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
    ).map(lambda d: d.replace(microsecond=0)),
    st.sampled_from(ZONES),
)
def test_render_then_read_back_is_exact_or_the_earlier_twin(moment: datetime, zone: str) -> None:
    merchant = MerchantZone(zone)
    back = merchant.to_utc(merchant.to_centra(moment), field="f")
    assert back is not None
    # Only inside a repeated hour does Centra's wall time name two instants; we read the first.
    assert back == moment or (back < moment and moment - back <= timedelta(hours=1))


@given(st.text(max_size=40), st.sampled_from(ZONES))
def test_any_text_parses_or_names_the_field(text: str, zone: str) -> None:
    try:
        parsed = parse_centra_datetime(text, ZoneInfo(zone), field="orderDate")
    except RecordValidationError as exc:
        assert exc.field == "orderDate"
    else:
        assert parsed is None or parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "zone"),
    [("9999-12-31 23:00:00", "America/New_York"), ("0001-01-01 00:00:00", "Asia/Tokyo")],
)
def test_times_beyond_the_calendar_are_rejected_cleanly(text: str, zone: str) -> None:
    with pytest.raises(RecordValidationError):
        parse_centra_datetime(text, ZoneInfo(zone), field="f")
