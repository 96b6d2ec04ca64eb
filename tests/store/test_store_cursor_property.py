"""Property: whatever order advances arrive in, the cursor ends at their maximum."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from centrasync.store import StateStore

_ZONES = st.sampled_from(
    [UTC, ZoneInfo("Europe/Stockholm"), ZoneInfo("America/Los_Angeles"), ZoneInfo("Asia/Tokyo")]
)
# A narrow range so that equal instants (boundary merges) and DST folds both occur often.
_INSTANTS = st.datetimes(
    min_value=datetime(2026, 10, 25, 0, 0),
    max_value=datetime(2026, 10, 25, 4, 0),
    timezones=_ZONES,
).map(lambda d: d.replace(second=0, microsecond=0))
_ADVANCES = st.lists(
    st.tuples(_INSTANTS, st.frozensets(st.sampled_from("abcdef"), max_size=3)),
    min_size=1,
    max_size=8,
)
_flows = itertools.count()


# One store serves every example; each example writes its own flow, so sharing it is safe.
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(advances=_ADVANCES)
async def test_any_sequence_of_advances_leaves_the_maximum(
    store: StateStore, advances: list[tuple[datetime, frozenset[str]]]
) -> None:
    flow = f"flow-{next(_flows)}"
    running_max: datetime | None = None
    for value, ids in advances:
        cursor = await store.advance_cursor("se", flow, value, sorted(ids))
        instant = value.astimezone(UTC)
        running_max = instant if running_max is None else max(running_max, instant)
        assert cursor.value == running_max, "the stored cursor is always the running maximum"

    top = max(v.astimezone(UTC) for v, _ in advances)
    expected_ids = frozenset().union(*(ids for v, ids in advances if v.astimezone(UTC) == top))
    stored = await store.get_cursor("se", flow)
    assert stored is not None
    assert stored.value == top
    assert stored.value.tzinfo is UTC
    assert stored.boundary_ids == expected_ids
