"""Normalising session times into the studio's time zone and recognising past events.

Pages are written by hand and by plugins of every vintage, so nothing here raises on odd input:
a value that cannot be read is skipped.
"""

import re
import warnings
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from datetime import timezone as dt_timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as dateutil_parser
from dateutil.parser import ParserError
from django.conf import settings

SessionTuple = tuple[date, time | None, time | None]
# A session's sort key: day, then untimed before timed, then start and end.
SessionOrder = tuple[date, bool, time, bool, time]
# A date range longer than a month is a season or a typo, not a run of daily sessions.
MAX_SESSION_DAYS = 31
# Calendar plugins write an all-day event as 00:00 to 23:59(:59).
ALL_DAY_END = time(23, 59)


def studio_zone(name: str) -> ZoneInfo:
    """The studio's zone, falling back to the site's TIME_ZONE, then UTC."""
    for candidate in (name, settings.TIME_ZONE):
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):  # OSError: a name too long for a file
            continue
    return ZoneInfo("UTC")


def parse_moment(value: object, zone: ZoneInfo) -> datetime | date | None:
    """A date for a date-only value, a naive studio-local datetime for a date-time, else None.

    Values with an offset are converted to the studio's zone; naive ones are taken as studio-local.
    Text is read leniently (read_date).
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return value
    else:
        read = read_date(value)
        if not isinstance(read, datetime):
            return read
        moment = read
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(zone)
        except (OverflowError, ValueError):
            return None
    return moment.replace(tzinfo=None)


# --- reading dates leniently ------------------------------------------------------------------

# Year, month and day as digits, in that order; the month and day may lack their leading zero.
_DATE = r"(?P<y>\d{4})[-/.](?P<mo>\d{1,2})[-/.](?P<d>\d{1,2})"
# An offset: Z, or +HH, +H:MM, +HHMM, +HH:MM (a Unicode minus too).
_OFFSET = r"(?P<tz>Z|UTC|GMT|[+\-\u2212]\d{1,2}(?::?\d{2})?)"
_CLOCK_TIME = r"(?P<h>\d{1,2})[:.](?P<mi>\d{2})(?:[:.](?P<s>\d{2})(?:[.,]\d+)?)?\s*" + _OFFSET + "?"
# Some plugins write the time with dashes: 10-10-00, even 10-10-00-00 (the last group a fraction).
# A dash after such a time is ambiguous, so only unmistakable offsets are read there.
_DASHED_TIME = (
    r"(?P<h>\d{1,2})-(?P<mi>\d{2})(?:-(?P<s>\d{2})(?:-\d{1,6})?)?"
    r"(?P<tz>Z|\+\d{1,2}(?::?\d{2})?|[\-\u2212]\d{1,2}:\d{2}|[\-\u2212]\d{4})?"
)
_ISO_LIKE = [
    re.compile(rf"{_DATE}\s*{_OFFSET}?", re.IGNORECASE),
    re.compile(rf"{_DATE}(?:T|\s+|T\s+){_CLOCK_TIME}", re.IGNORECASE),
    re.compile(rf"{_DATE}T\s*{_DASHED_TIME}", re.IGNORECASE),
]
# d/m/y or m/d/y with both leading numbers at most 12: no reader can tell which is the month.
_AMBIGUOUS_NUMERIC = re.compile(r"(?<!\d)(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?!\d)")
_DAY_FIRST = re.compile(r"(?<!\d)(\d{1,2})[/.\-](\d{1,2})[/.\-]\d{2,4}(?!\d)")
MAX_DATE_TEXT = 80
MIN_YEAR, MAX_YEAR = 1900, 2200


def _offset(text: str | None) -> tzinfo | None:
    if not text:
        return None
    if text.upper() in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if text[0] in "-\u2212" else 1
    digits = text[1:].replace(":", "")
    if ":" in text[1:]:
        hours, minutes = text[1:].split(":")
    elif len(digits) <= 2:
        hours, minutes = digits, "0"
    else:
        hours, minutes = digits[:-2], digits[-2:]
    offset = timedelta(hours=int(hours), minutes=int(minutes))
    if int(minutes) >= 60 or offset >= timedelta(hours=24):
        raise ValueError("offset out of range")
    return dt_timezone(sign * offset)


def _iso_like(text: str) -> datetime | date | None:
    """ISO 8601 as pages really write it; None when the text is not of that shape or not a real date."""
    for pattern in _ISO_LIKE:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        parts = match.groupdict()
        day = date(int(parts["y"]), int(parts["mo"]), int(parts["d"]))  # ValueError for 2099-02-30
        if parts.get("h") is None:
            return day
        moment = datetime(
            day.year,
            day.month,
            day.day,
            int(parts["h"]),
            int(parts["mi"]),
            int(parts.get("s") or 0),
            tzinfo=_offset(parts["tz"]),
        )
        return moment
    return None


def _by_dateutil(text: str) -> datetime | date | None:
    """Written-out dates ("March 14, 2099 7:30 pm", "14 Mar 2099"); None unless year, month and day
    are all given and a numeric date is unambiguous."""
    numeric = _AMBIGUOUS_NUMERIC.search(text)
    if numeric and int(numeric.group(1)) <= 12 and int(numeric.group(2)) <= 12 and numeric.group(1) != numeric.group(2):
        return None
    day_first = bool((m := _DAY_FIRST.search(text)) and int(m.group(1)) > 12)
    readings = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # UnknownTimezoneWarning for "IST" and the like
        for default in (datetime(2000, 1, 1, 0, 0, 0), datetime(2001, 2, 2, 1, 1, 1)):
            readings.append(dateutil_parser.parse(text, default=default, dayfirst=day_first))
    first, second = readings
    if first.date() != second.date():
        return None  # the year, month or day came from the default
    if (first.hour, first.minute) != (second.hour, second.minute):
        return first.date()
    return first.replace(second=0, microsecond=0) if first.second != second.second else first.replace(microsecond=0)


def read_date(value: object) -> datetime | date | None:
    """A date or a date-time (aware when the text gives an offset) from a page's text, or None.

    Lenient about how ISO 8601 is written (single-digit months and days, odd time separators,
    offsets like +0:00 or -0400) and reads written-out dates; refuses what it cannot read for sure.
    Never raises.
    """
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    if not text or len(text) > MAX_DATE_TEXT:
        return None
    try:
        moment = _iso_like(text)
        if moment is None:
            moment = _by_dateutil(text)
    except (ValueError, OverflowError, TypeError, ParserError):
        return None
    except Exception:  # dateutil has odd corners; a date that cannot be read is refused, never fatal
        return None
    if moment is None or not (MIN_YEAR <= moment.year <= MAX_YEAR):
        return None
    return moment


def _days(first: date, last: date) -> list[date]:
    count = min((last - first).days + 1, MAX_SESSION_DAYS)
    return [first + timedelta(days=n) for n in range(count)]


def _expand(start: datetime | date, end: datetime | date | None) -> list[SessionTuple]:
    """One (start, end) pair as sessions; a range over several days becomes one session a day."""
    if isinstance(start, datetime):
        start_day, start_time = start.date(), start.time()
    else:
        start_day, start_time = start, None
    if end is None:
        return [(start_day, start_time, None)]
    if isinstance(end, datetime):
        end_day, end_time = end.date(), end.time()
    else:
        end_day, end_time = end, None
    if end_day < start_day or (end_day == start_day and start_time and end_time and end_time < start_time):
        # An end before the start is a typo; keep the start, which is the part people act on.
        return [(start_day, start_time, None)]
    if end_day == start_day:
        if start_time == time.min and end_time is not None and end_time >= ALL_DAY_END:
            return [(start_day, None, None)]  # midnight to midnight: an all-day event, no times
        return [(start_day, start_time, end_time)]
    if isinstance(start, datetime) and isinstance(end, datetime) and end - start < timedelta(days=1):
        # Ends after midnight: one late session, not two days.
        return [(start_day, start_time, end_time)]
    return [(day, start_time, end_time) for day in _days(start_day, end_day)]


def normalise_sessions(raw_sessions: Iterable[Any] | None, zone: ZoneInfo) -> list[SessionTuple]:
    """(date, start_time | None, end_time | None) in the studio's zone, sorted, without duplicates."""
    sessions: set[SessionTuple] = set()
    try:
        pairs = list(raw_sessions or [])
    except TypeError:
        return []
    for pair in pairs:
        try:
            raw_start, raw_end = pair
        except (TypeError, ValueError):
            continue
        start = parse_moment(raw_start, zone)
        if start is None:
            continue
        end = parse_moment(raw_end, zone) if raw_end not in (None, "") else None
        sessions.update(_expand(start, end))
    return sorted(sessions, key=session_order)


def session_order(session: SessionTuple) -> SessionOrder:
    day, start, end = session
    # Untimed sessions sort before timed ones on the same day.
    return (day, start is not None, start or time.min, end is not None, end or time.min)


def is_past(sessions: list[SessionTuple], today: date) -> bool:
    """Past when every session is before today; an event without dates is never past."""
    return bool(sessions) and all(day < today for day, _start, _end in sessions)
