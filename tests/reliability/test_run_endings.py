"""How a run ends when every one of its links fails."""

import time

from streaming.models import RunEvent, RunStatus
from streaming.services import start_run
from studios.jobs import PROCESS_STUDIO
from studios.models import Studio, Workshop
from tests.pipeline.support import Response


def events(run):
    return [(e.type, e.data["data"]) for e in RunEvent.objects.filter(run=run).order_by("seq")]


def wait_until_finished(run, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if not run.is_active:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run.pk} still {run.status}")


def test_a_run_whose_every_link_fails_ends_failed_and_archives_nothing(transactional_db, site, settings):
    settings.FETCH_ALLOW_PRIVATE = True
    settings.FETCH_RETRIES = 0
    page = """<html><head><script type="application/ld+json">{{"@context": "https://schema.org",
      "@type": "DanceEvent", "name": "Workshop {n}", "startDate": "2099-01-0{n}T18:00:00+05:30"}}</script></head></html>"""
    for n in (1, 2, 3):
        site.add(f"/workshops/{n}/", page.format(n=n))
    site.add("/", "".join(f'<a href="/workshops/{n}/">{n}</a>' for n in (1, 2, 3)))
    studio = Studio.objects.create(studio_id="all_fail", name="All Fail", website=site.url("/"), link_pattern="/workshops/")
    first, _ = start_run(PROCESS_STUDIO, studio.studio_id)
    assert wait_until_finished(first).status == RunStatus.SUCCEEDED
    assert Workshop.objects.filter(studio=studio, is_archived=False).count() == 3

    for n in (1, 2, 3):
        site.add(f"/workshops/{n}/", Response("down for maintenance", status=404))
    second, _ = start_run(PROCESS_STUDIO, studio.studio_id)
    second = wait_until_finished(second)
    assert second.status == RunStatus.FAILED
    assert second.error == "All 3 workshop links failed; nothing was saved"
    assert (second.summary["links_found"], second.summary["links_failed"]) == (3, 3), "the counts are kept"
    complete = [data for type_, data in events(second) if type_ == "complete"]
    assert [c["status"] for c in complete] == ["failed"]
    assert Workshop.objects.filter(studio=studio, is_archived=False).count() == 3, "nothing archived"


def test_an_all_studios_run_in_which_every_studio_fails_ends_failed(transactional_db, settings):
    settings.FETCH_ALLOW_PRIVATE = True
    settings.FETCH_RETRIES = 0
    for studio_id in ("gone_a", "gone_b"):
        Studio.objects.create(studio_id=studio_id, name=studio_id, website="http://127.0.0.1:9/")
    run, _ = start_run(PROCESS_STUDIO, "all")
    run = wait_until_finished(run)
    assert run.status == RunStatus.FAILED
    assert run.error == "All 2 studios failed; nothing was saved"
    assert sorted(run.summary["studios_failed"]) == ["gone_a", "gone_b"]
