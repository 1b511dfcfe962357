"""Recurring events given by a schema.org eventSchedule (https://schema.org/Schedule): listed with
their next sessions as of the run's day, read in the schedule's time zone."""

import json
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from streaming.models import Run
from studios.models import Studio, Workshop, WorkshopChange
from studios.pipeline import process
from studios.pipeline.extract import extract_events
from studios.pipeline.fetch import Page
from studios.pipeline.match import ArtistMatcher
from studios.pipeline.process import LinkResult, process_studio
from studios.pipeline.review import PAST, review_events
from tests.sites import Response

from .support import FakeReporter

TODAY = date(2026, 6, 1)  # a Monday


def json_ld_html(*events):
    scripts = "".join(f'<script type="application/ld+json">{json.dumps(event)}</script>' for event in events)
    return f"<html><head>{scripts}</head><body><h1>Socials</h1></body></html>"


def json_ld(*events):
    url = "https://studio.example/socials/"
    return Page(url=url, final_url=url, status=200, content_type="text/html", text=json_ld_html(*events))


def review(studio_page, zone="Europe/Amsterdam"):
    found = extract_events(studio_page, None)[1]
    return review_events(found, ZoneInfo(zone), TODAY, ArtistMatcher((), threshold=85))


def sessions(schedule, zone="Europe/Amsterdam", **event):
    """The kept event's sessions, for one event with this schedule."""
    result = review(json_ld({"@type": "DanceEvent", "name": "Lindy Social", **event, "eventSchedule": schedule}), zone)
    assert [k.event.title for k in result.kept] == ["Lindy Social"], result.dropped
    return result.kept[0].sessions


def days(schedule, **event):
    return [day for day, _start, _end in sessions(schedule, **event)]


WEEKLY_THURSDAY = {
    "@type": "Schedule",
    "repeatFrequency": "P1W",
    "byDay": "https://schema.org/Thursday",
    "startDate": "2026-01-08",
    "endDate": "2026-12-17",
    "startTime": "20:00:00",
    "endTime": "23:00:00",
}


def test_a_weekly_schedule_over_a_season_lists_its_next_sessions_not_a_run_of_days_from_its_start():
    listed = sessions(
        {**WEEKLY_THURSDAY, "scheduleTimezone": "Europe/Amsterdam"},
        startDate="2026-01-08T20:00:00+01:00",
        endDate="2026-12-17T23:00:00+01:00",
    )
    thursdays = [date(2026, 6, 4), date(2026, 6, 11), date(2026, 6, 18), date(2026, 6, 25)]
    thursdays += [date(2026, 7, 2), date(2026, 7, 9), date(2026, 7, 16), date(2026, 7, 23)]
    assert listed == [(day, time(20), time(23)) for day in thursdays]


def test_several_days_of_the_week_by_name_or_url():
    schedule = {**WEEKLY_THURSDAY, "byDay": ["Tuesday", "http://schema.org/Thursday"], "startTime": "19:00"}
    assert days(schedule)[:4] == [date(2026, 6, 2), date(2026, 6, 4), date(2026, 6, 9), date(2026, 6, 11)]


def test_the_times_are_read_in_the_schedule_time_zone_and_listed_in_the_studio_zone():
    # 19:00 in New York (UTC-4 in June) is midnight in London (UTC+1): Wednesday's first hour.
    schedule = {**WEEKLY_THURSDAY, "byDay": "Tuesday", "startTime": "19:00", "endTime": "21:00"}
    schedule["scheduleTimezone"] = "America/New_York"
    assert sessions(schedule, zone="Europe/London")[0] == (date(2026, 6, 3), time(0), time(2))


def test_a_schedule_without_times_takes_them_from_the_event_start_and_end():
    schedule = {key: value for key, value in WEEKLY_THURSDAY.items() if key not in ("startTime", "endTime")}
    listed = sessions(schedule, startDate="2026-01-08T20:30:00+01:00", endDate="2026-12-17T22:00:00+01:00")
    assert listed[0] == (date(2026, 6, 4), time(20, 30), time(22))


def test_except_dates_are_skipped():
    schedule = {**WEEKLY_THURSDAY, "exceptDate": ["2026-06-11", "2026-06-18T20:00:00+02:00"]}
    assert days(schedule)[:3] == [date(2026, 6, 4), date(2026, 6, 25), date(2026, 7, 2)]


def test_a_schedule_that_is_over_is_dropped_as_past():
    event = {
        "@type": "DanceEvent",
        "name": "Spring Social",
        "eventSchedule": {**WEEKLY_THURSDAY, "endDate": "2026-05-28"},
    }
    result = review(json_ld(event))
    assert result.kept == []
    assert [(d.reason, d.detail) for d in result.dropped] == [(PAST, "last session 2026-05-28")]


def test_repeat_count_ends_the_schedule_counting_from_its_start():
    schedule = {**WEEKLY_THURSDAY, "startDate": "2026-05-07", "endDate": None, "repeatCount": 6}
    assert days(schedule) == [date(2026, 6, 4), date(2026, 6, 11)]
    over = {"@type": "Event", "name": "Taster", "eventSchedule": {**schedule, "repeatCount": 4}}
    assert [d.reason for d in review(json_ld(over)).dropped] == [PAST]


def test_every_other_week_counts_weeks_from_the_start():
    schedule = {**WEEKLY_THURSDAY, "repeatFrequency": "P2W", "startDate": "2026-05-28"}
    assert days(schedule)[:2] == [date(2026, 6, 11), date(2026, 6, 25)]


@pytest.mark.parametrize("frequency", ["P1D", "Daily", "daily"])
def test_a_daily_schedule(frequency):
    schedule = {"repeatFrequency": frequency, "startDate": "2026-06-03", "endDate": "2026-06-05", "startTime": "10:00"}
    assert sessions(schedule) == [(date(2026, 6, d), time(10), None) for d in (3, 4, 5)]


@pytest.mark.parametrize("frequency", ["P1M", "Monthly"])
def test_a_monthly_schedule_on_a_day_of_the_month(frequency):
    schedule = {"repeatFrequency": frequency, "byMonthDay": 15, "startDate": "2026-01-15", "startTime": "18:00"}
    listed = days(schedule)
    assert listed[:3] == [date(2026, 6, 15), date(2026, 7, 15), date(2026, 8, 15)]
    assert len(listed) == 8, "the next few sessions only"


def test_a_monthly_schedule_on_the_first_friday():
    schedule = {"repeatFrequency": "P1M", "byDay": "Friday", "byMonthWeek": 1, "startTime": "21:00"}
    assert days(schedule)[:3] == [date(2026, 6, 5), date(2026, 7, 3), date(2026, 8, 7)]


def test_a_schedule_without_dates_runs_from_today():
    schedule = {"repeatFrequency": "P1W", "byDay": "Thursday", "startTime": "20:00"}
    assert days(schedule)[0] == date(2026, 6, 4)


@pytest.mark.parametrize(
    "schedule",
    [
        {**WEEKLY_THURSDAY, "repeatFrequency": "now and then"},
        {**WEEKLY_THURSDAY, "byDay": "Funday"},
        {**WEEKLY_THURSDAY, "startTime": "late"},
        {**WEEKLY_THURSDAY, "startDate": "when the season starts"},
        {**WEEKLY_THURSDAY, "byMonthDay": 40, "repeatFrequency": "P1M"},
        {**WEEKLY_THURSDAY, "repeatCount": "many"},
        # Digits int() reads but a schedule does not use: '²' made int() raise, '٣' was read as 3.
        {**WEEKLY_THURSDAY, "byMonthDay": "²", "repeatFrequency": "P1M"},
        {**WEEKLY_THURSDAY, "byMonthDay": "٣", "repeatFrequency": "P1M"},
        {**WEEKLY_THURSDAY, "repeatCount": "²"},
        {**WEEKLY_THURSDAY, "repeatCount": "9" * 5000},
        {**WEEKLY_THURSDAY, "byMonth": ["1", "١٢"]},
        {**WEEKLY_THURSDAY, "repeatFrequency": "P٢W"},
        {**WEEKLY_THURSDAY, "repeatFrequency": "PT1H"},  # hourly: no class is
        {"startTime": "20:00"},  # nothing says how often
        "every Thursday",
        [None, 7, {"byDay": {"@id": None}}],
    ],
)
def test_a_schedule_that_cannot_be_read_invents_no_dates(schedule):
    """The event's own dates span the season: only its first session is certain."""
    event = {"startDate": "2026-06-04T20:00:00+02:00", "endDate": "2026-12-17T23:00:00+01:00"}
    assert sessions(schedule, **event) == [(date(2026, 6, 4), time(20), time(23))]


def test_an_unreadable_schedule_of_a_season_that_began_is_dropped_as_past_not_read_as_daily_sessions():
    event = {
        "@type": "DanceEvent",
        "name": "Lindy Social",
        "startDate": "2026-01-08T20:00",
        "endDate": "2026-12-17T23:00",
    }
    result = review(json_ld({**event, "eventSchedule": {"repeatFrequency": "whenever"}}))
    assert result.kept == []
    assert [(d.reason, d.sessions) for d in result.dropped] == [(PAST, [(date(2026, 1, 8), time(20), time(23))])]


def test_a_schedule_in_microdata():
    html = """<div itemscope itemtype="https://schema.org/DanceEvent">
      <h1 itemprop="name">Lindy Social</h1>
      <div itemprop="eventSchedule" itemscope itemtype="https://schema.org/Schedule">
        <meta itemprop="repeatFrequency" content="P1W">
        <link itemprop="byDay" href="https://schema.org/Thursday">
        <meta itemprop="startDate" content="2026-01-08"><meta itemprop="endDate" content="2026-12-17">
        <meta itemprop="startTime" content="20:00"><meta itemprop="endTime" content="23:00">
      </div>
    </div>"""
    url = "https://studio.example/socials/"
    result = review(Page(url=url, final_url=url, status=200, content_type="text/html", text=html))
    assert [k.sessions[0] for k in result.kept] == [(date(2026, 6, 4), time(20), time(23))]


def test_a_page_read_before_keeps_its_schedule_for_the_next_run():
    # An unchanged page is not read again: its events come back from the stored result.
    social = {"@type": "Event", "name": "Lindy Social", "eventSchedule": WEEKLY_THURSDAY}
    found = extract_events(json_ld(social), None)[1]
    assert found[0].schedules
    stored = LinkResult("https://studio.example/socials/", "structured", found).as_json()
    assert LinkResult.from_json(stored).events == found


def studio_with_page(site, *events):
    site.add("/socials/", Response(json_ld_html(*events)))
    site.add("/", '<a href="/socials/">Socials</a>')
    return Studio.objects.create(
        studio_id="jordaan",
        name="Jordaan Swing",
        website=site.url("/"),
        link_pattern="/socials/",
        extraction="structured",
        time_zone="Europe/Amsterdam",
    )


def run_on(day, studio, monkeypatch):
    """A run of the studio on that day (9:00 UTC): its summary and its change records."""
    moment = datetime.combine(day, time(9), tzinfo=ZoneInfo("UTC"))
    monkeypatch.setattr(process, "timezone", SimpleNamespace(now=lambda: moment))
    run = Run.objects.create(job="process_studio", subject=studio.studio_id, status="succeeded")
    summary = process_studio(studio, FakeReporter(), run=run)
    return summary, list(WorkshopChange.objects.filter(run=run))


@pytest.mark.django_db
def test_a_weekly_class_stays_one_workshop_from_week_to_week(site, monkeypatch):
    studio = studio_with_page(site, {"@type": "DanceEvent", "name": "Lindy Social", "eventSchedule": WEEKLY_THURSDAY})
    run_on(TODAY, studio, monkeypatch)
    [workshop] = Workshop.objects.all()

    summary, changes = run_on(TODAY + timedelta(days=7), studio, monkeypatch)

    assert summary["links_unchanged"] == 1, "the page's stored events, read with the new day"
    assert [(change.kind, change.workshop_id) for change in changes] == [("updated", workshop.pk)]
    assert changes[0].fields["sessions"]["old"][0] == "2026-06-04 20:00–23:00"
    assert changes[0].fields["sessions"]["new"][0] == "2026-06-11 20:00–23:00"
    assert list(Workshop.objects.values_list("pk", "is_archived")) == [(workshop.pk, False)]
    assert workshop.sessions.first().date == date(2026, 6, 11)

    _summary, changes = run_on(TODAY + timedelta(days=8), studio, monkeypatch)
    assert [(change.kind, change.workshop_id) for change in changes] == [("unchanged", workshop.pk)]


@pytest.mark.django_db
def test_classes_of_one_name_and_season_on_other_weekdays_stay_apart(site, monkeypatch):
    tuesdays = {"@type": "Event", "name": "Salsa", "eventSchedule": {**WEEKLY_THURSDAY, "byDay": "Tuesday"}}
    thursdays = {"@type": "Event", "name": "Salsa", "eventSchedule": WEEKLY_THURSDAY}
    studio = studio_with_page(site, tuesdays, thursdays)
    first, _changes = run_on(TODAY, studio, monkeypatch)
    second, changes = run_on(TODAY + timedelta(days=7), studio, monkeypatch)
    assert first["workshops_created"] == 2
    assert sorted(change.kind for change in changes) == ["updated", "updated"]
    firsts = sorted(w.sessions.first().date for w in Workshop.objects.all())
    assert firsts == [date(2026, 6, 9), date(2026, 6, 11)]
