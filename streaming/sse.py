"""Server-Sent Events delivery of one run, served from the run's feed (streaming.fanout).

A stream begins at the requested point (the run's first event unless resuming), sends every event
once and in order, ends after the run's `complete` event, and sends `close` when STREAM_TIMEOUT
runs out while the run goes on. It runs on the event loop: while it waits it holds no thread and
no database connection.
"""

import json
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django_eventstream.event import Event
from django_eventstream.utils import add_default_headers, get_channelmanager, parse_last_event_id, sse_encode_event

from . import grip
from .conf import conf
from .events import envelope
from .fanout import FILL_BATCH, follow, make_frame, through_complete
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


def resumed_run(request: HttpRequest, job: str, subject: str) -> tuple[Run, int] | None:
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


# Why a stream ends with `close` (the wire contract's reasons), and what its message says.
CLOSE_MESSAGES = {
    "finished": "The run has finished; there are no more events",
    "timeout": "Stream time limit reached; reconnect with the last event id to resume",
}


def close_envelope(reason: str) -> dict[str, Any]:
    return envelope("close", {"message": CLOSE_MESSAGES[reason], "reason": reason})


def close_frame(reason: str) -> str:
    return sse_encode_event("close", json.dumps(close_envelope(reason)))


class _OpenStreams:
    """How many streams each user holds open in this process (STREAM_MAX_PER_USER bounds it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[Any] = Counter()

    def total(self) -> int:
        """Streams open in this process, all users together."""
        with self._lock:
            return sum(self._counts.values())

    def check(self, user: Any) -> None:
        """ApiError 429 when the user already holds as many streams as allowed."""
        with self._lock:
            self._refuse_if_full(user)

    def reserve(self, user: Any) -> Callable[[], None]:
        """Count one more stream of the user; returns the function that gives it back (once)."""
        with self._lock:
            self._refuse_if_full(user)
            self._counts[user.pk] += 1
        given_back = threading.Event()

        def release() -> None:
            if given_back.is_set():
                return
            given_back.set()
            with self._lock:
                self._counts[user.pk] -= 1
                if self._counts[user.pk] <= 0:
                    del self._counts[user.pk]

        return release

    def _refuse_if_full(self, user: Any) -> None:
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
    """A run's stream, which calls `on_close` (e.g. gives its user's stream slot back) when the
    server closes it."""

    def __init__(self, body: AsyncIterator[str | bytes], *on_close: Callable[[], None]) -> None:
        super().__init__(body, content_type="text/event-stream")
        self._on_close = on_close

    def close(self) -> None:
        for action in self._on_close:
            action()
        super().close()


class _Once:
    """Calls `action` the first time it is called, from whichever thread, and never again."""

    def __init__(self, action: Callable[[], None] | None) -> None:
        self._action = action
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            action, self._action = self._action, None
        if action is not None:
            action()


def run_stream_response(
    request: HttpRequest,
    run: Run,
    user: Any,
    after_seq: int = 0,
    hand_over: Callable[[], None] | None = None,
) -> HttpResponse:
    """The run's events as SSE from after `after_seq`; ApiError 403 for a user the channel manager
    refuses, 429 past STREAM_MAX_PER_USER. Through a GRIP proxy, the proxy holds the stream.

    `hand_over`: this request has just created the run and left it queued; `hand_over` starts it.
    The run's first events are read now, on this thread, and sent with the stream's opening, and
    the run is handed over once they are written (or as soon as the request fails or its response
    closes, whichever comes first). A run started sooner has its thread compete with the event loop
    for the interpreter, and the starter waited for both before it saw its first event.
    """
    begin = _Once(hand_over) if hand_over else None
    try:
        response = _stream_response(request, run, user, after_seq, begin)
    except Exception:
        if begin:
            begin()
        raise
    add_default_headers(response, request=request)
    response["X-Run-Id"] = str(run.pk)
    return response


def _stream_response(request: HttpRequest, run: Run, user: Any, after_seq: int, begin: _Once | None) -> HttpResponse:
    channel = channel_for_run(run.pk)
    if not get_channelmanager().can_read_channel(user, channel):
        raise ApiError(403, "permission_denied", "You may not view runs.")
    if grip.proxied(request):
        open_streams.check(user)  # the proxy holds the stream: this process counts only its own
        response = held_stream_response(request, run, user.pk, after_seq, since=time.time(), opening=True)
        if begin:
            begin()
        return response
    if not run.is_active and after_seq >= RunEventStorage().get_current_id(channel):
        # Nothing will follow: say so instead of holding a connection open forever.
        return RunStreamResponse(_single_frame(close_frame("finished")), open_streams.reserve(user))
    if begin is None:
        return RunStreamResponse(run_frames(run.pk, after_seq, conf.STREAM_TIMEOUT), open_streams.reserve(user))
    opening = RunEventStorage().get_events(channel, after_seq)
    body = run_frames(run.pk, after_seq, conf.STREAM_TIMEOUT, opening, on_open=begin)
    return RunStreamResponse(body, open_streams.reserve(user), begin)


async def _single_frame(frame: str) -> AsyncIterator[str | bytes]:
    yield frame


async def run_frames(
    run_id: int,
    after_seq: int,
    timeout: float,
    opening: list[Event] | None = None,
    on_open: Callable[[], None] | None = None,
) -> AsyncIterator[str | bytes]:
    """The SSE body: the `opening` events (read by the request), then what the feed holds past them,
    then live, until `complete` or the time limit. `on_open` is called (on a thread) once the
    opening events are written."""
    channel = channel_for_run(run_id)
    first, complete = through_complete(opening or [])
    head = STREAM_OPEN.encode() + b"".join(make_frame(channel, e.id, e.type, e.data).sse for e in first)
    if first:
        # The starter's first events go out at once, before the run's feed starts in this process.
        yield head
        head, after_seq = b"", first[-1].id
    if on_open is not None:
        # The server writes what was yielded while this waits for a thread.
        await sync_to_async(on_open)()
    if complete:
        return
    # Otherwise the opening carries what the run's feed holds already, in one write: each write
    # costs the event loop a turn, and a client joining a run gets its first events at once.
    async for frames in follow(run_id, after_seq, timeout, quiet=KEEP_ALIVE_SECONDS, at_once=bool(head)):
        if head:
            yield head + b"".join(frame.sse for frame in frames)
            head = b""
        elif frames:
            # Everything this stream has not seen yet, in one write.
            yield b"".join(frame.sse for frame in frames)
        else:
            yield KEEP_ALIVE
            continue
        complete = bool(frames) and frames[-1].type == "complete"
    if not complete:
        yield close_frame("timeout")


def held_stream_response(
    request: HttpRequest, run: Run, user_id: int, after_seq: int, since: float, opening: bool
) -> HttpResponse:
    """A run's stream through the GRIP proxy (streaming.grip): what the log holds past `after_seq`,
    then, unless that ends the stream, instructions to hold it for the events published later.

    The same frames as `run_frames`; `opening` is the client's first response, while the proxy
    appends the answers to its next-link requests to the stream it holds.
    """
    channel = channel_for_run(run.pk)
    storage = RunEventStorage()
    events: list[Event] = []
    while batch := storage.get_events(channel, after_seq + len(events), limit=FILL_BATCH):
        events += batch
    events, complete = through_complete(events)
    last_seq = events[-1].id if events else after_seq
    finished = opening and not run.is_active and not events  # as the direct stream: nothing will follow
    timed_out = time.time() - since >= conf.STREAM_TIMEOUT
    hold = not complete and not finished and not timed_out
    # Held content passes the proxy's build-id filter, which reads `%` as its own: escaped.
    frames = [sse_encode_event(e.type, e.data, event_id=f"{channel}:{e.id}", escape=hold) for e in events]
    if finished:
        frames = [close_frame("finished")]
    elif not complete and timed_out:
        frames.append(close_frame("timeout"))
    if opening and not finished:
        frames.insert(0, STREAM_OPEN)
    response = HttpResponse("".join(frames), content_type="text/event-stream")
    add_default_headers(response, request=request)
    response["X-Run-Id"] = str(run.pk)
    if hold:
        grip.hold_stream(request, run.pk, last_seq, user_id, since, KEEP_ALIVE, KEEP_ALIVE_SECONDS)
    return response


def continue_held_stream(request: HttpRequest, run_id: int) -> HttpResponse | None:
    """The proxy following a held stream's next link: the stream goes on from the last event it
    delivered, or ends (run gone, user no longer allowed). None for any other request."""
    followed = grip.followed_link(request, run_id)
    if followed is None:
        return None
    user_id, since, last_seq = followed
    run = Run.objects.filter(pk=run_id).first()
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if run is None or user is None or not get_channelmanager().can_read_channel(user, channel_for_run(run_id)):
        # An empty answer without a hold ends the stream; the client's reconnect learns why.
        return HttpResponse("", content_type="text/event-stream")
    return held_stream_response(request, run, user_id, last_seq, since, opening=False)
