"""SIGKILL the server in the middle of a run: the run is resumed, nothing is lost or done twice."""

import pytest

from streaming.models import Run, RunEvent
from studios.models import ProcessedLink, Workshop
from studios.pipeline.process import process_studio
from tests.live.sse import read_stream, start_and_read_until_processed
from tests.pipeline.support import FakeReporter

pytestmark = [pytest.mark.live]

FAST_RECOVERY = {"RUN_HEARTBEAT_INTERVAL": "0.3", "RUN_HEARTBEAT_STALE_SECONDS": "2"}


def test_a_run_killed_mid_way_resumes_after_restart_without_refetching(demo, make_daphne, make_slow_studio):
    studio = make_slow_studio("crash_studio", pages=8, delay=0.5)
    site = make_slow_studio.sites[-1]
    first_server = make_daphne(**FAST_RECOVERY)
    before = start_and_read_until_processed(first_server.url, demo["auth"], studio.studio_id, links=3)
    first_server.process.kill()  # SIGKILL: no cleanup, the run is left "running"
    first_server.process.wait()
    run = Run.objects.get(pk=before.run_id)
    assert run.status == "running"
    done_at_kill = {row.url for row in ProcessedLink.objects.filter(run=run)}
    assert len(done_at_kill) >= 3
    hits_at_kill = dict(site.hits)

    second_server = make_daphne(**FAST_RECOVERY)
    after = read_stream(
        "GET",
        f"{second_server.url}/api/runs/{run.pk}/events/",
        headers={**demo["auth"], "Last-Event-ID": before.events[-1][0]},
    )

    stored = [(f"run-{run.pk}:{e.seq}", e.type, e.data) for e in RunEvent.objects.filter(run=run).order_by("seq")]
    assert before.events + after.events == stored, "the reconnected client sees the stream continue, nothing twice"
    messages = [envelope["data"].get("message") for _id, type_, envelope in stored if type_ == "logs"]
    assert f"Run {run.pk} was interrupted: the process running it stopped" in messages
    assert any(message.startswith("Resuming: ") for message in messages)
    run.refresh_from_db()
    assert run.status == "succeeded"

    for url in done_at_kill:
        path = url.split(str(site.port), 1)[1]
        assert site.hits[path] == hits_at_kill[path] == 1, f"{path} was fetched again after the restart"

    titles = sorted(Workshop.objects.filter(studio=studio, is_archived=False).values_list("title", flat=True))
    assert titles == sorted(f"crash_studio workshop {n}" for n in range(1, 9)), "no duplicates, nothing missing"
    assert run.summary["workshops_created"] == 8


def test_a_resumed_run_reads_kept_links_instead_of_fetching_them(demo, make_slow_studio, settings):
    settings.FETCH_ALLOW_PRIVATE = True
    studio = make_slow_studio("resume_studio", pages=4, delay=0)
    site = make_slow_studio.sites[-1]
    run = Run.objects.create(job="process_studio", subject=studio.studio_id, status="running")
    process_studio(studio, FakeReporter(), run=run)
    assert ProcessedLink.objects.filter(run=run).count() == 4
    first = sorted(Workshop.objects.filter(studio=studio).values_list("id", "title", "updated_at"))

    # The same run again, as after a restart: every link is read from what was kept.
    reporter = FakeReporter()
    hits = dict(site.hits)
    summary = process_studio(studio, reporter, run=run)
    assert "Resuming: 4 links done before the interruption, not fetched again" in reporter.messages("info")
    # Discovery (the start page, robots.txt, the sitemap) is done again; the links are not.
    discovery = {"/", "/robots.txt", "/sitemap.xml"}
    assert {path: count for path, count in site.hits.items() if path not in discovery} == {
        path: count for path, count in hits.items() if path not in discovery
    }
    assert summary["workshops_unchanged"] == 4
    assert sorted(Workshop.objects.filter(studio=studio).values_list("id", "title", "updated_at")) == first
