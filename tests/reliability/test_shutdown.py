"""Stopping the server (SIGTERM, Ctrl-C) mid-run: the run is left interrupted between two links and
the next start resumes it under the same id, without doing or saying again what was done."""

import signal
import time

import httpx
import pytest

from streaming.models import Run, RunEvent
from studios.models import ProcessedLink, Workshop
from tests.live.sse import read_stream, start_and_read_until_processed

pytestmark = [pytest.mark.live]

FAST_RECOVERY = {"RUN_HEARTBEAT_INTERVAL": "0.3", "RUN_HEARTBEAT_STALE_SECONDS": "2"}
PAGES, DELAY = 20, 1.0  # about 20 s of pages: a server that waited for the run would take that long to exit
STOP_BOUND = 10  # seconds from the signal to the exit; a link takes DELAY


def stored_events(run):
    return [(f"run-{run.pk}:{e.seq}", e.type, e.data) for e in RunEvent.objects.filter(run=run).order_by("seq")]


def log_lines(run, level=None):
    return [
        envelope["data"]["message"]
        for _id, type_, envelope in stored_events(run)
        if type_ == "logs" and (level is None or envelope["data"]["level"] == level)
    ]


def stop(server, signal_, site=None):
    """Signal the server and wait for it to exit; returns the seconds it took.

    With `site`, the site goes down as soon as the server says it is stopping, as the demo sites a
    server serves itself do: the page in flight then fails because of the stop.
    """
    started = time.monotonic()
    server.process.send_signal(signal_)
    if site is not None:
        deadline = started + STOP_BOUND
        while "Server stopping" not in server.log_tail() and time.monotonic() < deadline:
            time.sleep(0.01)
        site.down = True
    server.process.wait(timeout=60)
    return time.monotonic() - started


def speed_up(site):
    for responses in site.routes.values():
        for response in responses:
            response.delay = 0


def assert_left_interrupted(run):
    run.refresh_from_db()
    assert run.status == "interrupted"
    types = [type_ for _id, type_, _envelope in stored_events(run)]
    assert "complete" not in types and "error" not in types
    assert log_lines(run, "error") == []
    assert (
        log_lines(run)[-1]
        == f"Run {run.pk} was interrupted: the server is stopping; it resumes when the server starts again"
    )


def assert_resumed_once_each(run, site, done_at_stop, hits_at_stop):
    """The run finished after the restart; what was done before the stop was neither fetched nor logged again."""
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert (run.summary["links_found"], run.summary["links_processed"], run.summary["links_failed"]) == (
        PAGES,
        PAGES,
        0,
    )
    assert run.summary["workshops_created"] == PAGES
    for url in done_at_stop:
        path = url.split(str(site.port), 1)[1]
        assert site.hits[path] == hits_at_stop[path] == 1, f"{path} was fetched again after the restart"
    lines = log_lines(run)
    for number in range(1, PAGES + 1):
        url = site.url(f"/workshops/slow-{number}/")
        assert [line for line in lines if line.startswith(f"{url}:")] == [f"{url}: 1 workshop (structured)"]
    assert f"Resuming: {len(done_at_stop)} links done before the interruption, not fetched again" in lines
    assert log_lines(run, "error") == []
    events = stored_events(run)
    resumed_at = next(
        i for i, (_id, type_, env) in enumerate(events) if env["data"].get("message") == f"Resuming run {run.pk}"
    )
    progress_after = [env["data"]["current"] for _id, type_, env in events[resumed_at:] if type_ == "progress_bar"]
    assert progress_after[0] >= len(done_at_stop), "the bar carries on from what was done"
    assert progress_after == sorted(progress_after)
    assert [type_ for _id, type_, _env in events].count("complete") == 1


@pytest.mark.parametrize("signal_", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_server_leaves_its_runs_interrupted_and_the_next_start_resumes_them(
    demo, make_daphne, make_slow_studio, signal_
):
    running_studio = make_slow_studio("stop_running", pages=PAGES, delay=DELAY)
    site = make_slow_studio.sites[-1]
    queued_studio = make_slow_studio("stop_queued", pages=2, delay=0)
    # One worker: the second run waits in the queue when the server is stopped.
    first_server = make_daphne(TASKS_MAX_WORKERS="1", **FAST_RECOVERY)
    before = start_and_read_until_processed(first_server.url, demo["auth"], running_studio.studio_id, links=3)
    answer = httpx.post(
        f"{first_server.url}/api/runs/",
        json={"job": "process_studio", "subject": queued_studio.studio_id},
        headers=demo["auth"],
    )
    assert answer.status_code == 201
    running, queued = Run.objects.get(pk=before.run_id), Run.objects.get(pk=answer.json()["id"])
    assert queued.status == "queued"

    seconds = stop(first_server, signal_)
    assert first_server.process.returncode is not None
    assert seconds < STOP_BOUND, f"the server took {seconds:.1f}s to exit"
    assert_left_interrupted(running)
    assert_left_interrupted(queued)
    done_at_stop = {row.url for row in ProcessedLink.objects.filter(run=running)}
    assert 3 <= len(done_at_stop) < PAGES
    assert not Workshop.objects.filter(studio=running_studio).exists(), "the half run saved nothing"
    hits_at_stop = dict(site.hits)

    speed_up(site)
    second_server = make_daphne(**FAST_RECOVERY)
    after = read_stream(
        "GET",
        f"{second_server.url}/api/runs/{running.pk}/events/",
        headers={**demo["auth"], "Last-Event-ID": before.events[-1][0]},
    )
    assert before.events + after.events == stored_events(running), "the reconnected client sees the stream go on"
    assert after.of_type("complete")[0]["data"]["status"] == "succeeded"
    assert_resumed_once_each(running, site, done_at_stop, hits_at_stop)
    read_stream("GET", f"{second_server.url}/api/runs/{queued.pk}/events/", headers=demo["auth"])
    queued.refresh_from_db()
    assert queued.status == "succeeded" and queued.summary["workshops_created"] == 2


def test_pages_failing_because_the_server_stops_are_not_failures(demo, make_daphne, make_slow_studio):
    studio = make_slow_studio("stop_outage", pages=PAGES, delay=DELAY)
    site = make_slow_studio.sites[-1]
    first_server = make_daphne(**FAST_RECOVERY)
    before = start_and_read_until_processed(first_server.url, demo["auth"], studio.studio_id, links=2)
    run = Run.objects.get(pk=before.run_id)
    assert stop(first_server, signal.SIGTERM, site=site) < STOP_BOUND
    assert_left_interrupted(run)
    kept = ProcessedLink.objects.filter(run=run)
    assert kept and all(row.result["error"] is None for row in kept), "no link was kept as failed"
    done_at_stop, hits_at_stop = {row.url for row in kept}, dict(site.hits)

    site.down = False
    speed_up(site)
    second_server = make_daphne(**FAST_RECOVERY)
    read_stream("GET", f"{second_server.url}/api/runs/{run.pk}/events/", headers=demo["auth"])
    assert_resumed_once_each(run, site, done_at_stop, hits_at_stop)
