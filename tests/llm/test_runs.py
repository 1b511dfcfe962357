"""Processing studios with the LLM extractor: which extractor runs, failures that stay local, the demo end to end."""

import threading
from datetime import date, timedelta

import pytest

from streaming.models import RunStatus
from streaming.services import request_cancel, start_run
from studios.demo import llm as demo_llm
from studios.demo import sites
from studios.jobs import PROCESS_STUDIO
from studios.models import Artist, Studio, Workshop
from studios.pipeline.errors import LLMNotConfigured
from studios.pipeline.process import process_studio
from tests.live.expected import assert_catalogue_matches_demo
from tests.pipeline.support import FakeReporter, fixture_html, real_chromium, serve_demo_site
from tests.runs import wait_for_run, wait_until

from .fake_openai import Reply, answer, completion, detail, prompt_text, when

pytestmark = pytest.mark.django_db

PLAIN_PAGE = """<html><head><title>Heels night</title></head><body><h1>Heels Night with Meg K</h1>
<p>Join us on the 5th of next month, 7 to 9 in the evening. Song: Levitating. ₹1,500.</p></body></html>"""


@pytest.fixture
def studio(site):
    Artist.objects.create(artist_id="jane.doe", name="Jane Doe")
    Artist.objects.create(artist_id="meghna.kapoor_", name="Meghna Kapoor", aliases=["Meg K"])
    site.add("/workshops/structured", fixture_html("event_jsonld.html"))
    site.add("/workshops/plain", PLAIN_PAGE)
    site.add("/", '<a href="/workshops/structured">a</a> <a href="/workshops/plain">b</a>')
    return Studio.objects.create(
        studio_id="pulse",
        name="Studio Pulse",
        website=site.url("/"),
        link_pattern="/workshops/",
        concurrency=2,
        extraction_hints="Prices in rupees.",
    )


def heels_answer():
    day = date.today() + timedelta(days=20)
    return answer(
        detail(
            when(day, "07:00 PM", "09:00 PM"),
            by="Meg K",
            song="Levitating",
            pricing_info="Entry: ₹1,500",
            artist_id_list=["meghna.kapoor_"],
        )
    )


def test_auto_uses_structured_data_first_and_the_llm_for_the_rest(llm_settings, llm_server, studio, site):
    llm_server.expect_artist_ids = ["jane.doe", "meghna.kapoor_"]
    llm_server.add(completion(heels_answer(), prompt_tokens=900, completion_tokens=60))
    reporter = FakeReporter()
    summary = process_studio(studio, reporter)

    assert len(llm_server.requests) == 1, "the page with structured data never went to the LLM"
    assert "Page: " + site.url("/workshops/plain") in prompt_text(llm_server.requests[0])
    assert "Prices in rupees." in prompt_text(llm_server.requests[0])
    assert summary["extractors"] == {"structured": 1, "llm": 1}
    assert summary["llm_tokens"] == {"prompt_tokens": 900, "completion_tokens": 60, "total_tokens": 960, "requests": 1}
    assert ("info", f"{site.url('/workshops/plain')}: 1 workshop (llm)") in reporter.logs
    assert ("info", f"{site.url('/workshops/structured')}: 1 workshop (structured)") in reporter.logs
    assert (
        "info",
        f"Extraction: auto, LLM test-model at 127.0.0.1:{llm_server.server.server_address[1]}",
    ) in reporter.logs
    heels = Workshop.objects.get(song="Levitating", source_url=site.url("/workshops/plain"))
    assert heels.title == "Heels Night with Meg K" and heels.pricing_info == "Entry: ₹1,500"
    assert [a.artist_id for a in heels.artists.all()] == ["meghna.kapoor_"]
    assert [(s.start_time.hour, s.end_time.hour) for s in heels.sessions.all()] == [(19, 21)]
    # The reporter writes to the database: only the calling thread may use it.
    assert reporter.threads == {threading.current_thread().name}


def test_structured_studios_never_ask_the_llm(llm_settings, llm_server, studio):
    studio.extraction = "structured"
    summary = process_studio(studio, FakeReporter())
    assert llm_server.requests == [] and "llm_tokens" not in summary
    assert summary["pages_without_events"] == 1


def test_llm_studios_send_every_page_to_the_llm(llm_settings, llm_server, studio, site):
    studio.extraction = "llm"
    llm_server.responder = lambda body: completion(
        heels_answer() if "/plain" in prompt_text(body) else answer(is_valid=False)
    )
    reporter = FakeReporter()
    summary = process_studio(studio, reporter)
    assert len(llm_server.requests) == 2
    assert summary["extractors"] == {"llm": 1} and summary["pages_without_events"] == 1
    assert ("warning", f"{site.url('/workshops/structured')}: no workshop data found") in reporter.logs
    assert (
        "info",
        f"{site.url('/workshops/structured')}: the LLM says the page announces no workshop",
    ) in reporter.logs


def test_cancel_aborts_an_llm_answer_in_progress(transactional_db, llm_settings, llm_server, studio):
    llm_settings.LLM_TIMEOUT = 60  # far beyond the wait below: only aborting the call can end the run in time
    studio.extraction = "llm"
    studio.save()
    llm_server.responder = lambda body: Reply(body=completion(answer(is_valid=False)), delay=60)
    run, _ = start_run(PROCESS_STUDIO, studio.studio_id)
    wait_until(lambda: llm_server.requests)
    request_cancel(run)
    assert wait_for_run(run, timeout=10).status == RunStatus.CANCELLED
    assert not Workshop.objects.exists()


def test_without_llm_settings_auto_says_once_that_the_llm_is_off(llm_server, studio, site):
    reporter = FakeReporter()
    summary = process_studio(studio, reporter)
    off = [line for line in reporter.logs if "LLM" in line[1]]
    assert off == [
        ("info", "LLM extraction is off (LLM_BASE_URL and LLM_API_KEY are not set): reading structured data only")
    ]
    assert summary["extractors"] == {"structured": 1} and "llm_tokens" not in summary
    assert ("warning", f"{site.url('/workshops/plain')}: no workshop data found") in reporter.logs
    assert llm_server.requests == []


def test_an_llm_studio_without_llm_settings_fails_the_run_and_changes_nothing(studio, site):
    process_studio(studio, FakeReporter())
    before = list(Workshop.objects.values_list("pk", "updated_at", "is_archived"))
    studio.extraction = "llm"
    with pytest.raises(
        LLMNotConfigured,
        match=r"^Studio Pulse is set to LLM extraction, but no LLM is configured "
        r"\(LLM_BASE_URL and LLM_API_KEY are not set\)",
    ):
        process_studio(studio, FakeReporter())
    assert list(Workshop.objects.values_list("pk", "updated_at", "is_archived")) == before
    assert site.hits["/"] == 1, "the second run stopped before crawling"


def test_unusable_answers_fail_their_link_with_a_warning_and_the_run_goes_on(llm_settings, llm_server, studio, site):
    site.add("/workshops/plain2", PLAIN_PAGE.replace("Heels", "Jazz"))
    site.add(
        "/", '<a href="/workshops/structured">a</a> <a href="/workshops/plain">b</a> <a href="/workshops/plain2">c</a>'
    )
    studio.concurrency = 1
    llm_server.add(completion("not json at all"), completion(None, refusal="No."))
    reporter = FakeReporter()
    summary = process_studio(studio, reporter)
    assert (summary["links_found"], summary["links_processed"], summary["links_failed"]) == (3, 1, 2)
    warnings = reporter.messages("warning")
    assert f"{site.url('/workshops/plain')}: failed: LLM: the answer is not valid JSON" in warnings
    assert f"{site.url('/workshops/plain2')}: failed: LLM: the model refused: No." in warnings
    assert reporter.messages("error") == []
    assert summary["llm_tokens"]["requests"] == 2 and summary["workshops_created"] == 1


def test_a_failed_llm_link_keeps_its_workshops(llm_settings, llm_server, studio, site):
    llm_server.add(completion(heels_answer()))
    process_studio(studio, FakeReporter())
    llm_server.add(*[completion(None, refusal="No.")])
    summary = process_studio(studio, FakeReporter())
    assert summary["workshops_archived"] == 0
    assert Workshop.objects.filter(source_url=site.url("/workshops/plain"), is_archived=False).count() == 1


def demo_catalogue():
    for artist in sites.ARTISTS:
        Artist.objects.create(artist_id=artist["artist_id"], name=artist["name"], aliases=artist["aliases"])


def plain_demo_studio(site):
    studio = sites.get_studio("tarang_dance_house")
    return Studio.objects.create(
        studio_id=studio["studio_id"],
        name=studio["name"],
        website=serve_demo_site(site, studio["studio_id"]),
        link_pattern=sites.link_pattern(studio["studio_id"]),
        extraction_hints=studio["extraction_hints"],
        time_zone=sites.TIME_ZONE,
    )


def test_the_plain_text_demo_studio_end_to_end_with_prepared_completions(llm_settings, llm_server, site):
    demo_catalogue()
    studio = plain_demo_studio(site)
    llm_server.expect_artist_ids = [a["artist_id"] for a in sites.ARTISTS]
    prepared = {}
    for page in sites.get_studio("tarang_dance_house")["workshops"]:
        url = site.url(f"/demo/sites/tarang_dance_house/workshops/{page['slug']}/")
        prepared[url] = completion(demo_llm.answer_for_url(url), prompt_tokens=1000, completion_tokens=100)

    def reply(body):
        url = prompt_text(body).split("Page: ", 1)[1].split("\n", 1)[0]
        return prepared.get(url) or completion(answer(is_valid=False), prompt_tokens=700, completion_tokens=10)

    llm_server.responder = reply
    reporter = FakeReporter()
    summary = process_studio(studio, reporter)

    assert_catalogue_matches_demo("tarang_dance_house")
    assert summary["extractors"] == {"llm": 4}
    assert (summary["links_found"], summary["links_failed"], summary["events_past"]) == (
        6,
        1,
        1,
    )  # the dead link, Rohan's
    assert summary["pages_without_events"] == 1  # the FAQ
    assert summary["llm_tokens"] == {**llm_server.usage_served, "requests": 5}
    assert summary["llm_tokens"]["total_tokens"] == 4 * 1100 + 710
    assert summary["missing_artists"] == []
    double = Workshop.objects.filter(title__startswith="Double Routine Day: ")
    assert sorted(double.values_list("song", flat=True)) == ["Apna Bana Le", "Kesariya"]
    assert all(w.pricing_info == "EB: ₹900\nRegular: ₹1,200" for w in double)

    # Nothing changed on the pages: a second run changes nothing in the catalogue.
    summary = process_studio(studio, FakeReporter())
    assert (summary["workshops_created"], summary["workshops_updated"], summary["workshops_archived"]) == (0, 0, 0)


def test_the_demo_llm_server_processes_the_plain_text_studio(settings, site):
    """What `make run` shows with LLM_BASE_URL pointing at `python -m studios.demo.llm`."""
    server = demo_llm.serve(port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        settings.LLM_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}/v1"
        settings.LLM_MODEL = "demo"
        demo_catalogue()
        studio = plain_demo_studio(site)
        reporter = FakeReporter()
        summary = process_studio(studio, reporter)
    finally:
        server.shutdown()
        server.server_close()
    assert_catalogue_matches_demo("tarang_dance_house")
    assert summary["workshops_created"] == 4 and summary["llm_tokens"]["requests"] == 5
    slug_url = site.url("/demo/sites/tarang_dance_house/workshops/double-routine-day/")
    assert ("info", f"{slug_url}: 2 workshops (llm)") in reporter.logs


@pytest.fixture
def chromium(settings):
    yield from real_chromium(settings)


def js_demo_studio(site, **fields):
    return Studio.objects.create(
        studio_id="rhythm_republic",
        name="Rhythm Republic",
        website=serve_demo_site(site, "rhythm_republic"),
        link_pattern=sites.link_pattern("rhythm_republic"),
        time_zone=sites.TIME_ZONE,
        render_js=True,
        **fields,
    )


@pytest.mark.parametrize("screenshots", [True, False], ids=["screenshots-on", "screenshots-off"])
def test_rendered_pages_go_to_the_llm_with_a_screenshot_when_on(llm_settings, llm_server, site, chromium, screenshots):
    llm_settings.LLM_SCREENSHOTS = screenshots
    llm_server.expect_image = screenshots  # the fake refuses a request with (or without) an unexpected image
    llm_server.responder = lambda body: completion(
        demo_llm.answer_for_url(prompt_text(body).split("Page: ", 1)[1].split("\n")[0])
    )
    demo_catalogue()
    studio = js_demo_studio(site, extraction="llm")
    summary = process_studio(studio, FakeReporter())
    assert len(llm_server.requests) == 4, "one request per workshop link, none for the crawled listing"
    assert summary["extractors"] == {"llm": 4} and summary["links_failed"] == 0
    assert_catalogue_matches_demo("rhythm_republic")
