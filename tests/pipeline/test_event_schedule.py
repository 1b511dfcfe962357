"""Recurring events given by a schema.org eventSchedule (https://schema.org/Schedule): listed with
their next sessions as of the run's day, read in the schedule's time zone."""

import json

from studios.pipeline.extract import extract_events
from studios.pipeline.fetch import Page
from studios.pipeline.process import LinkResult


def json_ld(*events):
    scripts = "".join(f'<script type="application/ld+json">{json.dumps(event)}</script>' for event in events)
    url = "https://studio.example/socials/"
    html = f"<html><head>{scripts}</head><body><h1>Socials</h1></body></html>"
    return Page(url=url, final_url=url, status=200, content_type="text/html", text=html)


WEEKLY_THURSDAY = {
    "@type": "Schedule",
    "repeatFrequency": "P1W",
    "byDay": "https://schema.org/Thursday",
    "startDate": "2026-01-08",
    "endDate": "2026-12-17",
    "startTime": "20:00:00",
    "endTime": "23:00:00",
}


def test_a_page_read_before_keeps_its_schedule_for_the_next_run():
    # An unchanged page is not read again: its events come back from the stored result.
    social = {"@type": "Event", "name": "Lindy Social", "eventSchedule": WEEKLY_THURSDAY}
    found = extract_events(json_ld(social), None)[1]
    assert found[0].schedules
    stored = LinkResult("https://studio.example/socials/", "structured", found).as_json()
    assert LinkResult.from_json(stored).events == found
