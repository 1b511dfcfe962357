import os

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from studios.demo.loader import load_demo
from tests.live.server import DaphneServer, database_url

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def skip_or_fail(reason):
    """A missing service skips the test on a developer's machine and fails it where CI requires it."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def daphne_server(django_db_setup, django_db_blocker, tmp_path_factory):
    """daphne serving the app on a free port, against the test database."""
    from django.db import connection

    with django_db_blocker.unblock():
        url = database_url(connection.settings_dict)
    server = DaphneServer({"DATABASE_URL": url}, tmp_path_factory.mktemp("daphne") / "daphne.log").start()
    yield server
    server.stop()


@pytest.fixture
def demo(daphne_server, transactional_db):
    """The demo catalogue, its websites served by the live server, and a staff token."""
    load_demo(base_url=daphne_server.url)
    admin = get_user_model().objects.create_superuser("admin", "admin@example.com", "admin-password")
    token = Token.objects.create(user=admin)
    return {"url": daphne_server.url, "token": token.key, "auth": {"Authorization": f"Token {token.key}"}}
