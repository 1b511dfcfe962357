"""The Reporter a job receives: log lines and progress become the run's events and state.

Heartbeats are not its business: the process's watchdog (streaming.recovery, through streaming.heartbeats) beats for every run
it holds, also while a job waits on a slow page between two reports.
"""

from .events import progress_data, publish, publish_log
from .models import Run
from .shutdown import is_stopping


class RunReporter:
    def __init__(self, run: Run) -> None:
        self.run_id = run.pk
        self.cancel_seen = False
        self.last_percentage: float | None = None

    def log(self, level: str, message: str) -> None:
        publish_log(self.run_id, level, message)

    def progress(self, current: int, total: int, message: str = "") -> None:
        data = progress_data(current, total, message)
        Run.objects.filter(pk=self.run_id).update(**data)
        publish(self.run_id, "progress_bar", data)
        self.last_percentage = data["percentage"]

    def should_stop(self) -> bool:
        """True once a cancel was requested (the run ends cancelled) or the server is stopping (it
        ends interrupted, to be resumed); a cancel is asked first, so that it wins when both hold."""
        if Run.objects.filter(pk=self.run_id, cancel_requested=True).exists():
            self.cancel_seen = True
        return self.cancel_seen or is_stopping()
