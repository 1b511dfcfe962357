"""What the catalogue should hold after processing a demo studio, read from the demo's own data."""

from datetime import time, timedelta

from studios.demo import sites
from studios.models import Workshop


def _clock(value):
    return time.fromisoformat(value) if value else None


def expected_workshops(studio_id):
    """{(title, song): (artist ids, sessions)} of the upcoming events on the studio's pages."""
    today = sites.today()
    studio = sites.get_studio(studio_id)
    expected = {}
    for page in studio["workshops"]:
        for event in sites.page_events(page):
            sessions = [
                (today + timedelta(days=offset), _clock(start), _clock(end)) for offset, start, end in event["sessions"]
            ]
            if max(date for date, _start, _end in sessions) < today:
                continue
            artists = {p["expect"][1] for p in event["performers"] if p["expect"][0] != "unmatched"}
            expected[(event["name"], event["song"])] = (artists, sorted(sessions))
    return expected


def assert_catalogue_matches_demo(studio_id):
    actual = {}
    for workshop in Workshop.objects.filter(studio__studio_id=studio_id, is_archived=False).prefetch_related(
        "artists", "sessions"
    ):
        assert "/workshops/" in workshop.source_url
        key = (workshop.title, workshop.song)
        assert key not in actual, f"duplicate workshop {key}"
        actual[key] = (
            {artist.artist_id for artist in workshop.artists.all()},
            sorted((s.date, s.start_time, s.end_time) for s in workshop.sessions.all()),
        )
    assert actual == expected_workshops(studio_id)
