"""The calendar feed: valid iCalendar that calendar apps keep in step across runs, behind a revocable secret URL."""

from datetime import date, time

import lxml.html
import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from icalendar import Calendar
from rest_framework.authtoken.models import Token

from streaming.models import Run
from studios.calendar import session_uid
from studios.models import CalendarFeedKey, Session, Studio, Workshop
from studios.pipeline.process import process_studio
from tests.pipeline.support import FakeReporter

pytestmark = pytest.mark.django_db

FEED = "/api/workshops.ics"


@pytest.fixture
def reader(django_user_model):
    user = django_user_model.objects.create_user("reader", "reader@example.com", "pw-123456", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename="view_workshop"))
    return user


@pytest.fixture
def catalogue():
    studio = Studio.objects.create(
        studio_id="groove", name="Groove Theory", website="https://groove.example/", time_zone="Asia/Kolkata"
    )
    other = Studio.objects.create(
        studio_id="other", name="Other Studio", website="https://other.example/", time_zone="Europe/Berlin"
    )
    timed = Workshop.objects.create(
        studio=studio,
        source_url="https://groove.example/w/1/",
        title="Locking",
        song="Super Freak",
        by="Tanvi",
        pricing_info="₹1,000 early bird\n₹1,200 on the day",
    )
    Session.objects.create(workshop=timed, date=date(2031, 1, 10), start_time=time(18), end_time=time(20))
    Session.objects.create(workshop=timed, date=date(2031, 1, 11))  # a date only
    archived = Workshop.objects.create(
        studio=studio, source_url="https://groove.example/w/2/", title="Gone", is_archived=True
    )
    Session.objects.create(workshop=archived, date=date(2031, 1, 12), start_time=time(10))
    berlin = Workshop.objects.create(studio=other, source_url="https://other.example/w/1/", title="Heels")
    Session.objects.create(workshop=berlin, date=date(2031, 2, 1), start_time=time(19, 30))
    return {"studio": studio, "timed": timed, "archived": archived, "berlin": berlin}


def feed(client, **params):
    response = client.get(FEED, params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(response.content)


def events(calendar):
    """The feed's events by UID, each with the properties RFC 5545 requires of an event in a feed."""
    found = calendar.walk("VEVENT")
    for event in found:
        missing = {"UID", "DTSTAMP", "DTSTART"} - set(event)
        assert not missing, f"{event.get('SUMMARY')} lacks {sorted(missing)}"
    return {str(event["UID"]): event for event in found}


def test_the_feed_parses_back_with_one_event_per_session_in_the_studios_zone(client, reader, catalogue):
    key = CalendarFeedKey.objects.create(user=reader).key
    calendar = feed(client, key=key)
    found = events(calendar)
    assert len(found) == 3, "archived workshops are dropped"
    timed = found[session_uid(catalogue["timed"], catalogue["timed"].sessions.get(start_time=time(18)))]
    assert str(timed["SUMMARY"]) == "Locking at Groove Theory"
    start = timed.decoded("DTSTART")
    assert (start.hour, str(start.tzinfo)) == (18, "Asia/Kolkata")
    assert timed.decoded("DTEND").hour == 20
    assert str(timed["LOCATION"]) == "Groove Theory"
    assert str(timed["URL"]) == "https://groove.example/w/1/"
    text = str(timed["DESCRIPTION"])
    assert "Artists: Tanvi" in text and "₹1,000 early bird; ₹1,200 on the day" in text
    all_day = found[session_uid(catalogue["timed"], catalogue["timed"].sessions.get(start_time=None))]
    assert all_day.decoded("DTSTART") == date(2031, 1, 11)
    assert {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")} == {"Asia/Kolkata", "Europe/Berlin"}


def test_the_feed_takes_the_workshop_lists_filters(client, reader, catalogue):
    key = CalendarFeedKey.objects.create(user=reader).key
    assert len(events(feed(client, key=key, studio="other"))) == 1
    assert len(events(feed(client, key=key, date_from="2031-01-11"))) == 2, "only the sessions in the range"
    response = client.get(FEED, {"key": key, "upcoming": "maybe"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_filter"


def test_a_token_reads_the_feed_and_nobody_without_one(client, reader, catalogue):
    token = Token.objects.create(user=reader).key
    assert client.get(FEED, HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    anonymous = client.get(FEED)
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"] == "Token"


def test_a_revoked_feed_url_stops_working(client, reader, catalogue):
    key = CalendarFeedKey.objects.create(user=reader)
    assert client.get(FEED, {"key": key.key}).status_code == 200
    key.delete()  # revoking in admin deletes the key
    response = client.get(FEED, {"key": key.key})
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_feed_key"


def test_the_subscribe_page_shows_the_users_secret_url(client, reader, catalogue):
    client.force_login(reader)
    page = client.get(reverse("calendar-subscribe"), {"studio": "groove"}).content.decode()
    key = CalendarFeedKey.objects.get(user=reader).key
    assert f"/api/workshops.ics?studio=groove&amp;upcoming=true&amp;key={key}" in page
    assert "webcal://" in page


def test_staff_without_model_permissions_reset_their_own_feed_link(reader, catalogue):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(reader)  # may read workshops, but not manage feed keys in admin
    subscribe = reverse("calendar-subscribe") + "?studio=groove"
    page = lxml.html.fromstring(browser.get(subscribe).content)
    old_url = page.get_element_by_id("feed-url").get("value")
    assert "Calendar feed keys" not in page.text_content()
    assert browser.post(subscribe).status_code == 403, "a reset needs the page's CSRF token"

    form = page.get_element_by_id("reset-feed-link")
    response = browser.post(subscribe, dict(form.form_values()))
    assert response.status_code == 302 and response["Location"] == subscribe
    page = lxml.html.fromstring(browser.get(subscribe).content)
    new_url = page.get_element_by_id("feed-url").get("value")
    assert "link was reset" in page.text_content()

    anonymous = Client()
    assert new_url != old_url and "studio=groove" in new_url
    revoked = anonymous.get(old_url)
    assert revoked.status_code == 401 and revoked.json()["error"]["code"] == "invalid_feed_key"
    assert len(events(Calendar.from_ical(anonymous.get(new_url).content))) == 2


def run_studio(studio, **params):
    run = Run.objects.create(job="process_studio", subject=studio.studio_id, status="succeeded", params=params)
    return process_studio(studio, FakeReporter(), run=run, full_refresh=bool(params.get("full_refresh")))


def test_uids_are_the_same_across_two_runs(client, reader, llm_site):
    key = CalendarFeedKey.objects.create(user=reader).key
    run_studio(llm_site)
    first = events(feed(client, key=key))
    run_studio(llm_site, full_refresh=True)
    second = events(feed(client, key=key))
    assert first and sorted(first) == sorted(second)


def test_a_workshop_archived_by_a_later_run_drops_out_of_the_feed(client, reader, llm_site, site):
    key = CalendarFeedKey.objects.create(user=reader).key
    run_studio(llm_site)
    before = events(feed(client, key=key))
    gone = Workshop.objects.get(studio=llm_site, source_url=site.url("/w/3/"))
    assert len(before) == 3 and session_uid(gone, gone.sessions.get()) in before

    site.add("/", '<html><body><a href="/w/1/">1</a><a href="/w/2/">2</a></body></html>')
    assert run_studio(llm_site)["workshops_archived"] == 1
    after = events(feed(client, key=key))
    assert sorted(after) == sorted(uid for uid in before if uid != session_uid(gone, gone.sessions.get()))
