"""Refresh schedules: each due time starts one run, however many schedulers look."""

import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from streaming.models import Run, RunStatus
from studios.jobs import PROCESS_STUDIO
from studios.models import Studio
from studios.schedules import start_due_runs
from tests.live.server import ROOT, database_url
from tests.runs import wait_for_run

EVENT_PAGE = """<html><head><script type="application/ld+json">{"@context": "https://schema.org", "@type": "DanceEvent",
"name": "Scheduled workshop", "startDate": "2031-05-04T18:30:00+05:30"}</script></head><body>Workshop</body></html>"""


@pytest.fixture
def due_studio(transactional_db, site, settings):
    settings.FETCH_ALLOW_PRIVATE = True
    site.add("/workshops/one/", EVENT_PAGE)
    site.add("/", '<a href="/workshops/one/">one</a>')
    studio = Studio.objects.create(
        studio_id="timely", name="Timely", website=site.url("/"), link_pattern="/workshops/", refresh_every_hours=6
    )
    # Due ten minutes ago.
    Studio.objects.filter(pk=studio.pk).update(next_refresh_at=timezone.now() - timedelta(minutes=10))
    return studio


def scheduled_runs():
    return list(Run.objects.filter(job=PROCESS_STUDIO, trigger="schedule"))


def test_a_new_schedule_is_due_after_its_interval_and_off_means_never(db, settings):
    settings.REFRESH_DEFAULT_INTERVAL = 0
    off = Studio.objects.create(studio_id="off", name="Off", website="https://example.com/")
    assert off.refresh_every_hours is None and off.next_refresh_at is None
    settings.REFRESH_DEFAULT_INTERVAL = 12
    before = timezone.now()
    new = Studio.objects.create(studio_id="new", name="New", website="https://example.com/")
    assert new.refresh_every_hours == 12
    assert before + timedelta(hours=12) <= new.next_refresh_at <= timezone.now() + timedelta(hours=12)
    new.name = "Renamed"
    due = new.next_refresh_at
    new.save()
    assert Studio.objects.get(pk=new.pk).next_refresh_at == due, (
        "an edit that leaves the schedule alone keeps its due time"
    )


def test_a_cron_schedule_counts_in_the_studios_time_zone(db):
    studio = Studio(
        studio_id="c", name="C", website="https://example.com/", refresh_cron="0 6 * * *", time_zone="Asia/Kolkata"
    )
    moment = datetime(2031, 5, 4, 1, 0, tzinfo=ZoneInfo("UTC"))  # 06:30 in Kolkata: today's 06:00 has passed
    following = studio.next_refresh_after(moment)
    assert following.astimezone(ZoneInfo("Asia/Kolkata")) == datetime(2031, 5, 5, 6, 0, tzinfo=ZoneInfo("Asia/Kolkata"))


def test_the_schedule_starts_a_due_studio_and_says_so(due_studio):
    started = start_due_runs()
    assert [run.subject for run in started] == ["timely"]
    run = wait_for_run(started[0])
    assert run.status == RunStatus.SUCCEEDED and run.trigger == "schedule" and run.requested_by is None
    assert run.events.first().data["data"]["message"] == f"Run {run.pk} queued: process_studio timely by the schedule"
    due_studio.refresh_from_db()
    assert due_studio.next_refresh_at > timezone.now() + timedelta(hours=5)
    assert start_due_runs() == [], "not due again until its next time"


def test_missed_due_times_collapse_into_one_run(due_studio):
    # The servers were down for three days: eighteen 6-hour due times went by.
    Studio.objects.filter(pk=due_studio.pk).update(next_refresh_at=timezone.now() - timedelta(days=3))
    started = start_due_runs()
    assert len(started) == 1
    wait_for_run(started[0])
    assert start_due_runs() == [] and len(scheduled_runs()) == 1
    due_studio.refresh_from_db()
    assert due_studio.next_refresh_at > timezone.now(), "the next due time counts from now, not from the missed one"


def test_a_studio_with_an_active_run_is_not_started_twice(due_studio):
    active = Run.objects.create(
        job=PROCESS_STUDIO, subject="timely", status=RunStatus.RUNNING, heartbeat_at=timezone.now()
    )
    assert start_due_runs() == []
    assert list(Run.objects.values_list("pk", flat=True)) == [active.pk]
    assert "still going" in active.events.last().data["data"]["message"]


def test_schedulers_in_many_threads_start_one_run(due_studio):
    results, barrier = [], threading.Barrier(6)

    def look():
        try:
            barrier.wait()
            results.extend(start_due_runs())
        finally:
            close_old_connections()

    threads = [threading.Thread(target=look) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 1 and len(scheduled_runs()) == 1
    wait_for_run(results[0])


# `run_scheduler --once` started at START_AT (a time.time() value): Django is set up before, so both
# processes make their first query, the look for due studios, at the same instant.
SCHEDULER_AT_START_AT = """
import os, time, django
django.setup()
time.sleep(max(0.0, float(os.environ["START_AT"]) - time.time()))
from django.core.management import call_command
call_command("run_scheduler", "--once")
"""


def test_two_scheduler_processes_on_one_database_fire_a_due_studio_once(due_studio, tmp_path):
    """Both processes look at the same instant, so that (most times, timing allowing) both read the
    studio due and race to claim it: the database lets one conditional update through, and only that
    process starts a run. Whichever way the race goes, one run and one "Started run"."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url(connection.settings_dict),
        "FETCH_ALLOW_PRIVATE": "1",
        "LLM_BASE_URL": "",
        "LLM_API_KEY": "",
        "LLM_MODEL": "",
        # Past both processes' start-up (about a second each on a busy machine).
        "START_AT": str(time.time() + 4),
    }
    command = [sys.executable, "-c", SCHEDULER_AT_START_AT]
    processes = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=60)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    runs = scheduled_runs()
    assert len(runs) == 1, outputs
    assert sum("Started run" in output for output in outputs) == 1
    assert wait_for_run(runs[0]).status == RunStatus.SUCCEEDED
