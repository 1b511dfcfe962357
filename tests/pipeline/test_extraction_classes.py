"""Each class of extraction failure seen on real pages, on pages written like those sites write them."""

import json
from datetime import date, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from studios.pipeline.extract import ExtractedEvent, ExtractionContext, extract_events
from studios.pipeline.fetch import Page
from studios.pipeline.match import ArtistMatcher
from studios.pipeline.review import DUPLICATE, PAST, UNDATED, review_events
from studios.pipeline.validate import normalise_sessions, read_date

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "extraction"
TODAY = date(2026, 6, 1)


def corpus_page(name):
    url = f"https://corpus.example/{name}"
    return Page(url=url, final_url=url, status=200, content_type="text/html", text=(CORPUS / name).read_text("utf-8"))


def events(name):
    return extract_events(corpus_page(name), None)[1]


def titles(name):
    return [event.title for event in events(name)]


def review(name, zone="UTC", artists=()):
    return review_events(events(name), ZoneInfo(zone), TODAY, ArtistMatcher(artists, threshold=85))


# 1. Dates that are not strict ISO 8601


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-9-18T10:00", (date(2019, 9, 18), time(10))),
        ("2026-8-15T10-00-00-00", (date(2026, 8, 15), time(10))),
        ("2026-7-9T19:00:00-04:00", (date(2026, 7, 9), time(19))),
        ("June 27, 2026 7:00 pm", (date(2026, 6, 27), time(19))),
        ("Sat, 11 Jul 2026 18:00:00 GMT", (date(2026, 7, 11), time(18))),
        ("14/03/2026 19:00", (date(2026, 3, 14), time(19))),
    ],
)
def test_lenient_dates_keep_the_page_clock(text, expected):
    moment = read_date(text)
    assert (moment.date(), moment.time().replace(tzinfo=None)) == expected


@pytest.mark.parametrize(
    ("text", "utc_offset_minutes"),
    [
        ("2026-06-01T10:00:00+0:00", 0),
        ("2026-06-01T10:00:00-0400", -240),
        ("2026-06-01T10:00+5:30", 330),
        ("2026-06-01T10:00-04", -240),
    ],
)
def test_offsets_written_loosely_are_read(text, utc_offset_minutes):
    assert read_date(text).utcoffset().total_seconds() / 60 == utc_offset_minutes


@pytest.mark.parametrize(
    "text", ["TBA", "next Friday", "03/04/2026", "2026", "12:00", "2026-02-30", "2026-13-01T10:00", ""]
)
def test_unreadable_or_ambiguous_dates_are_refused(text):
    assert read_date(text) is None


def test_odd_offsets_are_converted_to_the_studio_zone():
    sessions = [normalise_sessions(e.sessions, ZoneInfo("Asia/Kolkata"))[0] for e in events("odd_offsets.html")]
    assert [(day, start) for day, start, _end in sessions] == [
        (date(2026, 7, 25), time(7, 30)),
        (date(2026, 7, 26), time(7, 30)),
    ]


def test_an_undated_event_is_dropped_with_a_warning_never_saved_as_upcoming(reporter):
    from studios.pipeline.review import report_review

    result = review("unreadable_date.html", "Australia/Sydney")
    assert [k.event.title for k in result.kept] == ["Krump Session: Lil Homie Edition"]
    assert [(d.title, d.reason) for d in result.dropped] == [("Krump Session: Big Homie Edition", UNDATED)]
    report_review(reporter.log, "https://corpus.example/unreadable_date.html", result)
    assert reporter.logs == [
        (
            "warning",
            "https://corpus.example/unreadable_date.html: 'Krump Session: Big Homie Edition' dropped: its date could not be read ('TBA')",
        )
    ]


def test_a_past_event_with_a_loose_date_is_past():
    result = review("past_and_upcoming.html", "Europe/Lisbon")
    assert [(d.title, d.reason) for d in result.dropped] == [("Urban Kiz Masterclass", PAST)]
    assert [k.event.title for k in result.kept] == ["Semba Social & Class", "Tarraxinha Lab"]


def test_an_all_day_event_has_no_times():
    sessions = normalise_sessions(events("tec_all_day.html")[0].sessions, ZoneInfo("America/Los_Angeles"))
    assert sessions == [(date(2026, 6, 6), None, None)]


# 2. Broken JSON-LD, block by block


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("php_escaped_quotes.html", ["Rock'n'Roll for Beginners", "Boogie Woogie Practice"]),
        ("handwritten_trailing_commas.html", ["Hip Hop Choreo: Not Like Us"]),
        ("cdata_wrapped.html", ["Flamenco Intensive: Soleá por Bulerías"]),
        ("control_characters.html", ["Vogue Fem Workshop with Tasha"]),
        ("stray_brace.html", ["Dancehall Queens Session"]),
        ("one_block_beyond_repair.html", ["Toprock & Footwork Workshop", "Power Moves Lab"]),
        ("tec_list_view.html", ["Lindy Hop Level 2 – Swing-outs & Variations", "Charleston Taster", "Blues Night"]),
    ],
)
def test_broken_json_ld_is_recovered(page, expected):
    assert titles(page) == expected


# 3. Every Event subtype, type arrays, events nested in other things


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        (
            "festival_subevents.html",
            ["Popping Workshop with Lena Kraft", "Waacking Workshop with Jo Amani", "Battle Night"],
        ),
        ("course_instances.html", ["Tango Argentino for Beginners", "Tango Argentino for Beginners"]),
        ("action_object_hackathon.html", ["Choreo Hack 2026"]),
        ("performer_events.html", ["Kinetic Crew Tutting Workshop — Lisbon", "Kinetic Crew Showcase — Porto"]),
        ("dance_school_events.html", ["Forró Pé de Serra Workshop", "Samba no Pé Intensive"]),
        ("itemlist_events.html", ["K-Pop Dance: Girl Group Choreo", "Krump Fundamentals", "Locking 101"]),
        ("place_with_events_microdata.html", ["Rhythm Tap Intensive", "Friday Tap Jam"]),
        ("yoast_graph.html", ["Ballet Barre Masterclass"]),
        ("rdfa_event.html", ["Kathak Abhinaya Masterclass"]),
        ("blog_post_no_events.html", []),
    ],
)
def test_events_of_every_type_and_place(page, expected):
    assert titles(page) == expected


def test_a_series_under_its_own_name_is_one_workshop_with_its_dates_as_sessions():
    (event,) = events("event_series_regulars.html")
    assert event.title == "Tuesday Heels Regulars" and len(event.sessions) == 2


def test_a_flat_graph_intensive_keeps_its_days_as_sessions():
    (event,) = events("graph_flat_subevents.html")
    assert [start for start, _end in event.sessions] == [
        "2026-08-10T10:00:00+01:00",
        "2026-08-11T10:00:00+01:00",
        "2026-08-12T10:00:00+01:00",
    ]
    assert event.by == "Aoife Byrne"


# 4. The same event marked up twice


def test_the_same_event_in_microdata_and_json_ld_is_one_workshop_with_the_richer_fields():
    assert len(events("duplicate_microdata_and_jsonld.html")) == 2
    result = review("duplicate_microdata_and_jsonld.html", "America/Sao_Paulo")
    (kept,) = result.kept
    assert [(d.title, d.reason) for d in result.dropped] == [("Zouk Flow Workshop!", DUPLICATE)]
    assert kept.event.pricing_info == "Lote 1: R$90\nLote 2: R$120"
    assert kept.event.performers == [("Bruna Lima", "bruna.zouk")]
    assert kept.event.payment_link == "https://brisa.example/zouk/checkout"
    assert kept.sessions == [(date(2026, 8, 1), time(15), time(18))]


def test_events_with_one_name_on_different_days_stay_apart():
    twice = [
        ExtractedEvent(title="Salsa", sessions=[("2026-07-01T19:00", None)]),
        ExtractedEvent(title="salsa!", sessions=[("2026-07-08T19:00", None)]),
    ]
    result = review_events(twice, ZoneInfo("UTC"), TODAY, ArtistMatcher([], threshold=85))
    assert len(result.kept) == 2 and result.dropped == []


# 5. Prices


@pytest.mark.parametrize(
    ("page", "pricing"),
    [
        ("ticketing_aggregate.html", "$35 – $60"),
        ("ticketing_tiers.html", "Early bird: ₹1,200\nRegular: ₹1,500\nAt the door: ₹1,800"),
        ("microdata_itemprop_date_only.html", "From 250 DKK"),
        ("mec_single.html", ""),  # "price": "EUR" is a currency, not a price
        ("eventon_event.html", ""),
        ("tec_all_day.html", ""),
        ("tec_list_view.html", "£12"),
        ("yoast_graph.html", "CA$55"),
    ],
)
def test_prices_are_readable_tier_lines(page, pricing):
    assert events(page)[0].pricing_info == pricing


def test_an_aggregate_offer_with_only_a_low_price_reads_from():
    html = """<script type="application/ld+json">{"@type": "Event", "name": "Gala", "startDate": "2026-07-01",
      "offers": {"@type": "AggregateOffer", "lowPrice": 35, "priceCurrency": "USD", "offerCount": 3}}</script>"""
    page = Page(
        url="https://x.example/", final_url="https://x.example/", status=200, content_type="text/html", text=html
    )
    assert extract_events(page, None)[1][0].pricing_info == "From $35"


# 6. Performers that are only a type word


@pytest.mark.parametrize(
    "page", ["tec_single_event.html", "eventon_event.html", "wp_theme_microdata.html", "dance_school_events.html"]
)
def test_bare_type_words_are_no_artists(page):
    assert all(event.performers == [] and event.by == "" for event in events(page))


# 7. Dates without a time, times in the page's text: auto may ask the LLM


class FakeLLM:
    def __init__(self, answer):
        self.answer, self.calls = answer, 0

    def extract(self, page, context):
        self.calls += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def with_llm(mode, llm):
    return ExtractionContext(mode=mode, llm=llm)


def test_auto_asks_the_llm_when_the_markup_has_no_time_but_the_page_prints_one():
    by_llm = [ExtractedEvent(title="Jazz Funk Workshop", sessions=[("2026-07-11T14:00", "2026-07-11T16:00")])]
    llm = FakeLLM(by_llm)
    context = with_llm("auto", llm)
    assert extract_events(corpus_page("microdata_itemprop_date_only.html"), None, context) == ("llm", by_llm)
    assert llm.calls == 1
    assert "asking the LLM" in context.pop_notes("https://corpus.example/microdata_itemprop_date_only.html")[0][1]


def test_the_structured_events_stay_when_the_llm_finds_nothing_or_fails():
    from studios.pipeline.errors import LLMError

    for answer in ([], LLMError("timed out")):
        context = with_llm("auto", FakeLLM(answer))
        name, found = extract_events(corpus_page("mec_single.html"), None, context)
        assert name == "structured" and found[0].sessions == [("2026-06-20", "2026-06-20")]


@pytest.mark.parametrize(("schedule_times", "llm_calls"), [({"startTime": "20:00"}, 0), ({}, 1)])
def test_a_time_of_day_from_the_schedule_counts_as_a_time(schedule_times, llm_calls):
    # The season's dates have no time; the weekly schedule gives it (or, without startTime, does not).
    schedule = {"@type": "Schedule", "repeatFrequency": "P1W", "byDay": "Thursday", **schedule_times}
    event = {"@type": "DanceEvent", "name": "Lindy Social", "startDate": "2026-01-08", "eventSchedule": schedule}
    html = f'<script type="application/ld+json">{json.dumps(event)}</script><p>Every Thursday, 20:00 - 23:00</p>'
    url = "https://x.example/socials/"
    llm = FakeLLM([ExtractedEvent(title="Lindy Social", sessions=[("2026-06-04T20:00", "2026-06-04T23:00")])])
    extract_events(
        Page(url=url, final_url=url, status=200, content_type="text/html", text=html), None, with_llm("auto", llm)
    )
    assert llm.calls == llm_calls


@pytest.mark.parametrize(
    ("mode", "page"),
    [
        ("structured", "microdata_itemprop_date_only.html"),  # the studio asked for structured data only
        ("auto", "tec_single_event.html"),  # the markup has times
        ("auto", "tec_all_day.html"),  # all day, and the page prints no time
    ],
)
def test_the_llm_is_not_asked_otherwise(mode, page):
    llm = FakeLLM([ExtractedEvent(title="x")])
    extract_events(corpus_page(page), None, with_llm(mode, llm))
    assert llm.calls == 0
