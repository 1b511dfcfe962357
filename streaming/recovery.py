"""Noticing runs whose process died, and resuming them.

Each server process refreshes the heartbeat of the runs it holds (queued in its pool or executing)
every RUN_HEARTBEAT_INTERVAL seconds. A run whose heartbeat is older than
RUN_HEARTBEAT_STALE_SECONDS has lost its process: the watchdog marks it `interrupted`, then queues
it again under the same id, so a client reconnecting with its last event id sees the stream go on.
A server that stops cleanly leaves its runs `interrupted` (streaming.shutdown); the next server
start resumes them the same way, or any live process once their heartbeat is stale.
"""

from django.db import IntegrityError
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from .conf import conf
from .events import publish_log
from .heartbeats import beat, held_runs, hold
from .models import ACTIVE_STATUSES, Run, RunStatus
from .periodic import start_periodic
from .queues import executes_in_this_process, waiting_runs
from .shutdown import is_stopping
from .tasks import execute_run


def recover_stale_runs(at_start: bool = False, waiting: set[int] | None = None) -> list[int]:
    """Resume the runs no process holds any more; returns their ids.

    Those are active runs whose process stopped beating (a crash), marked `interrupted` here
    first, and `interrupted` runs, which a stopped server let go of (streaming.shutdown): at a
    server's start all of them, otherwise those let go of longer than the stale limit ago, so that
    in a rolling restart a server about to stop does not take up a run only to let it go again.
    An interrupted run is not resumed once a newer run of the same subject was started: that one
    carries on instead. `waiting` are the runs a shared queue (RQ) still holds for a worker.
    """
    if is_stopping():
        return []  # the runs this process lets go of are for the next start
    cutoff = timezone.now() - timezone.timedelta(seconds=conf.RUN_HEARTBEAT_STALE_SECONDS)
    recovered = []
    stale = Run.objects.filter(status__in=ACTIVE_STATUSES, heartbeat_at__lt=cutoff).exclude(
        pk__in=held_runs() | (waiting or set())
    )
    for run in stale:
        # Conditional updates: of several processes noticing the same run, one takes it.
        if not Run.objects.filter(pk=run.pk, status=run.status, heartbeat_at__lt=cutoff).update(
            status=RunStatus.INTERRUPTED, heartbeat_at=timezone.now()
        ):
            continue
        publish_log(run.pk, "warning", f"Run {run.pk} was interrupted: the process running it stopped")
        if _resume(run.pk, Q()):
            recovered.append(run.pk)
    unheld = Q() if at_start else Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=cutoff)
    newer = Run.objects.filter(job=OuterRef("job"), subject=OuterRef("subject"), pk__gt=OuterRef("pk"))
    for run in Run.objects.filter(unheld, status=RunStatus.INTERRUPTED).exclude(Exists(newer)).order_by("pk"):
        if _resume(run.pk, unheld):
            recovered.append(run.pk)
    return recovered


def _resume(run_id: int, unheld: Q) -> bool:
    """Queue the interrupted run again under its id if it is still `unheld`, unless another process took it first."""
    try:
        requeued = Run.objects.filter(unheld, pk=run_id, status=RunStatus.INTERRUPTED).update(
            status=RunStatus.QUEUED, heartbeat_at=timezone.now()
        )
    except IntegrityError:
        # Someone started a new run of the same subject meanwhile; that one carries on instead.
        publish_log(run_id, "warning", "Not resumed: a newer run of the same subject is active")
        return False
    if not requeued:
        return False
    if executes_in_this_process():
        hold(run_id)  # queued in this process's pool; with RQ the worker that claims it holds it
    publish_log(run_id, "info", f"Resuming run {run_id}")
    execute_run.enqueue(run_id)
    return True


def hand_back(run_id: int) -> bool:
    """Queue again, at once, a run this stopping worker left `interrupted`, for another worker to
    resume under its id (RQ: the queue outlives the worker)."""
    return _resume(run_id, Q())


class _Watchdog:
    """One pass: beat for this process's runs, resume the runs no process holds. The first pass
    of a starting process also resumes the runs a stopped server left interrupted."""

    def __init__(self) -> None:
        self.at_start = True

    def __call__(self) -> None:
        waiting = waiting_runs()
        beat(also=waiting)
        recover_stale_runs(self.at_start, waiting)
        self.at_start = False


def start_watchdog() -> None:
    """Start, once per process, the thread that beats for this process's runs and recovers others'.

    Server processes (config.asgi) and RQ workers (streaming.workers) start it alike."""
    start_periodic("run-watchdog", conf.RUN_HEARTBEAT_INTERVAL, _Watchdog())
