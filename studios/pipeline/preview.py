"""Trying one page: what a run would save from it, and what it would drop and why; changes nothing.

The management command ``extract_page`` and the studio admin's *Try a link* form both call
``preview_page``. It goes through the run's own steps (process.read_link: fetch and extract;
review.review_events: dates, duplicates, past and undated events, artists), never the database's
write side.
"""

import copy
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from django.conf import settings
from django.utils import timezone

from studios.models import Artist, Studio

from .errors import PipelineError
from .fetch import Fetcher, Page, PageFetcher
from .match import ArtistLike, ArtistMatcher
from .process import extraction_context, read_link
from .review import Dropped, Kept, review_events
from .validate import SessionTuple, studio_zone

MODES = ("structured", "llm", "auto")


class _NotesReporter:
    """Collects what extraction says about the page (the LLM is off, retries) as log lines."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def log(self, level: str, message: str) -> None:
        self.lines.append((level, message))

    def progress(self, current: int, total: int, message: str = "") -> None:
        pass

    def should_stop(self) -> bool:
        return False


class _GivenPage:
    """A fetcher that has one page already (read from a file)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.stop = threading.Event()

    def get(self, url: str, validators: object = None) -> Page:
        return self.page

    def close(self) -> None:
        pass

    def __enter__(self) -> "_GivenPage":
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass


def _time(value: time | None) -> str | None:
    return value.isoformat() if value is not None else None


def session_json(session: SessionTuple) -> dict[str, str | None]:
    day, start, end = session
    return {"date": day.isoformat(), "start_time": _time(start), "end_time": _time(end)}


def _artist_json(artist: ArtistLike) -> dict[str, str]:
    return {"artist_id": artist.artist_id, "name": artist.name}


@dataclass
class Preview:
    url: str
    extractor: str | None = None
    kept: list[Kept[Any]] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    log: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None
    today: date | None = None
    time_zone: str = ""
    mode: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "extractor": self.extractor,
            "events": [
                {
                    "title": k.event.title,
                    "event_type": k.event.event_type,
                    "song": k.event.song,
                    "by": k.event.by,
                    "artists": [_artist_json(a) for a in k.artists],
                    "unmatched_artists": list(k.unmatched),
                    "pricing_info": k.event.pricing_info,
                    "payment_link": k.event.payment_link,
                    "payment_link_type": k.event.payment_link_type,
                    "sessions": [session_json(s) for s in k.sessions],
                }
                for k in self.kept
            ],
            "dropped": [
                {
                    "title": d.title,
                    "reason": d.reason,
                    "detail": d.detail,
                    "sessions": [session_json(s) for s in d.sessions],
                }
                for d in self.dropped
            ],
            "today": self.today.isoformat() if self.today else None,
            "time_zone": self.time_zone,
            "mode": self.mode,
            "log": [{"level": level, "message": message} for level, message in self.log],
            "error": self.error,
        }


def _fetcher(studio: Studio) -> PageFetcher:
    if studio.render_js:
        from .render import RenderingFetcher

        return RenderingFetcher(1)
    return Fetcher(threading.Event())


def preview_page(
    source: str | Page,
    *,
    studio: Studio | None = None,
    today: date | None = None,
    time_zone: str | None = None,
    mode: str | None = None,
    artists: Iterable[ArtistLike] | None = None,
) -> Preview:
    """What a run of `studio` (or of a studio with default settings) would save from one page.

    `source` is a URL (fetched as a run fetches, through Chromium for a render_js studio) or a
    Page already read. `today`, `time_zone` and `mode` override the studio's; `artists` the
    catalogue's (no database read then). Failures (the page cannot be read, an LLM studio without
    an LLM) come back as `error`, never raised.
    """
    url = source.url if isinstance(source, Page) else source
    if studio is None:
        studio = Studio(studio_id="preview", name="", website=url, time_zone=time_zone or settings.TIME_ZONE)
        studio.extraction = mode or "auto"
    else:
        studio = copy.copy(studio)  # overrides stay in this preview
        if time_zone:
            studio.time_zone = time_zone
        if mode:
            studio.extraction = mode
    zone = studio_zone(studio.time_zone)
    today = today or timezone.now().astimezone(zone).date()
    preview = Preview(url=url, today=today, time_zone=str(zone.key), mode=studio.extraction or "auto")
    reporter = _NotesReporter()
    try:
        context = extraction_context(studio, reporter)
    except PipelineError as exc:
        preview.error = str(exc)
        preview.log = reporter.lines
        return preview
    context.today = today
    try:
        with _GivenPage(source) if isinstance(source, Page) else _fetcher(studio) as fetcher:
            result = read_link(fetcher, url, studio, context)
    except PipelineError as exc:  # Chromium could not start
        result = None
        preview.error = str(exc)
    finally:
        if context.llm is not None:
            context.llm.close()
    preview.log = reporter.lines + (result.notes if result else [])
    if result is None:
        return preview
    if result.error is not None:
        preview.error = result.error
        return preview
    preview.extractor = result.extractor
    matcher = ArtistMatcher(Artist.objects.all() if artists is None else artists)
    review = review_events(result.events, zone, today, matcher)
    preview.kept, preview.dropped = review.kept, review.dropped
    return preview


def describe(preview: Preview) -> str:
    """The preview as text for a terminal."""
    lines = [f"{preview.url}"]
    lines.append(
        f"  mode {preview.mode}, time zone {preview.time_zone}, today {preview.today.isoformat() if preview.today else '?'}"
    )
    for level, message in preview.log:
        lines.append(f"  [{level}] {message}")
    if preview.error:
        lines.append(f"  failed: {preview.error}")
        return "\n".join(lines)
    count = len(preview.kept)
    lines.append(
        f"  {count} workshop{'s' if count != 1 else ''} would be saved"
        + (f" (extractor: {preview.extractor})" if preview.extractor else " (no event data found)")
    )
    for number, kept in enumerate(preview.kept, start=1):
        event = kept.event
        lines.append("")
        lines.append(f"{number}. {event.title or '(untitled)'}  [{event.event_type}]")
        for day, start, end in kept.sessions:
            when = day.strftime("%a %Y-%m-%d")
            if start:
                when += f" {start:%H:%M}" + (f"–{end:%H:%M}" if end else "")
            lines.append(f"   session: {when}")
        if event.song:
            lines.append(f"   song: {event.song}")
        if event.by:
            lines.append(f"   by: {event.by}")
        if kept.artists:
            lines.append("   artists: " + ", ".join(f"{a.name} (@{a.artist_id})" for a in kept.artists))
        if kept.unmatched:
            lines.append("   unmatched: " + ", ".join(kept.unmatched))
        if event.pricing_info:
            lines.append("   price: " + " | ".join(event.pricing_info.splitlines()))
        if event.payment_link:
            lines.append(f"   book: {event.payment_link} ({event.payment_link_type})")
    if preview.dropped:
        lines.append("")
        lines.append("Dropped:")
        for dropped in preview.dropped:
            lines.append(f"  - {dropped.title or '(untitled)'}: {dropped.reason}, {dropped.detail}")
    return "\n".join(lines)
