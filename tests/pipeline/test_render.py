"""JavaScript rendering through real headless Chromium: the JS demo studio, limits, refusals, and no orphans."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from streaming.models import Run
from studios.demo import sites
from studios.jobs import process_all_studios
from studios.models import Artist, Studio, Workshop
from studios.pipeline import fetch, process
from studios.pipeline.discover import discover_links
from studios.pipeline.errors import FetchError, NotHTML, RenderingUnavailable, StopRequested
from studios.pipeline.fetch import Fetcher
from studios.pipeline.process import process_studio
from studios.pipeline.render import RenderingFetcher
from tests.live.expected import assert_catalogue_matches_demo
from tests.sites import Response

from .support import FakeReporter, real_chromium, serve_demo_site

JS_STUDIO = "rhythm_republic"


@pytest.fixture(autouse=True)
def chromium(settings):
    """Real Chromium for every test here, and none of its processes left behind by any of them."""
    yield from real_chromium(settings)


def js_studio(site, **fields):
    for artist in sites.ARTISTS:
        Artist.objects.get_or_create(
            artist_id=artist["artist_id"], defaults={"name": artist["name"], "aliases": artist["aliases"]}
        )
    return Studio.objects.create(
        studio_id=JS_STUDIO,
        name="Rhythm Republic",
        website=serve_demo_site(site, JS_STUDIO),
        link_pattern=sites.link_pattern(JS_STUDIO),
        time_zone=sites.TIME_ZONE,
        **{"render_js": True, **fields},
    )


def workshop_urls(site, studio_id=JS_STUDIO):
    return {
        site.url(f"/demo/sites/{studio_id}/workshops/{p['slug']}/") for p in sites.get_studio(studio_id)["workshops"]
    }


def test_the_js_studios_links_are_found_only_by_rendering(site, reporter):
    start = serve_demo_site(site, JS_STUDIO)
    pattern = sites.link_pattern(JS_STUDIO)
    with Fetcher() as plain:
        assert discover_links(plain, start, pattern, 1, reporter) == []
    with RenderingFetcher(2) as rendering:
        assert set(discover_links(rendering, start, pattern, 1, reporter)) == workshop_urls(site)


@pytest.mark.django_db
def test_processing_the_js_demo_studio_end_to_end(site):
    studio = js_studio(site)
    reporter = FakeReporter()
    summary = process_studio(studio, reporter)
    assert_catalogue_matches_demo(JS_STUDIO)
    assert (summary["links_found"], summary["links_failed"], summary["extractors"]) == (4, 0, {"structured": 4})
    assert ("info", "Reading pages through headless Chromium (render_js)") in reporter.logs
    assert Workshop.objects.filter(studio=studio, title="Hip-Hop Grooves Intensive", event_type="intensive").exists()


@pytest.mark.django_db
def test_without_render_js_the_js_studio_finds_nothing_and_archives_nothing(site):
    studio = js_studio(site, render_js=False)
    reporter = FakeReporter()
    summary = process_studio(studio, reporter)
    assert summary["links_found"] == 0
    assert ("warning", "No workshop links matched the link pattern") in reporter.logs


def test_at_most_concurrency_pages_at_once_from_many_threads(site):
    urls = [site.add(f"/slow/{n}", Response(f"<p>page {n}</p>", delay=0.3)) for n in range(6)]
    with RenderingFetcher(2) as fetcher, ThreadPoolExecutor(6) as pool:
        started = time.monotonic()
        pages = list(pool.map(fetcher.get, urls))
        elapsed = time.monotonic() - started
    assert [f"page {n}" in p.text for n, p in enumerate(pages)] == [True] * 6
    assert fetcher.peak_pages == 2
    assert elapsed >= 0.9, "six 0.3 s pages two at a time take three rounds"


def test_a_page_that_never_goes_quiet_is_read_when_the_time_is_up(site, settings):
    settings.RENDER_TIMEOUT = 2
    settings.FETCH_RETRIES = 0
    site.add("/hang", Response("late", delay=8))
    url = site.add(
        "/busy",
        "<body><p id=x>static</p><script>document.getElementById('x').textContent = 'written by script';"
        "fetch('/hang');</script></body>",
    )
    with RenderingFetcher(1) as fetcher:
        started = time.monotonic()
        page = fetcher.get(url)
        elapsed = time.monotonic() - started
    assert "written by script" in page.text and page.rendered and page.screenshot is None
    assert elapsed < 5, "RENDER_TIMEOUT bounds the wait, not the slow request"


def test_http_errors_non_html_and_the_size_cap(site, settings):
    settings.FETCH_RETRIES = 1
    missing = site.add("/missing", Response("nope", status=404))
    down = site.add("/down", Response("down", status=503))
    pdf = site.add("/flyer.pdf", Response(b"%PDF-1.4", content_type="application/pdf"))
    big = site.add("/big", "<p>" + "x" * 5000 + "</p>")
    with RenderingFetcher(1) as fetcher:
        with pytest.raises(FetchError, match="^HTTP 404$"):
            fetcher.get(missing)
        with pytest.raises(FetchError, match="^HTTP 503$"):
            fetcher.get(down)
        with pytest.raises(NotHTML):
            fetcher.get(pdf)
        fetcher.max_bytes = 1000
        with pytest.raises(FetchError, match="^response over 1000 bytes$"):
            fetcher.get(big)
    assert site.hits["/down"] == 2, "a 5xx is retried (FETCH_RETRIES=1)"


def test_screenshots_are_taken_only_when_asked(site):
    url = site.add("/", "<h1>Hello</h1>")
    with RenderingFetcher(1) as fetcher:
        assert fetcher.get(url).screenshot is None
        fetcher.screenshots = True
        assert fetcher.get(url).screenshot.startswith(b"\x89PNG\r\n\x1a\n")


def test_private_addresses_are_refused_before_navigating(site, settings):
    settings.FETCH_ALLOW_PRIVATE = False
    url = site.add("/local", "<p>internal</p>")
    with RenderingFetcher(1) as fetcher, pytest.raises(FetchError, match="^refused private address 127.0.0.1$"):
        fetcher.get(url)
    assert site.hits["/local"] == 0


def test_requests_and_redirects_to_private_addresses_are_blocked(site, settings, monkeypatch):
    # Pretend the test site's loopback address is public; 10.0.0.1 stays private.
    settings.FETCH_ALLOW_PRIVATE = False
    real_check = fetch.is_public_address
    monkeypatch.setattr(fetch, "is_public_address", lambda ip: ip.is_loopback or real_check(ip))
    site.redirect("/img-hop", "http://10.0.0.1/secret.png")
    site.redirect("/hop", "/page")
    site.redirect("/out", "http://10.0.0.1/admin")
    url = site.add(
        "/page",
        "<body><img src='http://10.0.0.1/pixel.png'><img src='/img-hop'>"
        "<script>fetch('http://10.0.0.1/api').catch(() => {});</script><p>public page</p></body>",
    )
    with RenderingFetcher(1) as fetcher:
        page = fetcher.get(site.url("/hop"))
        assert page.final_url == url and "public page" in page.text
        assert set(fetcher.blocked) == {
            "http://10.0.0.1/pixel.png",
            "http://10.0.0.1/secret.png",
            "http://10.0.0.1/api",
        }
        with pytest.raises(FetchError, match="^refused private address 10.0.0.1$"):
            fetcher.get(site.url("/out"))
    assert site.hits["/img-hop"] == 1


@pytest.mark.django_db
def test_missing_chromium_fails_the_studio_with_a_clear_message(site, settings):
    settings.CHROMIUM_PATH = "/nonexistent/chromium"
    studio = js_studio(site)
    with pytest.raises(
        RenderingUnavailable, match="^JavaScript rendering needs Chromium, which was not found at /nonexistent/chromium"
    ):
        process_studio(studio, FakeReporter())
    assert not Workshop.objects.exists()

    # Refreshing every studio carries on with the others.
    other = Studio.objects.create(studio_id="plain", name="Plain", website=site.add("/plain/", "<p>none</p>"))
    reporter = FakeReporter()
    summary = process_all_studios(Run.objects.create(job="process_studio", subject="all"), reporter)
    assert summary["studios_processed"] == 1 and list(summary["studios_failed"]) == [JS_STUDIO]
    assert summary["studios_failed"][JS_STUDIO].startswith("JavaScript rendering needs Chromium")
    assert other.studio_id == summary["studios"][0]["studio_id"]


@pytest.mark.django_db
def test_a_cancelled_run_closes_the_browser(site):
    studio = js_studio(site, concurrency=1)
    with pytest.raises(StopRequested):
        process_studio(studio, FakeReporter(stop_after=1))
    assert not Workshop.objects.exists()


@pytest.mark.django_db
def test_a_run_that_fails_midway_closes_the_browser(site, monkeypatch):
    studio = js_studio(site)

    def broken(self, result):
        raise RuntimeError("disk full")

    monkeypatch.setattr(process._Collector, "add", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        process_studio(studio, FakeReporter())


@pytest.mark.django_db(transaction=True)
def test_a_run_of_a_js_studio_without_chromium_fails_with_the_message_not_a_crash(site, settings):
    from streaming.execution import execute
    from streaming.models import RunEvent

    settings.CHROMIUM_PATH = "/nonexistent/chromium"
    js_studio(site)
    run = Run.objects.create(job="process_studio", subject=JS_STUDIO)
    execute(run.pk)
    run.refresh_from_db()
    assert run.status == "failed"
    assert run.error.startswith("JavaScript rendering needs Chromium, which was not found at /nonexistent/chromium")
    error = RunEvent.objects.get(run=run, type="error")
    assert error.data["data"] == {"message": run.error, "code": "run_failed"}
    assert RunEvent.objects.filter(run=run).order_by("-seq").first().type == "complete"


def test_a_rendered_page_dripping_slowly_fails_at_the_fetch_deadline(site, settings):
    settings.FETCH_DEADLINE = 1.5
    url = site.add("/drip", Response("<html><body>" + "x" * 60 + "</body></html>", drip=0.2))
    started = time.monotonic()
    with RenderingFetcher(1) as fetcher, pytest.raises(FetchError, match="^did not finish within the 1.5s deadline"):
        fetcher.get(url)
    assert time.monotonic() - started < 12  # without the deadline: RENDER_TIMEOUT (5s) per try, three tries
