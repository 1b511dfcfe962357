"""The refresh scheduler inside the server processes, as deployed: every server looks for due studios."""

import time

import pytest

from .server import DaphneServer, manage

pytestmark = [pytest.mark.live]

EVENT_PAGE = """<html><head><script type="application/ld+json">{"@context": "https://schema.org", "@type": "DanceEvent",
"name": "Scheduled workshop", "startDate": "2031-05-04T18:30:00+05:30"}</script></head><body>Workshop</body></html>"""

# A studio on a 6-hour schedule whose due time passed ten minutes ago.
MAKE_DUE_STUDIO = """
from datetime import timedelta
from django.utils import timezone
from studios.models import Studio
studio = Studio.objects.create(
    studio_id="timely", name="Timely", website="{url}", link_pattern="/workshops/", refresh_every_hours=6
)
Studio.objects.filter(pk=studio.pk).update(next_refresh_at=timezone.now() - timedelta(minutes=10))
"""
INTERVAL = 0.2


def scheduled_runs(database_url):
    import psycopg

    with psycopg.connect(database_url) as db:
        return db.execute(
            "SELECT id, status, subject FROM streaming_run WHERE job = 'process_studio' AND trigger = 'schedule'"
        ).fetchall()


def test_two_servers_with_their_schedulers_on_one_database_fire_a_due_studio_once(postgres_database, site, tmp_path):
    site.add("/workshops/one/", EVENT_PAGE)
    site.add("/", '<a href="/workshops/one/">one</a>')
    env = {"DATABASE_URL": postgres_database, "SCHEDULER_IN_PROCESS": "1", "SCHEDULER_INTERVAL": str(INTERVAL)}
    servers = [DaphneServer(env, tmp_path / f"daphne-{n}.log") for n in range(2)]
    manage(servers[0].env, "migrate", "--noinput")
    try:
        for server in servers:
            server.start()
        # Both schedulers are looking, every INTERVAL seconds, when the studio falls due.
        manage(servers[0].env, "shell", "-c", MAKE_DUE_STUDIO.format(url=site.url("/")))
        deadline = time.monotonic() + 60
        while not ((runs := scheduled_runs(postgres_database)) and runs[0][1] == "succeeded"):
            assert time.monotonic() < deadline, f"no scheduled run succeeded: {runs}"
            time.sleep(0.1)
        # Each scheduler looks a dozen times more: the due time was claimed once, for good.
        time.sleep(INTERVAL * 12)
        assert [(status, subject) for _id, status, subject in scheduled_runs(postgres_database)] == [
            ("succeeded", "timely")
        ]
        assert site.hits["/workshops/one/"] == 1
        assert all(server.process.poll() is None for server in servers), "both servers still serving"
    finally:
        for server in servers:
            server.stop()
