"""A recurring event's sessions from its schema.org eventSchedule (https://schema.org/Schedule).

A schedule says how an event repeats ("every Thursday, 20:00 to 23:00, January to December");
a visitor needs its next few sessions. Those depend on the day, so schedules are read when a
run reviews its events, with the run's day, and not when a page is read: an unchanged page's
events are reused by later runs (process.LinkResult).

Nothing here raises. A schedule with a value that cannot be read for sure is not read at all:
a wrong session is worse than none.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .validate import SessionTuple, parse_moment, session_order

# The next few sessions, as a listing shows them; a weekly class would otherwise fill the catalogue.
MAX_SCHEDULE_SESSIONS = 8
# How far ahead sessions are looked for: far enough for a yearly event's next date.
LOOKAHEAD = timedelta(days=366)

DAILY, WEEKLY, MONTHLY, YEARLY = "D", "W", "M", "Y"
# repeatFrequency is an ISO 8601 duration (P1W, P2W, P1M), or a word.
_DURATION = re.compile(r"P([0-9]{1,3})([DWMY])", re.IGNORECASE)
# Numbers in ASCII digits: str.isdigit(), \d and int() also take '²' or '٣' (int() raising on '²',
# reading '٣' as 3), and int() refuses over 4300 digits.
_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")
FREQUENCY_WORDS = {
    "daily": (1, DAILY),
    "weekly": (1, WEEKLY),
    "fortnightly": (2, WEEKLY),
    "monthly": (1, MONTHLY),
    "yearly": (1, YEARLY),
    "annually": (1, YEARLY),
}
# byDay: schema.org's DayOfWeek (a URL or a name), iCal's two-letter codes, or the usual three letters.
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAYS = {name[:length]: n for n, name in enumerate(_DAY_NAMES) for length in (2, 3, len(name))}


class Unreadable(ValueError):
    """A schedule value that cannot be read for sure."""


@dataclass(frozen=True)
class Rule:
    """Which days a schedule falls on: every `interval` days, weeks, months or years from its first
    day, on the days its by-properties allow (as an iCalendar RRULE reads them)."""

    frequency: str
    interval: int
    weekdays: frozenset[int]
    month_days: frozenset[int]
    month_weeks: frozenset[int]
    months: frozenset[int]

    def with_implied_days(self, first_day: date) -> "Rule":
        """The rule with the by-properties it leaves out taken from its first day, as iCalendar does:
        weekly on the first day's weekday, monthly on its day of the month, yearly on its date."""
        by_date = self.frequency in (MONTHLY, YEARLY) and not (self.weekdays or self.month_days)
        return replace(
            self,
            weekdays=self.weekdays or frozenset({first_day.weekday()} if self.frequency == WEEKLY else ()),
            month_days=frozenset({first_day.day}) if by_date else self.month_days,
            months=self.months or frozenset({first_day.month} if self.frequency == YEARLY else ()),
        )

    def falls_on(self, day: date, first_day: date) -> bool:
        return (
            self._periods(first_day, day) % self.interval == 0
            and (not self.weekdays or day.weekday() in self.weekdays)
            and (not self.month_days or day.day in self.month_days)
            and (not self.month_weeks or (day.day - 1) // 7 + 1 in self.month_weeks)
            and (not self.months or day.month in self.months)
        )

    def _periods(self, first_day: date, day: date) -> int:
        """Whole days, weeks (Monday to Sunday), months or years from the first day's to the day's."""
        if self.frequency == DAILY:
            return (day - first_day).days
        if self.frequency == WEEKLY:
            return (day - (first_day - timedelta(days=first_day.weekday()))).days // 7
        if self.frequency == MONTHLY:
            return (day.year - first_day.year) * 12 + day.month - first_day.month
        return day.year - first_day.year


@dataclass(frozen=True)
class Schedule:
    """A schedule as read: its rule, its period (first day, last day or count of sessions), its
    times of day and exceptions, in its zone."""

    rule: Rule
    first_day: date
    # False for a schedule that gives no start and so runs from the run's day.
    first_day_given: bool
    last_day: date | None
    count: int | None
    start: time | None
    end: time | None
    zone: ZoneInfo
    except_days: frozenset[date]
    # Naive, in the schedule's zone: a date-time exception drops only the session starting then.
    except_starts: frozenset[datetime]

    def days(self, since: date, until: date) -> Iterator[date]:
        """The days the schedule falls on from `since` to `until`, in order. With a repeatCount they
        are counted from the first day, before exceptions, as iCalendar does."""
        last = min(self.last_day, until) if self.last_day else until
        day = self.first_day if self.count is not None else max(self.first_day, since)
        seen = 0
        while day <= last and (self.count is None or seen < self.count):
            if self.rule.falls_on(day, self.first_day):
                seen += 1
                yield day
            day += timedelta(days=1)

    def is_excepted(self, day: date) -> bool:
        return day in self.except_days or (
            bool(self.except_starts)
            and self.start is not None
            and datetime.combine(day, self.start) in self.except_starts
        )

    def session(self, day: date, zone: ZoneInfo) -> SessionTuple:
        """The session on that day, in the studio's zone."""
        if self.start is None:
            return (day, None, None)
        start = datetime.combine(day, self.start, tzinfo=self.zone).astimezone(zone)
        end = datetime.combine(day, self.end, tzinfo=self.zone).astimezone(zone).time() if self.end else None
        return (start.date(), start.time(), end)


def scheduled_sessions(schedules: list[Schedule], zone: ZoneInfo, today: date) -> list[SessionTuple] | None:
    """The next sessions (on or after `today`, in the studio's zone) of the schedules; the last
    session alone when they are over, so that the event reads as past; None when there is no
    schedule or none has a session at all."""
    upcoming: set[SessionTuple] = set()
    past: set[SessionTuple] = set()
    for schedule in schedules:
        next_sessions, last_past = _sessions_around(schedule, zone, today)
        upcoming.update(next_sessions)
        past.update([last_past] if last_past else [])
    if upcoming:
        return sorted(upcoming, key=session_order)[:MAX_SCHEDULE_SESSIONS]
    return [max(past, key=session_order)] if past else None


@dataclass(frozen=True)
class Series:
    """What stays of a recurring event from run to run while its next sessions move on: the day its
    series starts (the first day its schedules fall on from the start they give; None when none gives one)."""

    start: date | None


def series(schedules: list[Schedule]) -> Series | None:
    """The event's series when it has a schedule that can be read (its sessions then come from its
    schedules); None for an event listed by its own dates."""
    if not schedules:
        return None
    # Exceptions aside: dropping the first session must not make the series another.
    starts = [next(s.days(s.first_day, s.first_day + LOOKAHEAD), s.first_day) for s in schedules if s.first_day_given]
    return Series(min(starts, default=None))


def schedules_give_times(schedules: list[Schedule]) -> bool:
    """Whether the sessions of these schedules (those that could be read) have times of day: there
    is one at least, and each gives a startTime (its own, or the event's start, see extract._schedules)."""
    return bool(schedules) and all(schedule.start is not None for schedule in schedules)


def _sessions_around(schedule: Schedule, zone: ZoneInfo, today: date) -> tuple[list[SessionTuple], SessionTuple | None]:
    """The schedule's next sessions (at most MAX_SCHEDULE_SESSIONS), and its last one before `today`."""
    upcoming: list[SessionTuple] = []
    last_past: date | None = None
    # A season begun years ago: its last session before today is within a year of today or of its end.
    since = min(today, schedule.last_day or today) - LOOKAHEAD
    for day in schedule.days(since, until=today + LOOKAHEAD):
        if schedule.is_excepted(day):
            continue
        # Zones are at most 26 hours apart: only days near today can fall on either side of it.
        session = schedule.session(day, zone) if day >= today - timedelta(days=2) else None
        if session is None or session[0] < today:
            last_past = day
            continue
        upcoming.append(session)
        if len(upcoming) == MAX_SCHEDULE_SESSIONS:
            break
    return upcoming, schedule.session(last_past, zone) if last_past else None


def read_schedules(raw_schedules: Iterable[Any], zone: ZoneInfo, today: date) -> list[Schedule]:
    """The schedules that can be read; those that cannot are left out."""
    return [schedule for raw in raw_schedules if (schedule := read_schedule(raw, zone, today)) is not None]


def read_schedule(raw: Any, zone: ZoneInfo, today: date) -> Schedule | None:
    """A Schedule from a page's eventSchedule value, or None when any of its values cannot be read.

    Days and times are read in its scheduleTimezone, else in the studio's `zone`. A schedule
    without a start date runs from `today`, unless it needs its first day to know its days.
    """
    if not isinstance(raw, dict):
        return None
    try:
        schedule_zone = _zone(raw.get("scheduleTimezone"), zone)
        given_first_day = _day(raw.get("startDate"), schedule_zone)
        rule = _rule(raw)
        if given_first_day is None and (rule.interval > 1 or rule.with_implied_days(today) != rule):
            return None  # where it starts decides its days, and it does not say
        first_day = given_first_day or today
        except_days, except_starts = _exceptions(raw.get("exceptDate"), schedule_zone)
        return Schedule(
            rule=rule.with_implied_days(first_day),
            first_day=first_day,
            first_day_given=given_first_day is not None,
            last_day=_day(raw.get("endDate"), schedule_zone),
            count=_count(raw.get("repeatCount")),
            start=_clock(raw.get("startTime"), schedule_zone, first_day),
            end=_clock(raw.get("endTime"), schedule_zone, first_day),
            zone=schedule_zone,
            except_days=except_days,
            except_starts=except_starts,
        )
    except Unreadable:
        return None


def _rule(raw: dict[str, Any]) -> Rule:
    weekdays = frozenset(_weekday(value) for value in _values(raw.get("byDay")))
    month_days = _integers(raw.get("byMonthDay"), 1, 31)
    month_weeks = _integers(raw.get("byMonthWeek"), 1, 5)
    months = _integers(raw.get("byMonth"), 1, 12)
    interval, frequency = _frequency(raw.get("repeatFrequency"), weekdays, month_days | month_weeks)
    return Rule(frequency, interval, weekdays, month_days, month_weeks, months)


def _frequency(raw: Any, weekdays: frozenset[int], month_parts: frozenset[int]) -> tuple[int, str]:
    """(interval, unit) from repeatFrequency; without one, days of the month mean monthly and days of
    the week weekly."""
    value = _single(raw)
    if value is None:
        if month_parts:
            return 1, MONTHLY
        if weekdays:
            return 1, WEEKLY
        raise Unreadable("no repeatFrequency")
    text = str(value).strip()
    if text.casefold() in FREQUENCY_WORDS:
        return FREQUENCY_WORDS[text.casefold()]
    match = _DURATION.fullmatch(text)
    if match is None or int(match.group(1)) == 0:
        raise Unreadable(f"repeatFrequency {text!r}")
    return int(match.group(1)), match.group(2).upper()


def _values(raw: Any) -> list[Any]:
    """A property's values, a node ({"@id": …}, {"name": …}) as its id or name."""
    values = raw if isinstance(raw, list) else [] if raw is None else [raw]
    return [(v.get("@id") or v.get("@value") or v.get("name")) if isinstance(v, dict) else v for v in values]


def _single(raw: Any) -> Any:
    """A property given once (or not at all: None)."""
    values = [v for v in _values(raw) if v not in (None, "")]
    if len(values) > 1:
        raise Unreadable("several values where one is meant")
    return values[0] if values else None


def _weekday(value: Any) -> int:
    """0 for Monday … 6 for Sunday, from 'https://schema.org/Monday', 'schema:Monday', 'Monday' or 'MO'."""
    name = re.split(r"[/#:]", value)[-1].strip().casefold() if isinstance(value, str) else ""
    if name not in WEEKDAYS:
        raise Unreadable(f"byDay {value!r}")
    return WEEKDAYS[name]


def _integers(raw: Any, low: int, high: int) -> frozenset[int]:
    numbers = set()
    for value in _values(raw):
        text = str(value).strip() if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
        if not _WHOLE_NUMBER.fullmatch(text) or not low <= int(text) <= high:
            raise Unreadable(f"{value!r} is not a whole number from {low} to {high}")
        numbers.add(int(text))
    return frozenset(numbers)


def _count(raw: Any) -> int | None:
    value = _single(raw)
    if value is None:
        return None
    counts = _integers(value, 1, 10_000)
    return next(iter(counts))


def _zone(raw: Any, studio_zone: ZoneInfo) -> ZoneInfo:
    """The schedule's zone; a name that is no zone is taken for the studio's, where it almost always is."""
    name = _single(raw)
    try:
        return ZoneInfo(name) if isinstance(name, str) else studio_zone
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return studio_zone


def _moment(value: Any, zone: ZoneInfo) -> date | datetime:
    """A date, or a naive date-time in the zone."""
    moment = parse_moment(value, zone)
    if moment is None:
        raise Unreadable(f"date {value!r}")
    return moment


def _day(raw: Any, zone: ZoneInfo) -> date | None:
    value = _single(raw)
    if value is None:
        return None
    moment = _moment(value, zone)
    return moment.date() if isinstance(moment, datetime) else moment


def _exceptions(raw: Any, zone: ZoneInfo) -> tuple[frozenset[date], frozenset[datetime]]:
    """exceptDate values: a date drops the day's session, a date-time only the session starting then."""
    moments = [_moment(value, zone) for value in _values(raw) if value not in (None, "")]
    starts = frozenset(m for m in moments if isinstance(m, datetime))
    return frozenset(m for m in moments if not isinstance(m, datetime)), starts


def _clock(raw: Any, zone: ZoneInfo, anchor: date) -> time | None:
    """A time of day in the zone from a Time ('20:00', '20:00:00+01:00') or a DateTime; None for none
    given, or for a date without a time. A Time with an offset is read as on the schedule's first day."""
    value = _single(raw)
    if value is None:
        return None
    moment = parse_moment(value, zone)
    if moment is None and isinstance(value, str):
        moment = parse_moment(f"{anchor.isoformat()}T{value.strip()}", zone)
    if moment is None:
        raise Unreadable(f"time {value!r}")
    return moment.time() if isinstance(moment, datetime) else None
