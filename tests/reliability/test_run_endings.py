"""How a run ends when the server stops under it, and when every one of its links fails."""

import pytest
from django.utils import timezone

from streaming import recovery, shutdown
from streaming.execution import execute
from streaming.heartbeats import held_runs, hold
from streaming.jobs import register_job, unregister_job
from streaming.models import FINISHED_STATUSES, Run, RunEvent, RunStatus
from streaming.services import start_run
from studios.jobs import PROCESS_STUDIO
from studios.models import Studio, Workshop
from studios.pipeline.errors import StopRequested
from tests.runs import wait_for_run
from tests.sites import Response

STOPPED_MIDWAY = "test_server_stops_midway"
CANCELLED_AS_IT_STOPS = "test_cancelled_as_the_server_stops"
INTERRUPTED_LINE = "was interrupted: the server is stopping; it resumes when the server starts again"

NOT_ACTIVE = (*FINISHED_STATUSES, RunStatus.INTERRUPTED)


@pytest.fixture
def stopping():
    """This process is shutting down, as after SIGTERM; afterwards it is not any more."""
    shutdown.begin_stopping()
    yield
    shutdown.forget_stopping()


def server_stops_midway(run, reporter):
    reporter.log("info", "link 1 done")
    shutdown.begin_stopping()
    if reporter.should_stop():
        raise StopRequested()
    return {"links": 2}


def cancelled_as_the_server_stops(run, reporter):
    Run.objects.filter(pk=run.pk).update(cancel_requested=True)
    shutdown.begin_stopping()
    if reporter.should_stop():
        raise StopRequested()
    return {}


@pytest.fixture(autouse=True)
def stopping_jobs():
    register_job(STOPPED_MIDWAY, server_stops_midway)
    register_job(CANCELLED_AS_IT_STOPS, cancelled_as_the_server_stops)
    yield
    unregister_job(STOPPED_MIDWAY)
    unregister_job(CANCELLED_AS_IT_STOPS)


def events(run):
    return [(e.type, e.data["data"]) for e in RunEvent.objects.filter(run=run).order_by("seq")]


def assert_left_interrupted(run):
    run.refresh_from_db()
    assert run.status == RunStatus.INTERRUPTED
    assert run.pk not in held_runs()
    assert [type_ for type_, _data in events(run)].count("complete") == 0
    assert events(run)[-1] == ("logs", {"message": f"Run {run.pk} {INTERRUPTED_LINE}", "level": "warning"})


def test_a_queued_run_of_a_stopping_server_is_left_interrupted(transactional_db, stopping):
    run = Run.objects.create(job=STOPPED_MIDWAY, subject="a", heartbeat_at=timezone.now())
    hold(run.pk)
    execute(run.pk)
    assert_left_interrupted(run)
    assert run.started_at is None, "never started"


def test_a_running_run_stops_between_steps_and_is_left_interrupted(transactional_db):
    run = Run.objects.create(job=STOPPED_MIDWAY, subject="b", heartbeat_at=timezone.now())
    hold(run.pk)
    try:
        execute(run.pk)
        assert_left_interrupted(run)
        assert ("logs", {"message": "link 1 done", "level": "info"}) in events(run)
        assert recovery.recover_stale_runs(at_start=True) == [], "a stopping server resumes nothing"
    finally:
        shutdown.forget_stopping()


def test_a_cancel_requested_as_the_server_stops_still_cancels(transactional_db):
    run = Run.objects.create(job=CANCELLED_AS_IT_STOPS, subject="c", heartbeat_at=timezone.now())
    try:
        execute(run.pk)
    finally:
        shutdown.forget_stopping()
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED, "what the user asked for"
    assert [data["status"] for type_, data in events(run) if type_ == "complete"] == ["cancelled"]


def test_a_run_whose_every_link_fails_ends_failed_and_archives_nothing(transactional_db, site, settings):
    settings.FETCH_ALLOW_PRIVATE = True
    settings.FETCH_RETRIES = 0
    page = """<html><head><script type="application/ld+json">{{"@context": "https://schema.org",
      "@type": "DanceEvent", "name": "Workshop {n}", "startDate": "2099-01-0{n}T18:00:00+05:30"}}</script></head></html>"""
    for n in (1, 2, 3):
        site.add(f"/workshops/{n}/", page.format(n=n))
    site.add("/", "".join(f'<a href="/workshops/{n}/">{n}</a>' for n in (1, 2, 3)))
    studio = Studio.objects.create(
        studio_id="all_fail", name="All Fail", website=site.url("/"), link_pattern="/workshops/"
    )
    first, _ = start_run(PROCESS_STUDIO, studio.studio_id)
    assert wait_for_run(first, NOT_ACTIVE).status == RunStatus.SUCCEEDED
    assert Workshop.objects.filter(studio=studio, is_archived=False).count() == 3

    for n in (1, 2, 3):
        site.add(f"/workshops/{n}/", Response("down for maintenance", status=404))
    second, _ = start_run(PROCESS_STUDIO, studio.studio_id)
    second = wait_for_run(second, NOT_ACTIVE)
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
    run = wait_for_run(run, NOT_ACTIVE)
    assert run.status == RunStatus.FAILED
    assert run.error == "All 2 studios failed; nothing was saved"
    assert sorted(run.summary["studios_failed"]) == ["gone_a", "gone_b"]
