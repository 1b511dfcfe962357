"""The Reporter a job receives: log lines and progress become the run's events and state.

Heartbeats are not its business: the process's watchdog (streaming.recovery, through streaming.heartbeats) beats for every run
it holds, also while a job waits on a slow page between two reports.
"""

from .events import progress_data, publish, publish_log
from .models import Run


class RunReporter:
    def __init__(self, run):
        self.run_id = run.pk
        self.stop_seen = False
        self.last_percentage = None

    def log(self, level, message):
        publish_log(self.run_id, level, message)

    def progress(self, current, total, message=""):
        data = progress_data(current, total, message)
        Run.objects.filter(pk=self.run_id).update(**data)
        publish(self.run_id, "progress_bar", data)
        self.last_percentage = data["percentage"]

    def should_stop(self):
        if Run.objects.filter(pk=self.run_id, cancel_requested=True).exists():
            self.stop_seen = True
        return self.stop_seen
