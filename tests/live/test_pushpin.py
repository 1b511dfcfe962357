"""Pushpin in front of daphne (GRIP): Pushpin holds the streams, the app publishes each event to it
once, and clients see exactly what daphne alone would send them."""

import asyncio
import threading

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.authtoken.models import Token

from streaming.models import Run, RunEvent, RunStatus
from tests.services import skip_or_fail

from .pushpin import PushpinServer, installed
from .sse import open_streams, read_stream, run_apart
from .test_streaming_endpoints import assert_complete_run_stream

pytestmark = [pytest.mark.live]


@pytest.fixture
def pushpin(make_daphne, tmp_path):
    """Pushpin on its own ports in front of a daphne that publishes to it (GRIP_URL)."""
    if not installed():
        skip_or_fail("Pushpin is not installed (Debian package pushpin: apt-get install pushpin)")
    proxy = PushpinServer(tmp_path / "pushpin")
    proxy.backend = make_daphne(GRIP_URL=proxy.grip_url)
    proxy.start(proxy.backend.port)
    yield proxy
    proxy.stop()


@pytest.fixture
def auth(transactional_db):
    admin = get_user_model().objects.create_superuser("admin", "admin@example.com", "admin-password")
    return {"Authorization": f"Token {Token.objects.create(user=admin).key}"}


@pytest.fixture
def slow_studio(make_slow_studio):
    """A run of several seconds, so that Pushpin holds its streams while events are published; its
    log lines carry `%`, which GRIP's build-id filter reads as its own."""
    studio = make_slow_studio("slow_studio", pages=6, delay=0.4)
    studio.name = "100% Slow"
    studio.save()
    return studio


def start_over_rest(url, auth, studio):
    response = httpx.post(f"{url}/api/runs/", json={"job": "process_studio", "subject": studio.studio_id}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def logged(run_id):
    """The run's log as a stream reads it: (id, type, envelope)."""
    return [(f"run-{run_id}:{e.seq}", e.type, e.data) for e in RunEvent.objects.filter(run_id=run_id).order_by("seq")]


def published_to_held_streams(proxy, run_id):
    """How many held streams Pushpin delivered each of the run's published events to."""
    marker = f"publish channel=events-run-{run_id} receivers="
    return [int(line.split(marker)[1].split()[0]) for line in proxy.log_tail(100_000).splitlines() if marker in line]


def test_a_run_started_through_pushpin_streams_every_event_and_ends(pushpin, auth, slow_studio):
    stream = read_stream(
        "POST", f"{pushpin.url}/api/streaming/refresh-workshops", json={"studio_id": "all"}, headers=auth
    )
    assert_complete_run_stream(stream)
    assert stream.events == logged(stream.run_id), "every event of the log, in order, then the response ended"
    assert any("100% Slow" in envelope["data"].get("message", "") for _id, _type, envelope in stream.events)
    assert max(published_to_held_streams(pushpin, stream.run_id), default=0) >= 1, "Pushpin held the stream"


def test_last_event_id_resumes_through_pushpin(pushpin, auth, slow_studio):
    run_id = start_over_rest(pushpin.url, auth, slow_studio)
    events_url = f"{pushpin.url}/api/runs/{run_id}/events/"
    first = read_stream("GET", events_url, headers=auth, stop_after=3)  # goes away while the run goes on
    resumed = read_stream("GET", events_url, headers={**auth, "Last-Event-ID": first.events[-1][0]})
    assert first.events + resumed.events == logged(run_id)
    assert resumed.types[-1] == "complete"

    full = logged(run_id)
    for cut in (1, len(full) // 2, len(full) - 1):
        later = read_stream("GET", events_url, headers={**auth, "Last-Event-ID": full[cut - 1][0]})
        assert later.events == full[cut:], "exactly the later events"
    after_end = read_stream("GET", events_url, headers={**auth, "Last-Event-ID": full[-1][0]})
    assert after_end.types == ["close"] and after_end.events[0][2]["data"]["reason"] == "finished"


def test_many_watchers_through_pushpin_each_get_the_whole_run(pushpin, auth, slow_studio):
    run_id = start_over_rest(pushpin.url, auth, slow_studio)
    streams = [None] * 20

    def watch(index):
        streams[index] = read_stream("GET", f"{pushpin.url}/api/runs/{run_id}/events/", headers=auth)

    threads = [threading.Thread(target=watch, args=(index,)) for index in range(len(streams))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    full = logged(run_id)
    assert full[-1][1] == "complete"
    for stream in streams:
        assert stream is not None and stream.status == 200
        assert stream.events == full
    assert max(published_to_held_streams(pushpin, run_id)) > 1, "one publish reached several held streams"


def test_held_streams_of_one_run_share_their_refresh(pushpin, auth):
    """Once Pushpin has subscribed to a run's channel it refreshes every stream it holds there
    through the stream's next link; streams of one run and one user share that link, so the app
    answers a handful of refreshes, not one per watcher (which Pushpin spaces a tenth of a second
    apart: thousands of watchers waited minutes for their events)."""
    run = Run.objects.create(
        job="process_studio", subject="quiet", status=RunStatus.RUNNING, heartbeat_at=timezone.now()
    )
    token = auth["Authorization"].removeprefix("Token ")

    async def hold_streams():
        streams = await open_streams(f"{pushpin.url}/api/runs/{run.pk}/events/", token, 30)
        await asyncio.sleep(3)  # Pushpin's subscription settles after about a second
        for stream in streams:
            stream.close()

    run_apart(hold_streams())
    refreshes = pushpin.backend.log().count("grip_next=")
    assert 1 <= refreshes <= 3, f"{refreshes} next-link requests for 30 held streams"


def test_refusals_through_pushpin_are_those_of_daphne(pushpin, auth, slow_studio):
    run_id = start_over_rest(pushpin.url, auth, slow_studio)
    stranger = get_user_model().objects.create_user("stranger", "s@example.com", "pw-123456", is_staff=True)
    callers = {
        "anonymous": {},
        "bad token": {"Authorization": "Token nope"},
        "stranger": {"Authorization": f"Token {Token.objects.create(user=stranger).key}"},
    }
    for who, headers in callers.items():
        for method, path, kwargs in (
            ("GET", f"/api/runs/{run_id}/events/", {}),
            ("POST", "/api/streaming/refresh-workshops", {"json": {"studio_id": slow_studio.studio_id}}),
        ):
            direct = read_stream(method, pushpin.backend.url + path, headers=headers, **kwargs)
            proxied = read_stream(method, pushpin.url + path, headers=headers, **kwargs)
            assert direct.status in (401, 403), who
            assert (proxied.status, proxied.events) == (direct.status, direct.events), f"{who} {method} {path}"


def test_a_forged_grip_signature_is_served_by_daphne_itself(pushpin, auth, slow_studio):
    """Only Pushpin, which signs with the key in GRIP_URL, may ask the app for GRIP instructions."""
    run_id = start_over_rest(pushpin.url, auth, slow_studio)
    stream = read_stream(
        "GET", f"{pushpin.backend.url}/api/runs/{run_id}/events/", headers={**auth, "Grip-Sig": "forged"}
    )
    response_headers = {name.lower() for name in stream.headers}
    assert not any(name.startswith("grip-") for name in response_headers)
    assert stream.events == logged(run_id) and stream.types[-1] == "complete"
