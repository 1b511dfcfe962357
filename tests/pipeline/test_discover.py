import threading
import time

import pytest

from studios.pipeline.discover import discover_links, normalise_url
from studios.pipeline.errors import DiscoveryError, StopRequested
from studios.pipeline.fetch import Fetcher
from tests.sites import Response

from .support import FakeReporter


def links_page(*hrefs, head=""):
    anchors = "".join(f'<a href="{href}">link</a>' for href in hrefs)
    return f"<html><head>{head}</head><body>{anchors}</body></html>"


def discover(site, pattern="", depth=1, reporter=None, start="/"):
    with Fetcher() as fetcher:
        return discover_links(fetcher, site.url(start), pattern, depth, reporter or FakeReporter())


@pytest.fixture
def studio_site(site):
    """A home page, a listing page one hop away, workshop pages one and two hops away."""
    site.add("/", links_page("/workshops/salsa", "/schedule", "/about", "https://other.example/workshops/x"))
    site.add("/schedule", links_page("/workshops/bachata", "/workshops/salsa", "/"))
    site.add("/about", links_page("/team"))
    site.add("/workshops/salsa", "<p>salsa</p>")
    site.add("/workshops/bachata", "<p>bachata</p>")
    return site


def test_depth_one_keeps_matching_links_of_the_start_page_only(studio_site):
    assert discover(studio_site, r"/workshops/") == [
        studio_site.url("/workshops/salsa"),
        "https://other.example/workshops/x",
    ]
    assert studio_site.hits["/schedule"] == 0


def test_depth_two_follows_same_site_links_one_hop(studio_site):
    links = discover(studio_site, r"/workshops/", depth=2)
    assert links == [
        studio_site.url("/workshops/salsa"),
        "https://other.example/workshops/x",
        studio_site.url("/workshops/bachata"),
    ]
    assert studio_site.hits["/schedule"] == 1
    assert studio_site.hits["/"] == 1  # a link back home is not fetched again


def test_empty_pattern_keeps_every_same_site_link(studio_site):
    assert discover(studio_site, "") == [
        studio_site.url("/workshops/salsa"),
        studio_site.url("/schedule"),
        studio_site.url("/about"),
    ]


def test_pattern_is_searched_in_the_full_url(studio_site):
    assert discover(studio_site, r"salsa$") == [studio_site.url("/workshops/salsa")]


def test_base_href_fragments_and_duplicates(site):
    site.add(
        "/",
        links_page(
            "classes/a",
            "classes/a#details",
            "/classes/b",
            "classes/a",
            "mailto:hi@studio.example",
            "javascript:void(0)",
            head='<base href="/events/">',
        ),
    )
    assert discover(site) == [site.url("/events/classes/a"), site.url("/classes/b")]


def test_start_page_is_never_a_result(site):
    site.add("/", links_page("/", "/#top", "/other"))
    assert discover(site) == [site.url("/other")]


def test_links_resolve_against_the_final_url_after_a_redirect(site):
    site.redirect("/", "/home/")
    site.add("/home/", links_page("workshop-1", "./"))
    assert discover(site) == [site.url("/home/workshop-1")]


def test_dead_start_page_is_a_discovery_error(site):
    site.add("/", Response("gone", status=404))
    with pytest.raises(DiscoveryError, match=r"start page .*HTTP 404"):
        discover(site)


def test_invalid_pattern_is_a_discovery_error_before_any_request(site):
    site.add("/", links_page("/a"))
    with pytest.raises(DiscoveryError, match="not a valid regular expression"):
        discover(site, "workshops/(")
    assert site.hits["/"] == 0


def test_failing_sub_page_is_a_warning_not_fatal(site):
    site.add("/", links_page("/broken", "/listing"))
    site.add("/broken", Response("nope", status=404))
    site.add("/listing", links_page("/workshops/1"))
    reporter = FakeReporter()
    assert discover(site, "workshops", depth=2, reporter=reporter) == [site.url("/workshops/1")]
    assert reporter.logs == [("warning", f"{site.url('/broken')}: could not be read while looking for links: HTTP 404")]


def test_page_cap_limits_the_crawl(site, settings):
    settings.DISCOVERY_MAX_PAGES = 3
    site.add("/", links_page(*(f"/p{n}" for n in range(6))))
    for n in range(6):
        site.add(f"/p{n}", links_page(f"/workshops/{n}"))
    reporter = FakeReporter()
    links = discover(site, "workshops", depth=2, reporter=reporter)
    assert links == [site.url("/workshops/0"), site.url("/workshops/1")]
    assert sum(site.hits.values()) == 3
    assert reporter.messages("warning") == ["Stopped crawling after 3 pages (DISCOVERY_MAX_PAGES)"]


def test_cancel_during_a_deep_crawl_stops_it(site):
    site.add("/", links_page("/a", "/b"))
    with pytest.raises(StopRequested):
        discover(site, depth=2, reporter=FakeReporter(stop_after=0))
    assert site.hits["/a"] == 0


def test_non_html_start_page_is_a_discovery_error(site):
    site.add("/", Response(b"%PDF", content_type="application/pdf"))
    with pytest.raises(DiscoveryError, match=r"not HTML \(application/pdf\)"):
        discover(site)


@pytest.mark.parametrize(
    "href, expected",
    [
        ("HTTP://Studio.Example/A?x=1#frag", "http://studio.example/A?x=1"),
        ("https://studio.example", "https://studio.example/"),
        ("ftp://studio.example/file", None),
        ("http://[broken/", None),
        ("/only-a-path", None),
    ],
)
def test_normalise_url(href, expected):
    assert normalise_url(href) == expected


def test_cancel_while_the_start_page_is_still_arriving_stops_discovery(site, settings):
    settings.FETCH_DEADLINE = 60
    site.add("/", Response(links_page("/workshops/a") + " " * 100, drip=0.2))  # about 30s to arrive
    reporter = FakeReporter()
    reporter.cancel_after(0.5)
    started = time.monotonic()
    with pytest.raises(StopRequested):
        discover(site, pattern="/workshops/", reporter=reporter)
    assert time.monotonic() - started < 10


def test_a_catastrophic_pattern_on_a_long_link_does_not_freeze_discovery(site):
    # (a+)+$ backtracks exponentially in Python's re: 27 a's take ~10s, each more doubles it.
    site.add("/", links_page("/" + "a" * 40 + "!", "/" + "a" * 5))
    found = []
    crawl = threading.Thread(target=lambda: found.extend(discover(site, pattern="(a+)+$")), daemon=True)
    crawl.start()
    crawl.join(timeout=30)
    assert not crawl.is_alive(), "discovery hung on the pattern"
    assert found == [site.url("/aaaaa")]


def test_a_pattern_re2_cannot_run_is_a_discovery_error_naming_it(site):
    site.add("/", links_page("/workshops/salsa"))
    with pytest.raises(DiscoveryError, match=r"^The link pattern '\(\?=x\)' is not a valid regular expression"):
        discover(site, pattern="(?=x)")
    assert site.hits["/"] == 0
