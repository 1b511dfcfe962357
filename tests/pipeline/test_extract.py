import json

import pytest

from studios.pipeline import extract
from studios.pipeline.extract import ExtractedEvent, Extractor, extract_events
from studios.pipeline.fetch import Page

from .support import fixture_html

URL = "https://studio.example/workshops/levitating"

LEVITATING = ExtractedEvent(
    title="Choreo workshop: Levitating",
    event_type="workshop",
    song="Levitating",
    by="Jane Doe",
    performers=[("Jane Doe", "jane.doe")],
    pricing_info="Early bird: ₹1,200",
    payment_link="https://pay.example.com/levitating",
    payment_link_type="url",
    sessions=[
        ("2099-03-14T18:00:00+05:30", "2099-03-14T20:00:00+05:30"),
        ("2099-03-15T18:00:00+05:30", "2099-03-15T20:00:00+05:30"),
    ],
)


def page(html, url=URL):
    return Page(url=url, final_url=url, status=200, content_type="text/html", text=html)


def jsonld_page(*items):
    blocks = "".join(f'<script type="application/ld+json">{json.dumps(item)}</script>' for item in items)
    return page(f"<html><head>{blocks}</head><body></body></html>")


def events_of(html_or_page):
    return extract_events(html_or_page if isinstance(html_or_page, Page) else page(html_or_page), None)


@pytest.mark.parametrize("fixture", ["event_jsonld.html", "event_microdata.html", "event_rdfa.html"])
def test_each_syntax_gives_the_same_event(fixture):
    assert events_of(fixture_html(fixture)) == ("structured", [LEVITATING])


def test_graph_events_are_separate_routines_with_resolved_performers():
    name, events = events_of(fixture_html("events_graph.html"))
    assert name == "structured"
    assert [(e.title, e.song, e.by) for e in events] == [
        ("Levitating routine", "Levitating", "Jane Doe"),
        ("Espresso routine", "Espresso", "Jane Doe & Sam Rivera"),
    ]
    assert events[1].performers == [("Jane Doe", "jane.doe"), ("Sam Rivera", None)]
    # The sub-event listed as its own @graph node is a session of its parent, not a third routine.
    assert events[1].sessions == [("2099-04-06T15:00:00+05:30", "2099-04-06T17:00:00+05:30")]
    assert events[0].pricing_info == "₹900"


def test_a_cut_off_json_ld_block_is_recovered_and_the_others_still_read():
    name, events = events_of(fixture_html("malformed_jsonld.html"))
    assert name == "structured"
    assert [e.title for e in events] == ["Broken block", "Popping basics"]
    assert events[0].sessions == [("2099-05-01T18:00:00+05:30", None)]


def test_json_ld_beyond_repair_yields_nothing():
    assert events_of('<script type="application/ld+json">{"@type": "Event", "name": </script>') == (None, [])
    assert events_of('<script type="application/ld+json">Event: tonight</script>') == (None, [])


def test_intensive_over_several_days_with_whatsapp_payment():
    _, [event] = events_of(fixture_html("intensive_multiday.html"))
    assert event.event_type == "intensive"
    assert event.by == "Ana Ruiz & Kim Lee"
    assert event.performers == [("Ana Ruiz", "ana.moves"), ("Kim Lee", None)]
    assert event.pricing_info == "₹4,500\nSingle day: ₹1,800"
    assert event.payment_link == "https://wa.me/919800000000?text=Intensive"
    assert event.payment_link_type == "whatsapp"
    assert event.sessions == [("2099-06-01T10:00:00+05:30", "2099-06-03T13:00:00+05:30")]


@pytest.mark.parametrize(
    "link, link_type",
    [
        ("https://api.whatsapp.com/send?phone=919800000000", "whatsapp"),
        ("https://www.whatsapp.com/channel/x", "whatsapp"),
        ("https://pay.example.com/wa.me", "url"),
        ("/book/levitating", "url"),
    ],
)
def test_payment_link_type(link, link_type):
    _, [event] = events_of(jsonld_page({"@type": "Event", "name": "X", "offers": {"@type": "Offer", "url": link}}))
    assert event.payment_link_type == link_type
    assert event.payment_link.startswith("https://")  # relative links are made absolute


@pytest.mark.parametrize(
    "name, keywords, event_type",
    [
        ("Heels Intensive", None, "intensive"),
        ("Weekend camp", "contemporary, INTENSIVE", "intensive"),
        ("Regulars: Monday batch", None, "regulars"),
        ("Monday batch", ["regular class"], "regulars"),
        ("Hip hop choreo", "choreo", "workshop"),
    ],
)
def test_event_type_from_name_and_keywords(name, keywords, event_type):
    item = {"@type": "DanceEvent", "name": name, **({"keywords": keywords} if keywords else {})}
    _, [event] = events_of(jsonld_page(item))
    assert event.event_type == event_type


def test_subtypes_count_as_events_and_other_types_do_not():
    name, events = events_of(
        jsonld_page(
            {"@type": "Organization", "name": "Studio Pulse"},
            {"@type": ["Thing", "SocialEvent"], "name": "Dance social"},
            {"@type": "Product", "name": "Studio T-shirt"},
        )
    )
    assert [e.title for e in events] == ["Dance social"]


def test_events_nested_in_a_list_are_found():
    listing = {
        "@type": "ItemList",
        "itemListElement": [
            {"@type": "ListItem", "position": 1, "item": {"@type": "DanceEvent", "name": "Locking"}},
            {"@type": "ListItem", "position": 2, "item": {"@type": "DanceEvent", "name": "Waacking"}},
        ],
    }
    assert [e.title for e in events_of(jsonld_page(listing))[1]] == ["Locking", "Waacking"]


def test_song_is_none_without_work_performed_and_event_dates_are_the_session():
    _, [event] = events_of(jsonld_page({"@type": "Event", "name": "Open class", "startDate": "2099-01-01"}))
    assert event.song is None
    assert event.sessions == [("2099-01-01", None)]


def test_same_event_in_two_syntaxes_is_one_workshop():
    jsonld = fixture_html("event_jsonld.html")
    microdata_body = fixture_html("event_microdata.html").split("<body>")[1]
    both = jsonld.replace("<body>", "<body>" + microdata_body.split("</body>")[0], 1)
    assert events_of(both) == ("structured", [LEVITATING])


def test_rdfa_reads_the_same_on_every_run():
    html = """<html><body vocab="https://schema.org/"><div typeof="DanceEvent">
      <span property="name">Trio</span>
      <p property="performer" typeof="Person"><span property="name">Zed</span></p>
      <p property="performer" typeof="Person"><span property="name">Amy</span></p>
      <p property="performer" typeof="Person"><span property="name">Bob</span></p>
    </div></body></html>"""
    readings = {events_of(html)[1][0].by for _ in range(5)}
    assert len(readings) == 1
    assert sorted(readings.pop().split(" & ")) == ["Amy", "Bob", "Zed"]


def test_page_without_structured_data_yields_nothing():
    assert events_of(fixture_html("no_events.html")) == (None, [])


@pytest.mark.parametrize("html", ["", "   ", "\x00\x01", '<?xml version="1.0" encoding="utf-8"?><html></html>'])
def test_degenerate_pages_do_not_raise(html):
    assert events_of(html) == (None, [])


def test_first_extractor_with_events_wins(monkeypatch):
    calls = []

    def fallback(page, studio):
        calls.append(page.url)
        return [ExtractedEvent(title="from fallback")]

    monkeypatch.setattr(extract, "EXTRACTORS", [*extract.EXTRACTORS, Extractor("fallback", fallback)])
    assert events_of(fixture_html("event_jsonld.html")) == ("structured", [LEVITATING])
    assert calls == []
    name, events = events_of(fixture_html("no_events.html"))
    assert (name, [e.title for e in events]) == ("fallback", ["from fallback"])
