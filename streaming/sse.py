"""Server-Sent Events delivery of one run, on top of django-eventstream's stream.

django-eventstream replays from storage and then follows live events, but its streams never end,
and a burst of events that arrives while it reads storage can be sent twice (it re-reads from the
old position), and with Redis an event published before its subscription is ready can be missed.
A run's stream here therefore passes the library's frames through a filter that delivers every
event exactly once and in order (duplicates dropped, gaps filled from the run's log), begins at the
requested point (the first event unless resuming), ends after the run's `complete` event, and sends
`close` when STREAM_TIMEOUT runs out while the run goes on.
"""

import asyncio
import json
import re
import threading
from collections import Counter

from asgiref.sync import sync_to_async
from django.http import StreamingHttpResponse
from django_eventstream.eventrequest import EventRequest
from django_eventstream.utils import add_default_headers, parse_last_event_id, sse_encode_event
from django_eventstream.views import Listener, stream

from .conf import conf
from .events import envelope
from .http import ApiError
from .models import Run
from .storage import RunEventStorage, channel_for_run, parse_seq, run_id_from_channel

FRAME_ID = re.compile(r"^id: run-[0-9]+:([0-9]+)$", re.MULTILINE)
FRAME_TYPE = re.compile(r"^event: (.*)$", re.MULTILINE)


def last_event_seq(request, run):
    """The seq a reconnecting client last saw (Last-Event-ID header or ?lastEventId=), else 0."""
    raw = request.META.get("HTTP_LAST_EVENT_ID") or request.GET.get("lastEventId") or ""
    if not raw:
        return 0
    try:
        seq = parse_seq(parse_last_event_id(raw).get(channel_for_run(run.pk), ""))
    except ValueError:
        seq = None
    if seq is None:
        raise ApiError(
            400, "invalid_last_event_id", f"Last-Event-ID must look like 'run-{run.pk}:<number>', not {raw[:80]!r}."
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


def run_stream_response(request, run, user, after_seq=0):
    """The run's events as SSE from after `after_seq`; ApiError 429 past STREAM_MAX_PER_USER."""
    release = open_streams.reserve(user)
    channel = channel_for_run(run.pk)
    if not run.is_active and after_seq >= RunEventStorage().get_current_id(channel):
        # Nothing will follow: say so instead of holding a connection open forever.
        body = _single_frame(close_frame("finished", "The run has finished; there are no more events"))
    else:
        event_request = EventRequest()
        event_request.channels = {channel}
        event_request.channel_last_ids = {channel: str(after_seq)}
        event_request.is_next = False
        event_request.user = user
        listener = Listener()
        listener.user_id = user.pk
        listener.channels = event_request.channels
        frames = _exactly_once(stream(event_request, listener), channel, after_seq)
        body = _until_complete(frames, conf.STREAM_TIMEOUT)
    response = RunStreamResponse(body, release)
    add_default_headers(response, request=request)
    response["X-Run-Id"] = str(run.pk)
    return response


async def _single_frame(frame):
    yield frame


def _stored_frames(channel, after_seq, before_seq):
    events = RunEventStorage().get_events(channel, after_seq, limit=before_seq - after_seq - 1)
    return [sse_encode_event(e.type, e.data, event_id=f"{channel}:{e.id}") for e in events]


async def _exactly_once(chunks, channel, after_seq):
    """Yield the library's output frame by frame, each run event once, in order, with no gaps."""
    last_seq = after_seq
    try:
        async for chunk in chunks:
            for frame in chunk.split("\n\n"):
                if not frame.strip():
                    continue
                match = FRAME_ID.search(frame)
                if match is None:
                    yield frame + "\n\n"  # the library's own frames: padding, stream-open, keep-alive
                    continue
                seq = int(match.group(1))
                if seq <= last_seq:
                    continue
                if seq > last_seq + 1:
                    for missing in await sync_to_async(_stored_frames)(channel, last_seq, seq):
                        yield missing
                last_seq = seq
                yield frame + "\n\n"
    finally:
        await chunks.aclose()


async def _until_complete(frames, timeout):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while True:
            try:
                frame = await asyncio.wait_for(anext(frames), max(deadline - loop.time(), 0))
            except TimeoutError:
                yield close_frame("timeout", "Stream time limit reached; reconnect with the last event id to resume")
                return
            except StopAsyncIteration:
                return
            yield frame
            event_type = FRAME_TYPE.search(frame)
            if event_type and event_type.group(1) == "complete":
                return
    finally:
        await frames.aclose()
