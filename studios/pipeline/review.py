"""From one page's extracted events to the workshops a run would save, and what it drops and why.

One piece of code for the run (process._Collector) and the one-page preview (preview.py):
dates read in the studio's zone (a recurring event's next sessions from its schedule, as of the
run's day), the same event marked up twice merged, undated, past and cancelled or postponed events
dropped, artists matched.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Generic
from zoneinfo import ZoneInfo

from .extract import ExtractedEvent
from .match import A, ArtistMatcher, normalise_name
from .recurrence import Schedule, Series, read_schedules, scheduled_sessions, series
from .save import WorkshopData
from .validate import SessionTuple, is_past, normalise_sessions, session_order

PAST, UNDATED, DUPLICATE, CANCELLED = "past", "undated", "duplicate", "cancelled"
CALLED_OFF_DETAILS = {
    "cancelled": "the page marks it cancelled",
    "postponed": "the page marks it postponed, without a new date",
}


@dataclass
class Kept(Generic[A]):
    """An event the run would save: the (merged) event, its sessions and its artists (and, for a
    recurring event, its series)."""

    event: ExtractedEvent
    sessions: list[SessionTuple]
    artists: list[A]
    unmatched: list[str]
    series: Series | None = None

    def workshop(self) -> WorkshopData:
        artists = list(self.artists)
        return WorkshopData.from_event(self.event, self.sessions, artists, self.series)  # type: ignore[arg-type]


@dataclass
class Dropped:
    """An event the run would not save, and why: past, undated, cancelled (or postponed) or duplicate
    (merged into another)."""

    title: str
    reason: str
    detail: str
    sessions: list[SessionTuple] = field(default_factory=list)


@dataclass
class Review(Generic[A]):
    kept: list[Kept[A]] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)

    def count(self, reason: str) -> int:
        return sum(1 for d in self.dropped if d.reason == reason)

    @property
    def unmatched(self) -> list[str]:
        names: list[str] = []
        for kept in self.kept:
            names += [name for name in kept.unmatched if name not in names]
        return names


def _first_raw_start(event: ExtractedEvent) -> object:
    return next((start for start, _end in event.sessions if start not in (None, "")), None)


def _richer(a: str | None, b: str | None) -> str | None:
    """The value with more to say: a non-empty one, else the longer."""
    if not a:
        return b
    if not b:
        return a
    return b if len(b) > len(a) else a


def merge(first: ExtractedEvent, second: ExtractedEvent) -> ExtractedEvent:
    """One event from two markups of it, keeping the richer value of each field."""
    performers = list(first.performers)
    for name, handle in second.performers:
        same = [i for i, (n, _h) in enumerate(performers) if normalise_name(n) == normalise_name(name)]
        if not same:
            performers.append((name, handle))
        elif handle and not performers[same[0]][1]:
            performers[same[0]] = (performers[same[0]][0], handle)
    lines = first.pricing_info.splitlines()
    lines += [line for line in second.pricing_info.splitlines() if line not in lines]
    payment_link, payment_link_type = first.payment_link, first.payment_link_type
    if not payment_link:
        payment_link, payment_link_type = second.payment_link, second.payment_link_type
    return replace(
        first,
        title=_richer(first.title, second.title) or "",
        event_type=first.event_type if first.event_type != "workshop" else second.event_type,
        song=_richer(first.song, second.song),
        by=_richer(first.by, second.by) or "",
        performers=performers,
        pricing_info="\n".join(lines),
        payment_link=payment_link,
        payment_link_type=payment_link_type,
        sessions=[*first.sessions, *(s for s in second.sessions if s not in first.sessions)],
        schedules=[*first.schedules, *(s for s in second.schedules if s not in first.schedules)],
        called_off=first.called_off or second.called_off,
    )


def _event_sessions(event: ExtractedEvent, zone: ZoneInfo, today: date) -> tuple[list[SessionTuple], list[Schedule]]:
    """The event's sessions in the studio's zone, and its schedules that can be read: a recurring
    event's next sessions come from those, as of `today`, others' from their own dates. A recurring
    event's own dates span its season, not a run of daily sessions, so when its schedules cannot be
    read only its first session is sure."""
    sessions = normalise_sessions(event.sessions, zone)
    if not event.schedules:
        return sessions, []
    schedules = read_schedules(event.schedules, zone, today)
    scheduled = scheduled_sessions(schedules, zone, today)
    return (scheduled if scheduled is not None else sessions[:1]), schedules


def _key(title: str, sessions: list[SessionTuple]) -> tuple[str, date, object]:
    day, start, _end = sessions[0]
    return (normalise_name(title), day, start)


def review_events(events: list[ExtractedEvent], zone: ZoneInfo, today: date, matcher: ArtistMatcher[A]) -> Review[A]:
    """What a run keeps of one page's events, and what it drops (see the module doc)."""
    review: Review[A] = Review()
    merged: dict[tuple[str, date, object], tuple[ExtractedEvent, list[SessionTuple], list[Schedule]]] = {}
    undated: list[ExtractedEvent] = []
    for event in events:
        sessions, schedules = _event_sessions(event, zone, today)
        if not sessions:
            undated.append(event)
            continue
        key = _key(event.title, sessions)
        if key in merged:
            combined = merge(merged[key][0], event)
            merged[key] = (combined, *_event_sessions(combined, zone, today))
            review.dropped.append(
                Dropped(event.title, DUPLICATE, "the same event marked up twice on the page; merged", sessions)
            )
        else:
            merged[key] = (event, sessions, schedules)
    dated_titles = {key[0] for key in merged}
    for event in undated:
        raw = _first_raw_start(event)
        if normalise_name(event.title) in dated_titles:
            review.dropped.append(
                Dropped(event.title, DUPLICATE, "the same event marked up again without a readable date")
            )
        elif raw is None:
            review.dropped.append(Dropped(event.title, UNDATED, "no date"))
        else:
            review.dropped.append(Dropped(event.title, UNDATED, f"its date could not be read ({str(raw)[:80]!r})"))
    for event, sessions, schedules in merged.values():
        if event.called_off:
            detail = CALLED_OFF_DETAILS[event.called_off]
            review.dropped.append(Dropped(event.title, CANCELLED, detail, sessions))
            continue
        if is_past(sessions, today):
            review.dropped.append(Dropped(event.title, PAST, f"last session {sessions[-1][0].isoformat()}", sessions))
            continue
        artists, unmatched = matcher.match_event(event)
        review.kept.append(Kept(event, sorted(sessions, key=session_order), artists, unmatched, series(schedules)))
    return review


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def report_review(log: Callable[[str, str], None], url: str, review: Review[A]) -> None:
    """The run's log lines about one page's dropped events and unmatched artists, through `log(level, message)`."""
    past, merged, called_off = review.count(PAST), review.count(DUPLICATE), review.count(CANCELLED)
    if merged:
        log("info", f"{url}: {plural(merged, 'duplicate')} of another event merged")
    if past:
        log("info", f"{url}: {plural(past, 'past event')} dropped")
    if called_off:
        log("info", f"{url}: {plural(called_off, 'cancelled or postponed event')} dropped")
    for dropped in review.dropped:
        if dropped.reason == UNDATED:
            log("warning", f"{url}: '{dropped.title}' dropped: {dropped.detail}")
    for name in review.unmatched:
        log("warning", f"{url}: no artist matches '{name}'")
