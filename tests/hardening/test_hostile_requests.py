"""Hostile input to every endpoint gets a 4xx JSON error or its normal answer, never a 500."""

from types import SimpleNamespace

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework.authtoken.models import Token

from streaming.consumers import RunEventsConsumer
from streaming.models import Run
from studios.models import Artist, CalendarFeedKey, Studio
from tests.live.sse import run_apart

REFRESH = "/api/streaming/refresh-workshops"
PROCESS = "/api/streaming/process-studio"
NESTED = "[" * 1000 + "]" * 1000
NESTED_OBJECT = '{"studio_id": ' + "[" * 1000 + "]" * 1000 + "}"
LONE_SURROGATE = '{"studio_id": "\\ud800"}'


def make_user(username, superuser=False):
    user = get_user_model().objects.create_user(username, f"{username}@example.com", "pw-123456")
    user.is_staff = user.is_superuser = superuser
    user.save()
    return Token.objects.create(user=user).key


@pytest.fixture
def admin_token(db):
    return make_user("admin", superuser=True)


@pytest.fixture
def nobody_token(db):
    return make_user("nobody")


@pytest.fixture
def studio(db):
    return Studio.objects.create(studio_id="dance_n_addiction", name="Dance N Addiction", website="http://127.0.0.1:9/")


def send(client, method, path, body, token):
    return client.generic(method, path, body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}")


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == code


JSON_ENDPOINTS = [
    ("POST", REFRESH),
    ("POST", "/api/runs/"),
    ("POST", "/api/studios/"),
    ("PATCH", "/api/studios/dance_n_addiction/"),
    ("POST", "/api/artists/"),
]


@pytest.mark.parametrize("method, path", JSON_ENDPOINTS)
@pytest.mark.parametrize("body", [NESTED, NESTED_OBJECT])
def test_deeply_nested_json_is_invalid_json(client, admin_token, studio, method, path, body):
    assert_error(send(client, method, path, body, admin_token), 400, "invalid_json")
    assert Run.objects.count() == 0


@pytest.mark.parametrize("method, path", JSON_ENDPOINTS)
def test_a_user_without_permission_is_refused_before_the_body_is_read(client, nobody_token, studio, method, path):
    assert_error(send(client, method, path, NESTED, nobody_token), 403, "permission_denied")


def test_lone_surrogate_in_studio_id(client, admin_token, studio):
    assert_error(send(client, "POST", REFRESH, LONE_SURROGATE, admin_token), 400, "invalid_studio_id")
    assert Run.objects.count() == 0


@pytest.mark.parametrize(
    "method, path, data",
    [
        ("GET", PROCESS, {"studio_id": "dance\x00n_addiction"}),
        ("GET", REFRESH, {"studio_id": "a\x00b"}),
        ("POST", REFRESH, '{"studio_id": "a\\u0000b"}'),
    ],
)
def test_nul_in_studio_id_is_invalid(client, admin_token, studio, method, path, data):
    # PostgreSQL cannot hold NUL in text (it answered 500 there); SQLite can, so say it on every database.
    if method == "GET":
        response = client.get(path, data, HTTP_AUTHORIZATION=f"Token {admin_token}")
    else:
        response = send(client, method, path, data, admin_token)
    assert_error(response, 400, "invalid_studio_id")
    assert Run.objects.count() == 0


def test_nul_in_an_artist_id_or_a_feed_key_finds_nothing(client, admin_token):
    # PostgreSQL answered 500 on looking them up. SQLite can hold NUL, so there they are stored, to
    # show that they are not looked up at all.
    if connection.vendor == "sqlite":
        Artist.objects.create(artist_id="a\x00b", name="A")
        CalendarFeedKey.objects.create(user=get_user_model().objects.get(username="admin"), key="a\x00b")
    auth = {"HTTP_AUTHORIZATION": f"Token {admin_token}"}
    assert_error(client.get("/api/artists/a%00b/", **auth), 404, "artist_not_found")
    assert_error(client.get("/api/workshops.ics", {"key": "a\x00b"}), 401, "invalid_feed_key")


@pytest.mark.parametrize(
    "path",
    [
        "/admin/streaming/run/?status__exact=a%00b",
        "/admin/streaming/run/?subject=a%00b",
        "/admin/studios/workshop/?event_type__exact=a%00b",
        "/admin/studios/webhookdelivery/?status__exact=a%00b",
        "/admin/auth/user/?username=a%00b",
    ],
)
def test_nul_in_an_admin_query_is_refused(admin_client, path):
    # Admin list filters pass values to the database as sent: on PostgreSQL these answered 500.
    response = admin_client.get(path)
    assert response.status_code == 400
    assert b"NUL" in response.content
    assert admin_client.get(path.replace("%00", "")).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_REFERER": "http://["},
        {"HTTP_ORIGIN": "http://[::1"},
        {"HTTP_ORIGIN": "http://testserver", "HTTP_REFERER": "http://[::1/page"},
    ],
)
@pytest.mark.parametrize("path", [PROCESS, REFRESH])
def test_a_malformed_origin_or_referer_on_a_session_request_is_cross_site(admin_client, studio, path, headers):
    response = admin_client.get(path, {"studio_id": studio.studio_id}, **headers)
    assert_error(response, 403, "cross_site_refused")
    assert Run.objects.count() == 0


@pytest.mark.parametrize("origin", [b"http://[::1", b"http://["])
def test_a_socket_with_a_malformed_origin_is_refused_as_cross_site(origin):
    async def signed_in(scope, receive, send):
        scope = {**scope, "user": SimpleNamespace(is_authenticated=True), "url_route": {"kwargs": {"run_id": 1}}}
        return await RunEventsConsumer.as_asgi()(scope, receive, send)

    async def open_socket():
        headers = [(b"host", b"testserver"), (b"origin", origin)]
        communicator = WebsocketCommunicator(signed_in, "/ws/runs/1/", headers=headers)
        assert (await communicator.connect())[0]
        message = await communicator.receive_json_from()
        closed = await communicator.receive_output()
        await communicator.wait()
        return message, closed

    message, closed = run_apart(open_socket())
    assert message["data"]["error"]["code"] == "cross_site_refused"
    assert closed == {"type": "websocket.close", "code": 4403}


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/runs/", '{"job": "process_studio", "subject": "\\ud800"}'),
        ("/api/studios/", '{"studio_id": "x", "name": "\\udfff", "website": "http://example.com/"}'),
        ("/api/artists/", '{"artist_id": "a\\ud800", "name": "A"}'),
    ],
)
def test_lone_surrogate_in_rest_text_fields(client, admin_token, studio, path, body):
    response = send(client, "POST", path, body, admin_token)
    assert_error(response, 400, "invalid")
    assert response.json()["error"]["fields"]


@pytest.mark.parametrize("seq", ["²", "٣", "1²", "9" * 5000, "-1", " 1"])
def test_odd_last_event_ids_are_refused_on_the_events_endpoint(client, admin_token, seq):
    run = Run.objects.create(job="process_studio", subject="x", status="succeeded")
    response = client.get(
        f"/api/runs/{run.pk}/events/",
        HTTP_AUTHORIZATION=f"Token {admin_token}",
        HTTP_LAST_EVENT_ID=f"run-{run.pk}:{seq}",
    )
    assert_error(response, 400, "invalid_last_event_id")
    response = client.get(
        f"/api/runs/{run.pk}/events/", {"lastEventId": f"run-{run.pk}:{seq}"}, HTTP_AUTHORIZATION=f"Token {admin_token}"
    )
    assert_error(response, 400, "invalid_last_event_id")


@pytest.mark.parametrize("last_id", ["run-²:1", "run-1:²", "run-٣:٣", f"run-{'9' * 5000}:1", "::", "run-1:1,run-x"])
def test_odd_last_event_ids_on_a_start_endpoint_resume_nothing(client, admin_token, studio, last_id):
    older = Run.objects.create(job="process_studio", subject=studio.studio_id, status="succeeded")
    response = client.get(
        PROCESS, {"studio_id": studio.studio_id}, HTTP_AUTHORIZATION=f"Token {admin_token}", HTTP_LAST_EVENT_ID=last_id
    )
    assert response.status_code == 200
    assert response["X-Run-Id"] != str(older.pk), "an id that names no run cannot resume one"
    response.close()


@pytest.mark.parametrize("ids", ["²", "٣,1", "9" * 5000])
def test_odd_ids_on_the_admin_watch_page(admin_client, ids):
    assert admin_client.get("/admin/streaming/run/watch/", {"ids": ids}).status_code == 200
