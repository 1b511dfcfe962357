"""Runs whose process died are noticed by their stale heartbeat, marked interrupted and resumed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from streaming import heartbeats, recovery
from streaming.models import Run, RunEvent, RunStatus
from studios.jobs import PROCESS_STUDIO
from studios.models import Studio
from tests.runs import wait_for_run


@pytest.fixture
def studio(transactional_db, settings):
    settings.FETCH_ALLOW_PRIVATE = True
    settings.FETCH_RETRIES = 0
    settings.RUN_HEARTBEAT_STALE_SECONDS = 30
    return Studio.objects.create(studio_id="gone", name="Gone", website="http://127.0.0.1:9/")


def stale_run(status=RunStatus.RUNNING, seconds=120):
    return Run.objects.create(
        job=PROCESS_STUDIO, subject="gone", status=status, heartbeat_at=timezone.now() - timedelta(seconds=seconds)
    )


def messages(run):
    return [e.data["data"].get("message") for e in RunEvent.objects.filter(run=run).order_by("seq")]


@pytest.mark.parametrize("status", [RunStatus.RUNNING, RunStatus.QUEUED])
def test_a_run_with_a_stale_heartbeat_is_interrupted_then_resumed(studio, status):
    run = stale_run(status)
    assert recovery.recover_stale_runs() == [run.pk]
    log = messages(run)
    assert log[0] == f"Run {run.pk} was interrupted: the process running it stopped"
    assert log[1] == f"Resuming run {run.pk}"
    finished = wait_for_run(run)
    assert finished.status == RunStatus.FAILED, "resumed and run again (its website is unreachable)"
    assert RunEvent.objects.filter(run=run, type="complete").count() == 1
    assert run.pk not in heartbeats.held_runs()


def test_fresh_or_held_runs_are_left_alone(studio):
    fresh = stale_run(seconds=1)
    assert recovery.recover_stale_runs() == []
    fresh.status = RunStatus.SUCCEEDED
    fresh.save()
    held = stale_run()
    heartbeats.hold(held.pk)
    try:
        assert recovery.recover_stale_runs() == []
        heartbeats.beat()
        held.refresh_from_db()
        assert timezone.now() - held.heartbeat_at < timedelta(seconds=5), "this process beats for its runs"
    finally:
        heartbeats.release(held.pk)
    held.refresh_from_db()
    assert held.status == RunStatus.RUNNING


def test_a_newer_run_started_meanwhile_wins(studio, monkeypatch):
    old = stale_run(status=RunStatus.RUNNING)
    publish_log = recovery.publish_log
    newer = []

    def start_a_newer_run_while_interrupted(run_id, level, message):
        # A staff member presses "Process now" just as the watchdog marks the old run interrupted.
        if not newer:
            newer.append(Run.objects.create(job=PROCESS_STUDIO, subject="gone", heartbeat_at=timezone.now()))
        publish_log(run_id, level, message)

    monkeypatch.setattr(recovery, "publish_log", start_a_newer_run_while_interrupted)
    assert recovery.recover_stale_runs() == []
    old.refresh_from_db()
    assert old.status == RunStatus.INTERRUPTED, "left for Retry; the newer run carries on"
    assert messages(old)[-1] == "Not resumed: a newer run of the same subject is active"
