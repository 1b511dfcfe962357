"""Bad requests to the streaming endpoints get their documented 4xx JSON error and start no run."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from streaming.models import Run
from studios.models import Studio

REFRESH = "/api/streaming/refresh-workshops"
PROCESS = "/api/streaming/process-studio"


@pytest.fixture
def studio(db):
    return Studio.objects.create(studio_id="dance_n_addiction", name="Dance N Addiction", website="http://127.0.0.1:9/")


@pytest.fixture
def token(db):
    admin = get_user_model().objects.create_superuser("admin", "a@example.com", "pw-123456")
    return Token.objects.create(user=admin).key


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert Run.objects.count() == 0


def post(client, body, token=None, content_type="application/json", **extra):
    if token:
        extra["HTTP_AUTHORIZATION"] = f"Token {token}"
    return client.generic("POST", REFRESH, body, content_type=content_type, **extra)


def test_missing_studio_id(client, token, studio):
    assert_error(post(client, "{}", token), 400, "missing_studio_id")
    assert_error(client.get(PROCESS, HTTP_AUTHORIZATION=f"Token {token}"), 400, "missing_studio_id")


def test_unknown_studio_id(client, token, studio):
    assert_error(post(client, '{"studio_id": "nope"}', token), 404, "studio_not_found")
    assert_error(
        client.get(PROCESS, {"studio_id": "nope"}, HTTP_AUTHORIZATION=f"Token {token}"), 404, "studio_not_found"
    )
    assert_error(
        client.get(REFRESH, {"studio_id": "nope"}, HTTP_AUTHORIZATION=f"Token {token}"), 404, "studio_not_found"
    )


@pytest.mark.parametrize("studio_id", [12, ["dance_n_addiction"], {"id": 1}, True])
def test_studio_id_of_wrong_type(client, token, studio, studio_id):
    import json

    assert_error(post(client, json.dumps({"studio_id": studio_id}), token), 400, "invalid_studio_id")


def test_studio_id_too_long(client, token, studio):
    assert_error(post(client, '{"studio_id": "%s"}' % ("x" * 101), token), 400, "invalid_studio_id")


def test_all_with_no_active_studio(client, token, studio):
    studio.active = False
    studio.save()
    assert_error(post(client, '{"studio_id": "all"}', token), 404, "no_active_studios")


def test_process_studio_refuses_all(client, token, studio):
    assert_error(
        client.get(PROCESS, {"studio_id": "all"}, HTTP_AUTHORIZATION=f"Token {token}"), 400, "invalid_studio_id"
    )


@pytest.mark.parametrize("body", ['{"studio_id": ', "not json", "\xff\xfe", "[1, 2]", "null"])
def test_malformed_json(client, token, studio, body):
    assert_error(post(client, body.encode("latin-1"), token), 400, "invalid_json")


def test_wrong_content_type(client, token, studio):
    assert_error(
        post(client, "studio_id=dance_n_addiction", token, content_type="application/x-www-form-urlencoded"),
        415,
        "unsupported_media_type",
    )


def test_body_too_large(client, token, studio):
    body = '{"studio_id": "dance_n_addiction", "pad": "%s"}' % ("x" * 70_000)
    assert_error(post(client, body, token), 413, "body_too_large")


def test_no_token(client, studio):
    assert_error(post(client, '{"studio_id": "dance_n_addiction"}'), 401, "not_authenticated")
    assert_error(client.get(PROCESS, {"studio_id": "dance_n_addiction"}), 401, "not_authenticated")


@pytest.mark.parametrize("header", ["Token wrong-token", "Token", "Bearer abc", "Token a b"])
def test_wrong_token(client, studio, token, header):
    response = client.generic(
        "POST",
        REFRESH,
        '{"studio_id": "dance_n_addiction"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=header,
    )
    assert_error(response, 401, "invalid_token")


def test_token_of_a_deactivated_user(client, studio):
    user = get_user_model().objects.create_superuser("gone", "g@example.com", "pw-123456")
    key = Token.objects.create(user=user).key
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    response = post(client, '{"studio_id": "dance_n_addiction"}', key)
    assert_error(response, 401, "invalid_token")
    assert response.json()["error"]["message"] == "User inactive or deleted."
    assert not Run.objects.exists()


def test_non_staff_user_cannot_start(client, studio):
    user = get_user_model().objects.create_user("reader", "r@example.com", "pw-123456")
    key = Token.objects.create(user=user).key
    assert_error(post(client, '{"studio_id": "dance_n_addiction"}', key), 403, "permission_denied")


def test_wrong_method(client, token, studio):
    response = client.put(
        REFRESH,
        '{"studio_id": "dance_n_addiction"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token}",
    )
    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET, POST"
    assert_error(client.post(PROCESS, HTTP_AUTHORIZATION=f"Token {token}"), 405, "method_not_allowed")


def test_session_start_from_cross_site_page_is_refused(client, studio):
    admin = get_user_model().objects.create_superuser("admin", "a@example.com", "pw-123456")
    client.force_login(admin)
    response = client.get(PROCESS, {"studio_id": "dance_n_addiction"}, HTTP_SEC_FETCH_SITE="cross-site")
    assert_error(response, 403, "cross_site_refused")
    response = client.get(PROCESS, {"studio_id": "dance_n_addiction"}, HTTP_ORIGIN="https://evil.example")
    assert_error(response, 403, "cross_site_refused")


def test_session_post_needs_csrf_token(studio):
    from django.test import Client

    admin = get_user_model().objects.create_superuser("admin", "a@example.com", "pw-123456")
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    assert_error(post(client, '{"studio_id": "dance_n_addiction"}'), 403, "csrf_failed")


def test_every_streaming_401_carries_the_token_challenge(client, studio):
    responses = [
        post(client, '{"studio_id": "dance_n_addiction"}'),
        client.get(PROCESS, {"studio_id": "dance_n_addiction"}),
        client.get("/api/runs/1/events/"),
        post(client, '{"studio_id": "dance_n_addiction"}', "not-a-token"),
    ]
    for response in responses:
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"


def test_unknown_run_events(client, token):
    assert_error(client.get("/api/runs/999/events/", HTTP_AUTHORIZATION=f"Token {token}"), 404, "run_not_found")


def test_run_events_need_permission(client, db):
    user = get_user_model().objects.create_user("reader", "r@example.com", "pw-123456")
    key = Token.objects.create(user=user).key
    assert_error(client.get("/api/runs/1/events/", HTTP_AUTHORIZATION=f"Token {key}"), 403, "permission_denied")
    assert_error(client.get("/api/runs/1/events/"), 401, "not_authenticated")


def test_empty_studio_id(client, token, studio):
    assert_error(post(client, '{"studio_id": ""}', token), 400, "missing_studio_id")
    assert_error(client.get(PROCESS, {"studio_id": ""}, HTTP_AUTHORIZATION=f"Token {token}"), 400, "missing_studio_id")


def test_session_post_from_cross_site_page_is_refused_even_with_a_csrf_token(studio):
    from django.test import Client

    admin = get_user_model().objects.create_superuser("admin", "a@example.com", "pw-123456")
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    client.get("/streaming/test-client/")  # sets the csrftoken cookie, as the page would
    csrf = client.cookies["csrftoken"].value
    for headers in ({"HTTP_ORIGIN": "https://evil.example"}, {"HTTP_SEC_FETCH_SITE": "cross-site"}):
        response = post(client, '{"studio_id": "dance_n_addiction"}', HTTP_X_CSRFTOKEN=csrf, **headers)
        assert_error(response, 403, "cross_site_refused")


def test_viewer_may_watch_runs_but_not_start_them(client, studio):
    from django.contrib.auth.models import Permission

    viewer = get_user_model().objects.create_user("viewer", "v@example.com", "pw-123456")
    viewer.user_permissions.add(Permission.objects.get(codename="view_run"))
    key = Token.objects.create(user=viewer).key
    assert_error(post(client, '{"studio_id": "dance_n_addiction"}', key), 403, "permission_denied")
    assert_error(
        client.get(PROCESS, {"studio_id": "dance_n_addiction"}, HTTP_AUTHORIZATION=f"Token {key}"),
        403,
        "permission_denied",
    )
