"""One copy of a run's events per server process, shared by every stream of that run.

django-eventstream hands each published event to this process once: from the thread that
published it, or from its Redis listener when events cross processes. A `RunFeed` is the run
channel's only listener here; it keeps the run's frames in memory, each encoded once, and every
SSE or WebSocket stream of the run reads them from there at its own pace. The run's log
(RunEvent) is read only to fill what the feed does not hold yet (the events before it started
listening, a gap, a burst past django-eventstream's queue), in batches, off the event loop; while
streams wait on a quiet run the feed looks at the log now and then, so that an event the listener
never received (Redis subscribing late) still arrives.

Streams never wait for each other and the publisher never waits for a stream: publishing appends
to a list and wakes the loop once per process, whatever the number of watchers.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol, TypeVar

from asgiref.sync import sync_to_async
from django.db import close_old_connections
from django_eventstream.event import Event
from django_eventstream.utils import sse_encode_event
from django_eventstream.views import get_listener_manager

from .storage import RunEventStorage, channel_for_run

FILL_BATCH = 500
# How often a feed whose streams wait for more looks at the log itself.
QUIET_CHECK_SECONDS = 5.0
# How often a feed wakes its waiting streams, so that each can keep its connection alive or end at
# its time limit: one timer per feed instead of one per stream and wait.
TICK_SECONDS = 1.0


@dataclass(frozen=True)
class RunFrame:
    """One event of a run, encoded once: as an SSE frame and as a WebSocket message."""

    seq: int
    type: str
    sse: bytes  # encoded once here rather than by every stream
    message: str


def make_frame(channel: str, seq: int, event_type: str, data: str) -> RunFrame:
    event_id = f"{channel}:{seq}"
    message = f'{{"id": {json.dumps(event_id)}, "event": {json.dumps(event_type)}, "data": {data}}}'
    return RunFrame(seq, event_type, sse_encode_event(event_type, data, event_id=event_id).encode(), message)


def _read_log(channel: str, after_seq: int, limit: int) -> list[Event]:
    # Runs in the loop's executor (a few threads): a connection past DATABASE_CONN_MAX_AGE, or
    # broken, is given back here, since no request ends on these threads to do it.
    try:
        return RunEventStorage().get_events(channel, after_seq, limit=limit)
    finally:
        close_old_connections()


_read_log_async = sync_to_async(_read_log, thread_sensitive=False)


class RunFeed:
    """The frames of one run in this process: seq 1, 2, 3 … with no gap, and a way to wait for more."""

    def __init__(self, run_id: int, loop: asyncio.AbstractEventLoop) -> None:
        self.run_id = run_id
        self.channel = channel_for_run(run_id)
        self.loop = loop
        self.frames: list[RunFrame] = []  # frames[i].seq == i + 1
        self.subscribers = 0
        self._ahead: dict[int, Event] = {}  # live events past a gap, kept until the gap is filled
        self._more = asyncio.Event()
        self._ticker: asyncio.TimerHandle | None = None
        self._filling: asyncio.Task | None = None
        self._fill_again = False
        self._last_quiet_check = loop.time()
        # What django-eventstream's ListenerManager reads and writes on a listener (under its lock).
        self.channels = {self.channel}
        self.channel_items: dict[str, list[Event]] = {}
        self.overflow = False
        self.error = ""
        self.user_id = None

    @property
    def last_seq(self) -> int:
        return len(self.frames)

    @property
    def finished(self) -> bool:
        return bool(self.frames) and self.frames[-1].type == "complete"

    def start(self) -> None:
        # Listening starts before the log is read, so no event falls between the two.
        get_listener_manager().add_listener(self)
        self.fill()
        self._tick()

    def stop(self) -> None:
        get_listener_manager().remove_listener(self)
        if self._ticker is not None:
            self._ticker.cancel()
        if self._filling is not None:
            self._filling.cancel()

    # --- django-eventstream's listener interface ---

    def wake_threadsafe(self) -> None:
        self.loop.call_soon_threadsafe(self._take_queued)

    def _take_queued(self) -> None:
        manager = get_listener_manager()
        with manager.lock:
            items, overflow = self.channel_items.pop(self.channel, []), self.overflow
            self.overflow = False
        for event in items:
            self._receive(event)
        if overflow or self._ahead:
            self.fill()

    # --- keeping the frames ---

    def _receive(self, event: Event) -> None:
        seq = int(event.id)
        if seq == self.last_seq + 1:
            self._append(seq, event.type, event.data)
            self._take_ahead()
            self._notify()
        elif seq > self.last_seq + 1:
            self._ahead[seq] = event

    def _append(self, seq: int, event_type: str, data: str) -> None:
        self.frames.append(make_frame(self.channel, seq, event_type, data))

    def _take_ahead(self) -> None:
        for seq in sorted(self._ahead):
            if seq <= self.last_seq:
                del self._ahead[seq]
            elif seq == self.last_seq + 1:
                event = self._ahead.pop(seq)
                self._append(seq, event.type, event.data)
            else:
                break

    def _notify(self) -> None:
        more, self._more = self._more, asyncio.Event()
        more.set()

    def _tick(self) -> None:
        self._ticker = self.loop.call_later(TICK_SECONDS, self._tick)
        now = self.loop.time()
        if now - self._last_quiet_check >= QUIET_CHECK_SECONDS and not self.finished:
            self._last_quiet_check = now
            self.fill()
        self._notify()

    def fill(self) -> None:
        """Read what the log has past the feed's end; one read at a time, repeated if asked meanwhile."""
        if self._filling is not None and not self._filling.done():
            self._fill_again = True
            return
        self._filling = self.loop.create_task(self._fill())

    async def _fill(self) -> None:
        while True:
            self._fill_again = False
            while True:
                events = await _read_log_async(self.channel, self.last_seq, FILL_BATCH)
                for event in events:
                    if event.id == self.last_seq + 1:
                        self._append(event.id, event.type, event.data)
                self._take_ahead()
                if events:
                    self._notify()
                if len(events) < FILL_BATCH:
                    break
            if not self._fill_again:
                return

    # --- what streams use ---

    def frames_after(self, seq: int) -> list[RunFrame]:
        return self.frames[seq:]

    async def wait_for_more(self, seq: int) -> bool:
        """Wait until the feed holds a frame past `seq`, or its next tick; whether it holds one."""
        if self.last_seq <= seq:
            await self._more.wait()
        return self.last_seq > seq


# One registry per event loop: daphne runs one loop; a test client may run others.
_feeds: dict[tuple[int, int], RunFeed] = {}


def subscribe(run_id: int) -> RunFeed:
    """The run's feed in this process (started on first use: listening, then reading the log)."""
    loop = asyncio.get_running_loop()
    key = (id(loop), run_id)
    feed = _feeds.get(key)
    if feed is None:
        feed = _feeds[key] = RunFeed(run_id, loop)
        feed.start()
    feed.subscribers += 1
    return feed


def unsubscribe(feed: RunFeed) -> None:
    """A stream is done with the feed; the last one out drops it and its memory."""
    feed.subscribers -= 1
    if feed.subscribers > 0:
        return
    _feeds.pop((id(feed.loop), feed.run_id), None)
    feed.stop()


def open_feeds() -> int:
    return len(_feeds)


class _Typed(Protocol):
    @property
    def type(self) -> str: ...


Item = TypeVar("Item", bound=_Typed)


def through_complete(items: list[Item]) -> tuple[list[Item], bool]:
    """The items up to the run's `complete` event, and whether it is among them: nothing follows it."""
    for index, item in enumerate(items):
        if item.type == "complete":
            return items[: index + 1], True
    return items, False


async def follow(
    run_id: int, after_seq: int, timeout: float, quiet: float, at_once: bool = False
) -> AsyncIterator[list[RunFrame]]:
    """A run's frames past `after_seq`, in batches, until its `complete` or `timeout` seconds.

    Each batch is all the stream has not seen yet; nothing past `complete`. An empty batch means
    nothing came for `quiet` seconds: a chance for the caller to keep its connection alive. A
    follower that ends without `complete` ran out of time. With `at_once`, the first batch is what
    the feed holds now, even nothing, for a stream to send with its opening.
    """
    feed = subscribe(run_id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    position = after_seq
    try:
        while True:
            frames = feed.frames_after(position)
            if frames or at_once:
                at_once = False
                frames, complete = through_complete(frames)
                yield frames
                position = frames[-1].seq if frames else position
                if complete:
                    return
                continue
            quiet_since = loop.time()
            while not await feed.wait_for_more(position):
                if loop.time() >= deadline:
                    return
                if loop.time() - quiet_since >= quiet:
                    yield []
                    quiet_since = loop.time()
    finally:
        unsubscribe(feed)
