"""An in-process thread-pool backend for Django's Tasks API.

The default executor: runs execute inside the server process, so live events reach the server's
stream listeners without Redis, and the event loop is never blocked.
"""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections
from django.utils import timezone
from django_tasks.backends.base import BaseTaskBackend
from django_tasks.base import TaskResult, TaskResultStatus
from django_tasks.utils import get_random_id

logger = logging.getLogger(__name__)


class ThreadPoolBackend(BaseTaskBackend):
    supports_defer = False
    supports_async_task = False
    supports_get_result = False

    def __init__(self, alias, params):
        super().__init__(alias, params)
        self.max_workers = int(self.options.get("MAX_WORKERS", 4))
        self._executor = None
        self._lock = threading.Lock()
        self._pending = 0

    @property
    def executor(self):
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="task")
            return self._executor

    @property
    def busy(self):
        """Tasks submitted and not yet finished (running plus waiting)."""
        with self._lock:
            return self._pending

    def enqueue(self, task, args, kwargs):
        self.validate_task(task)
        result = TaskResult(
            task=task,
            id=get_random_id(),
            status=TaskResultStatus.READY,
            enqueued_at=timezone.now(),
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=list(args),
            kwargs=dict(kwargs),
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        with self._lock:
            self._pending += 1
        self.executor.submit(self._run, task, args, kwargs)
        return result

    def _run(self, task, args, kwargs):
        close_old_connections()
        try:
            task.call(*args, **kwargs)
        except Exception:
            logger.exception("Task %s failed", task.name)
        finally:
            with self._lock:
                self._pending -= 1
            close_old_connections()
