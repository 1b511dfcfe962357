"""Writing a run's workshops for one studio: upsert what was seen, archive what vanished, atomically."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from studios.models import Artist, ChangeKind, Session, Studio, Workshop, WorkshopChange, session_start

from .extract import ExtractedEvent
from .recurrence import Series
from .validate import SessionTuple, session_order, studio_zone

# What tells one stored workshop from another: its page, its song (or title), its first day, and
# whether it recurs. A recurring event's next sessions move on with every run, so the day its series
# starts stands in for its first session's.
NaturalKey = tuple[str, str, date | None, bool]

COMPARED_FIELDS = (
    "event_type",
    "title",
    "song",
    "by",
    "pricing_info",
    "payment_link",
    "payment_link_type",
    "first_session_at",
)  # not recurring and series_start: they are in the natural key, so a matched workshop has them


@dataclass
class WorkshopData:
    """One workshop as the pipeline read it, ready to save: sessions normalised, artists matched."""

    title: str
    event_type: str = "workshop"
    song: str | None = None
    by: str = ""
    pricing_info: str = ""
    payment_link: str = ""
    payment_link_type: str = "url"
    sessions: list[SessionTuple] = field(default_factory=list)
    artists: list[Artist] = field(default_factory=list)
    # A recurring event's series (its sessions read from its schedule); None for other events.
    series: Series | None = None

    @classmethod
    def from_event(
        cls, event: ExtractedEvent, sessions: list[SessionTuple], artists: list[Artist], series: Series | None = None
    ) -> "WorkshopData":
        return cls(
            title=event.title,
            event_type=event.event_type,
            song=event.song,
            by=event.by,
            pricing_info=event.pricing_info,
            payment_link=event.payment_link,
            payment_link_type=event.payment_link_type,
            sessions=sessions,
            artists=artists,
            series=series,
        )


def _clip(name: str, value: str | None) -> str:
    # Pages have no length limits; PostgreSQL would reject the whole save over one long title.
    return (value or "")[: Workshop._meta.get_field(name).max_length]


def _field_values(data: WorkshopData, sessions: list[SessionTuple], zone: ZoneInfo) -> dict[str, Any]:
    """The Workshop model's field values (as the ORM takes them) for what was read."""
    first_session_at = None
    if sessions:
        day, start, _end = sessions[0]
        first_session_at = session_start(day, start, zone)
    payment_link = data.payment_link or ""
    if len(payment_link) > Workshop._meta.get_field("payment_link").max_length:
        payment_link = ""  # a cut URL would lead nowhere
    return {
        "event_type": data.event_type,
        "title": _clip("title", data.title),
        "song": _clip("song", data.song),
        "by": _clip("by", data.by),
        "pricing_info": data.pricing_info or "",
        "payment_link": payment_link,
        "payment_link_type": data.payment_link_type,
        "first_session_at": first_session_at,
        "recurring": data.series is not None,
        "series_start": data.series.start if data.series is not None else None,
    }


def _natural_key(
    source_url: str,
    song: str | None,
    title: str,
    sessions: list[SessionTuple],
    recurring: bool,
    series_start: date | None,
) -> NaturalKey:
    first_day = series_start if recurring else (sessions[0][0] if sessions else None)
    return (source_url, song or title, first_day, recurring)


def _sorted_sessions(sessions: Iterable[SessionTuple]) -> list[SessionTuple]:
    # Databases disagree on where NULL times sort, so order in Python before comparing.
    return sorted(set(sessions), key=session_order)


def _stored_sessions(workshop: Workshop) -> list[SessionTuple]:
    return _sorted_sessions((s.date, s.start_time, s.end_time) for s in workshop.sessions.all())


def _session_rows(workshop: Workshop, sessions: list[SessionTuple]) -> list[Session]:
    return [Session(workshop=workshop, date=d, start_time=s, end_time=e) for d, s, e in sessions]


def _json_value(value: Any) -> Any:
    """A field's value as the change log keeps it (JSON): datetimes as ISO text."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def _session_text(sessions: list[SessionTuple]) -> list[str]:
    def clock(value: time | None) -> str:
        return value.strftime("%H:%M") if value else ""

    return [f"{day.isoformat()} {clock(start)}–{clock(end)}".rstrip("–").strip() for day, start, end in sessions]


def _change(
    run: Model | None, studio: Studio, workshop: Workshop, kind: str, fields: dict[str, Any] | None = None
) -> WorkshopChange:
    return WorkshopChange(
        run=run,
        studio=studio,
        workshop=workshop,
        kind=kind,
        title=(workshop.title or workshop.song or "")[:300],
        source_url=workshop.source_url,
        fields=fields or {},
    )


def save_workshops(
    studio: Studio, events_by_url: dict[str, list[WorkshopData]], failed_urls: Iterable[str], run: Model | None = None
) -> dict[str, int]:
    """Upsert the workshops seen on each URL and archive the studio's workshops that vanished.

    Rows are written only when something changed, so re-running on unchanged pages keeps ids and
    updated_at. Workshops of failed_urls are left alone: a link that failed says nothing about them.
    Returns counts: created, updated, unchanged, archived. `run` (a streaming Run) marks the workshops it saw
    and keeps what happened to each (WorkshopChange: the fields an update changed, old and new).
    """
    zone = studio_zone(studio.time_zone)
    counts = {"created": 0, "updated": 0, "unchanged": 0, "archived": 0}
    changes: list[WorkshopChange] = []
    failed_urls = set(failed_urls)
    with transaction.atomic():
        existing = list(Workshop.objects.filter(studio=studio).prefetch_related("sessions", "artists"))
        by_key: dict[NaturalKey, Workshop] = {}
        for workshop in existing:
            key = _natural_key(
                workshop.source_url,
                workshop.song,
                workshop.title,
                _stored_sessions(workshop),
                workshop.recurring,
                workshop.series_start,
            )
            by_key.setdefault(key, workshop)

        seen_ids: set[int] = set()
        for url, workshops in events_by_url.items():
            for data in workshops:
                sessions = _sorted_sessions(data.sessions)
                values = _field_values(data, sessions, zone)
                key = _natural_key(
                    url, values["song"], values["title"], sessions, values["recurring"], values["series_start"]
                )
                workshop = by_key.get(key)
                if workshop is not None and workshop.pk in seen_ids:
                    continue  # the same workshop twice on one page (e.g. two listings of one event)
                if workshop is None:
                    workshop = Workshop.objects.create(studio=studio, source_url=url, **values)
                    Session.objects.bulk_create(_session_rows(workshop, sessions))
                    workshop.artists.set(data.artists)
                    by_key[key] = workshop
                    counts["created"] += 1
                    changes.append(_change(run, studio, workshop, ChangeKind.CREATED))
                elif changed := _update(workshop, values, sessions, data.artists):
                    counts["updated"] += 1
                    changes.append(_change(run, studio, workshop, ChangeKind.UPDATED, changed))
                else:
                    counts["unchanged"] += 1
                    changes.append(_change(run, studio, workshop, ChangeKind.UNCHANGED))
                seen_ids.add(workshop.pk)

        if run is not None:
            # update() leaves updated_at alone: being seen again is not a change.
            Workshop.objects.filter(pk__in=seen_ids).update(last_seen_run=run)
        vanished = [
            w for w in existing if not w.is_archived and w.pk not in seen_ids and w.source_url not in failed_urls
        ]
        if vanished:
            counts["archived"] = Workshop.objects.filter(pk__in=[w.pk for w in vanished]).update(
                is_archived=True, updated_at=timezone.now()
            )
            changes.extend(_change(run, studio, w, ChangeKind.ARCHIVED) for w in vanished)
        if run is not None:
            WorkshopChange.objects.bulk_create(changes, batch_size=500)
    return counts


def _update(
    workshop: Workshop, values: dict[str, Any], sessions: list[SessionTuple], artists: list[Artist]
) -> dict[str, dict[str, Any]]:
    """Bring a stored workshop in line with what was read; what changed ({field: {old, new}}), empty when nothing did."""
    changed_fields = [name for name in COMPARED_FIELDS if getattr(workshop, name) != values[name]]
    stored_sessions = _stored_sessions(workshop)
    sessions_changed = stored_sessions != sessions
    stored_artists = sorted(a.artist_id for a in workshop.artists.all())
    artists_changed = stored_artists != sorted(a.artist_id for a in artists)
    if not (changed_fields or sessions_changed or artists_changed or workshop.is_archived):
        return {}
    changed: dict[str, dict[str, Any]] = {
        name: {"old": _json_value(getattr(workshop, name)), "new": _json_value(values[name])} for name in changed_fields
    }
    if sessions_changed:
        changed["sessions"] = {"old": _session_text(stored_sessions), "new": _session_text(sessions)}
    if artists_changed:
        changed["artists"] = {"old": stored_artists, "new": sorted(a.artist_id for a in artists)}
    if workshop.is_archived:
        changed["is_archived"] = {"old": True, "new": False}
    for name in changed_fields:
        setattr(workshop, name, values[name])
    workshop.is_archived = False
    workshop.save()
    if sessions_changed:
        workshop.sessions.all().delete()
        Session.objects.bulk_create(_session_rows(workshop, sessions))
    if artists_changed:
        workshop.artists.set(artists)
    return changed
