"""Property tests: the event envelope survives SSE framing, and the normalisers never raise."""

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from unittest import mock

from django_eventstream.event import Event
from django_eventstream.utils import sse_encode_event
from django_eventstream.views import get_listener_manager
from hypothesis import given, settings
from hypothesis import strategies as st

from streaming import fanout
from streaming.events import envelope
from studios.pipeline.discover import normalise_url
from studios.pipeline.match import normalise_handle, normalise_name, split_artists
from studios.pipeline.validate import is_past, normalise_sessions, parse_moment, studio_zone
from tests.live.sse import decode_sse

MESSAGES = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from("\n\r\u2028\u2029\x00 :data: event:id:\t"), max_size=50),
    st.text(min_size=2000, max_size=5000),
)


async def through_a_feed(log, arrivals, stored_before=0):
    """The frames a run's feed holds when it starts with `stored_before` events in the run's log,
    and then the rest are stored and `arrivals` (seqs: repeated, missing, out of order) reach it live."""
    stored = stored_before

    async def read_log(channel, after_seq, limit):
        return [Event(channel, "logs", log[seq - 1], id=seq) for seq in range(after_seq + 1, stored + 1)][:limit]

    async def until(condition):
        # As a stream waiting for more does: it makes the feed look at the log when nothing arrives.
        for _ in range(2000):
            if condition():
                return
            await feed.wait_for_more(feed.last_seq)

    with (
        mock.patch.object(fanout, "_read_log_async", read_log),
        mock.patch.object(fanout, "QUIET_CHECK_SECONDS", 0.001),
        mock.patch.object(fanout, "TICK_SECONDS", 0.001),
    ):
        feed = fanout.subscribe(1)
        try:
            await until(lambda: feed.last_seq == stored_before)
            stored = len(log)  # publishing stores an event before it is delivered
            for seq in arrivals:
                get_listener_manager().add_to_queues("run-1", Event("run-1", "logs", log[seq - 1], id=seq))
            await until(lambda: feed.last_seq == len(log))
            return feed.frames_after(0)
        finally:
            fanout.unsubscribe(feed)


def run_in_own_loop(coroutine):
    # A thread of its own: an event loop may already run in this one (the browser tests' Playwright).
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    messages=st.lists(MESSAGES, min_size=1, max_size=5), level=st.sampled_from(["info", "success", "warning", "error"])
)
def test_log_envelopes_round_trip_through_sse_framing(messages, level):
    sent = [envelope("logs", {"message": message, "level": level}) for message in messages]
    log = [json.dumps(item) for item in sent]
    frames = run_in_own_loop(through_a_feed(log, range(1, len(log) + 1)))  # every event live
    received = decode_sse(b"".join(frame.sse for frame in frames))
    assert [event.event for event in received] == ["logs"] * len(sent)
    assert [event.id for event in received] == [f"run-1:{seq}" for seq in range(1, len(sent) + 1)]
    assert [json.loads(event.data) for event in received] == sent
    assert [json.loads(frame.message) for frame in frames] == [
        {"id": f"run-1:{seq}", "event": "logs", "data": item} for seq, item in enumerate(sent, start=1)
    ]


@settings(max_examples=200, deadline=None, derandomize=True)
@given(data=st.data(), size=st.integers(min_value=1, max_value=40))
def test_a_feed_holds_every_event_once_in_order_however_they_arrive(data, size):
    log = [json.dumps(envelope("logs", {"message": f"line {seq}", "level": "info"})) for seq in range(1, size + 1)]
    # Live delivery may repeat events, skip them (Redis subscribing late) or overflow the library's queue.
    arrivals = data.draw(st.lists(st.integers(min_value=1, max_value=size), max_size=3 * size))
    stored_before = data.draw(st.integers(min_value=0, max_value=size))
    frames = run_in_own_loop(through_a_feed(log, arrivals, stored_before))
    assert [frame.seq for frame in frames] == list(range(1, size + 1))
    assert [frame.sse for frame in frames] == [
        sse_encode_event("logs", text, event_id=f"run-1:{seq}").encode() for seq, text in enumerate(log, start=1)
    ]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    value=st.one_of(
        st.none(), st.text(), st.integers(), st.floats(), st.lists(st.text()), st.dictionaries(st.text(), st.text())
    )
)
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
