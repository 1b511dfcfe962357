"""Failure classes found by the second corpus (tests/fixtures/extraction_shapes/): markup shapes
that real plugins, site builders and ticketing pages publish, each on a small page of its own."""

import json
from datetime import date, time
from zoneinfo import ZoneInfo

import pytest

from studios.pipeline.extract import extract_events
from studios.pipeline.fetch import Page
from studios.pipeline.jsonld import read_block
from studios.pipeline.match import ArtistMatcher
from studios.pipeline.review import CANCELLED, review_events

TODAY = date(2026, 6, 1)


def page(html):
    url = "https://studio.example/event/"
    return Page(url=url, final_url=url, status=200, content_type="text/html", text=html)


def json_ld(*blocks, head=""):
    scripts = "".join(f'<script type="application/ld+json">{block}</script>' for block in blocks)
    return page(f"<html><head>{head}{scripts}</head><body><h1>Studio</h1></body></html>")


def review(studio_page, zone="UTC"):
    found = extract_events(studio_page, None)[1]
    return review_events(found, ZoneInfo(zone), TODAY, ArtistMatcher((), threshold=85))


def kept(studio_page, zone="UTC"):
    return [(k.event.title, *k.sessions[0][:2]) for k in review(studio_page, zone).kept]


# Cancelled and postponed events (The Events Calendar, Modern Events Calendar, schema.org's example)


@pytest.mark.parametrize(
    "status",
    [
        "https://schema.org/EventCancelled",
        "http://schema.org/EventCancelled",
        "EventCancelled",
        "https://schema.org/EventPostponed",
        {"@id": "https://schema.org/EventCancelled"},
    ],
)
def test_an_event_the_page_calls_off_is_dropped_not_kept_as_upcoming(status):
    block = json.dumps({"@type": "Event", "name": "Tap Lab", "startDate": "2026-06-19T18:00", "eventStatus": status})
    result = review(json_ld(block))
    assert result.kept == []
    assert [d.reason for d in result.dropped] == [CANCELLED]


def test_a_cancelled_event_in_microdata_is_dropped():
    html = """<div itemscope itemtype="https://schema.org/Event">
      <div itemprop="startDate" content="2026-09-12T21:30">Sat Sep 12</div>
      <div itemprop="name">CANCELLED - Lindy Jam</div>
      <meta itemprop="eventStatus" content="https://schema.org/EventCancelled"></div>"""
    assert kept(page(html)) == []


@pytest.mark.parametrize("status", ["https://schema.org/EventRescheduled", "https://schema.org/EventMovedOnline"])
def test_rescheduled_and_moved_online_events_still_happen(status):
    block = f'{{"@type":"Event","name":"Steppin","startDate":"2026-06-27T19:00","eventStatus":"{status}"}}'
    assert kept(json_ld(block)) == [("Steppin", date(2026, 6, 27), time(19))]


# Unescaped double quotes inside a JSON-LD string (Event Espresso's description)


def test_quotes_left_unescaped_inside_a_string_are_read_as_text():
    block = '{"@type": "Event", "name": "Shim Sham", "description": "the "Shim Sham", and the "Tranky Doo".",\n "startDate": "2026-07-18T14:00"}'
    assert read_block(block) == [
        {
            "@type": "Event",
            "name": "Shim Sham",
            "description": 'the "Shim Sham", and the "Tranky Doo".',
            "startDate": "2026-07-18T14:00",
        }
    ]


def test_a_quote_that_ends_a_string_still_ends_it_when_the_block_is_repaired():
    # Broken by its trailing comma, so repaired; every quote there closes a string.
    assert read_block('{"a": "x", "b": ["y", "z",], "c": {"d": "e"},}') == [
        {"a": "x", "b": ["y", "z"], "c": {"d": "e"}}
    ]


# Unicode spaces between tokens (JSON-LD pasted from a web page or a word processor)


def test_no_break_spaces_and_a_bom_between_tokens_are_whitespace():
    block = '\n\ufeff{\n\u00a0\u00a0"@type":\u00a0"Event",\n\u00a0\u00a0"name": "Tinikling",\u2003"startDate": "2026-06-27T09:00"\u00a0}'
    assert read_block(block) == [{"@type": "Event", "name": "Tinikling", "startDate": "2026-06-27T09:00"}]


# The site's name after the event's (Squarespace)


@pytest.mark.parametrize("separator", [" \u2014 ", " - ", " | ", " – "])
def test_the_site_name_after_the_event_name_is_not_part_of_the_title(separator):
    site = '{"@context":"http://schema.org","@type":"WebSite","name":"Sonoran Folk","url":"https://sonoran.example"}'
    event = f'{{"@type":"Event","name":"Folklórico Workshop{separator}Sonoran Folk","startDate":"2026-06-20T10:00"}}'
    assert kept(json_ld(site, event)) == [("Folklórico Workshop", date(2026, 6, 20), time(10))]


def test_the_site_name_from_open_graph_is_taken_off_too():
    head = '<meta property="og:site_name" content="TixLoop">'
    event = '{"@type":"Event","name":"House Foundations | TixLoop","startDate":"2026-06-20T10:00"}'
    assert [k[0] for k in kept(json_ld(event, head=head))] == ["House Foundations"]


def test_an_event_named_like_the_site_keeps_its_name():
    site = '{"@type":"WebSite","name":"Lindy Social"}'
    event = '{"@type":"Event","name":"Lindy Social","startDate":"2026-06-20T10:00"}'
    assert [k[0] for k in kept(json_ld(site, event))] == ["Lindy Social"]


# data-vocabulary.org's Event, named by `summary` (old themes)


def test_a_data_vocabulary_event_is_named_by_its_summary():
    html = """<div itemscope itemtype="http://data-vocabulary.org/Event">
      <span itemprop="summary">Sean-nós Workshop</span>
      <time itemprop="startDate" datetime="2026-07-11T14:00">Sat 11 July, 2pm</time></div>"""
    assert kept(page(html)) == [("Sean-nós Workshop", date(2026, 7, 11), time(14))]


# Several startDate values: one occurrence each (schema.org allows startDate to repeat)


def test_each_start_date_of_a_repeated_event_is_an_occurrence_of_its_own():
    block = """{"@type": "DanceEvent", "name": "Tango Práctica",
      "startDate": ["2026-05-23T11:00", "2026-06-13T11:00", "2026-07-11T11:00"],
      "endDate": ["2026-05-23T13:00", "2026-06-13T13:00", "2026-07-11T13:00"]}"""
    result = review(json_ld(block))
    assert [(k.event.title, k.sessions) for k in result.kept] == [
        ("Tango Práctica", [(date(2026, 6, 13), time(11), time(13))]),
        ("Tango Práctica", [(date(2026, 7, 11), time(11), time(13))]),
    ]
    assert [d.title for d in result.dropped] == ["Tango Práctica"]  # 23 May: past


# A festival whose programme points up to it with superEvent


def test_an_event_others_name_as_their_super_event_is_their_container_not_an_event():
    block = """{"@context": "https://schema.org", "@graph": [
      {"@type": "Festival", "@id": "#weekend", "name": "Swing Weekend", "startDate": "2026-10-02", "endDate": "2026-10-04"},
      {"@type": "Event", "@id": "#shag", "name": "Shag Intensive", "startDate": "2026-10-03T10:00",
       "superEvent": {"@id": "#weekend"}},
      {"@type": "Event", "name": "Solo Jazz", "startDate": "2026-10-03T14:30", "superEvent": {"@id": "#weekend"}}]}"""
    assert [k[0] for k in kept(json_ld(block))] == ["Shag Intensive", "Solo Jazz"]
