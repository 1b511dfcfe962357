"""Publishing a run's events in the envelope every client reads (DESIGN §7)."""

import logging
from datetime import UTC
from typing import Any

from django.utils import timezone
from django_eventstream import send_event
from redis.exceptions import RedisError

from . import grip
from .counters import count_published
from .storage import channel_for_run

logger = logging.getLogger(__name__)

LOG_LEVELS = ("info", "success", "warning", "error")


def envelope(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now().astimezone(UTC)
    return {
        "type": event_type,
        "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "data": data,
    }


def publish(run_id: int, event_type: str, data: dict[str, Any]) -> None:
    """Store the event in the run's log and deliver it to every listener of the run.

    The log is written first; when Redis cannot be reached (restarting), the event is still in the
    log, and every stream reads it from there (streaming.fanout looks at the log while quiet).
    """
    try:
        send_event(channel_for_run(run_id), event_type, envelope(event_type, data))
    except RedisError as exc:
        logger.warning("Run %s: %s event stored but not published through Redis (%s)", run_id, event_type, exc)
    count_published(event_type)
    if event_type == "complete":
        grip.close_held_streams(run_id)  # `complete` ends every stream of the run


def publish_log(run_id: int, level: str, message: str) -> None:
    if level not in LOG_LEVELS:
        raise ValueError(f"unknown log level {level!r}")
    publish(run_id, "logs", {"message": message, "level": level})


def progress_data(current: int, total: int, message: str) -> dict[str, Any]:
    percentage = round(100.0 * current / total, 1) if total else 0.0
    return {"percentage": percentage, "current": current, "total": total, "message": message}
