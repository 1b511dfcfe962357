"""A run's event log under publishers that race, on PostgreSQL (SQLite serialises its writers).

A run has more than one publisher at times (its worker and a cancel request; a stale run's
watchdog and the worker resuming it): each event must take the next seq, once.
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


def test_publishers_racing_on_one_run_give_every_event_its_own_next_seq(postgres_database):
    env = {
        **os.environ,
        "DATABASE_URL": postgres_database,
        "REDIS_URL": "",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    manage(env, "migrate", "--noinput")
    output = manage(env, "shell", "-c", PUBLISH_FROM_THREADS).split()
    assert output[-2:] == ["True", "200"], "seqs 1..200 with no gap or repeat, and all 200 messages stored"
