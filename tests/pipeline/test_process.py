import threading
import time

import pytest

from streaming.models import Run, RunStatus
from streaming.services import request_cancel, start_run
from studios.jobs import PROCESS_STUDIO
from studios.models import Artist, Studio, Workshop
from studios.pipeline import extract
from studios.pipeline.errors import DiscoveryError, StopRequested
from studios.pipeline.process import process_studio
from tests.runs import wait_for_run, wait_until
from tests.sites import Response

from .support import FakeReporter, fixture_html

pytestmark = pytest.mark.django_db

WORKSHOP_PAGES = {
    "/workshops/levitating": "event_jsonld.html",
    "/workshops/intensive": "intensive_multiday.html",
    "/workshops/throwback": "past_event.html",
    "/workshops/weekend": "events_graph.html",
    "/workshops/info": "no_events.html",
}
SUMMARY_KEYS = {
    "studio_id",
    "links_found",
    "links_processed",
    "links_failed",
    "links_unchanged",
    "links_disallowed",
    "fetch",
    "workshops_created",
    "workshops_updated",
    "workshops_unchanged",
    "workshops_archived",
    "events_found",
    "events_past",
    "events_undated",
    "events_merged",
    "pages_without_events",
    "missing_artists",
    "extractors",
}


def home_page(*paths):
    return (
        "<html><body>" + "".join(f'<a href="{p}">{p}</a>' for p in paths) + '<a href="/about">About</a></body></html>'
    )


@pytest.fixture
def studio_site(site):
    for path, fixture in WORKSHOP_PAGES.items():
        site.add(path, fixture_html(fixture))
    site.add("/workshops/gone", Response("gone", status=404))
    site.add("/workshops/flyer.pdf", Response(b"%PDF-1.4", content_type="application/pdf"))
    site.add("/about", fixture_html("no_events.html"))
    site.add("/", home_page(*WORKSHOP_PAGES, "/workshops/gone", "/workshops/flyer.pdf"))
    return site


@pytest.fixture
def studio(studio_site):
    Artist.objects.create(artist_id="jane.doe", name="Jane Doe")
    Artist.objects.create(artist_id="ana.moves", name="Ana Ruiz")
    return Studio.objects.create(
        studio_id="pulse",
        name="Studio Pulse",
        website=studio_site.url("/"),
        link_pattern=r"/workshops/",
        concurrency=3,
        time_zone="Asia/Kolkata",
    )


def test_end_to_end_summary_logs_and_progress(studio, studio_site):
    reporter = FakeReporter()
    summary = process_studio(studio, reporter)
    url = studio_site.url

    assert set(summary) == SUMMARY_KEYS
    fetched = summary.pop("fetch")
    # robots.txt and sitemap.xml (both 404 here), the start page, the 7 links.
    assert fetched["requests"] == 10 and fetched["not_modified"] == 0 and fetched["bytes"] > 0
    assert summary == {
        "studio_id": "pulse",
        "links_found": 7,
        "links_processed": 5,
        "links_failed": 2,
        "links_unchanged": 0,
        "links_disallowed": 0,
        "workshops_created": 4,
        "workshops_updated": 0,
        "workshops_unchanged": 0,
        "workshops_archived": 0,
        "events_found": 5,
        "events_past": 1,
        "events_undated": 0,
        "events_merged": 0,
        "pages_without_events": 1,
        "missing_artists": ["Kim Lee", "Sam Rivera"],
        "extractors": {"structured": 4},
    }

    assert reporter.logs[0] == (
        "info",
        "LLM extraction is off (LLM_BASE_URL and LLM_API_KEY are not set): reading structured data only",
    )
    assert reporter.logs[1] == ("info", f"Discovering workshop links on {url('/')} (depth 1)")
    assert reporter.logs[2] == ("success", "Found 7 workshop links")
    assert sum("LLM" in message for message in reporter.messages()) == 1, "said once"
    assert reporter.logs[-1] == ("success", "Saved: 4 created, 0 updated, 0 unchanged, 0 archived")
    lines = set(reporter.logs)
    assert ("info", f"{url('/workshops/weekend')}: 2 workshops (structured)") in lines
    assert ("info", f"{url('/workshops/levitating')}: 1 workshop (structured)") in lines
    assert ("info", f"{url('/workshops/throwback')}: 1 past event dropped") in lines
    assert ("warning", f"{url('/workshops/info')}: no workshop data found") in lines
    assert ("warning", f"{url('/workshops/flyer.pdf')}: skipped, not HTML (application/pdf)") in lines
    assert ("error", f"{url('/workshops/gone')}: failed: HTTP 404") in lines
    assert ("warning", f"{url('/workshops/intensive')}: no artist matches 'Kim Lee'") in lines
    assert ("warning", f"{url('/workshops/weekend')}: no artist matches 'Sam Rivera'") in lines

    assert reporter.progress_calls[0][:2] == (0, 7)
    assert [c[0] for c in reporter.progress_calls] == list(range(8))
    assert reporter.progress_calls[-1] == (7, 7, "Processed link 7 of 7")
    # The reporter writes to the database, so the pipeline may call it from the calling thread only.
    assert reporter.threads == {threading.current_thread().name}

    intensive = Workshop.objects.get(title="Summer Intensive")
    assert intensive.event_type == "intensive"
    assert intensive.payment_link_type == "whatsapp"
    assert [a.artist_id for a in intensive.artists.all()] == ["ana.moves"]
    assert intensive.sessions.count() == 3
    assert not Workshop.objects.filter(title="Throwback jam").exists()
    assert set(Workshop.objects.values_list("song", flat=True)) == {"Levitating", "Espresso", ""}


def test_second_run_on_unchanged_pages_changes_nothing(studio):
    process_studio(studio, FakeReporter())
    before = list(Workshop.objects.order_by("pk").values_list("pk", "updated_at", "is_archived"))
    run = Run.objects.create(job="process_studio", subject="pulse")
    summary = process_studio(studio, FakeReporter(), run=run)
    assert (summary["workshops_created"], summary["workshops_unchanged"], summary["workshops_archived"]) == (0, 4, 0)
    assert list(Workshop.objects.order_by("pk").values_list("pk", "updated_at", "is_archived")) == before
    assert set(Workshop.objects.values_list("last_seen_run", flat=True)) == {run.pk}


def test_vanished_link_is_archived_but_a_failing_one_is_not(studio, studio_site, settings):
    process_studio(studio, FakeReporter())
    settings.FETCH_RETRIES = 1
    studio_site.add("/workshops/weekend", Response("down", status=503))
    studio_site.add("/", home_page("/workshops/weekend", "/workshops/intensive"))
    reporter = FakeReporter()
    summary = process_studio(studio, reporter)
    assert summary["workshops_archived"] == 1
    assert ("error", f"{studio_site.url('/workshops/weekend')}: failed: HTTP 503") in reporter.logs
    assert list(Workshop.objects.filter(is_archived=True).values_list("title", flat=True)) == [
        "Choreo workshop: Levitating"
    ]
    assert set(Workshop.objects.filter(is_archived=False).values_list("title", flat=True)) == {
        "Levitating routine",
        "Espresso routine",
        "Summer Intensive",
    }


def test_cancel_between_links_saves_nothing(studio, studio_site):
    studio.concurrency = 1
    reporter = FakeReporter(stop_after=2)
    with pytest.raises(StopRequested):
        process_studio(studio, reporter)
    assert not Workshop.objects.exists()
    assert reporter.progress_calls[-1][:2] == (2, 7)
    links_fetched = sum(hits for path, hits in studio_site.hits.items() if path.startswith("/workshops/"))
    # The link already running when the cancel arrived may finish; none after it starts.
    assert links_fetched <= 3
    assert not any(message.startswith("Saved:") for message in reporter.messages())


def test_cancel_leaves_earlier_results_untouched(studio, studio_site):
    process_studio(studio, FakeReporter())
    before = list(Workshop.objects.order_by("pk").values_list("pk", "updated_at", "is_archived"))
    studio_site.add("/", home_page("/workshops/info"))
    with pytest.raises(StopRequested):
        process_studio(studio, FakeReporter(stop_after=1))
    assert list(Workshop.objects.order_by("pk").values_list("pk", "updated_at", "is_archived")) == before


def test_no_matching_links_archives_nothing(studio, studio_site):
    process_studio(studio, FakeReporter())
    studio_site.add("/", home_page())  # the site was redesigned and the links moved
    reporter = FakeReporter()
    summary = process_studio(studio, reporter)
    assert summary["links_found"] == 0 and summary["workshops_archived"] == 0
    assert ("warning", "No workshop links matched the link pattern") in reporter.logs
    assert not Workshop.objects.filter(is_archived=True).exists()
    assert reporter.progress_calls == [(0, 0, "Processing 0 links")]


def test_dead_website_fails_the_run_and_changes_nothing(studio, studio_site):
    process_studio(studio, FakeReporter())
    studio_site.add("/", Response("gone", status=404))
    with pytest.raises(DiscoveryError, match="HTTP 404"):
        process_studio(studio, FakeReporter())
    assert not Workshop.objects.filter(is_archived=True).exists()


def test_deeper_crawl_finds_links_behind_a_listing_page(studio, studio_site):
    studio_site.add("/", '<a href="/schedule">Schedule</a>')
    studio_site.add("/schedule", home_page("/workshops/levitating"))
    studio.max_depth = 2
    reporter = FakeReporter()
    summary = process_studio(studio, reporter)
    assert reporter.logs[1][1].endswith("(depth 2)")
    assert (summary["links_found"], summary["workshops_created"]) == (1, 1)


def test_an_extractor_crashing_on_one_page_fails_only_that_link(studio, studio_site, monkeypatch):
    def fragile(page, studio):
        if page.url.endswith("/intensive"):
            raise ValueError("unexpected markup")
        return []

    monkeypatch.setattr(extract, "EXTRACTORS", [extract.Extractor("fragile", fragile), *extract.EXTRACTORS])
    reporter = FakeReporter()
    summary = process_studio(studio, reporter)
    assert (
        "error",
        f"{studio_site.url('/workshops/intensive')}: failed: ValueError: unexpected markup",
    ) in reporter.logs
    assert (summary["links_failed"], summary["workshops_created"]) == (3, 3)
    assert reporter.progress_calls[-1][:2] == (7, 7)


def test_cancel_aborts_links_still_downloading(studio, studio_site, settings):
    settings.FETCH_DEADLINE = 60
    for path in WORKSHOP_PAGES:
        studio_site.add(path, Response(fixture_html(WORKSHOP_PAGES[path]), drip=0.05))  # a minute or more each
    reporter = FakeReporter()
    reporter.cancel_after(1)
    started = time.monotonic()
    with pytest.raises(StopRequested):
        process_studio(studio, reporter)
    assert time.monotonic() - started < 15
    assert not Workshop.objects.exists()
    assert reporter.threads == {threading.current_thread().name}


def test_cancel_aborts_links_whose_server_went_silent(transactional_db, studio, studio_site, settings):
    # Far beyond the wait below: only aborting the reads in flight can end the run in time.
    settings.FETCH_TIMEOUT = settings.FETCH_DEADLINE = 60
    for path in WORKSHOP_PAGES:
        studio_site.add(path, Response(fixture_html(WORKSHOP_PAGES[path]), drip=60))  # headers, a byte, then silence
    run, _ = start_run(PROCESS_STUDIO, studio.studio_id)
    wait_until(lambda: any(studio_site.hits[path] for path in WORKSHOP_PAGES))
    request_cancel(run)
    assert wait_for_run(run, timeout=10).status == RunStatus.CANCELLED
    assert not Workshop.objects.exists()


def test_only_the_first_max_links_per_run_are_processed(studio, studio_site, settings):
    process_studio(studio, FakeReporter())
    kept = set(Workshop.objects.filter(is_archived=False).values_list("title", flat=True))
    settings.MAX_LINKS_PER_RUN = 2
    reporter = FakeReporter()
    summary = process_studio(studio, reporter)
    assert summary["links_found"] == 7
    assert summary["links_processed"] + summary["links_failed"] == 2
    assert ("warning", "Processing the first 2 of 7 workshop links (MAX_LINKS_PER_RUN); 5 left out") in reporter.logs
    # The links left out say nothing about their workshops: none is archived for not being seen.
    assert summary["workshops_archived"] == 0
    assert set(Workshop.objects.filter(is_archived=False).values_list("title", flat=True)) == kept
