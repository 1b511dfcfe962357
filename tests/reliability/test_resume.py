"""A resumed run carries on: its bar, its log and its summary go on from what was done before."""

from datetime import timedelta

import pytest
from django.utils import timezone

from streaming import recovery
from streaming.models import Run, RunEvent, RunStatus
from studios.jobs import ALL_STUDIOS, PROCESS_STUDIO, process_all_studios
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


def test_a_resumed_all_studios_run_carries_on_with_the_studio_it_stopped_in(make_slow_studio, fast_fetch):
    first, second, third = (make_slow_studio(f"every_{letter}", pages=3, delay=0) for letter in "abc")
    sites = dict(zip((first.studio_id, second.studio_id, third.studio_id), make_slow_studio.sites, strict=True))
    run = Run.objects.create(job=PROCESS_STUDIO, subject=ALL_STUDIOS, status=RunStatus.RUNNING)
    # Stopped after the first studio's 3 links and the second studio's first.
    before = FakeReporter(stop_after=5)
    with pytest.raises(StopRequested):
        process_all_studios(run, before)

    after = FakeReporter()
    summary = process_all_studios(Run.objects.get(pk=run.pk), after)
    assert "Resuming: 1 studio done before the interruption, not processed again" in after.messages("info")
    assert not [line for line in after.messages() if first.name in line or sites[first.studio_id].url() in line]
    assert set(sites[first.studio_id].hits.values()) == {1}, "no page of the finished studio is read again"
    stopped_at = before.progress_calls[-1][0]
    bar = [current for current, _total, _message in after.progress_calls]
    assert bar[0] == stopped_at and bar == sorted(bar) and bar[-1] == after.progress_calls[-1][1]
    lines = before.messages() + after.messages()
    for site in sites.values():
        for number in range(1, 4):
            url = site.url(f"/workshops/slow-{number}/")
            assert [line for line in lines if url in line] == [f"{url}: 1 workshop (structured)"]
    assert after.messages("info").count("Studio 2 of 3: Every B") == 1
    assert (summary["studios_processed"], summary["studios_failed"]) == (3, {})
    assert (summary["links_processed"], summary["workshops_created"]) == (9, 9)


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
