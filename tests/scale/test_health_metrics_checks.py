"""/readyz, /metrics access, and the checks of the scale settings, without services."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token

from streaming.checks import check_settings


def ids(errors):
    return [error.id for error in errors]


def test_rq_without_redis_is_named(settings):
    settings.TASKS_BACKEND = "rq"
    settings.REDIS_URL = ""
    assert "streaming.E004" in ids(check_settings())
    settings.REDIS_URL = "redis://127.0.0.1:6379/5"
    assert "streaming.E004" not in ids(check_settings())


@pytest.mark.parametrize("entry", ["1.2.3.x", "10.0.0.0/33", "localhost"])
def test_malformed_metrics_addresses_are_named(settings, entry):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1", entry]
    errors = [error for error in check_settings() if error.id == "streaming.E005"]
    assert len(errors) == 1 and repr(entry) in errors[0].msg


def test_good_metrics_addresses_pass(settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1", "10.0.0.0/8", "::1"]
    assert ids(check_settings()) == []


@pytest.mark.django_db
def test_readyz_answers_ok_with_the_database(client):
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "checks": {"database": "ok"}}


@pytest.mark.django_db
def test_readyz_names_redis_when_it_is_configured_and_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["failing"] == ["redis"]


@pytest.mark.django_db
def test_metrics_need_a_watcher_or_an_allowed_address(client, settings):
    assert client.get("/metrics").status_code == 401
    user = get_user_model().objects.create_user("plain", password="pw")
    token = Token.objects.create(user=user)
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_run"))
    answer = client.get("/metrics", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert answer.status_code == 200 and "studios_streams_open" in answer.content.decode()
    settings.METRICS_ALLOWED_IPS = ["127.0.0.0/8"]
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 401
