"""Polite crawling: robots.txt, the User-Agent, a per-host request limit, Retry-After, sitemaps."""

import threading
import time

import pytest
from django.db import close_old_connections

from studios.models import Studio, Workshop
from studios.pipeline.process import process_studio
from tests.pipeline.support import FakeReporter
from tests.sites import Response

pytestmark = pytest.mark.django_db

EVENT = """<html><head><script type="application/ld+json">{{"@context": "https://schema.org", "@type": "DanceEvent",
"name": "Workshop {n}", "startDate": "2031-05-0{n}T18:30:00+05:30"}}</script></head><body>Workshop {n}</body></html>"""


@pytest.fixture
def polite_site(site, settings):
    settings.FETCH_ALLOW_PRIVATE = True
    settings.FETCH_RETRIES = 2
    settings.FETCH_RETRY_BACKOFF = 0.01
    settings.FETCH_USER_AGENT = "StudioBot/2.0 (+https://example.com/bot)"
    for n in (1, 2):
        site.add(f"/w/{n}/", EVENT.format(n=n))
    site.add("/private/w/3/", EVENT.format(n=3))
    site.add("/", '<a href="/w/1/">1</a> <a href="/w/2/">2</a> <a href="/private/w/3/">3</a>')
    return site


def studio_for(site, **extra):
    return Studio.objects.create(studio_id="p", name="P", website=site.url("/"), link_pattern="/w/", **extra)


def slow_pages(site, prefix, count, delay=0.1):
    """`count` workshop pages under `prefix`, each answering after `delay` seconds; their links."""
    links = []
    for n in range(1, count + 1):
        site.add(f"{prefix}{n}/", Response(EVENT.format(n=n % 9 or 1), delay=delay))
        links.append(f'<a href="{prefix}{n}/">{n}</a>')
    return "".join(links)


def test_robots_txt_keeps_a_disallowed_link_unfetched(polite_site):
    polite_site.add("/robots.txt", Response("User-agent: *\nDisallow: /private/\n", content_type="text/plain"))
    reporter = FakeReporter()
    summary = process_studio(studio_for(polite_site), reporter)
    assert polite_site.hits["/private/w/3/"] == 0
    assert summary["links_disallowed"] == 1 and summary["workshops_created"] == 2
    assert ("warning", f"{polite_site.url('/private/w/3/')}: not fetched, robots.txt disallows it") in reporter.logs
    assert polite_site.user_agents == {"StudioBot/2.0 (+https://example.com/bot)"}


def test_a_link_robots_txt_disallows_is_no_max_links_warning_and_its_workshop_is_kept(polite_site):
    studio = studio_for(polite_site)
    process_studio(studio, FakeReporter())
    polite_site.add("/robots.txt", Response("User-agent: *\nDisallow: /private/\n", content_type="text/plain"))
    reporter = FakeReporter()
    summary = process_studio(studio, reporter)
    assert reporter.messages("warning") == [f"{polite_site.url('/private/w/3/')}: not fetched, robots.txt disallows it"]
    assert summary["workshops_archived"] == 0
    assert Workshop.objects.get(title="Workshop 3").is_archived is False


def test_robots_txt_can_be_ignored_per_studio(polite_site):
    polite_site.add("/robots.txt", Response("User-agent: *\nDisallow: /\n", content_type="text/plain"))
    summary = process_studio(studio_for(polite_site, respect_robots_txt=False), FakeReporter())
    assert summary["workshops_created"] == 3 and polite_site.hits["/private/w/3/"] == 1


def test_the_sitemap_seeds_discovery(polite_site):
    polite_site.add("/w/4/", EVENT.format(n=4))  # linked from no page
    sitemap = f"""<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
    <url><loc>{polite_site.url("/w/4/")}</loc></url><url><loc>{polite_site.url("/about/")}</loc></url></urlset>"""
    polite_site.add("/sitemap.xml", Response(sitemap, content_type="application/xml"))
    reporter = FakeReporter()
    summary = process_studio(studio_for(polite_site), reporter)
    assert summary["links_found"] == 4 and polite_site.hits["/w/4/"] == 1
    assert ("info", "The sitemap lists 1 more workshop link") in reporter.logs


def test_retry_after_is_waited_out_within_a_bound(polite_site, settings):
    polite_site.add("/w/1/", Response("busy", status=503, headers={"Retry-After": "1"}), EVENT.format(n=1))
    polite_site.add("/w/2/", Response("slow down", status=429, headers={"Retry-After": "3600"}))
    settings.FETCH_MAX_RETRY_AFTER = 5
    started = time.monotonic()
    reporter = FakeReporter()
    summary = process_studio(studio_for(polite_site), reporter)
    assert time.monotonic() - started >= 1.0
    assert polite_site.hits["/w/1/"] == 2, "asked again after the second it asked for"
    assert polite_site.hits["/w/2/"] == 1, "an hour is past FETCH_MAX_RETRY_AFTER: not waited for"
    assert summary["workshops_created"] == 2 and summary["links_failed"] == 1
    assert ("error", f"{polite_site.url('/w/2/')}: failed: HTTP 429") in reporter.logs


@pytest.mark.parametrize("retry_after", ["²", "٣", "1²", "soon"])
def test_an_unreadable_retry_after_is_ignored_for_the_plain_backoff(polite_site, retry_after):
    polite_site.add("/w/1/", Response("busy", status=503, headers={"Retry-After": retry_after}), EVENT.format(n=1))
    reporter = FakeReporter()
    summary = process_studio(studio_for(polite_site), reporter)
    assert polite_site.hits["/w/1/"] == 2, "asked again after the plain backoff"
    assert summary["workshops_created"] == 3 and summary["links_failed"] == 0, reporter.logs


def test_requests_per_host_are_limited_across_runs(transactional_db, site, settings):
    settings.FETCH_ALLOW_PRIVATE = True
    settings.FETCH_PER_HOST_CONCURRENCY = 2
    site.add("/", slow_pages(site, "/a/", 8) + slow_pages(site, "/b/", 8))
    studios = [
        Studio.objects.create(studio_id=s, name=s, website=site.url("/"), link_pattern=f"/{s}/", concurrency=8)
        for s in ("a", "b")
    ]
    summaries, barrier = {}, threading.Barrier(2)

    def run(studio):
        try:
            barrier.wait()
            summaries[studio.studio_id] = process_studio(studio, FakeReporter())
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run, args=(studio,)) for studio in studios]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [summaries[s]["workshops_created"] for s in ("a", "b")] == [8, 8]
    assert site.max_in_flight == 2, "two runs of eight at once, and the host saw two requests at a time"


def test_rendered_pages_take_the_same_per_host_slots(site, settings, chromium):
    settings.FETCH_ALLOW_PRIVATE = True
    settings.FETCH_PER_HOST_CONCURRENCY = 2
    # A page answers after a second: Chromium's own work around each request (a new page, its
    # load, the reading) took longer than a tenth of a second on a busy machine, and two renders'
    # requests then never overlapped although both held their slot.
    site.add("/", slow_pages(site, "/w/", 6, delay=1.0))
    studio = Studio.objects.create(
        studio_id="r", name="R", website=site.url("/"), link_pattern="/w/", concurrency=6, render_js=True
    )
    summary = process_studio(studio, FakeReporter())
    assert summary["workshops_created"] == 6
    assert site.max_in_flight == 2, "six pages rendered at once, two at a time on the host"


def test_rendered_pages_honour_retry_after_within_the_bound(polite_site, settings, chromium):
    polite_site.add("/w/1/", Response("busy", status=503, headers={"Retry-After": "1"}), EVENT.format(n=1))
    polite_site.add("/w/2/", Response("slow down", status=429, headers={"Retry-After": "3600"}))
    settings.FETCH_MAX_RETRY_AFTER = 5
    reporter = FakeReporter()
    summary = process_studio(studio_for(polite_site, render_js=True), reporter)
    assert polite_site.hits["/w/1/"] == 2, "asked again after the second it asked for"
    assert polite_site.hits["/w/2/"] == 1, "an hour is past FETCH_MAX_RETRY_AFTER: not asked again"
    assert summary["workshops_created"] == 2 and summary["links_failed"] == 1
    assert ("error", f"{polite_site.url('/w/2/')}: failed: HTTP 429") in reporter.logs
