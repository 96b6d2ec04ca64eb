"""Centra's naive merchant-local times in, aware UTC out, and back again for filters.

The Order API and the webhook plugin write times without an offset, in the zone the
merchant configured for the whole Centra system (centra-api.md §5). Inside centrasync
every datetime is aware and in UTC, so the conversion happens once, here, with the
store's IANA zone name (never a fixed offset: Stockholm is +01:00 in winter and +02:00
in summer, and a fixed offset would shift every summer timestamp by an hour).

Daylight-saving transitions make two kinds of wall time special:

* **A repeated hour** (autumn, clocks go back: 02:30 happens twice in Stockholm) is read
  as its *first* occurrence (``fold=0``, the summer-time instant). That is the earlier
  instant, so a ``newer_than`` cursor rendered from it re-reads a few records at worst
  instead of skipping any, and it is how PHP (Centra's runtime) resolves the same string.
* **A skipped hour** (spring, clocks go forward: 02:30 never happens in Stockholm) is read
  with the offset in force *before* the gap, which lands the instant one hour later on the
  wall clock (02:30 → 03:30 local, 01:30 UTC). No real event can carry such a time, so
  this only matters for hand-typed values; moving forward matches PHP again and keeps the
  conversion total (every string maps to exactly one instant).

Rendering (UTC → local) is always well defined; a rendered string inside the repeated
hour is read back by Centra as the first occurrence, which errs towards re-reading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from centrasync.errors import ConfigError, RecordValidationError

__all__ = [
    "MerchantZone",
    "format_centra_datetime",
    "has_offset",
    "load_zone",
    "parse_centra_datetime",
]

_NAIVE = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})"
    r"(?:[ T](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,6}))?)?)?",
    re.ASCII,
)
_OFFSET_SUFFIX = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$", re.ASCII)
_UNSET = re.compile(r"0000-00-00(?: 00:00(?::00)?)?")


def has_offset(text: str) -> bool:
    """Whether a time string carries its own UTC offset (ISO-8601 ``+01:00`` or ``Z``)."""
    stripped = text.strip()
    return len(stripped) > 10 and _OFFSET_SUFFIX.search(stripped) is not None


def load_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; a wrong name is a configuration error, not a data error."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"unknown time zone {name!r}: use an IANA name such as 'Europe/Stockholm'"
        ) from exc


def _bad(value: object, field_name: str, record: str) -> RecordValidationError:
    return RecordValidationError(
        f"{value!r} is not a Centra time (expected 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM', "
        "'YYYY-MM-DD HH:MM:SS[.ffffff]' or an ISO-8601 time with offset)",
        record=record,
        field=field_name,
        system="centra",
    )


def parse_centra_datetime(
    value: str | None,
    zone: ZoneInfo,
    *,
    field: str,
    record: str = "Centra value",
) -> datetime | None:
    """Read one Centra time string as an aware UTC datetime; None when Centra says unset.

    Unset is ``None``, an empty string, or the MySQL zero date ``0000-00-00[ 00:00[:00]]``.
    A string that already carries an offset (allocation requests, GraphQL) is converted
    directly; a naive one is read in ``zone`` as described in the module docstring.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(value, field, record)
    text = value.strip()
    if not text or _UNSET.fullmatch(text):
        return None
    if has_offset(text):
        try:
            return datetime.fromisoformat(text).astimezone(UTC)
        except (ValueError, OverflowError):
            raise _bad(value, field, record) from None
    match = _NAIVE.fullmatch(text)
    if match is None:
        raise _bad(value, field, record)
    parts = match.groupdict()
    try:
        local = datetime(
            int(parts["y"]),
            int(parts["mo"]),
            int(parts["d"]),
            int(parts["h"] or 0),
            int(parts["mi"] or 0),
            int(parts["s"] or 0),
            int((parts["f"] or "0").ljust(6, "0")),
            tzinfo=zone,
            fold=0,
        )
        # Overflow: year 9999 late in the day west of UTC, or year 1 early east of it.
        return local.astimezone(UTC)
    except (ValueError, OverflowError):
        raise _bad(value, field, record) from None


def format_centra_datetime(
    moment: datetime | date, zone: ZoneInfo, *, field: str = "value", seconds: bool = True
) -> str:
    """Render an aware datetime (or a calendar date) the way Centra's filters expect it.

    Datetimes become ``YYYY-MM-DD HH:MM:SS`` (``HH:MM`` with ``seconds=False``) in the
    merchant zone; plain dates pass through as ``YYYY-MM-DD`` since a calendar day has no
    zone. A naive datetime is refused: the core never guesses which zone one meant.
    """
    if not isinstance(moment, datetime):
        return moment.isoformat()
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{field}: naive datetime {moment!r}; pass an aware (UTC) datetime")
    local = moment.astimezone(zone)
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class MerchantZone:
    """The store's configured zone, bound once so call sites cannot mix zones up."""

    name: str
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "zone", load_zone(self.name))

    def to_utc(
        self, value: str | None, *, field: str, record: str = "Centra value"
    ) -> datetime | None:
        """See :func:`parse_centra_datetime`."""
        return parse_centra_datetime(value, self.zone, field=field, record=record)

    def to_centra(self, moment: datetime | date, *, field: str = "value") -> str:
        """See :func:`format_centra_datetime`."""
        return format_centra_datetime(moment, self.zone, field=field)
