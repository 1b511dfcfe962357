"""Which runs this process holds, and keeping their heartbeats fresh.

A run's heartbeat tells every other process that the run's process is alive. The watchdog
(streaming.recovery) beats for every run held here, also while a job waits on a slow page.
"""

import threading

from django.utils import timezone

from .models import ACTIVE_STATUSES, Run

_held: set[int] = set()
_lock = threading.Lock()


def hold(run_id: int) -> None:
    """This process is responsible for the run: keep its heartbeat fresh."""
    with _lock:
        _held.add(run_id)


def release(run_id: int) -> None:
    with _lock:
        _held.discard(run_id)


def held_runs() -> set[int]:
    with _lock:
        return set(_held)


def beat(also: set[int] | None = None) -> None:
    """Refresh the heartbeat of the runs held here, and of `also` (runs waiting in a shared queue)."""
    held = held_runs() | (also or set())
    if held:
        Run.objects.filter(pk__in=held, status__in=ACTIVE_STATUSES).update(heartbeat_at=timezone.now())
