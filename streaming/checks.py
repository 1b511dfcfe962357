"""System checks for streaming's settings: values that cannot work stop `manage.py` commands early."""

import ipaddress
import math
from collections.abc import Mapping, Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import Error

from .conf import conf
from .pruning import parse_age

TASKS_BACKENDS = ("thread", "rq")


def number_errors(values: Mapping[str, Any], check_id: str, *, allow_zero: bool = False) -> list[Error]:
    """An Error for each setting (name -> value) that is not a number above 0 (or at least 0)."""
    errors: list[Error] = []
    for name, value in values.items():
        number = isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)
        if number and (value >= 0 if allow_zero else value > 0):
            continue
        errors.append(
            Error(
                f"{name} is {value!r}; it must be a number {'of at least 0' if allow_zero else 'above 0'}.",
                hint=f"Set {name} in the environment, or leave it unset for its default.",
                id=check_id,
            )
        )
    return errors


def scale_errors() -> list[Error]:
    """RQ without Redis, and /metrics addresses that are not addresses."""
    errors: list[Error] = []
    if conf.TASKS_BACKEND == "rq" and not conf.REDIS_URL:
        errors.append(
            Error(
                "TASKS_BACKEND is 'rq' but REDIS_URL is not set: RQ keeps its queue in Redis, and the "
                "workers' events reach the servers' streams through it.",
                hint="Set REDIS_URL, e.g. redis://127.0.0.1:6379/0, or use TASKS_BACKEND=thread on one machine.",
                id="streaming.E004",
            )
        )
    for entry in conf.METRICS_ALLOWED_IPS:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            errors.append(
                Error(
                    f"METRICS_ALLOWED_IPS has {entry!r}, which is neither an IP address nor a network.",
                    hint="Use comma-separated addresses or networks, e.g. 127.0.0.1,10.0.0.0/8.",
                    id="streaming.E005",
                )
            )
    port = conf.WORKER_METRICS_PORT
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        errors.append(
            Error(
                f"WORKER_METRICS_PORT is {port!r}; it must be a port number (0: no worker metrics).",
                hint="Set WORKER_METRICS_PORT to a free port, e.g. 9101, or leave it unset.",
                id="streaming.E006",
            )
        )
    return errors


def check_settings(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[Error]:
    errors: list[Error] = []
    if conf.TASKS_BACKEND not in TASKS_BACKENDS:
        errors.append(
            Error(
                f"TASKS_BACKEND is {conf.TASKS_BACKEND!r}, which is not a run executor.",
                hint=f"Use one of: {', '.join(TASKS_BACKENDS)}.",
                id="streaming.E001",
            )
        )
    names = (
        "TASKS_MAX_WORKERS",
        "STREAM_TIMEOUT",
        "STREAM_MAX_PER_USER",
        "RUN_HEARTBEAT_INTERVAL",
        "RUN_HEARTBEAT_STALE_SECONDS",
    )
    numbers = {name: getattr(conf, name) for name in names}
    bad = number_errors(numbers, "streaming.E002")
    errors += bad
    if not bad and conf.RUN_HEARTBEAT_STALE_SECONDS <= conf.RUN_HEARTBEAT_INTERVAL:
        errors.append(
            Error(
                f"RUN_HEARTBEAT_STALE_SECONDS ({conf.RUN_HEARTBEAT_STALE_SECONDS}) is not above "
                f"RUN_HEARTBEAT_INTERVAL ({conf.RUN_HEARTBEAT_INTERVAL}): runs still being executed would be "
                "taken for lost between two heartbeats, interrupted and started again.",
                hint="Make the stale limit several heartbeat intervals long (the defaults are 30 and 5 seconds).",
                id="streaming.E003",
            )
        )
    errors += scale_errors()
    errors += retention_errors()
    return errors


def retention_errors() -> list[Error]:
    """A RUN_RETENTION that is not an age would fail the scheduler's pruning every day."""
    retention = conf.RUN_RETENTION
    if not retention:
        return []
    try:
        parse_age(retention)
    except (TypeError, ValueError):
        return [
            Error(
                f"RUN_RETENTION is {retention!r}, which is not an age.",
                hint="Give an age like 90d, 12h or 2w, or leave it empty to keep every run.",
                id="streaming.E007",
            )
        ]
    return []
