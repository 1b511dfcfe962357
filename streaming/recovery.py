"""Noticing runs whose process died, and resuming them.

Each server process refreshes the heartbeat of the runs it holds (queued in its pool or executing)
every RUN_HEARTBEAT_INTERVAL seconds. A run whose heartbeat is older than
RUN_HEARTBEAT_STALE_SECONDS has lost its process: the watchdog marks it `interrupted`, then queues
it again under the same id, so a client reconnecting with its last event id sees the stream go on.
"""

import logging
import threading
import time

from django.conf import settings
from django.db import IntegrityError, close_old_connections
from django.utils import timezone

from .events import publish_log
from .heartbeats import beat, held_runs, hold
from .models import ACTIVE_STATUSES, Run, RunStatus
from .tasks import execute_run

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_watchdog = None


def recover_stale_runs():
    """Mark runs whose process stopped beating as interrupted and queue them again; returns their ids."""
    cutoff = timezone.now() - timezone.timedelta(seconds=settings.RUN_HEARTBEAT_STALE_SECONDS)
    recovered = []
    stale = Run.objects.filter(status__in=ACTIVE_STATUSES, heartbeat_at__lt=cutoff).exclude(pk__in=held_runs())
    for run in stale:
        # Conditional updates: of several processes noticing the same run, one takes it.
        if not Run.objects.filter(pk=run.pk, status=run.status, heartbeat_at__lt=cutoff).update(
            status=RunStatus.INTERRUPTED, heartbeat_at=timezone.now()
        ):
            continue
        publish_log(run.pk, "warning", f"Run {run.pk} was interrupted: the process running it stopped")
        try:
            requeued = Run.objects.filter(pk=run.pk, status=RunStatus.INTERRUPTED).update(
                status=RunStatus.QUEUED, heartbeat_at=timezone.now()
            )
        except IntegrityError:
            # Someone started a new run of the same subject meanwhile; that one carries on instead.
            publish_log(run.pk, "warning", "Not resumed: a newer run of the same subject is active")
            continue
        if requeued:
            hold(run.pk)
            publish_log(run.pk, "info", f"Resuming run {run.pk}")
            execute_run.enqueue(run.pk)
            recovered.append(run.pk)
    return recovered


def _watch(interval):
    while True:
        try:
            beat()
            recover_stale_runs()
        except Exception:
            logger.exception("Run watchdog failed; trying again in %ss", interval)
        finally:
            close_old_connections()
        time.sleep(interval)


def start_watchdog():
    """Start, once per process, the thread that beats for this process's runs and recovers others'."""
    global _watchdog
    with _lock:
        if _watchdog is None:
            _watchdog = threading.Thread(
                target=_watch, args=(settings.RUN_HEARTBEAT_INTERVAL,), name="run-watchdog", daemon=True
            )
            _watchdog.start()
