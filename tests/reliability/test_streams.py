"""Streams under concurrency, disconnects and time limits, on real daphne servers."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from streaming.models import Run, RunEvent
from tests.live.sse import read_stream

pytestmark = [pytest.mark.live]


def start(base_url, auth, studio_id, **kwargs):
    return read_stream(
        "POST", f"{base_url}/api/streaming/refresh-workshops", json={"studio_id": studio_id}, headers=auth, **kwargs
    )


def resume(base_url, auth, run_id, last_id, **kwargs):
    return read_stream(
        "GET", f"{base_url}/api/runs/{run_id}/events/", headers={**auth, "Last-Event-ID": last_id}, **kwargs
    )


def stored_events(run_id):
    return [(f"run-{run_id}:{e.seq}", e.type, e.data) for e in RunEvent.objects.filter(run_id=run_id).order_by("seq")]


def test_fifty_simultaneous_starts_create_one_run_and_fifty_complete_streams(demo, make_slow_studio):
    studio = make_slow_studio("busy_studio", pages=4, delay=0.3)
    barrier = threading.Barrier(50)

    def client(_):
        barrier.wait()
        return start(demo["url"], demo["auth"], studio.studio_id)

    with ThreadPoolExecutor(max_workers=50) as pool:
        streams = list(pool.map(client, range(50)))

    assert [s.status for s in streams] == [200] * 50
    assert {s.run_id for s in streams} == {streams[0].run_id}
    assert Run.objects.count() == 1
    expected = stored_events(streams[0].run_id)
    assert expected[-1][1] == "complete" and expected[-1][2]["data"]["status"] == "succeeded"
    for stream in streams:
        assert stream.events == expected, "every client sees the whole run, once, ending with complete"


def test_reconnecting_at_every_few_events_of_a_live_run_loses_and_repeats_nothing(demo, make_slow_studio):
    studio = make_slow_studio("cut_studio", pages=6, delay=0.3)
    first = start(demo["url"], demo["auth"], studio.studio_id, stop_after=2)
    seen, cuts = list(first.events), 1
    while seen[-1][1] != "complete":
        later = resume(demo["url"], demo["auth"], first.run_id, seen[-1][0], stop_after=2)
        seen += later.events
        cuts += 1
    assert cuts >= 10
    assert seen == stored_events(first.run_id)
    assert Run.objects.get(pk=first.run_id).status == "succeeded", "dropped clients do not affect the run"


def test_every_cut_point_of_a_finished_run_resumes_exactly(demo):
    full = read_stream(
        "GET",
        f"{demo['url']}/api/streaming/process-studio",
        params={"studio_id": "dance_n_addiction"},
        headers=demo["auth"],
    )
    assert len(full.events) > 20
    for cut in range(1, len(full.events)):
        assert resume(demo["url"], demo["auth"], full.run_id, full.events[cut - 1][0]).events == full.events[cut:]


def test_a_stream_at_its_time_limit_sends_close_and_the_run_goes_on(demo, make_slow_studio, make_daphne):
    server = make_daphne(STREAM_TIMEOUT="1.5")
    studio = make_slow_studio("long_studio", pages=8, delay=0.5)
    first = start(server.url, demo["auth"], studio.studio_id)
    assert first.types[-1] == "close"
    assert first.events[-1][2]["data"]["reason"] == "timeout"
    # close carries no id of its own: the client's last event id stays that of the last run event.
    assert first.events[-1][0] == first.events[-2][0]
    assert Run.objects.get(pk=first.run_id).is_active, "the run went on"
    seen = [event for event in first.events if event[1] != "close"]
    while seen[-1][1] != "complete":
        later = resume(server.url, demo["auth"], first.run_id, seen[-1][0])
        seen += [event for event in later.events if event[1] != "close"]
    assert seen == stored_events(first.run_id)


def test_runs_beyond_the_worker_limit_queue_and_say_so(demo, make_slow_studio, make_daphne):
    server = make_daphne(TASKS_MAX_WORKERS="2")
    studios = [make_slow_studio(f"parallel_{n}", pages=3, delay=0.4) for n in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        streams = list(pool.map(lambda studio: start(server.url, demo["auth"], studio.studio_id), studios))
    assert all(stream.of_type("complete")[0]["data"]["status"] == "succeeded" for stream in streams)

    waited = [
        stream.run_id
        for stream in streams
        if any(log["data"]["message"] == "Waiting for a free worker: all 2 are busy" for log in stream.of_type("logs"))
    ]
    assert len(waited) == 2
    runs = Run.objects.order_by("started_at")
    moments = sorted([(run.started_at, 1) for run in runs] + [(run.finished_at, -1) for run in runs])
    running, most = 0, 0
    for _moment, change in moments:
        running += change
        most = max(most, running)
    assert most == 2, "two at once, never more"
