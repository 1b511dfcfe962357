"""Server-Sent Events delivery of one run, served from the run's feed (streaming.fanout).

A stream begins at the requested point (the run's first event unless resuming), sends every event
once and in order, ends after the run's `complete` event, and sends `close` when STREAM_TIMEOUT
runs out while the run goes on. It runs on the event loop: while it waits it holds no thread and
no database connection.
"""

import json
import threading
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

from django.http import HttpRequest, StreamingHttpResponse
from django_eventstream.utils import add_default_headers, get_channelmanager, parse_last_event_id, sse_encode_event

from .conf import conf
from .events import envelope
from .fanout import follow
from .http import ApiError
from .models import Run
from .storage import RunEventStorage, channel_for_run, parse_seq, run_id_from_channel

# As django-eventstream opens its streams: padding past proxies' buffers, then `stream-open`.
STREAM_OPEN = ":" + " " * 2048 + "\n\nevent: stream-open\ndata:\n\n"
KEEP_ALIVE = "event: keep-alive\ndata:\n\n"
KEEP_ALIVE_SECONDS = 20.0


def last_event_seq(request: HttpRequest, run: Run) -> int:
    """The seq a reconnecting client last saw (Last-Event-ID header or ?lastEventId=), else 0."""
    return seq_after(request.META.get("HTTP_LAST_EVENT_ID") or request.GET.get("lastEventId") or "", run.pk)


def seq_after(last_event_id: str, run_id: int) -> int:
    """The seq in a last event id of the run (`run-<id>:<seq>`), 0 for none; ApiError 400 if unreadable."""
    if not last_event_id:
        return 0
    try:
        seq = parse_seq(parse_last_event_id(last_event_id).get(channel_for_run(run_id), ""))
    except ValueError:
        seq = None
    if seq is None:
        raise ApiError(
            400,
            "invalid_last_event_id",
            f"Last-Event-ID must look like 'run-{run_id}:<number>', not {last_event_id[:80]!r}.",
        )
    return seq


def resumed_run(request, job, subject):
    """The run an EventSource reconnecting to a start endpoint names in Last-Event-ID, and its seq.

    Browsers reconnect to the URL they first opened, so a dropped start stream comes back to the
    start endpoint; it must resume the run it was watching, not start another.
    """
    try:
        last_ids = parse_last_event_id(request.META.get("HTTP_LAST_EVENT_ID") or "")
    except ValueError:
        return None
    for channel, last_id in last_ids.items():
        run_id, seq = run_id_from_channel(channel), parse_seq(last_id)
        if run_id is not None and seq is not None:
            run = Run.objects.filter(pk=run_id, job=job, subject=subject).first()
            if run is not None:
                return run, seq
    return None


def close_frame(reason, message="Connection closed"):
    return sse_encode_event("close", json.dumps(envelope("close", {"message": message, "reason": reason})))


class _OpenStreams:
    """How many streams each user holds open in this process (STREAM_MAX_PER_USER bounds it)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counts = Counter()

    def check(self, user):
        """ApiError 429 when the user already holds as many streams as allowed."""
        with self._lock:
            self._refuse_if_full(user)

    def reserve(self, user):
        """Count one more stream of the user; returns the function that gives it back (once)."""
        with self._lock:
            self._refuse_if_full(user)
            self._counts[user.pk] += 1
        given_back = threading.Event()

        def release():
            if given_back.is_set():
                return
            given_back.set()
            with self._lock:
                self._counts[user.pk] -= 1
                if self._counts[user.pk] <= 0:
                    del self._counts[user.pk]

        return release

    def _refuse_if_full(self, user):
        limit = conf.STREAM_MAX_PER_USER
        if self._counts[user.pk] >= limit:
            raise ApiError(
                429,
                "too_many_streams",
                f"You have {limit} streams open already (STREAM_MAX_PER_USER); close one and try again.",
                headers={"Retry-After": "5"},
            )


open_streams = _OpenStreams()


class RunStreamResponse(StreamingHttpResponse):
    """A run's stream, which gives its user's stream slot back when the server closes it."""

    def __init__(self, body, release):
        super().__init__(body, content_type="text/event-stream")
        self._release = release

    def close(self):
        self._release()
        super().close()


def run_stream_response(request: HttpRequest, run: Run, user: Any, after_seq: int = 0) -> StreamingHttpResponse:
    """The run's events as SSE from after `after_seq`; ApiError 403 for a user the channel manager
    refuses, 429 past STREAM_MAX_PER_USER."""
    channel = channel_for_run(run.pk)
    if not get_channelmanager().can_read_channel(user, channel):
        raise ApiError(403, "permission_denied", "You may not view runs.")
    release = open_streams.reserve(user)
    if not run.is_active and after_seq >= RunEventStorage().get_current_id(channel):
        # Nothing will follow: say so instead of holding a connection open forever.
        body = _single_frame(close_frame("finished", "The run has finished; there are no more events"))
    else:
        body = run_frames(run.pk, after_seq, conf.STREAM_TIMEOUT)
    response = RunStreamResponse(body, release)
    add_default_headers(response, request=request)
    response["X-Run-Id"] = str(run.pk)
    return response


async def _single_frame(frame: str) -> AsyncIterator[str]:
    yield frame


async def run_frames(run_id: int, after_seq: int, timeout: float) -> AsyncIterator[str]:
    """The SSE body: what the feed holds past `after_seq`, then live, until `complete` or the time limit."""
    yield STREAM_OPEN
    complete = False
    async for frames in follow(run_id, after_seq, timeout, quiet=KEEP_ALIVE_SECONDS):
        if not frames:
            yield KEEP_ALIVE
            continue
        # Everything this stream has not seen yet, in one write.
        yield "".join(frame.sse for frame in frames)
        complete = frames[-1].type == "complete"
    if not complete:
        yield close_frame("timeout", "Stream time limit reached; reconnect with the last event id to resume")
