"""Runs over REST: start or join, list and filter, cancel; executed by the real thread-pool executor."""

import threading
import time

import pytest

from streaming import jobs
from streaming.models import Run, RunEvent, RunStatus
from studios.models import Studio, Workshop
from tests.runs import wait_for_run
from tests.sites import LocalSite, Response

from .conftest import assert_error

WAIT_JOB = "api_test_wait"

EVENT_PAGE = """<html><head><script type="application/ld+json">
{{"@context": "https://schema.org", "@type": "DanceEvent", "name": "Workshop {number}",
  "startDate": "2099-01-{number:02d}T18:00:00+05:30", "endDate": "2099-01-{number:02d}T20:00:00+05:30",
  "performer": {{"@type": "Person", "name": "Aadil Khan"}},
  "workPerformed": {{"@type": "CreativeWork", "name": "Song {number}"}}}}
</script></head><body><h1>Workshop {number}</h1></body></html>"""


def end_active_runs():
    for run in Run.objects.filter(status__in=["queued", "running"]):
        run.cancel_requested = True
        run.save(update_fields=["cancel_requested"])
        wait_for_run(run.pk)


@pytest.fixture
def runs_end(transactional_db):
    """Whatever a test leaves active is cancelled and waited for, so no worker outlives its data."""
    yield
    end_active_runs()


@pytest.fixture
def wait_job(runs_end):
    """A job that runs until it is cancelled (or 20 s pass)."""
    started = threading.Event()

    def job(run, reporter):
        reporter.log("info", "waiting")
        started.set()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if reporter.should_stop():
                return {}
            time.sleep(0.02)
        return {"waited": True}

    jobs.register_job(WAIT_JOB, job)
    yield started
    end_active_runs()  # before the job goes, or a run still queued would find no job
    jobs.unregister_job(WAIT_JOB)


def start(api, job=WAIT_JOB, subject="one"):
    return api.post("/api/runs/", {"job": job, "subject": subject}, format="json")


def test_start_then_join_the_active_run(admin_api, wait_job):
    first = start(admin_api)
    assert first.status_code == 201, first.content
    run = first.json()
    assert first["Location"] == run["url"] == f"http://testserver/api/runs/{run['id']}/"
    assert run["events_url"] == f"http://testserver/api/runs/{run['id']}/events/"
    assert run["job"] == WAIT_JOB and run["subject"] == "one" and run["requested_by"] == "admin"
    assert run["status"] in {"queued", "running"}
    assert wait_job.wait(10)

    joined = start(admin_api)
    assert joined.status_code == 200, "one active run per subject: the second request joins it"
    assert joined.json()["id"] == run["id"]
    other = start(admin_api, subject="two")
    assert other.status_code == 201 and other.json()["id"] != run["id"]
    assert Run.objects.count() == 2


def test_cancel_a_running_run(admin_api, wait_job):
    run_id = start(admin_api).json()["id"]
    assert wait_job.wait(10)
    wait_for_run(run_id, [RunStatus.RUNNING], timeout=10)

    response = admin_api.post(f"/api/runs/{run_id}/cancel/")
    assert response.status_code == 202, response.content
    assert response.json()["cancel_requested"] is True and response.json()["status"] == "running"

    run = wait_for_run(run_id)
    assert run.status == "cancelled" and run.finished_at is not None
    body = admin_api.get(f"/api/runs/{run_id}/").json()
    assert body["status"] == "cancelled" and body["finished_at"]
    assert RunEvent.objects.filter(run_id=run_id).last().type == "complete"
    assert_error(admin_api.post(f"/api/runs/{run_id}/cancel/"), 409, "run_not_active")


def test_cancel_a_queued_run_ends_it_at_once(admin_api, runs_end):
    run = Run.objects.create(job="process_studio", subject="nowhere")  # queued, never enqueued
    response = admin_api.post(f"/api/runs/{run.pk}/cancel/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    complete = RunEvent.objects.filter(run=run).last()
    assert complete.type == "complete" and complete.data["data"]["status"] == "cancelled"
    assert_error(admin_api.post(f"/api/runs/{run.pk}/cancel/"), 409, "run_not_active")
    assert_error(admin_api.post("/api/runs/987654/cancel/"), 404, "run_not_found")


def test_who_may_start_and_cancel(make_client, reader_api, wait_job):
    runner = make_client("runner", ["streaming.add_run", "streaming.view_run"], staff=True)
    viewer = make_client("viewer", ["streaming.view_run"], staff=True)
    assert_error(start(viewer), 403, "permission_denied")
    assert_error(start(reader_api), 403, "permission_denied")
    run_id = start(runner).json()["id"]
    assert_error(viewer.post(f"/api/runs/{run_id}/cancel/"), 403, "permission_denied")
    assert_error(reader_api.post(f"/api/runs/{run_id}/cancel/"), 403, "permission_denied")
    assert runner.post(f"/api/runs/{run_id}/cancel/").status_code in (200, 202), "who may start may cancel"
    assert wait_for_run(run_id).status == "cancelled"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"job": "no_such_job", "subject": "x"}, "job"),
        ({"subject": "dance_n_addiction"}, "job"),
        ({"job": "process_studio"}, "subject"),
        ({"job": "process_studio", "subject": ""}, "subject"),
        ({"job": "process_studio", "subject": "x" * 201}, "subject"),
        ({"job": "process_studio", "subject": "nope"}, "subject"),
        ({"job": "process_studio", "subject": "all"}, "subject"),  # no active studio
    ],
)
def test_start_validation(admin_api, db, body, field):
    Studio.objects.create(studio_id="inactive", name="Inactive", website="http://127.0.0.1:9/", active=False)
    error = assert_error(admin_api.post("/api/runs/", body, format="json"), 400, "invalid")
    assert list(error["fields"]) == [field]
    assert Run.objects.count() == 0


def test_list_and_filter_runs(admin_api, db):
    Run.objects.create(job="process_studio", subject="a", status=RunStatus.SUCCEEDED)
    Run.objects.create(job="process_studio", subject="b", status=RunStatus.FAILED, error="boom")
    Run.objects.create(job="other", subject="a", status=RunStatus.SUCCEEDED)

    def ids(query):
        response = admin_api.get("/api/runs/", query)
        assert response.status_code == 200, response.content
        return [(run["job"], run["subject"], run["status"]) for run in response.json()["results"]]

    assert ids({}) == [
        ("other", "a", "succeeded"),
        ("process_studio", "b", "failed"),
        ("process_studio", "a", "succeeded"),
    ]
    assert ids({"status": "failed"}) == [("process_studio", "b", "failed")]
    assert ids({"job": "process_studio", "subject": "a"}) == [("process_studio", "a", "succeeded")]
    assert ids({"subject": "zzz"}) == []
    error = assert_error(admin_api.get("/api/runs/", {"status": "exploded"}), 400, "invalid")
    assert list(error["fields"]) == ["status"]
    failed = Run.objects.get(status="failed")
    body = admin_api.get(f"/api/runs/{failed.pk}/").json()
    assert body["error"] == "boom" and body["summary"] == {} and body["percentage"] == 0.0


def test_a_process_studio_run_fills_the_catalogue(admin_api, runs_end, settings):
    settings.FETCH_ALLOW_PRIVATE = True
    settings.FETCH_RETRY_BACKOFF = 0.01
    site = LocalSite()
    try:
        links = []
        for number in (1, 2):
            site.add(f"/workshops/{number}/", EVENT_PAGE.format(number=number))
            links.append(f'<a href="/workshops/{number}/">Workshop {number}</a>')
        site.add("/", Response("<html><body>" + "".join(links) + "</body></html>", delay=0.3))
        Studio.objects.create(studio_id="local", name="Local", website=site.url("/"), link_pattern="/workshops/")
        from studios.models import Artist

        Artist.objects.create(artist_id="aadil.khan.dance", name="Aadil Khan")

        started = start(admin_api, job="process_studio", subject="local")
        assert started.status_code == 201, started.content
        assert start(admin_api, job="process_studio", subject="local").json()["id"] == started.json()["id"]
        run = wait_for_run(started.json()["id"])
    finally:
        site.close()
    assert run.status == "succeeded", run.error
    body = admin_api.get(f"/api/runs/{run.pk}/").json()
    assert body["percentage"] == 100.0 and body["summary"]["workshops_created"] == 2
    upcoming = admin_api.get("/api/workshops/", {"upcoming": "true", "studio": "local"}).json()["results"]
    assert [w["title"] or w["song"] for w in upcoming] and len(upcoming) == 2
    assert [w["sessions"][0]["date"] for w in upcoming] == ["2099-01-01", "2099-01-02"]
    assert [a["artist_id"] for w in upcoming for a in w["artists"]] == ["aadil.khan.dance"] * 2
    assert Workshop.objects.filter(studio__studio_id="local").count() == 2


def test_a_full_refresh_through_rest_reads_an_unchanged_site_again(admin_api, runs_end, settings):
    settings.FETCH_ALLOW_PRIVATE = True
    site = LocalSite()
    try:
        for number in (1, 2):
            site.add(f"/workshops/{number}/", Response(EVENT_PAGE.format(number=number), etag=f'"v{number}"'))
        site.add("/", '<a href="/workshops/1/">1</a> <a href="/workshops/2/">2</a>')
        Studio.objects.create(studio_id="local", name="Local", website=site.url("/"), link_pattern="/workshops/")

        def run(**body):
            started = admin_api.post("/api/runs/", {"job": "process_studio", "subject": "local", **body}, format="json")
            assert started.status_code == 201, started.content
            run = wait_for_run(started.json()["id"])
            assert run.status == "succeeded", run.error
            return admin_api.get(f"/api/runs/{run.pk}/").json()["summary"]

        assert run()["workshops_created"] == 2
        full = run(params={"full_refresh": True})
        assert (full["links_unchanged"], full["fetch"]["not_modified"], full["workshops_unchanged"]) == (0, 0, 2)
        assert sum(site.not_modified.values()) == 0, "every page read in full, none asked conditionally"
        assert run()["links_unchanged"] == 2, "without full_refresh the same site's pages are unchanged"
    finally:
        site.close()
