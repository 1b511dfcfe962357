"""The streaming endpoints on a real daphne, read by a real SSE client, as curl or EventSource would."""

import re
import socket
import threading
import time

import pytest

from streaming.models import Run, RunEvent
from studios.models import Workshop

from .expected import assert_catalogue_matches_demo
from .sse import read_stream

pytestmark = [pytest.mark.live]

STUDIO = "dance_n_addiction"
ENVELOPE_KEYS = {"type", "timestamp", "data"}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def assert_complete_run_stream(stream):
    """What a client relies on, from the first frame to the end of the response."""
    assert stream.status == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert stream.headers["cache-control"] == "no-cache"
    assert stream.headers["x-accel-buffering"] == "no"
    run_id = stream.run_id

    ids = [event_id for event_id, _type, _envelope in stream.events]
    assert ids == [f"run-{run_id}:{seq}" for seq in range(1, len(ids) + 1)], "ids start at the first event, no gaps"
    for _id, event_type, envelope in stream.events:
        assert set(envelope) == ENVELOPE_KEYS
        assert envelope["type"] == event_type
        assert TIMESTAMP.match(envelope["timestamp"])

    logs = stream.of_type("logs")
    assert logs and all(log["data"]["level"] in {"info", "success", "warning", "error"} for log in logs)
    assert all(log["data"]["message"] for log in logs)

    progress = [envelope["data"] for envelope in stream.of_type("progress_bar")]
    assert progress, "progress_bar events"
    currents = [p["current"] for p in progress]
    assert currents == sorted(currents), "current only rises"
    assert progress[-1]["current"] == progress[-1]["total"] > 0
    assert progress[-1]["percentage"] == 100.0
    assert all(0.0 <= p["percentage"] <= 100.0 for p in progress)

    assert stream.types[-1] == "complete", "the stream ends after complete"
    complete = stream.of_type("complete")[0]["data"]
    assert complete["run_id"] == run_id
    assert complete["status"] == "succeeded"
    assert complete["message"] == "Process completed"
    return complete["summary"]


def test_post_refresh_workshops_streams_a_run_to_its_end(demo):
    stream = read_stream(
        "POST", f"{demo['url']}/api/streaming/refresh-workshops", json={"studio_id": STUDIO}, headers=demo["auth"]
    )
    summary = assert_complete_run_stream(stream)

    assert summary["studio_id"] == STUDIO
    assert summary["links_failed"] == 1, "the dead link"
    assert summary["workshops_created"] > 0
    assert summary["links_processed"] + summary["links_failed"] == summary["links_found"]
    levels = {log["data"]["level"] for log in stream.of_type("logs")}
    assert {"info", "success", "error"} <= levels, "the dead link is an error line and the run goes on"
    run = Run.objects.get(pk=stream.run_id)
    assert run.status == "succeeded" and run.percentage == 100.0 and run.summary == summary
    assert RunEvent.objects.filter(run=run).count() == len(stream.events)
    assert_catalogue_matches_demo(STUDIO)


@pytest.mark.parametrize("path", ["process-studio", "refresh-workshops"])
def test_get_endpoints_stream_a_run_to_its_end(demo, path):
    stream = read_stream(
        "GET", f"{demo['url']}/api/streaming/{path}", params={"studio_id": STUDIO}, headers=demo["auth"]
    )
    assert_complete_run_stream(stream)
    assert_catalogue_matches_demo(STUDIO)


def test_rerun_on_unchanged_pages_changes_nothing(demo):
    url = f"{demo['url']}/api/streaming/process-studio"
    first = assert_complete_run_stream(read_stream("GET", url, params={"studio_id": STUDIO}, headers=demo["auth"]))
    rows = sorted(Workshop.objects.filter(studio__studio_id=STUDIO).values_list("id", "updated_at"))
    second = assert_complete_run_stream(read_stream("GET", url, params={"studio_id": STUDIO}, headers=demo["auth"]))
    assert second["workshops_created"] == second["workshops_updated"] == second["workshops_archived"] == 0
    assert second["workshops_unchanged"] == first["workshops_created"]
    assert sorted(Workshop.objects.filter(studio__studio_id=STUDIO).values_list("id", "updated_at")) == rows


def test_all_processes_every_active_studio(demo):
    stream = read_stream(
        "POST", f"{demo['url']}/api/streaming/refresh-workshops", json={"studio_id": "all"}, headers=demo["auth"]
    )
    summary = assert_complete_run_stream(stream)
    from studios.models import Studio

    active = list(Studio.objects.filter(active=True).values_list("studio_id", flat=True))
    assert summary["studios_processed"] == len(active) >= 3
    for studio_id in active:
        assert_catalogue_matches_demo(studio_id)


def test_simultaneous_starts_join_one_run(demo):
    streams = [None, None]

    def start(index):
        streams[index] = read_stream(
            "POST", f"{demo['url']}/api/streaming/refresh-workshops", json={"studio_id": STUDIO}, headers=demo["auth"]
        )

    threads = [threading.Thread(target=start, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert streams[0].run_id == streams[1].run_id
    assert Run.objects.count() == 1
    assert streams[0].events == streams[1].events, "both clients see the whole run"
    assert_complete_run_stream(streams[0])


def test_reconnect_with_last_event_id_yields_exactly_the_later_events(demo):
    full = read_stream(
        "GET", f"{demo['url']}/api/streaming/process-studio", params={"studio_id": STUDIO}, headers=demo["auth"]
    )
    assert_complete_run_stream(full)
    events_url = f"{demo['url']}/api/runs/{full.run_id}/events/"
    for cut in (1, len(full.events) // 2, len(full.events) - 1):
        last_id = full.events[cut - 1][0]
        resumed = read_stream("GET", events_url, headers={**demo["auth"], "Last-Event-ID": last_id})
        assert resumed.events == full.events[cut:]
        by_query = read_stream("GET", events_url, params={"lastEventId": last_id}, headers=demo["auth"])
        assert by_query.events == full.events[cut:]
    replay = read_stream("GET", events_url, headers=demo["auth"])
    assert replay.events == full.events, "without an id, a run's stream replays from its first event"
    for garbage in ("garbage", "run-999999:3", f"run-{full.run_id}:x"):
        refused = read_stream("GET", events_url, headers={**demo["auth"], "Last-Event-ID": garbage})
        assert refused.status == 400
        assert refused.events[0][2]["error"]["code"] == "invalid_last_event_id"


def test_reconnect_after_the_end_is_told_the_run_finished(demo):
    full = read_stream(
        "GET", f"{demo['url']}/api/streaming/process-studio", params={"studio_id": STUDIO}, headers=demo["auth"]
    )
    resumed = read_stream(
        "GET",
        f"{demo['url']}/api/runs/{full.run_id}/events/",
        headers={**demo["auth"], "Last-Event-ID": full.events[-1][0]},
    )
    assert resumed.types == ["close"]
    assert resumed.events[0][2]["data"]["reason"] == "finished"


def test_stream_errors_are_json_before_any_stream(demo):
    stream = read_stream(
        "GET", f"{demo['url']}/api/streaming/process-studio", params={"studio_id": "nope"}, headers=demo["auth"]
    )
    assert stream.status == 404
    assert stream.events[0][2] == {"error": {"code": "studio_not_found", "message": "There is no studio 'nope'."}}
    assert Run.objects.count() == 0


def test_eventsource_reconnecting_to_a_start_endpoint_resumes_its_run(demo):
    """Browsers reconnect to the URL they opened, with Last-Event-ID: that must not start a new run."""
    url = f"{demo['url']}/api/streaming/process-studio"
    full = read_stream("GET", url, params={"studio_id": STUDIO}, headers=demo["auth"])
    cut = len(full.events) // 2
    resumed = read_stream(
        "GET", url, params={"studio_id": STUDIO}, headers={**demo["auth"], "Last-Event-ID": full.events[cut - 1][0]}
    )
    assert resumed.run_id == full.run_id
    assert resumed.events == full.events[cut:]
    assert Run.objects.count() == 1


def test_only_users_allowed_to_see_runs_can_read_a_stream(demo):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from rest_framework.authtoken.models import Token

    full = read_stream(
        "GET", f"{demo['url']}/api/streaming/process-studio", params={"studio_id": STUDIO}, headers=demo["auth"]
    )
    users = get_user_model().objects
    viewer = users.create_user("viewer", "v@example.com", "pw-123456")
    viewer.user_permissions.add(Permission.objects.get(codename="view_run"))
    stranger = users.create_user("stranger", "s@example.com", "pw-123456", is_staff=True)
    events_url = f"{demo['url']}/api/runs/{full.run_id}/events/"

    watched = read_stream(
        "GET", events_url, headers={"Authorization": f"Token {Token.objects.create(user=viewer).key}"}
    )
    assert watched.events == full.events
    refused = read_stream(
        "GET", events_url, headers={"Authorization": f"Token {Token.objects.create(user=stranger).key}"}
    )
    assert refused.status == 403
    assert refused.events == [
        (None, "http-error", {"error": {"code": "permission_denied", "message": "You may not view runs."}})
    ]


def test_a_client_gone_before_its_stream_began_gives_its_slot_back(demo, make_daphne):
    """Clients that hang up while the server is still answering them (a timeout, a script killed)
    must not use up their user's STREAM_MAX_PER_USER: each slot comes back."""
    server = make_daphne(STREAM_MAX_PER_USER="1")  # one slot lost shows
    run = Run.objects.create(job="process_studio", subject="ended", status="succeeded")  # its stream: one close
    path = f"/api/runs/{run.pk}/events/"
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {demo['token']}\r\n\r\n".encode()
    for attempt in range(60):
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as gone:
            gone.sendall(request)
            time.sleep(attempt * 0.0002)  # and hang up: at once, then later and later into the answer
    deadline = time.monotonic() + 10
    while True:
        stream = read_stream("GET", f"{server.url}{path}", headers=demo["auth"], timeout=30)
        if stream.status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert stream.status == 200, f"the user's slots were not given back: {stream.events}"


def test_a_run_whose_starter_hung_up_still_runs_to_its_end(demo):
    """A run a start request creates begins once its stream's opening is written. Its starter may
    be gone before that (or before its request was answered at all): the run must not stay queued."""
    body = b'{"studio_id": "' + STUDIO.encode() + b'"}'
    request = (
        f"POST /api/streaming/refresh-workshops HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {demo['token']}"
        f"\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    port = int(demo["url"].rsplit(":", 1)[1])
    runs = set()
    for delay in (0, 0.002, 0.01):  # hung up at once, while answered, just after
        with socket.create_connection(("127.0.0.1", port), timeout=10) as gone:
            gone.sendall(request)
            time.sleep(delay)
        deadline = time.monotonic() + 60
        while not (started := Run.objects.filter(subject=STUDIO).exclude(pk__in=runs).first()):
            assert time.monotonic() < deadline, "no run was created"
            time.sleep(0.05)
        while (run := Run.objects.get(pk=started.pk)).is_active:
            assert time.monotonic() < deadline, f"run {run.pk} is still {run.status}"
            time.sleep(0.1)
        assert run.status == "succeeded"
        messages = [event.data["data"].get("message", "") for event in RunEvent.objects.filter(run=run)]
        assert not [m for m in messages if "interrupted" in m or "Resuming" in m], "started by its request, not rescued"
        assert RunEvent.objects.filter(run=run, type="complete").count() == 1
        runs.add(run.pk)
