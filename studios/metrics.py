"""The counters studios keeps of its runs' work, served with the runs' own at /metrics (streaming.metrics).

Counted by the process where the work happens (a server with the thread pool, an RQ worker at
scale): a studio run's links once it finished, LLM tokens whenever a studio's usage is recorded.
"""

from collections.abc import Mapping
from typing import Any

from prometheus_client import Counter

LINKS = Counter(
    "studios_run_links_total", "Workshop links of finished runs, by outcome (fetched or failed).", ["job", "outcome"]
)
LLM_TOKENS = Counter(
    "studios_llm_tokens_total", "LLM tokens spent by studio runs, by kind (prompt or completion).", ["kind"]
)


def count_links(job: str, summary: Mapping[str, Any]) -> None:
    """The links a finished run's summary says it fetched and failed."""
    for key, outcome in (("links_processed", "fetched"), ("links_failed", "failed")):
        value = summary.get(key)
        if isinstance(value, int) and value > 0:
            LINKS.labels(job, outcome).inc(value)


def count_llm_tokens(tokens: Mapping[str, int]) -> None:
    """The prompt and completion tokens of one studio's LLM usage in a run."""
    for kind in ("prompt", "completion"):
        value = tokens.get(f"{kind}_tokens")
        if isinstance(value, int) and value > 0:
            LLM_TOKENS.labels(kind).inc(value)
