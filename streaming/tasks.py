"""The task a backend runs for each run; the work itself is in streaming.execution."""

from django_tasks import task

from .execution import execute


@task()
def execute_run(run_id: int) -> None:
    execute(run_id)
