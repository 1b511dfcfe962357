from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from streaming.models import Run
from studios.models import Artist, Session, Studio, Workshop
from studios.pipeline.save import WorkshopData, save_workshops

pytestmark = pytest.mark.django_db

URL_A = "https://studio.example/workshops/a"
URL_B = "https://studio.example/workshops/b"


@pytest.fixture
def studio():
    return Studio.objects.create(
        studio_id="pulse", name="Studio Pulse", website="https://studio.example/", time_zone="Asia/Kolkata"
    )


@pytest.fixture
def jane():
    return Artist.objects.create(artist_id="jane.doe", name="Jane Doe")


def levitating(**changes):
    values = dict(
        title="Levitating choreo",
        song="Levitating",
        by="Jane Doe",
        pricing_info="Early bird: 1200 INR",
        payment_link="https://pay.example.com/levitating",
        sessions=[(date(2099, 3, 14), time(18), time(20)), (date(2099, 3, 15), time(18), time(20))],
    )
    values.update(changes)
    return WorkshopData(**values)


def espresso(**changes):
    values = dict(title="Espresso routine", song="Espresso", sessions=[(date(2099, 4, 6), None, None)])
    values.update(changes)
    return WorkshopData(**values)


def snapshot(studio):
    """Everything a user could see change: rows, ids, timestamps, sessions, artists."""
    return [
        (
            w.pk,
            w.source_url,
            w.title,
            w.pricing_info,
            w.is_archived,
            w.updated_at,
            [(s.pk, s.date, s.start_time, s.end_time) for s in w.sessions.all()],
            sorted(a.pk for a in w.artists.all()),
        )
        for w in Workshop.objects.filter(studio=studio).order_by("pk")
    ]


def test_creates_workshops_with_sessions_and_artists(studio, jane):
    counts = save_workshops(studio, {URL_A: [levitating(artists=[jane]), espresso()]}, failed_urls=set())
    assert counts == {"created": 2, "updated": 0, "unchanged": 0, "archived": 0}
    workshop = Workshop.objects.get(song="Levitating")
    assert workshop.source_url == URL_A
    assert list(workshop.artists.all()) == [jane]
    assert [(s.date, s.start_time, s.end_time) for s in workshop.sessions.all()] == [
        (date(2099, 3, 14), time(18), time(20)),
        (date(2099, 3, 15), time(18), time(20)),
    ]
    assert workshop.first_session_at == datetime(2099, 3, 14, 18, 0, tzinfo=ZoneInfo("Asia/Kolkata"))
    # A date-only first session counts from the start of that day in the studio's zone.
    assert Workshop.objects.get(song="Espresso").first_session_at == datetime(
        2099, 4, 6, tzinfo=ZoneInfo("Asia/Kolkata")
    )


def test_rerun_on_unchanged_data_changes_nothing(studio, jane):
    save_workshops(studio, {URL_A: [levitating(artists=[jane])], URL_B: [espresso()]}, failed_urls=set())
    before = snapshot(studio)
    counts = save_workshops(studio, {URL_A: [levitating(artists=[jane])], URL_B: [espresso()]}, failed_urls=set())
    assert counts == {"created": 0, "updated": 0, "unchanged": 2, "archived": 0}
    assert snapshot(studio) == before


def test_changed_price_updates_the_same_row(studio):
    save_workshops(studio, {URL_A: [levitating()]}, failed_urls=set())
    original = Workshop.objects.get()
    counts = save_workshops(studio, {URL_A: [levitating(pricing_info="Regular: 1500 INR")]}, failed_urls=set())
    assert counts == {"created": 0, "updated": 1, "unchanged": 0, "archived": 0}
    updated = Workshop.objects.get()
    assert updated.pk == original.pk
    assert updated.pricing_info == "Regular: 1500 INR"
    assert updated.updated_at > original.updated_at


def test_changed_sessions_and_artists_count_as_updates(studio, jane):
    save_workshops(studio, {URL_A: [levitating()]}, failed_urls=set())
    new_sessions = [(date(2099, 3, 14), time(18), time(21)), (date(2099, 3, 16), time(18), time(21))]
    counts = save_workshops(studio, {URL_A: [levitating(sessions=new_sessions, artists=[jane])]}, failed_urls=set())
    assert counts["updated"] == 1
    workshop = Workshop.objects.get()
    assert [(s.date, s.start_time, s.end_time) for s in workshop.sessions.all()] == new_sessions
    assert list(workshop.artists.all()) == [jane]


def test_vanished_workshop_is_archived_not_deleted(studio):
    save_workshops(studio, {URL_A: [levitating(), espresso()]}, failed_urls=set())
    counts = save_workshops(studio, {URL_A: [levitating()]}, failed_urls=set())
    assert counts == {"created": 0, "updated": 0, "unchanged": 1, "archived": 1}
    assert Workshop.objects.get(song="Espresso").is_archived
    assert not Workshop.objects.get(song="Levitating").is_archived


def test_workshops_of_a_failed_link_are_kept(studio):
    save_workshops(studio, {URL_A: [levitating()], URL_B: [espresso()]}, failed_urls=set())
    counts = save_workshops(studio, {URL_A: [levitating()]}, failed_urls={URL_B})
    assert counts["archived"] == 0
    assert not Workshop.objects.get(song="Espresso").is_archived


def test_reappearing_workshop_is_unarchived(studio):
    save_workshops(studio, {URL_A: [levitating()]}, failed_urls=set())
    save_workshops(studio, {}, failed_urls=set())
    archived = Workshop.objects.get()
    assert archived.is_archived
    counts = save_workshops(studio, {URL_A: [levitating()]}, failed_urls=set())
    assert counts == {"created": 0, "updated": 1, "unchanged": 0, "archived": 0}
    workshop = Workshop.objects.get()
    assert workshop.pk == archived.pk and not workshop.is_archived


def test_other_studios_are_untouched(studio):
    other = Studio.objects.create(studio_id="other", name="Other", website="https://other.example/")
    save_workshops(other, {URL_A: [levitating()]}, failed_urls=set())
    save_workshops(studio, {URL_B: [espresso()]}, failed_urls=set())
    assert not Workshop.objects.get(studio=other).is_archived


def test_natural_key_separates_routines_and_dates(studio):
    later = levitating(sessions=[(date(2099, 5, 1), time(18), time(20))])
    counts = save_workshops(studio, {URL_A: [levitating(), later], URL_B: [levitating()]}, failed_urls=set())
    assert counts["created"] == 3


def test_title_is_the_key_when_there_is_no_song(studio):
    save_workshops(studio, {URL_A: [levitating(song=None, title="Open class")]}, failed_urls=set())
    counts = save_workshops(studio, {URL_A: [levitating(song=None, title="Open class", by="Sam")]}, failed_urls=set())
    assert counts == {"created": 0, "updated": 1, "unchanged": 0, "archived": 0}
    assert Workshop.objects.get().song == ""


def test_the_same_workshop_twice_on_a_page_is_saved_once(studio):
    counts = save_workshops(studio, {URL_A: [levitating(), levitating()]}, failed_urls=set())
    assert counts["created"] == 1
    assert Workshop.objects.count() == 1


def test_last_seen_run_is_set_without_touching_updated_at(studio):
    save_workshops(studio, {URL_A: [levitating()]}, failed_urls=set())
    before = Workshop.objects.get().updated_at
    run = Run.objects.create(job="process_studio", subject="pulse")
    save_workshops(studio, {URL_A: [levitating()]}, failed_urls=set(), run=run)
    workshop = Workshop.objects.get()
    assert workshop.last_seen_run == run
    assert workshop.updated_at == before


def test_overlong_text_is_clipped_to_the_column(studio):
    save_workshops(
        studio, {URL_A: [levitating(title="T" * 500, payment_link="https://pay.example.com/" + "x" * 2000)]}, set()
    )
    workshop = Workshop.objects.get()
    assert len(workshop.title) == 300
    assert workshop.payment_link == ""


def test_an_error_mid_save_changes_nothing(studio, jane):
    save_workshops(studio, {URL_A: [levitating(artists=[jane])], URL_B: [espresso()]}, failed_urls=set())
    before = snapshot(studio)
    broken = espresso(sessions=["not a session"])
    with pytest.raises(ValueError):
        # A new workshop and an update come first; the broken one fails after them.
        save_workshops(
            studio,
            {URL_A: [levitating(pricing_info="changed"), espresso(title="New", song="New")], URL_B: [broken]},
            failed_urls=set(),
        )
    assert snapshot(studio) == before
    assert Session.objects.count() == 3
