"""Which backend executes runs, and which runs wait in its queue.

With the in-process thread pool (the default), the process that queues a run executes it, so it
holds the run from the start. With RQ (`TASKS_BACKEND=rq`), a run waits in Redis for whichever
worker dequeues it; the worker holds it once it claims it, and until then the queue itself
vouches for it: every process's watchdog keeps the heartbeat of the runs waiting there fresh, so
a long queue is not taken for lost runs. A run missing from the queue (Redis lost it) goes stale
and is resumed like any other.
"""

import logging
from typing import Any

from django_tasks import task_backends

from .backends import ThreadPoolBackend

logger = logging.getLogger(__name__)

EXECUTE_RUN = "streaming.tasks.execute_run"


def executes_in_this_process(backend: Any = None) -> bool:
    """Whether runs queued here execute in this process (the thread pool), rather than in workers."""
    return isinstance(backend or task_backends["default"], ThreadPoolBackend)


def waiting_runs() -> set[int]:
    """The runs waiting in the RQ queues for a worker (none with the thread pool)."""
    backend = task_backends["default"]
    if executes_in_this_process(backend):
        return set()
    import django_rq

    waiting: set[int] = set()
    for name in getattr(backend, "queues", None) or ["default"]:
        queue = django_rq.get_queue(name)
        for job in queue.get_jobs():
            if job is not None and job.func_name == EXECUTE_RUN and job.args:
                waiting.add(int(job.args[0]))
    return waiting
