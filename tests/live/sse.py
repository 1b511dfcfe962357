"""Reading a run's stream the way a client does, with httpx-sse."""

import json
from dataclasses import dataclass, field

import httpx
from httpx_sse import connect_sse

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
            for sse in source.iter_sse():
                if sse.event in OWN_FRAMES:
                    continue
                stream.events.append((sse.id or None, sse.event, json.loads(sse.data)))
                if (stop_after and len(stream.events) >= stop_after) or (stop_when and stop_when(stream.events)):
                    break
    return stream


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
