"""Property tests: the event envelope survives SSE framing, and the normalisers never raise."""

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from django_eventstream.utils import sse_encode_event
from httpx_sse._decoders import SSEDecoder
from hypothesis import given, settings
from hypothesis import strategies as st

from streaming.events import envelope
from streaming.sse import _exactly_once
from studios.pipeline.discover import normalise_url
from studios.pipeline.match import normalise_handle, normalise_name, split_artists
from studios.pipeline.validate import is_past, normalise_sessions, parse_moment, studio_zone

MESSAGES = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from("\n\r\u2028\u2029\x00 :data: event:id:\t"), max_size=50),
    st.text(min_size=2000, max_size=5000),
)


def decode(body):
    """The events a spec-following client decodes from a body (httpx-sse's own decoder)."""
    decoder, events = SSEDecoder(), []
    for line in body.splitlines():
        event = decoder.decode(line)
        if event is not None:
            events.append(event)
    return events


async def through_the_stream_filter(frames):
    async def library_output():
        yield "".join(frames)  # the library may hand over several frames in one chunk

    return [frame async for frame in _exactly_once(library_output(), "run-1", 0)]


@settings(max_examples=100, deadline=None, derandomize=True)
@given(messages=st.lists(MESSAGES, min_size=1, max_size=5), level=st.sampled_from(["info", "success", "warning", "error"]))
def test_log_envelopes_round_trip_through_sse_framing(messages, level):
    sent = [envelope("logs", {"message": message, "level": level}) for message in messages]
    frames = [sse_encode_event("logs", json.dumps(item), event_id=f"run-1:{seq}") for seq, item in enumerate(sent, start=1)]
    # A thread of its own: an event loop may already run in this one (the browser tests' Playwright).
    with ThreadPoolExecutor(max_workers=1) as thread:
        delivered = thread.submit(asyncio.run, through_the_stream_filter(frames)).result()
    received = decode("".join(delivered))
    assert [event.event for event in received] == ["logs"] * len(sent)
    assert [event.id for event in received] == [f"run-1:{seq}" for seq in range(1, len(sent) + 1)]
    assert [json.loads(event.data) for event in received] == sent


@settings(max_examples=300, deadline=None, derandomize=True)
@given(value=st.one_of(st.none(), st.text(), st.integers(), st.floats(), st.lists(st.text()), st.dictionaries(st.text(), st.text())))
def test_date_and_time_normalisers_never_raise(value):
    zone = studio_zone("Asia/Kolkata")
    parse_moment(value, zone)
    sessions = normalise_sessions([(value, value), (value, None)], zone)
    is_past(sessions, date(2026, 1, 1))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(text=st.text(), base=st.one_of(st.just(""), st.just("http://studio.example/a/b/"), st.text()))
def test_url_and_name_normalisers_never_raise(text, base):
    normalise_url(text, base)
    normalise_name(text)
    normalise_handle(text)
    split_artists(text)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(name=st.text())
def test_unknown_time_zones_fall_back_instead_of_raising(name):
    assert studio_zone(name) is not None
