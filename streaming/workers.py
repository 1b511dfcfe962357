"""The RQ worker that executes runs when `TASKS_BACKEND=rq`: `python manage.py rqworker`.

It is RQ's SimpleWorker (each run executes in the worker process itself, so a SIGKILL takes the
run with it and nothing outlives the worker), plus what a server process does for the runs it
executes:

- the watchdog (streaming.recovery): it beats for the run this worker holds, keeps the runs
  waiting in the queue from looking lost, and resumes runs whose process died, through the Tasks
  API, so into RQ for any worker to take;
- a warm shutdown (SIGTERM, a deploy; Ctrl-C) stops the run between two links, leaves it
  `interrupted` and queues it again at once under the same id, for another worker to resume
  without fetching its done links again; nothing ends `failed` because of the stop;
- with WORKER_METRICS_PORT, its own Prometheus metrics on that port (streaming.metrics).
"""

import logging
from typing import Any

from django.db import close_old_connections
from rq.job import Job
from rq.queue import Queue
from rq.worker import SimpleWorker

from .conf import conf
from .metrics import serve_worker_metrics
from .models import Run, RunStatus
from .queues import EXECUTE_RUN
from .recovery import hand_back, start_watchdog
from .shutdown import WORKER_STOPPING, begin_stopping, is_stopping

logger = logging.getLogger(__name__)


class RunWorker(SimpleWorker):
    def work(self, *args: Any, **kwargs: Any) -> bool:
        start_watchdog()
        if conf.WORKER_METRICS_PORT:
            serve_worker_metrics(conf.WORKER_METRICS_PORT)
        return bool(super().work(*args, **kwargs))

    def request_stop(self, signum: Any, frame: Any) -> None:
        # Before RQ's own warm shutdown, which waits for the job: the run sees the flag between
        # two links (Reporter.should_stop) and ends its job early, left interrupted.
        if not is_stopping():
            logger.info("Worker stopping: a run it holds stops between two links and is handed back to the queue")
        begin_stopping(WORKER_STOPPING)
        super().request_stop(signum, frame)

    def perform_job(self, job: Job, queue: Queue) -> bool:
        close_old_connections()
        try:
            return bool(super().perform_job(job, queue))
        finally:
            if is_stopping() and job.func_name == EXECUTE_RUN and job.args:
                run_id = int(job.args[0])
                if Run.objects.filter(pk=run_id, status=RunStatus.INTERRUPTED).exists():
                    hand_back(run_id)
            close_old_connections()
