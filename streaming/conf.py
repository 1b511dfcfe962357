"""The streaming app's settings, each with a default, so a project that sets none of them still works.

Read them as ``conf.STREAM_TIMEOUT``: the project's value when its settings define one, else the
default below. Values are looked up on every access, so ``override_settings`` applies at once.
"""

from collections.abc import Mapping
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # The run executor: "thread" (an in-process thread pool, one machine) or "rq" (RQ workers).
    "TASKS_BACKEND": "thread",
    # Runs one server process executes at once.
    "TASKS_MAX_WORKERS": 4,
    # Seconds a stream stays open before `close` (reason `timeout`) while the run goes on.
    "STREAM_TIMEOUT": 1800.0,
    # Streams one user may hold open in one server process; past it, 429 too_many_streams.
    "STREAM_MAX_PER_USER": 50,
    # Each server process refreshes its runs' heartbeat this often (seconds); a run whose heartbeat
    # is older than the stale limit lost its process, and is marked interrupted and resumed.
    "RUN_HEARTBEAT_INTERVAL": 5.0,
    "RUN_HEARTBEAT_STALE_SECONDS": 30.0,
    # Redis, for events across processes and (with "rq") the run queue; unset: in-process only.
    "REDIS_URL": "",
    # Addresses or networks whose scrapers read /metrics without a token.
    "METRICS_ALLOWED_IPS": [],
    # The port an RQ worker serves its own metrics on; 0: none.
    "WORKER_METRICS_PORT": 0,
    # Origins trusted for cross-site requests with a session cookie; same-origin is always trusted.
    "CORS_ALLOWED_ORIGINS": [],
    # A GRIP proxy's (Pushpin's) publish endpoint with its key; unset: the app holds every stream.
    "GRIP_URL": "",
    # Finished runs older than this age (e.g. 90d) are pruned daily; empty keeps all.
    "RUN_RETENTION": "",
}


class AppSettings:
    """An app's settings: the project's value when it sets one, else the app's documented default."""

    def __init__(self, defaults: Mapping[str, Any]) -> None:
        self.defaults = defaults

    def __getattr__(self, name: str) -> Any:
        try:
            default = self.defaults[name]
        except KeyError:
            raise AttributeError(f"{name} is not one of this app's settings") from None
        return getattr(settings, name, default)


conf = AppSettings(DEFAULTS)
