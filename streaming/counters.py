"""The counters a process keeps of the runs it executes and the events it publishes (streaming.metrics serves them)."""

from typing import Any

from prometheus_client import Counter, Histogram

RUN_DURATION = Histogram(
    "studios_run_duration_seconds",
    "Seconds from a run's start to its end, by job and how it ended (counted where it ran).",
    ["job", "status"],
    buckets=(1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)
LINKS = Counter(
    "studios_run_links_total", "Workshop links of finished runs, by outcome (fetched or failed).", ["job", "outcome"]
)
LLM_TOKENS = Counter(
    "studios_llm_tokens_total", "LLM tokens spent by finished runs, by kind (prompt or completion).", ["kind"]
)
EVENTS = Counter("studios_run_events_published_total", "Run events published by this process, by type.", ["type"])


def count_finished_run(job: str, status: str, seconds: float | None, summary: dict[str, Any]) -> None:
    """Count a run that just ended in this process."""
    if seconds is not None:
        RUN_DURATION.labels(job, status).observe(max(seconds, 0.0))
    for key, outcome in (("links_processed", "fetched"), ("links_failed", "failed")):
        value = summary.get(key)
        if isinstance(value, int) and value > 0:
            LINKS.labels(job, outcome).inc(value)
    tokens = summary.get("llm_tokens")
    if isinstance(tokens, dict):
        for kind in ("prompt", "completion"):
            value = tokens.get(f"{kind}_tokens")
            if isinstance(value, int) and value > 0:
                LLM_TOKENS.labels(kind).inc(value)


def count_published(event_type: str) -> None:
    EVENTS.labels(event_type).inc()
