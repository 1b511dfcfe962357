"""The counters a process keeps of the runs it executes and the events it publishes (streaming.metrics serves them).

What a job does within a run (pages read, tokens spent) is the job's to count, in its own app.
"""

from prometheus_client import Counter, Histogram

RUN_DURATION = Histogram(
    "studios_run_duration_seconds",
    "Seconds from a run's start to its end, by job and how it ended (counted where it ran).",
    ["job", "status"],
    buckets=(1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)
EVENTS = Counter("studios_run_events_published_total", "Run events published by this process, by type.", ["type"])


def count_finished_run(job: str, status: str, seconds: float | None) -> None:
    """Count a run that just ended in this process."""
    if seconds is not None:
        RUN_DURATION.labels(job, status).observe(max(seconds, 0.0))


def count_published(event_type: str) -> None:
    EVENTS.labels(event_type).inc()
