"""Normalising session times into the studio's time zone and recognising past events.

Pages are written by hand and by plugins of every vintage, so nothing here raises on odd input:
a value that cannot be read is skipped.
"""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

SessionTuple = tuple[date, time | None, time | None]
# A session's sort key: day, then untimed before timed, then start and end.
SessionOrder = tuple[date, bool, time, bool, time]
# A date range longer than a month is a season or a typo, not a run of daily sessions.
MAX_SESSION_DAYS = 31


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
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return value
    elif isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(zone)
        except (OverflowError, ValueError):
            return None
    return moment.replace(tzinfo=None)


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
