"""Refresh schedules: start each due studio's run exactly once, however many processes look.

The due time lives on the studio (`next_refresh_at`). A scheduler that finds a studio due claims
that due time with a conditional update (`… WHERE next_refresh_at = <the due time it read>`),
moving it to the schedule's next time after *now*; of several schedulers reading the same due
time, the database lets exactly one update succeed, and only that one starts the run. Counting
the next time from now, not from the missed one, makes a studio that missed several due times
(the servers were down) run once, not once per missed time. A studio whose run is still active
is not started again (the one-active-run rule); its due time is claimed all the same.

The schedule lives in the database, not in a scheduler's memory (celery beat's way, which fires
twice when two beats run), so the scheduler can run in every server process (the default) or
apart (`manage.py run_scheduler`), any number of times over.
"""

import logging
from datetime import datetime

from django.utils import timezone

from streaming.events import publish_log
from streaming.models import Run
from streaming.periodic import start_periodic
from streaming.pruning import prune_if_due
from streaming.services import SubjectRefused, active_run, start_run
from streaming.shutdown import is_stopping

from .conf import conf
from .jobs import PROCESS_STUDIO
from .models import Studio

logger = logging.getLogger(__name__)

SCHEDULE = "schedule"


def _claim(studio: Studio, due: datetime | None, now: datetime) -> bool:
    """Move the studio's due time from `due` to the schedule's next one after `now`; True for the one process that did."""
    following = studio.next_refresh_after(now) if studio.active else None
    return bool(Studio.objects.filter(pk=studio.pk, next_refresh_at=due).update(next_refresh_at=following))


def start_due_runs(now: datetime | None = None) -> list[Run]:
    """Start the runs of every studio due at `now` (default: now); returns the runs this call started."""
    now = now or timezone.now()
    # Schedules that have no due time yet (studios created before schedules existed, or by a bulk update).
    for studio in Studio.objects.filter(active=True, next_refresh_at__isnull=True).exclude(
        refresh_every_hours__isnull=True, refresh_cron=""
    ):
        _claim(studio, None, now)
    started = []
    for studio in Studio.objects.filter(next_refresh_at__lte=now).order_by("next_refresh_at", "pk"):
        if not (studio.active and studio.has_schedule):
            Studio.objects.filter(pk=studio.pk, next_refresh_at=studio.next_refresh_at).update(next_refresh_at=None)
            continue
        if not _claim(studio, studio.next_refresh_at, now):
            continue  # another scheduler took this due time
        running = active_run(PROCESS_STUDIO, studio.studio_id)
        if running is not None:
            publish_log(
                running.pk,
                "info",
                f"{studio.name} was due by its schedule; this run is still going, so none was started",
            )
            continue
        try:
            run, created = start_run(PROCESS_STUDIO, studio.studio_id, trigger=SCHEDULE)
        except SubjectRefused as refused:
            logger.warning("Scheduled refresh of %s not started: %s", studio.studio_id, refused.message)
            continue
        if created:
            started.append(run)
    return started


def _scheduler_pass() -> None:
    for run in start_due_runs():
        logger.info("Scheduled refresh started: run %s (%s)", run.pk, run.subject)
    prune_if_due()  # RUN_RETENTION: old run history, once a day


def start_scheduler() -> None:
    """Start, once per process, the thread that starts due studios every SCHEDULER_INTERVAL seconds."""
    start_periodic("refresh-scheduler", conf.SCHEDULER_INTERVAL, _scheduler_pass, while_=lambda: not is_stopping())
