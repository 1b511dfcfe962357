"""What a worker does with a run: claim it, call its job, and record how it ended."""

import logging

from django.utils import timezone

from .events import progress_data, publish, publish_log
from .heartbeats import release
from .jobs import get_job
from .models import Run, RunStatus
from .reporter import RunReporter

logger = logging.getLogger(__name__)

COMPLETE_MESSAGES = {
    RunStatus.SUCCEEDED: "Process completed",
    RunStatus.FAILED: "Process failed",
    RunStatus.CANCELLED: "Process cancelled",
}


def execute(run_id):
    """Run a queued run's job to its end; a run already claimed elsewhere or cancelled is left alone."""
    claimed = Run.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    if not claimed:
        release(run_id)
        return
    run = Run.objects.get(pk=run_id)
    publish_log(run_id, "info", f"Run {run_id} started: {run.job} {run.subject}")
    reporter = RunReporter(run)
    status, summary, error = RunStatus.SUCCEEDED, {}, ""
    try:
        job = get_job(run.job)
        if job is None:
            raise LookupError(f"no job is registered as {run.job!r}")
        summary = job(run, reporter) or {}
    except Exception as exc:
        if not reporter.stop_seen:
            logger.exception("Run %s failed", run_id)
            status, error = RunStatus.FAILED, str(exc) or exc.__class__.__name__
            # A job may say what it counted before it failed (e.g. every link failing).
            summary = getattr(exc, "summary", None) or {}
    # A job that saw the cancel request ends as cancelled, however it left.
    if reporter.stop_seen:
        status = RunStatus.CANCELLED
    try:
        finish_run(run_id, status, summary=summary, error=error, reporter=reporter)
    finally:
        release(run_id)


def finish_run(run_id, status, summary=None, error="", reporter=None):
    """Record the run's end and publish its last events; `complete` is always the final one."""
    summary = summary or {}
    if status == RunStatus.SUCCEEDED and (reporter is None or reporter.last_percentage != 100.0):
        run = Run.objects.get(pk=run_id)
        total = max(run.total, 1)
        publish(run_id, "progress_bar", progress_data(total, total, "Done"))
    Run.objects.filter(pk=run_id).update(
        status=status,
        summary=summary,
        error=error,
        finished_at=timezone.now(),
        **({"percentage": 100.0} if status == RunStatus.SUCCEEDED else {}),
    )
    if status == RunStatus.FAILED:
        publish(run_id, "error", {"message": error, "code": "run_failed"})
    elif status == RunStatus.CANCELLED:
        publish_log(run_id, "warning", "Cancelled on request")
    publish(
        run_id,
        "complete",
        {"message": COMPLETE_MESSAGES[status], "run_id": run_id, "status": status.value, "summary": summary},
    )
