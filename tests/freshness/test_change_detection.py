"""Change detection: unchanged pages reuse their extraction without the LLM; each run records what changed."""

import json

import pytest

from streaming.models import Run
from studios.models import Studio, Workshop, WorkshopChange
from studios.pipeline import process
from studios.pipeline.process import process_studio
from tests.pipeline.support import FakeReporter
from tests.sites import Response

from .conftest import DAY, PAGE, page

pytestmark = pytest.mark.django_db


def run_for(studio):
    return Run.objects.create(job="process_studio", subject=studio.studio_id, status="succeeded")


def changes(run, kind=None):
    rows = WorkshopChange.objects.filter(run=run)
    return list(rows.filter(kind=kind) if kind else rows)


def test_an_unchanged_sites_second_run_calls_the_llm_0_times_and_reports_every_workshop_unchanged(
    llm_site, llm_server, site
):
    first = run_for(llm_site)
    summary = process_studio(llm_site, FakeReporter(), run=first)
    assert len(llm_server.requests) == 3 and summary["workshops_created"] == 3
    assert [c.kind for c in changes(first)] == ["created"] * 3

    second = run_for(llm_site)
    reporter = FakeReporter()
    summary = process_studio(llm_site, reporter, run=second)

    assert len(llm_server.requests) == 3, "no LLM call on the second run"
    assert summary["llm_tokens"]["requests"] == 0
    assert summary["links_unchanged"] == 3 and summary["fetch"]["not_modified"] == 3
    assert sum(site.not_modified.values()) == 3
    assert summary["workshops_unchanged"] == 3 and summary["workshops_created"] == summary["workshops_updated"] == 0
    assert {c.kind for c in changes(second)} == {"unchanged"} and len(changes(second)) == 3
    assert ("info", f"{site.url('/w/2/')}: unchanged (not modified), 1 workshop as before") in reporter.logs


def test_an_unchanged_rendered_sites_second_run_reuses_every_link_by_its_hash(llm_site, llm_server, site, chromium):
    """render_js pages: a browser's load is not conditional, so the hash of what it rendered decides."""
    Studio.objects.filter(pk=llm_site.pk).update(render_js=True)
    llm_site.refresh_from_db()
    first = process_studio(llm_site, FakeReporter(), run=run_for(llm_site))
    assert first["workshops_created"] == 3 and len(llm_server.requests) == 3

    second = run_for(llm_site)
    reporter = FakeReporter()
    summary = process_studio(llm_site, reporter, run=second)

    assert len(llm_server.requests) == 3, "no LLM call on the second run"
    assert summary["links_unchanged"] == 3 and summary["workshops_unchanged"] == 3
    assert {c.kind for c in changes(second)} == {"unchanged"} and len(changes(second)) == 3
    assert ("info", f"{site.url('/w/1/')}: unchanged (same content), 1 workshop as before") in reporter.logs
    assert site.hits["/w/1/"] == 2, "the page was rendered again, not skipped"


def test_a_changed_page_is_read_again_and_reported_updated_with_the_changed_fields(llm_site, llm_server, site):
    process_studio(llm_site, FakeReporter(), run=run_for(llm_site))
    site.add("/w/2/", page(2, price="₹1,500"))
    run = run_for(llm_site)
    summary = process_studio(llm_site, FakeReporter(), run=run)

    assert len(llm_server.requests) == 4, "exactly the changed page went to the LLM"
    assert (summary["workshops_updated"], summary["workshops_unchanged"]) == (1, 2)
    [updated] = changes(run, "updated")
    assert updated.fields == {"pricing_info": {"old": "₹1,000", "new": "₹1,500"}}
    assert updated.workshop.song == "Song 2" and updated.workshop.pricing_info == "₹1,500"


def test_pages_without_validators_are_compared_by_the_hash_of_their_content(llm_site, llm_server, site):
    for number in range(1, 4):
        site.add(f"/w/{number}/", page(number, etag=False))
    process_studio(llm_site, FakeReporter(), run=run_for(llm_site))
    reporter = FakeReporter()
    summary = process_studio(llm_site, reporter, run=run_for(llm_site))
    assert len(llm_server.requests) == 3 and summary["links_unchanged"] == 3
    assert summary["fetch"]["not_modified"] == 0
    assert ("info", f"{site.url('/w/1/')}: unchanged (same content), 1 workshop as before") in reporter.logs


def test_a_full_refresh_reads_and_extracts_every_page_again(llm_site, llm_server):
    process_studio(llm_site, FakeReporter(), run=run_for(llm_site))
    summary = process_studio(llm_site, FakeReporter(), run=run_for(llm_site), full_refresh=True)
    assert len(llm_server.requests) == 6 and summary["links_unchanged"] == 0
    assert summary["workshops_unchanged"] == 3


def test_a_vanished_workshop_is_reported_archived(llm_site, site):
    process_studio(llm_site, FakeReporter(), run=run_for(llm_site))
    site.add("/", '<a href="/w/1/">1</a><a href="/w/2/">2</a>')
    run = run_for(llm_site)
    summary = process_studio(llm_site, FakeReporter(), run=run)
    assert summary["workshops_archived"] == 1
    [archived] = changes(run, "archived")
    assert archived.workshop.song == "Song 3" and archived.workshop.is_archived


def test_changing_how_a_studio_is_read_reads_its_pages_afresh(llm_site, llm_server):
    process_studio(llm_site, FakeReporter(), run=run_for(llm_site))
    llm_site.extraction_hints = "Prices are per person."
    llm_site.save()
    process_studio(Studio.objects.get(pk=llm_site.pk), FakeReporter(), run=run_for(llm_site))
    assert len(llm_server.requests) == 6


def test_an_unchanged_page_is_read_again_once_after_the_extractor_changes(site, fast):
    event = {"@type": "Event", "name": "Salsa Bootcamp", "startDate": f"{DAY.isoformat()}T18:00"}
    site.add("/w/1/", Response(f'<script type="application/ld+json">{json.dumps(event)}</script>', etag='"v1"'))
    site.add("/", '<a href="/w/1/">1</a>')
    studio = Studio.objects.create(
        studio_id="s", name="S", website=site.url("/"), link_pattern="/w/", extraction="structured"
    )
    with pytest.MonkeyPatch.context() as older:
        older.setattr(process, "EXTRACTOR_VERSION", process.EXTRACTOR_VERSION - 1)
        process_studio(studio, FakeReporter(), run=run_for(studio))

    after_the_upgrade = process_studio(studio, FakeReporter(), run=run_for(studio))
    next_run = process_studio(studio, FakeReporter(), run=run_for(studio))

    assert after_the_upgrade["links_unchanged"] == 0, "what an older extractor made of the page is not reused"
    assert next_run["links_unchanged"] == 1 and next_run["fetch"]["not_modified"] == 1
    assert next_run["workshops_unchanged"] == 1


def test_the_complete_event_carries_the_counts(transactional_db, site, settings):
    from streaming.services import start_run
    from studios.jobs import PROCESS_STUDIO
    from tests.runs import wait_for_run

    settings.FETCH_ALLOW_PRIVATE = True
    site.add("/w/1/", Response(PAGE.format(title="x", song="y", price="z")))
    site.add("/", '<a href="/w/1/">1</a>')
    Studio.objects.create(studio_id="c", name="C", website=site.url("/"), link_pattern="/w/", extraction="structured")
    run = wait_for_run(start_run(PROCESS_STUDIO, "c")[0])
    complete = run.events.get(type="complete").data["data"]["summary"]
    assert {"workshops_created", "workshops_updated", "workshops_unchanged", "workshops_archived"} <= set(complete)
    assert Workshop.objects.count() == 0
