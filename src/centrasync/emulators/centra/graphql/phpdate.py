"""Centra's GraphQL dates: PHP ``date()`` patterns out, ISO, naive-local or relative text in.

Centra runs on PHP, so ``DateTimeTz`` fields take a ``format`` argument in PHP's ``date()``
language (``"Y-m-d\\TH:i:sP"`` by default) and inputs are read the way PHP reads them:
with an offset as given, without one in the merchant's zone [I], and relative words
(``now``, ``yesterday``, ``-1 hour``) against the current time.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

__all__ = ["TimeInput", "parse_date", "php_format"]

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _suffix(day: int) -> str:
    if day in (11, 12, 13):
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _offset(moment: datetime, colon: bool) -> str:
    delta = moment.utcoffset() or timedelta(0)
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{sign}{hours:02d}{':' if colon else ''}{minutes:02d}"


def _hour12(moment: datetime) -> int:
    return moment.hour % 12 or 12


def _character(char: str, m: datetime) -> str:
    """One PHP ``date()`` format character of an aware ``m``; others are literal."""
    match char:
        case "d":
            return f"{m.day:02d}"
        case "D":
            return _DAYS[m.weekday()][:3]
        case "j":
            return str(m.day)
        case "l":
            return _DAYS[m.weekday()]
        case "N":
            return str(m.isoweekday())
        case "S":
            return _suffix(m.day)
        case "w":
            return str(m.isoweekday() % 7)
        case "z":
            return str(m.timetuple().tm_yday - 1)
        case "W":
            return f"{m.isocalendar().week:02d}"
        case "F":
            return calendar.month_name[m.month]
        case "m":
            return f"{m.month:02d}"
        case "M":
            return calendar.month_abbr[m.month]
        case "n":
            return str(m.month)
        case "t":
            return str(calendar.monthrange(m.year, m.month)[1])
        case "L":
            return "1" if calendar.isleap(m.year) else "0"
        case "o":
            return str(m.isocalendar().year)
        case "Y":
            return f"{m.year:04d}"
        case "y":
            return f"{m.year % 100:02d}"
        case "a":
            return "am" if m.hour < 12 else "pm"
        case "A":
            return "AM" if m.hour < 12 else "PM"
        case "g":
            return str(_hour12(m))
        case "G":
            return str(m.hour)
        case "h":
            return f"{_hour12(m):02d}"
        case "H":
            return f"{m.hour:02d}"
        case "i":
            return f"{m.minute:02d}"
        case "s":
            return f"{m.second:02d}"
        case "u":
            return f"{m.microsecond:06d}"
        case "v":
            return f"{m.microsecond // 1000:03d}"
        case "e":
            return str(getattr(m.tzinfo, "key", None) or m.tzname() or "UTC")
        case "I":
            return "1" if m.dst() else "0"
        case "O":
            return _offset(m, colon=False)
        case "P":
            return _offset(m, colon=True)
        case "p":
            return "Z" if not m.utcoffset() else _offset(m, colon=True)
        case "T":
            return m.tzname() or _offset(m, colon=True)
        case "Z":
            return str(int((m.utcoffset() or timedelta(0)).total_seconds()))
        case "c":
            return php_format(m, "Y-m-d\\TH:i:sP")
        case "r":
            return php_format(m, "D, d M Y H:i:s O")
        case "U":
            return str(int(m.timestamp()))
        case _:
            return char


def php_format(moment: datetime, pattern: str) -> str:
    """``moment`` (aware) written with a PHP ``date()`` pattern; ``\\x`` is a literal x."""
    out: list[str] = []
    escaped = False
    for char in pattern:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            out.append(_character(char, moment))
    return "".join(out)


_NAIVE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$")
_RELATIVE = re.compile(
    r"^(?P<sign>[+-])?\s*(?P<count>\d+)\s*(?P<unit>second|sec|minute|min|hour|day|week)s?"
    r"(?P<ago>\s+ago)?$"
)
_UNITS = {
    "second": timedelta(seconds=1),
    "sec": timedelta(seconds=1),
    "minute": timedelta(minutes=1),
    "min": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
}
_WORDS = {"now": None, "today": 0, "midnight": 0, "yesterday": -1, "tomorrow": 1}


@dataclass(frozen=True)
class TimeInput:
    """A ``DateTimeTz`` input as written; :meth:`resolve` places it in time.

    Exactly one of ``aware`` (had an offset), ``naive`` (merchant-local wall time),
    ``relative`` (a delta from now) or ``day_offset`` (midnight of today plus days) is set.
    """

    text: str
    aware: datetime | None = None
    naive: datetime | None = None
    relative: timedelta | None = None
    day_offset: int | None = None

    @classmethod
    def parse(cls, value: object) -> TimeInput:
        if not isinstance(value, str):
            raise ValueError("a DateTimeTz is a string")
        text = value.strip()
        word = text.lower()
        if word in _WORDS:
            offset = _WORDS[word]
            return (
                cls(text, relative=timedelta(0)) if offset is None else cls(text, day_offset=offset)
            )
        relative = _RELATIVE.match(word)
        if relative:
            delta = int(relative["count"]) * _UNITS[relative["unit"]]
            negative = relative["sign"] == "-" or relative["ago"] is not None
            return cls(text, relative=-delta if negative else delta)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is no date and time Centra reads") from None
        if parsed.tzinfo is not None:
            return cls(text, aware=parsed)
        if not _NAIVE.match(text):
            raise ValueError(f"{text!r} is no date and time Centra reads")
        return cls(text, naive=parsed)

    def resolve(self, zone: tzinfo, now: datetime) -> datetime:
        """The instant meant, as aware UTC; naive and relative text in ``zone``."""
        if self.aware is not None:
            return self.aware.astimezone(UTC)
        if self.naive is not None:
            return self.naive.replace(tzinfo=zone).astimezone(UTC)
        if self.relative is not None:
            return now + self.relative
        local_day = now.astimezone(zone).date() + timedelta(days=self.day_offset or 0)
        return datetime.combine(local_day, time(0), tzinfo=zone).astimezone(UTC)


def parse_date(value: object) -> date:
    """A ``Date`` input: ``YYYY-MM-DD``."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise ValueError("a Date is YYYY-MM-DD")
    return date.fromisoformat(value.strip())
