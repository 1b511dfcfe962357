"""What a worker does with a run: claim it, call its job, and record how it ended."""

import logging

from django.utils import timezone

from .counters import count_finished_run
from .events import progress_data, publish, publish_log
from .heartbeats import hold, release
from .jobs import get_job
from .models import Run, RunStatus
from .reporter import RunReporter
from .shutdown import is_stopping, stopping_message
from .signals import run_finished

logger = logging.getLogger(__name__)

COMPLETE_MESSAGES = {
    RunStatus.SUCCEEDED: "Process completed",
    RunStatus.FAILED: "Process failed",
    RunStatus.CANCELLED: "Process cancelled",
}


def execute(run_id: int) -> None:
    """Run a queued run's job to its end; a run already claimed elsewhere or cancelled is left alone.

    When the server is stopping, the run is left `interrupted` instead, to be resumed by the next
    start: a queued one before it begins, a running one once its job stops between two links.
    """
    hold(run_id)  # an RQ worker holds the run from here; a server's pool held it since it was queued
    try:
        _execute(run_id)
    finally:
        release(run_id)


def _execute(run_id: int) -> None:
    if is_stopping():
        leave_interrupted(run_id, RunStatus.QUEUED)
        return
    claimed = Run.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    if not claimed:
        return
    run = Run.objects.get(pk=run_id)
    publish_log(run_id, "info", f"Run {run_id} started: {run.job} {run.subject}")
    reporter = RunReporter(run)
    status, error = RunStatus.SUCCEEDED, ""
    summary: dict = {}
    try:
        job = get_job(run.job)
        if job is None:
            raise LookupError(f"no job is registered as {run.job!r}")
        summary = job.func(run, reporter) or {}
    except Exception as exc:
        if not reporter.cancel_seen and is_stopping():
            # Whatever ends a job while the server stops (a page the server itself served,
            # Chromium going away) is the stop, not a fault of the run: it is resumed, not failed.
            leave_interrupted(run_id, RunStatus.RUNNING)
            return
        if not reporter.cancel_seen:
            logger.exception("Run %s failed", run_id)
            status, error = RunStatus.FAILED, str(exc) or exc.__class__.__name__
            # A job may say what it counted before it failed (e.g. every link failing).
            summary = getattr(exc, "summary", None) or {}
    # A job that saw the cancel request ends as cancelled, however it left.
    if reporter.cancel_seen:
        status = RunStatus.CANCELLED
    finish_run(run_id, status, summary=summary, error=error, reporter=reporter)


def leave_interrupted(run_id: int, status: str) -> None:
    """Leave a run of this stopping process `interrupted`, without a `complete` event, for the next
    start (or, after RUN_HEARTBEAT_STALE_SECONDS, another live process) to resume under the same id."""
    if Run.objects.filter(pk=run_id, status=status).update(status=RunStatus.INTERRUPTED, heartbeat_at=timezone.now()):
        publish_log(run_id, "warning", f"Run {run_id} was interrupted: {stopping_message()}")


def finish_run(
    run_id: int, status: str, summary: dict | None = None, error: str = "", reporter: RunReporter | None = None
) -> None:
    """Record the run's end and publish its last events; `complete` is always the final one."""
    summary = summary or {}
    if status == RunStatus.SUCCEEDED and (reporter is None or reporter.last_percentage != 100.0):
        run = Run.objects.get(pk=run_id)
        total = max(run.total, 1)
        publish(run_id, "progress_bar", progress_data(total, total, "Done"))
    ended = Run.objects.filter(pk=run_id).values("job", "started_at").first()
    finished_at = timezone.now()
    Run.objects.filter(pk=run_id).update(
        status=status,
        summary=summary,
        error=error,
        finished_at=finished_at,
        **({"percentage": 100.0} if status == RunStatus.SUCCEEDED else {}),
    )
    if status == RunStatus.FAILED:
        publish(run_id, "error", {"message": error, "code": "run_failed"})
    elif status == RunStatus.CANCELLED:
        publish_log(run_id, "warning", "Cancelled on request")
    publish(
        run_id,
        "complete",
        {"message": COMPLETE_MESSAGES[status], "run_id": run_id, "status": str(status), "summary": summary},
    )
    _announce_finished(run_id)
    if ended:  # counted once the run's watchers have its end
        started = ended["started_at"]
        seconds = (finished_at - started).total_seconds() if started else None
        count_finished_run(ended["job"], str(status), seconds)


def _announce_finished(run_id: int) -> None:
    """Tell run_finished's receivers; one that fails is logged, and the run's end stands."""
    run = Run.objects.filter(pk=run_id).first()
    if run is None:
        return
    for receiver, result in run_finished.send_robust(sender=Run, run=run):
        if isinstance(result, Exception):
            logger.error("A run_finished receiver (%r) failed for run %s", receiver, run_id, exc_info=result)
