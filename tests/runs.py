"""Waiting on a run that executes in the background."""

import time

from streaming import heartbeats
from streaming.models import FINISHED_STATUSES, Run, RunEvent


def wait_for_run(run, statuses=FINISHED_STATUSES, timeout=30):
    """The run (a Run or its id), fresh from the database, once its status is one of `statuses`.

    By default that is finished: succeeded, failed or cancelled. Interrupted is not: the process
    running it stopped, and a watchdog resumes it, so pass it in `statuses` to wait for it.
    A finished run is returned once its worker is done with it: the status is recorded just before
    the `complete` event is published and the worker lets go of the run, so waiting for the status
    alone would race both.
    """
    run_id = getattr(run, "pk", run)
    deadline = time.monotonic() + timeout
    while True:
        current = Run.objects.get(pk=run_id)
        if current.status in statuses and (current.status not in FINISHED_STATUSES or _worker_is_done(run_id)):
            return current
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"run {run_id} is still {current.status} after {timeout}s, not {' or '.join(statuses)}"
            )
        time.sleep(0.02)


def _worker_is_done(run_id):
    completed = RunEvent.objects.filter(run_id=run_id, type="complete").exists()
    return completed and run_id not in heartbeats.held_runs()


def wait_until(condition, timeout=10):
    """Wait for `condition()` to hold, e.g. for a run to be busy on its links before a cancel."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"still not so after {timeout}s")
        time.sleep(0.02)
