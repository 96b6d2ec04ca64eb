"""DateTimeTz at the edge: any offset in, aware UTC out; aware UTC out to the wire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from centrasync.centra.integration import UtcDateTime
from centrasync.centra.integration.requestor import dump_variables

ADAPTER: TypeAdapter[datetime] = TypeAdapter(UtcDateTime)
OFFSETS = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
MOMENTS = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=OFFSETS
).map(lambda moment: moment.replace(microsecond=0))


def _php(moment: datetime, pattern: str) -> str:
    """What Centra writes: ``P`` is ``+02:00``, ``O`` is ``+0200`` (purchasing's default)."""
    offset = moment.strftime("%z")
    zone = offset if pattern == "O" else f"{offset[:3]}:{offset[3:]}"
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + zone


@given(MOMENTS, st.sampled_from(["P", "O"]))
def test_any_offset_reads_as_the_same_instant_in_utc(moment: datetime, pattern: str) -> None:
    read = ADAPTER.validate_python(_php(moment, pattern))
    assert read.tzinfo is UTC
    assert read == moment


@given(MOMENTS)
def test_variables_keep_the_instant(moment: datetime) -> None:
    sent = dump_variables({"where": {"createdAt": {"from": moment}}})
    assert datetime.fromisoformat(sent["where"]["createdAt"]["from"]) == moment


def test_a_time_without_an_offset_is_refused_both_ways() -> None:
    with pytest.raises(ValidationError, match="offset"):
        ADAPTER.validate_python("2025-01-15T10:00:00")
    with pytest.raises(ValueError, match="naive"):
        dump_variables({"shippedAt": datetime(2025, 1, 15, 10, 0)})
