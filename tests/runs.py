"""Waiting on a run that executes in the background."""

import time

from streaming.models import FINISHED_STATUSES, Run


def wait_for_run(run, statuses=FINISHED_STATUSES, timeout=30):
    """The run (a Run or its id), fresh from the database, once its status is one of `statuses`.

    By default that is finished: succeeded, failed or cancelled. Interrupted is not: the process
    running it stopped, and a watchdog resumes it, so pass it in `statuses` to wait for it.
    """
    run_id = getattr(run, "pk", run)
    deadline = time.monotonic() + timeout
    while True:
        current = Run.objects.get(pk=run_id)
        if current.status in statuses:
            return current
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"run {run_id} is still {current.status} after {timeout}s, not {' or '.join(statuses)}"
            )
        time.sleep(0.02)
