import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from studios.demo.loader import load_demo
from studios.models import Studio
from tests.live.server import DaphneServer, database_url
from tests.sites import LocalSite, Response


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


@pytest.fixture
def site():
    """A local web site on 127.0.0.1 whose pages and faults a test sets up."""
    local = LocalSite()
    yield local
    local.close()


@pytest.fixture
def make_slow_studio(transactional_db):
    """Studios whose workshop pages each take `delay` seconds, read one at a time: runs long enough to watch."""
    sites = []

    def make(studio_id, pages=8, delay=0.4):
        site = slow_workshop_site(studio_id, pages, delay)
        sites.append(site)
        return Studio.objects.create(
            studio_id=studio_id,
            name=studio_id.replace("_", " ").title(),
            website=site.url("/"),
            link_pattern=r"/workshops/",
            concurrency=1,
        )

    make.sites = sites
    yield make
    for site in sites:
        site.close()


def slow_workshop_site(studio_id, pages, delay):
    """A local site whose home page links `pages` workshop pages, each answering after `delay` seconds."""
    site = LocalSite()
    links = []
    for number in range(1, pages + 1):
        path = f"/workshops/slow-{number}/"
        site.add(path, Response(SLOW_EVENT_PAGE.format(number=number, studio_id=studio_id), delay=delay))
        links.append(f'<a href="{path}">Workshop {number}</a>')
    site.add("/", "<html><body>" + "".join(links) + "</body></html>")
    return site


SLOW_EVENT_PAGE = """<html><head><script type="application/ld+json">
{{"@context": "https://schema.org", "@type": "DanceEvent", "name": "{studio_id} workshop {number}",
  "startDate": "2099-01-{number:02d}T18:00:00+05:30", "endDate": "2099-01-{number:02d}T20:00:00+05:30",
  "workPerformed": {{"@type": "CreativeWork", "name": "Song {number}"}}}}
</script></head><body><h1>Workshop {number}</h1></body></html>"""


@pytest.fixture
def make_daphne(daphne_server, tmp_path):
    """More daphne servers on the same test database, with their own settings (e.g. STREAM_TIMEOUT)."""
    servers = []

    def make(**env):
        log = tmp_path / f"daphne-{len(servers)}.log"
        server = DaphneServer({"DATABASE_URL": daphne_server.env["DATABASE_URL"], **env}, log).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
