"""One rule for watching, starting and cancelling runs on every path; session callers from other
sites refused; a per-user bound on open streams."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token

from streaming.models import Run, RunStatus
from studios.models import Studio

PROCESS = "/api/streaming/process-studio"


def make_user(username, *perms):
    user = get_user_model().objects.create_user(username, f"{username}@example.com", "pw-123456")
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=user).key}"}


# Closing a stream ends its request, which closes the database connection: these tests need
# real transactions, not one rolled back at the end.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def studio():
    return Studio.objects.create(studio_id="quiet", name="Quiet", website="http://127.0.0.1:9/")


def running_run(subject="elsewhere"):
    return Run.objects.create(job="process_studio", subject=subject, status=RunStatus.RUNNING)


def test_a_non_staff_operator_may_start_and_cancel_on_every_path(client, studio):
    operator = make_user("operator", "streaming.view_run", "streaming.add_run", "streaming.change_run")
    streamed = client.get(PROCESS, {"studio_id": studio.studio_id}, **operator)
    assert streamed.status_code == 200
    streamed.close()
    started = client.post(
        "/api/runs/",
        {"job": "process_studio", "subject": studio.studio_id},
        content_type="application/json",
        **operator,
    )
    assert started.status_code in (200, 201), started.content
    cancelled = client.post(f"/api/runs/{running_run().pk}/cancel/", **operator)
    assert cancelled.status_code == 202, cancelled.content


def test_a_watcher_may_watch_but_neither_start_nor_cancel(client, studio):
    watcher = make_user("watcher", "streaming.view_run")
    run = running_run()
    assert client.get("/api/runs/", **watcher).status_code == 200
    assert client.get(f"/api/runs/{run.pk}/", **watcher).status_code == 200
    stream = client.get(f"/api/runs/{run.pk}/events/", **watcher)
    assert stream.status_code == 200
    stream.close()
    for response in (
        client.get(PROCESS, {"studio_id": studio.studio_id}, **watcher),
        client.post(
            "/api/runs/",
            {"job": "process_studio", "subject": studio.studio_id},
            content_type="application/json",
            **watcher,
        ),
        client.post(f"/api/runs/{run.pk}/cancel/", **watcher),
    ):
        assert response.status_code == 403, response.content
        assert response.json()["error"]["code"] == "permission_denied"
    assert Run.objects.count() == 1


def test_starting_without_the_view_permission_is_refused_on_every_path(client, studio):
    blind = make_user("blind", "streaming.add_run", "streaming.change_run")
    for response in (
        client.get(PROCESS, {"studio_id": studio.studio_id}, **blind),
        client.post(
            "/api/runs/",
            {"job": "process_studio", "subject": studio.studio_id},
            content_type="application/json",
            **blind,
        ),
        client.post(f"/api/runs/{running_run().pk}/cancel/", **blind),
    ):
        assert response.status_code == 403, response.content
    assert not Run.objects.filter(subject=studio.studio_id).exists()


@pytest.mark.parametrize(
    "referer", ["https://evil.example/page", "http://testserver.evil.example/", "https://testserver/"]
)
def test_a_session_get_with_a_foreign_referer_starts_nothing(admin_client, studio, referer):
    response = admin_client.get(PROCESS, {"studio_id": studio.studio_id}, HTTP_REFERER=referer)
    assert response.status_code == 403, response.content
    assert response.json()["error"]["code"] == "cross_site_refused"
    assert Run.objects.count() == 0


def test_a_session_get_from_this_site_starts(admin_client, studio):
    response = admin_client.get(PROCESS, {"studio_id": studio.studio_id}, HTTP_REFERER="http://testserver/admin/")
    assert response.status_code == 200
    response.close()


def test_streams_per_user_are_bounded(client, settings):
    settings.STREAM_MAX_PER_USER = 2
    viewer = make_user("viewer", "streaming.view_run")
    other = make_user("other", "streaming.view_run")
    run = running_run()
    url = f"/api/runs/{run.pk}/events/"
    first, second = client.get(url, **viewer), client.get(url, **viewer)
    assert first.status_code == second.status_code == 200
    refused = client.get(url, **viewer)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_streams"
    assert refused["Retry-After"]
    others = client.get(url, **other)
    assert others.status_code == 200, "the bound is per user"
    first.close()
    again = client.get(url, **viewer)
    assert again.status_code == 200, "a closed stream gives its slot back"
    for response in (second, others, again):
        response.close()


def test_a_user_at_the_bound_starts_no_run(client, settings, studio):
    settings.STREAM_MAX_PER_USER = 1
    operator = make_user("operator", "streaming.view_run", "streaming.add_run")
    held = client.get(f"/api/runs/{running_run().pk}/events/", **operator)
    refused = client.get(PROCESS, {"studio_id": studio.studio_id}, **operator)
    assert refused.status_code == 429
    assert not Run.objects.filter(subject=studio.studio_id).exists()
    held.close()


@pytest.mark.parametrize(
    ("scope", "proxy_header", "scheme"),
    [
        ({}, None, "http"),  # daphne's WebSocket scopes carry no scheme: ASGI then means ws
        ({"scheme": "ws"}, None, "http"),
        ({"scheme": "wss"}, None, "https"),
        ({"headers": [(b"x-forwarded-proto", b"https")]}, None, "http"),  # a header nobody said to trust
        ({"headers": [(b"x-forwarded-proto", b"https")]}, ("HTTP_X_FORWARDED_PROTO", "https"), "https"),
        ({"scheme": "wss", "headers": [(b"x-forwarded-proto", b"http")]}, ("HTTP_X_FORWARDED_PROTO", "https"), "http"),
        ({"scheme": "wss"}, ("HTTP_X_FORWARDED_PROTO", "https"), "https"),
    ],
)
def test_sockets_judge_a_sessions_origin_by_the_scheme_django_would_see(settings, scope, proxy_header, scheme):
    from streaming.consumers import page_scheme

    settings.SECURE_PROXY_SSL_HEADER = proxy_header
    assert page_scheme(scope) == scheme
