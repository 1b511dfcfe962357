"""From a validated answer to the pipeline's ExtractedEvents: sessions, performers and titles."""

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from ..discover import parse_html
from ..extract import ExtractedEvent
from ..fetch import Page
from ..match import ArtistMatcher, normalise_handle, split_artists
from .config import KnownArtist
from .schema import Answer, EventDetail

# A session as the answer gives it: a day without a time, or a start and maybe an end.
RawSession = tuple[date, None] | tuple[datetime, datetime | None]


def page_heading(page: Page) -> str:
    tree = parse_html(page.text)
    if tree is None:
        return ""
    for path in (".//h1", ".//title"):
        element = tree.find(path)
        if element is not None:
            text = " ".join(element.text_content().split())
            if text:
                return text
    return ""


def _sessions(detail: EventDetail) -> list[RawSession]:
    sessions: list[RawSession] = []
    for td in detail.time_details:
        day = td.date
        if td.start_time is None:
            sessions.append((day, None))
            continue
        start = datetime.combine(day, td.start_time)
        end = None
        if td.end_time is not None:
            end = datetime.combine(day, td.end_time)
            if end <= start:
                end += timedelta(days=1)  # ends after midnight
        sessions.append((start, end))
    return sessions


def _pricing(value: str | None) -> str:
    lines = [" ".join(line.split()) for line in (value or "").splitlines()]
    return "\n".join(line for line in lines if line)


def to_events(answer: Answer, page: Page, artists: Sequence[KnownArtist]) -> list[ExtractedEvent]:
    """ExtractedEvents of a valid answer: listed artist ids become performers with that handle."""
    if not answer.is_valid:
        return []
    known = {normalise_handle(a.artist_id): a for a in artists}
    matcher = ArtistMatcher(artists)
    heading = page_heading(page)
    several = len(answer.event_details) > 1
    events: list[ExtractedEvent] = []
    for detail in answer.event_details:
        listed: list[KnownArtist] = []
        for artist_id in detail.artist_id_list:
            artist = known.get(normalise_handle(artist_id))
            if artist is not None and artist not in listed:
                listed.append(artist)
        performers: list[tuple[str, str | None]] = [(artist.name, artist.artist_id) for artist in listed]
        # Billed names the model did not tie to a listed id still go to matching (and get reported).
        for name in split_artists(detail.by):
            if matcher.match(name) not in listed:
                performers.append((name, None))
        by = " ".join(detail.by.split()) or " & ".join(artist.name for artist in listed)
        song = " ".join((detail.song or "").split()) or None
        label = song or by or answer.event_type.capitalize()
        if heading:
            title = f"{heading}: {label}" if several else heading
        else:
            title = f"{song} with {by}" if song and by else label
        events.append(
            ExtractedEvent(
                title=title,
                event_type=answer.event_type,
                song=song,
                by=by,
                performers=performers,
                pricing_info=_pricing(detail.pricing_info),
                sessions=_sessions(detail),
            )
        )
    return events
