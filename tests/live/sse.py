"""Reading a run's stream the way a client does, with httpx-sse, or holding many open raw."""

import asyncio
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
from httpx_sse import EventSource, ServerSentEvent, connect_sse

OWN_FRAMES = {"stream-open", "keep-alive", "stream-reset"}


@dataclass
class Stream:
    status: int
    headers: httpx.Headers
    events: list = field(default_factory=list)  # (id, type, envelope) of the run's own events

    @property
    def run_id(self):
        return int(self.headers["X-Run-Id"])

    def of_type(self, event_type):
        return [envelope for _id, type_, envelope in self.events if type_ == event_type]

    @property
    def types(self):
        return [type_ for _id, type_, _envelope in self.events]


def decode_sse(body: bytes) -> list[ServerSentEvent]:
    """The events a spec-following client (httpx-sse) decodes from a whole SSE body read some other way."""
    return list(
        EventSource(httpx.Response(200, headers={"Content-Type": "text/event-stream"}, content=body)).iter_sse()
    )


def read_stream(method, url, timeout=120, stop_after=None, stop_when=None, **kwargs):
    """Read a stream until the server ends it, or drop it after `stop_after` events or once
    `stop_when(events)` holds, as a client that goes away would."""
    kwargs["headers"] = dict(kwargs.get("headers") or {})  # connect_sse adds its own to the dict it is given
    with httpx.Client(timeout=httpx.Timeout(timeout)) as client:
        with connect_sse(client, method, url, **kwargs) as source:
            stream = Stream(source.response.status_code, source.response.headers)
            if source.response.status_code != 200:
                source.response.read()
                stream.events.append((None, "http-error", source.response.json()))
                return stream
            for event in run_events(source):
                stream.events.append(event)
                if (stop_after and len(stream.events) >= stop_after) or (stop_when and stop_when(stream.events)):
                    break
    return stream


def run_events(source):
    """The run's own events of an open stream, as (id, type, envelope)."""
    for sse in source.iter_sse():
        if sse.event not in OWN_FRAMES:
            yield sse.id or None, sse.event, json.loads(sse.data)


class StreamOnThread:
    """A client holding a stream open on a thread of its own, so the test can act while it is
    connected: `events` grows as they arrive; a connection that breaks ends the read and is kept
    in `error`, as a client sees it."""

    def __init__(self, method, url, timeout=120, **kwargs):
        self.events: list = []
        self.error: httpx.TransportError | None = None
        kwargs["headers"] = dict(kwargs.get("headers") or {})
        self._thread = threading.Thread(target=self._read, args=(method, url, timeout, kwargs), daemon=True)
        self._thread.start()

    def _read(self, method, url, timeout, kwargs):
        try:
            with httpx.Client(timeout=httpx.Timeout(timeout)) as client:
                with connect_sse(client, method, url, **kwargs) as source:
                    source.response.raise_for_status()
                    for event in run_events(source):
                        self.events.append(event)
        except httpx.TransportError as exc:
            self.error = exc

    def wait_until(self, condition, timeout=60):
        """Wait until `condition(events)` holds while the stream is open."""
        deadline = time.monotonic() + timeout
        while not condition(self.events):
            if not self._thread.is_alive():
                raise AssertionError(f"the stream ended first ({self.error!r}) after {len(self.events)} events")
            if time.monotonic() > deadline:
                raise AssertionError(f"not reached within {timeout}s: {len(self.events)} events")
            time.sleep(0.02)

    def join(self, timeout=120):
        """Wait for the stream to end: the server ended it, or the connection broke."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError(f"the stream is still open after {timeout}s")
        return self


def start_and_read_until_processed(base_url, auth, studio_id, links):
    """Start processing a studio and read its stream until `links` links are done, then drop it."""

    def processed(events):
        return any(type_ == "progress_bar" and envelope["data"]["current"] >= links for _id, type_, envelope in events)

    return read_stream(
        "POST",
        f"{base_url}/api/streaming/refresh-workshops",
        json={"studio_id": studio_id},
        headers=auth,
        stop_when=processed,
    )


async def open_streams(url, token, count):
    """`count` raw connections that each read their stream's opening, then wait without reading."""
    parts = urlsplit(url)
    request = (
        f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Token {token}\r\n"
        "Accept: text/event-stream\r\n\r\n"
    ).encode()
    streams = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        writer.write(request)
        await writer.drain()
        await asyncio.wait_for(reader.readuntil(b"event: stream-open"), timeout=30)
        streams.append(writer)
    return streams


def run_apart(coroutine):
    """Run a coroutine to its end on a thread of its own: an event loop may already run on the
    caller's (the browser tests' Playwright)."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()
