"""An in-process thread-pool backend for Django's Tasks API.

The default executor: runs execute inside the server process, so live events reach the server's
stream listeners without Redis, and the event loop is never blocked.
"""

import logging
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from django.db import close_old_connections
from django.utils import timezone
from django_tasks.backends.base import BaseTaskBackend
from django_tasks.base import Task, TaskResult, TaskResultStatus
from django_tasks.utils import get_random_id

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


class ThreadPoolBackend(BaseTaskBackend):
    supports_defer = False
    supports_async_task = False
    supports_get_result = False

    def __init__(self, alias: str, params: dict[str, Any]) -> None:
        super().__init__(alias, params)
        self.max_workers = int(self.options.get("MAX_WORKERS", 4))
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._pending = 0
        self._queued_behind_others: dict[str, bool] = {}

    @property
    def executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="task")
            return self._executor

    def had_to_wait(self, result_id: str) -> bool:
        """Whether the task enqueued as `result_id` found every worker busy (asked once per task)."""
        with self._lock:
            return self._queued_behind_others.pop(result_id, False)

    def enqueue(self, task: Task[P, T], args: Sequence[Any], kwargs: Mapping[str, Any]) -> TaskResult[T]:
        self.validate_task(task)
        result: TaskResult[T] = TaskResult(
            task=task,
            id=get_random_id(),
            # Django is untyped here (no django-stubs), so mypy reads a TextChoices member as the
            # (value, label) tuple it is declared with; at run time it is the TaskResultStatus member.
            status=TaskResultStatus.READY,  # type: ignore[arg-type]
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
            self._queued_behind_others[result.id] = self._pending > self.max_workers
        self.executor.submit(self._run, result.id, task, args, kwargs)
        return result

    def _run(self, result_id: str, task: Task[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        close_old_connections()
        try:
            task.call(*args, **kwargs)
        except Exception:
            logger.exception("Task %s failed", task.name)
        finally:
            with self._lock:
                self._pending -= 1
                self._queued_behind_others.pop(result_id, None)
            close_old_connections()
