"""A run's stream over WebSocket (/ws/runs/<id>/) on a real daphne, read by a real WebSocket client."""

import json
import threading
import time
from dataclasses import dataclass, field

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from streaming.models import Run, RunEvent

from .sse import read_stream
from .test_streaming_endpoints import ENVELOPE_KEYS, TIMESTAMP

pytestmark = [pytest.mark.live]

STUDIO = "dance_n_addiction"


@dataclass
class Socket:
    """What a client saw on one socket: its messages, then how the server closed it."""

    messages: list = field(default_factory=list)  # the decoded JSON messages, in order
    code: int | None = None
    reason: str = ""

    @property
    def events(self):
        """(id, type, envelope) of each message, as tests/live/sse.py gives a stream's events."""
        return [(message.get("id"), message["event"], message["data"]) for message in self.messages]

    @property
    def types(self):
        return [message["event"] for message in self.messages]

    @property
    def error_code(self):
        assert self.types == ["error"], self.messages
        return self.messages[0]["data"]["error"]["code"]


def ws_url(base_url, run_id, query=""):
    return base_url.replace("http://", "ws://", 1) + f"/ws/runs/{run_id}/" + (f"?{query}" if query else "")


def read_socket(url, headers=None, origin=None, timeout=120):
    """Read a socket until the server closes it."""
    socket = Socket()
    with connect(url, additional_headers=headers, origin=origin, open_timeout=10, close_timeout=5) as ws:
        try:
            while True:
                socket.messages.append(json.loads(ws.recv(timeout=timeout)))
        except ConnectionClosed as closed:
            socket.code = closed.rcvd.code if closed.rcvd else None
            socket.reason = closed.rcvd.reason if closed.rcvd else ""
    return socket


def start_run(demo, studio=STUDIO):
    response = httpx.post(
        f"{demo['url']}/api/runs/", json={"job": "process_studio", "subject": studio}, headers=demo["auth"], timeout=30
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def logged_events(run_id):
    return [
        (f"run-{run_id}:{event.seq}", event.type, event.data)
        for event in RunEvent.objects.filter(run_id=run_id).order_by("seq")
    ]


def token_for(username, *permissions, **fields):
    user = get_user_model().objects.create_user(username, f"{username}@example.com", "pw-123456", **fields)
    user.user_permissions.add(*Permission.objects.filter(codename__in=permissions))
    return {"Authorization": f"Token {Token.objects.create(user=user).key}"}


def test_a_token_client_receives_the_whole_run_then_a_normal_close(demo):
    run_id = start_run(demo)
    socket = read_socket(ws_url(demo["url"], run_id), headers=demo["auth"])

    assert socket.code == 1000
    assert socket.types[-1] == "complete", "the socket ends after complete"
    assert Run.objects.get(pk=run_id).status == "succeeded"
    assert socket.events == logged_events(run_id), "every event of the log, in order, as stored"
    for message in socket.messages:
        assert set(message) == {"id", "event", "data"}
        assert set(message["data"]) == ENVELOPE_KEYS and message["data"]["type"] == message["event"]
        assert TIMESTAMP.match(message["data"]["timestamp"])
    complete = socket.messages[-1]["data"]["data"]
    assert complete["run_id"] == run_id and complete["status"] == "succeeded"


def test_the_socket_and_the_sse_stream_of_a_run_carry_the_same_events(demo):
    run_id = start_run(demo)
    streams = {}

    def watch_sse():
        streams["sse"] = read_stream("GET", f"{demo['url']}/api/runs/{run_id}/events/", headers=demo["auth"])

    sse = threading.Thread(target=watch_sse)
    sse.start()  # both watch the run live, from its first event
    socket = read_socket(ws_url(demo["url"], run_id), headers=demo["auth"])
    sse.join(timeout=120)

    assert socket.code == 1000
    assert streams["sse"].types[-1] == "complete"
    assert socket.events == streams["sse"].events
    assert socket.events == logged_events(run_id)


def test_resume_gets_exactly_the_events_after_the_given_id(demo):
    run_id = start_run(demo)
    full = read_socket(ws_url(demo["url"], run_id), headers=demo["auth"])
    assert full.code == 1000
    for cut in (1, len(full.events) // 2, len(full.events) - 1):
        last_id = full.events[cut - 1][0]
        resumed = read_socket(ws_url(demo["url"], run_id, f"last_event_id={last_id}"), headers=demo["auth"])
        assert resumed.events == full.events[cut:]
        assert resumed.code == 1000
    replay = read_socket(ws_url(demo["url"], run_id), headers=demo["auth"])
    assert replay.events == full.events, "without an id, a socket replays the run from its first event"


def test_resume_past_the_end_of_a_finished_run_is_told_it_finished(demo):
    run_id = start_run(demo)
    full = read_socket(ws_url(demo["url"], run_id), headers=demo["auth"])
    resumed = read_socket(
        ws_url(demo["url"], run_id, f"last_event_id={full.events[-1][0]}"), headers=demo["auth"], timeout=10
    )
    assert resumed.types == ["close"]
    close = resumed.messages[0]
    assert "id" not in close, "close is the socket's own message, not an event of the run"
    assert close["data"]["type"] == "close" and close["data"]["data"]["reason"] == "finished"
    assert resumed.code == 1000


def test_a_resume_while_the_run_goes_on_follows_it_live(demo, make_slow_studio):
    make_slow_studio("slow_socket", pages=4, delay=0.3)
    run_id = start_run(demo, "slow_socket")
    with connect(ws_url(demo["url"], run_id), additional_headers=demo["auth"]) as ws:
        seen = [json.loads(ws.recv(timeout=30)) for _ in range(2)]
    assert Run.objects.get(pk=run_id).is_active, "the run was still going when the client left"
    rest = read_socket(ws_url(demo["url"], run_id, f"last_event_id={seen[-1]['id']}"), headers=demo["auth"])
    assert rest.code == 1000 and rest.types[-1] == "complete"
    assert [message["id"] for message in seen] + [event_id for event_id, _type, _envelope in rest.events] == [
        event_id for event_id, _type, _envelope in logged_events(run_id)
    ]


@pytest.mark.parametrize(
    ("query", "bad"),
    [
        ("last_event_id=garbage", "garbage"),
        ("last_event_id=run-999999:3", "another run"),
        ("last_event_id=run-{run}:x", "no seq"),
    ],
)
def test_a_malformed_last_event_id_is_refused(demo, query, bad):
    run_id = start_run(demo)
    socket = read_socket(ws_url(demo["url"], run_id, query.format(run=run_id)), headers=demo["auth"])
    assert socket.error_code == "invalid_last_event_id", bad
    assert socket.code == 4400


def test_the_unauthorised_are_refused_with_a_reason_and_a_code(demo):
    run_id = start_run(demo)
    url = ws_url(demo["url"], run_id)
    cases = [
        ({}, "not_authenticated", 4401),
        ({"Authorization": "Token not-a-key"}, "invalid_token", 4401),
        ({"Authorization": "Bearer whatever"}, "invalid_token", 4401),
        (token_for("stranger", is_staff=True), "permission_denied", 4403),
    ]
    for headers, code, close_code in cases:
        socket = read_socket(url, headers=headers)
        assert (socket.error_code, socket.code) == (code, close_code), headers
        message = socket.messages[0]["data"]["error"]["message"]
        assert message and "not-a-key" not in message

    unknown = read_socket(ws_url(demo["url"], 999999), headers=demo["auth"])
    assert (unknown.error_code, unknown.code) == ("run_not_found", 4404)

    viewer = read_socket(url, headers=token_for("viewer", "view_run"))
    assert viewer.code == 1000 and viewer.types[-1] == "complete", "view_run is all a watcher needs"


def test_a_url_that_is_not_a_run_socket_is_rejected_at_the_handshake(demo):
    with pytest.raises(InvalidStatus) as rejected:
        connect(demo["url"].replace("http://", "ws://") + "/ws/runs/nope/", additional_headers=demo["auth"])
    assert rejected.value.response.status_code == 403


def admin_session(demo):
    """The admin's session cookie, got by signing in on the admin's login page."""
    with httpx.Client(base_url=demo["url"], timeout=30) as client:
        client.get("/admin/login/")
        response = client.post(
            "/admin/login/",
            data={"username": "admin", "password": "admin-password", "next": "/admin/"},
            headers={"X-CSRFToken": client.cookies["csrftoken"], "Referer": f"{demo['url']}/admin/login/"},
        )
        assert response.status_code == 302, response.text
        return f"sessionid={client.cookies['sessionid']}"


def test_the_admins_session_is_admitted_from_its_own_site_only(demo):
    run_id = start_run(demo)
    url = ws_url(demo["url"], run_id)
    cookie = {"Cookie": admin_session(demo)}

    own_site = read_socket(url, headers=cookie, origin=demo["url"])
    assert own_site.code == 1000 and own_site.types[-1] == "complete"
    assert own_site.events == logged_events(run_id)

    for origin in (
        "http://evil.example",
        demo["url"].replace("127.0.0.1", "localhost"),
        demo["url"].replace("http:", "https:"),
    ):
        foreign = read_socket(url, headers=cookie, origin=origin)
        assert (foreign.error_code, foreign.code) == ("cross_site_refused", 4403), origin
    without_origin = read_socket(url, headers=cookie)
    assert (without_origin.error_code, without_origin.code) == ("cross_site_refused", 4403)


def test_stream_max_per_user_counts_sockets(demo, make_daphne, make_slow_studio):
    server = make_daphne(STREAM_MAX_PER_USER="1")
    make_slow_studio("slow_limit", pages=6, delay=0.5)
    run_id = start_run({**demo, "url": server.url}, "slow_limit")
    url = ws_url(server.url, run_id)
    with connect(url, additional_headers=demo["auth"]) as first:
        assert json.loads(first.recv(timeout=30))["id"] == f"run-{run_id}:1"
        second = read_socket(url, headers=demo["auth"])
        assert (second.error_code, second.code) == ("too_many_streams", 4429)
        sse = read_stream("GET", f"{server.url}/api/runs/{run_id}/events/", headers=demo["auth"])
        assert sse.status == 429, "one limit for sockets and SSE streams together"
    # The first socket's slot is given back when it closes (as soon as the server hears of it).
    deadline = time.monotonic() + 5
    while (again := read_socket(url, headers=demo["auth"])).code == 4429 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert again.code == 1000 and again.types[-1] == "complete"
