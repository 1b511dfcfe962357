"""A resumed run carries on: its bar, its log and its summary go on from what was done before."""

from datetime import timedelta

import pytest
from django.utils import timezone

from streaming import recovery
from streaming.models import Run, RunEvent, RunStatus
from studios.jobs import PROCESS_STUDIO
from studios.models import ProcessedLink, Studio
from studios.pipeline.errors import StopRequested
from studios.pipeline.process import process_studio
from tests.pipeline.support import FakeReporter
from tests.runs import wait_for_run

PAGES = 6


@pytest.fixture
def fast_fetch(settings):
    settings.FETCH_ALLOW_PRIVATE = True
    settings.FETCH_RETRIES = 0


def test_a_resumed_run_carries_on_where_it_stopped(make_slow_studio, fast_fetch):
    studio = make_slow_studio("carry_on", pages=PAGES, delay=0)
    run = Run.objects.create(job=PROCESS_STUDIO, subject=studio.studio_id, status=RunStatus.RUNNING)
    before = FakeReporter(stop_after=2)
    with pytest.raises(StopRequested):
        process_studio(studio, before, run=run)
    done = ProcessedLink.objects.filter(run=run).count()
    assert done == 2

    after = FakeReporter()
    summary = process_studio(studio, after, run=run)
    assert [current for current, _total, _message in after.progress_calls] == list(range(done, PAGES + 1))
    assert f"Resuming: {done} links done before the interruption, not fetched again" in after.messages("info")
    site = make_slow_studio.sites[-1]
    for number in range(1, PAGES + 1):
        url = site.url(f"/workshops/slow-{number}/")
        lines = [message for message in before.messages() + after.messages() if url in message]
        assert lines == [f"{url}: 1 workshop (structured)"], "each link is logged once, before or after the stop"
    assert (summary["links_found"], summary["links_processed"], summary["links_failed"]) == (PAGES, PAGES, 0)
    assert (summary["events_found"], summary["workshops_created"]) == (PAGES, PAGES)


@pytest.fixture
def gone(transactional_db, fast_fetch):
    """A studio whose website is unreachable: a resumed run of it ends at once (failed)."""
    return Studio.objects.create(studio_id="gone", name="Gone", website="http://127.0.0.1:9/")


def interrupted_run(heartbeat_age=0.0):
    """A run as a stopped server leaves it: interrupted, its heartbeat as old as the stop."""
    return Run.objects.create(
        job=PROCESS_STUDIO,
        subject="gone",
        status=RunStatus.INTERRUPTED,
        heartbeat_at=timezone.now() - timedelta(seconds=heartbeat_age),
    )


def messages(run):
    return [e.data["data"].get("message") for e in RunEvent.objects.filter(run=run).order_by("seq")]


def test_a_starting_server_resumes_interrupted_runs_at_once(gone):
    run = interrupted_run()
    assert recovery.recover_stale_runs() == [], "a live server leaves a just stopped server's run to the next start"
    assert recovery.recover_stale_runs(at_start=True) == [run.pk]
    assert messages(run)[0] == f"Resuming run {run.pk}"
    assert wait_for_run(run).status == RunStatus.FAILED, "resumed under its id (its website is unreachable)"


def test_a_live_server_resumes_a_run_left_interrupted_longer_than_the_stale_limit(gone, settings):
    settings.RUN_HEARTBEAT_STALE_SECONDS = 1
    run = interrupted_run(heartbeat_age=5)
    assert recovery.recover_stale_runs() == [run.pk]
    wait_for_run(run)


def test_an_interrupted_run_is_not_resumed_once_a_newer_run_was_started(gone):
    old = interrupted_run()
    Run.objects.create(job=PROCESS_STUDIO, subject="gone", status=RunStatus.SUCCEEDED)  # e.g. Retry, or Process now
    assert recovery.recover_stale_runs(at_start=True) == []
    old.refresh_from_db()
    assert old.status == RunStatus.INTERRUPTED and messages(old) == []
