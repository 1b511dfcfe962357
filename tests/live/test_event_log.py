"""Runs and their event logs under writers that race, on PostgreSQL (SQLite serialises its writers).

A run has more than one publisher at times (its worker and a cancel request; a stale run's
watchdog and the worker resuming it): each event must take the next seq, once. Clients starting
one studio at once must get one run between them, every one of them its id.
"""

import os

import pytest

from .server import manage

pytestmark = [pytest.mark.live]

PUBLISH_FROM_THREADS = """
import threading
from streaming.events import publish_log
from streaming.models import Run, RunEvent

run = Run.objects.create(job="process_studio", subject="race", status="running")
barrier = threading.Barrier(4)

def publisher(name):
    barrier.wait()
    for number in range(50):
        publish_log(run.pk, "info", f"{name} {number}")

threads = [threading.Thread(target=publisher, args=(f"p{n}",)) for n in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
rows = list(RunEvent.objects.filter(run=run).order_by("seq").values_list("seq", "data"))
print([seq for seq, _ in rows] == list(range(1, 201)), len({data["data"]["message"] for _, data in rows}))
"""


def migrated(postgres_database):
    """The environment of a `manage.py` on the PostgreSQL database, its schema migrated."""
    env = {
        **os.environ,
        "DATABASE_URL": postgres_database,
        "REDIS_URL": "",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    manage(env, "migrate", "--noinput")
    return env


def test_publishers_racing_on_one_run_give_every_event_its_own_next_seq(postgres_database):
    output = manage(migrated(postgres_database), "shell", "-c", PUBLISH_FROM_THREADS).split()
    assert output[-2:] == ["True", "200"], "seqs 1..200 with no gap or repeat, and all 200 messages stored"


START_FROM_THREADS = """
import threading
from streaming.models import Run
from streaming.services import start_run
from studios.models import Studio

Studio.objects.create(studio_id="raced", name="Raced", website="http://127.0.0.1:9/")
barrier = threading.Barrier(8)
results, errors = [], []

def starter():
    barrier.wait()
    try:
        results.append(start_run("process_studio", "raced", dispatch=False))
    except Exception as exc:
        errors.append(repr(exc))

for attempt in range(2):
    results.clear()
    threads = [threading.Thread(target=starter) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = {run.pk for run, _ in results}
    print(len(results), sum(created for _, created in results), len(ids), errors or "none")
    Run.objects.filter(pk__in=ids).update(status="succeeded")  # the next attempt starts a new run
print(Run.objects.filter(subject="raced").count())
"""


def test_simultaneous_starts_of_one_studio_share_one_run(postgres_database):
    lines = manage(migrated(postgres_database), "shell", "-c", START_FROM_THREADS).strip().splitlines()
    # Each attempt: 8 answers, 1 of them created the run, all name the same run, nothing raised.
    assert lines[-3:] == ["8 1 1 none", "8 1 1 none", "2"], lines
