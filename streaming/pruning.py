"""Run history that stays small: finished runs older than a cut-off are deleted with everything
that hangs off them (their events, and whatever the job stored per run, by cascade), except each
subject's latest run of each job, which pages like a studio's "Last run" still show.

``manage.py prune_runs --older-than 90d`` does it once; with ``RUN_RETENTION`` set (e.g. ``90d``)
the scheduler does it daily.
"""

import logging
import re
import threading
import time
from collections import Counter
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from .conf import conf
from .models import FINISHED_STATUSES, Run

logger = logging.getLogger(__name__)

UNITS = {"d": "days", "h": "hours", "w": "weeks"}
BATCH = 200
DAY = 24 * 3600.0

_lock = threading.Lock()
_last_pruned: float | None = None


def parse_age(text: str) -> timedelta:
    """``90d``, ``12h``, ``2w`` (a bare number is days); ValueError otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*([dhw]?)\s*", text or "")
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"Give an age like 90d, 12h or 2w, not {text!r}.")
    return timedelta(**{UNITS[match.group(2) or "d"]: int(match.group(1))})


def prunable_runs(older_than: timedelta, now: datetime | None = None) -> QuerySet[Run]:
    """Finished runs that ended before now - older_than, except each (job, subject)'s latest run."""
    cutoff = (now or timezone.now()) - older_than
    latest = Run.objects.filter(job=OuterRef("job"), subject=OuterRef("subject")).order_by("-created_at", "-id")
    return (
        Run.objects.filter(status__in=FINISHED_STATUSES, finished_at__lt=cutoff)
        .exclude(pk=Subquery(latest.values("pk")[:1]))
        .order_by("pk")
    )


def prune_runs(older_than: timedelta, now: datetime | None = None, dry_run: bool = False) -> Counter[str]:
    """Delete (or with dry_run only count) the prunable runs, in batches; returns rows deleted per model."""
    deleted: Counter[str] = Counter()
    runs = prunable_runs(older_than, now)
    if dry_run:
        deleted["streaming.Run"] = runs.count()
        return deleted
    while ids := list(runs.values_list("pk", flat=True)[:BATCH]):
        with transaction.atomic():
            _total, per_model = Run.objects.filter(pk__in=ids).delete()
        deleted.update(per_model)
    return deleted


def forget_last_pruning() -> None:
    """Make the next prune_if_due prune at once, as in a process that has not pruned yet."""
    global _last_pruned
    with _lock:
        _last_pruned = None


def prune_if_due(now: float | None = None) -> Counter[str] | None:
    """The scheduler's daily pruning under RUN_RETENTION; at most once a day per process (deleting is
    idempotent, so several processes doing it does no harm)."""
    global _last_pruned
    retention = conf.RUN_RETENTION
    if not retention:
        return None
    moment = time.monotonic() if now is None else now
    with _lock:
        if _last_pruned is not None and moment - _last_pruned < DAY:
            return None
        _last_pruned = moment
    deleted = prune_runs(parse_age(retention))
    if deleted:
        logger.info("Pruned run history older than %s: %s", retention, dict(deleted))
    return deleted
