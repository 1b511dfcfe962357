"""The deployment shape on real engines: two daphne servers and two RQ workers on PostgreSQL and
Redis, as real processes, with the faults of a deployment: a worker killed or stopped mid-run, a
cancel from another server, Redis restarting, a server killed while streaming."""

import signal
import time

import httpx
import pytest

from tests.conftest import slow_workshop_site
from tests.live.sse import StreamOnThread, read_stream
from tests.services import require_module

from .stack import Stack

pytestmark = [pytest.mark.live]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    require_module("psycopg")
    require_module("django_tasks_rq")
    deployment = Stack(tmp_path_factory.mktemp("stack"))
    deployment.token = (
        deployment.manage(
            "shell",
            "-c",
            "from django.contrib.auth import get_user_model; from rest_framework.authtoken.models import Token;"
            "u = get_user_model().objects.create_superuser('admin', 'a@example.com', 'pw');"
            "print(Token.objects.create(user=u).key)",
        )
        .strip()
        .splitlines()[-1]
    )
    deployment.auth = {"Authorization": f"Token {deployment.token}"}
    yield deployment
    deployment.close()


@pytest.fixture(autouse=True)
def time_limit():
    """A stuck run must fail its test, not hold the suite (a stream's reads each have their own timeout)."""

    def expire(signum, frame):
        raise TimeoutError("the test took over 180 s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(180)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture(autouse=True)
def two_workers(stack):
    """Each test starts with two live workers, whichever an earlier one killed or stopped."""
    while len(stack.live_workers()) < 2:
        stack.add_worker()


@pytest.fixture
def sites():
    made = []
    yield made
    for site in made:
        site.close()


def slow_studio(stack, sites, studio_id, pages, delay):
    site = slow_workshop_site(studio_id, pages, delay)
    sites.append(site)
    stack.manage(
        "shell",
        "-c",
        f"from studios.models import Studio; Studio.objects.create(studio_id={studio_id!r}, name={studio_id!r}, "
        f"website={site.url('/')!r}, link_pattern='/workshops/', concurrency=1)",
    )
    return site


def processed(count):
    return lambda events: any(t == "progress_bar" and e["data"]["current"] >= count for _i, t, e in events)


def start(stack, server, studio_id, stop_when):
    return read_stream(
        "POST",
        f"{server.url}/api/streaming/refresh-workshops",
        json={"studio_id": studio_id},
        headers=stack.auth,
        stop_when=stop_when,
    )


def create_run(stack, server, studio_id):
    answer = httpx.post(
        f"{server.url}/api/runs/", json={"job": "process_studio", "subject": studio_id}, headers=stack.auth, timeout=30
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def watch(stack, server, run_id):
    """A client on the run's stream from its start, held open on a thread."""
    return StreamOnThread("GET", f"{server.url}/api/runs/{run_id}/events/", headers=stack.auth)


def resume(stack, server, run_id, last_id):
    return read_stream(
        "GET", f"{server.url}/api/runs/{run_id}/events/", headers={**stack.auth, "Last-Event-ID": last_id}
    )


def log_lines(events, level=None):
    return [
        e["data"]["message"] for _i, t, e in events if t == "logs" and (level is None or e["data"]["level"] == level)
    ]


def done_links(stack, site, run_id):
    """The paths of the links the run had finished (kept, so never fetched again)."""
    rows = stack.sql("SELECT url FROM studios_processedlink WHERE run_id = %s", (run_id,))
    return {url.split(str(site.port), 1)[1] for (url,) in rows}


def refetched(site, done):
    """The done links that were fetched again."""
    return {path: site.hits[path] for path in done if site.hits[path] != 1}


def workshops(stack, studio_id):
    return sorted(
        row[0]
        for row in stack.sql(
            "SELECT w.title FROM studios_workshop w JOIN studios_studio s ON s.id = w.studio_id "
            "WHERE s.studio_id = %s AND NOT w.is_archived",
            (studio_id,),
        )
    )


def test_a_worker_killed_mid_run_is_resumed_by_the_other_and_the_stream_goes_on_via_the_other_server(stack, sites):
    pages = 8
    site = slow_studio(stack, sites, "rq_killed", pages, delay=0.5)
    first, second = stack.live_servers()[:2]
    before = start(stack, first, "rq_killed", processed(3))
    run_id = before.run_id
    holder = stack.holder(run_id)
    (survivor,) = [w for w in stack.live_workers() if w is not holder]
    holder.process.kill()  # SIGKILL: the run is left `running`, its heartbeat stops
    holder.process.wait()
    done = done_links(stack, site, run_id)
    assert len(done) >= 3

    after = resume(stack, second, run_id, before.events[-1][0])
    stored = stack.events(run_id)
    assert before.events + after.events == stored, "the stream via the other server goes on: no gap, no duplicate"
    assert after.of_type("complete")[0]["data"]["status"] == "succeeded"
    lines = log_lines(stored)
    assert f"Run {run_id} was interrupted: the process running it stopped" in lines
    assert any(line.startswith("Resuming: ") and "not fetched again" in line for line in lines)
    assert stack.live_workers() == [survivor], "no worker was added"
    assert survivor.executed(run_id), "the other worker resumed it"
    assert refetched(site, done) == {}, "links done before the kill were fetched again"
    assert workshops(stack, "rq_killed") == sorted(f"rq_killed workshop {n}" for n in range(1, pages + 1))


def test_a_worker_stopped_with_sigterm_hands_its_run_back_and_it_ends_succeeded(stack, sites):
    pages = 20
    site = slow_studio(stack, sites, "rq_stopped", pages, delay=0.4)
    first, second = stack.live_servers()[:2]
    before = start(stack, first, "rq_stopped", processed(3))
    run_id = before.run_id
    holder = stack.holder(run_id)
    (survivor,) = [w for w in stack.live_workers() if w is not holder]
    started = time.monotonic()
    holder.process.send_signal(signal.SIGTERM)
    holder.process.wait(timeout=30)
    assert time.monotonic() - started < 10, "the worker stopped between two links, not at the end of the run"

    after = resume(stack, second, run_id, before.events[-1][0])
    stored = stack.events(run_id)
    assert before.events + after.events == stored
    complete = after.of_type("complete")[0]["data"]
    assert complete["status"] == "succeeded"
    assert (complete["summary"]["links_processed"], complete["summary"]["links_failed"]) == (pages, 0)
    lines = log_lines(stored)
    stop_line = f"Run {run_id} was interrupted: its worker is stopping; another worker resumes it"
    assert stop_line in lines
    # The links done before the stop: the other worker may resume before this one has exited.
    done = {
        line.split(str(site.port), 1)[1].split(":", 1)[0]
        for line in lines[: lines.index(stop_line)]
        if "workshop (structured)" in line
    }
    assert 3 <= len(done) < pages
    assert f"Resuming run {run_id}" in lines
    assert stack.live_workers() == [survivor], "no worker was added"
    assert survivor.executed(run_id), "the other worker resumed it"
    assert log_lines(stored, "error") == [], "nothing failed because of the stop"
    assert [t for _i, t, _e in stored].count("complete") == 1
    assert refetched(site, done) == {}, "links done before the stop were fetched again"
    assert all(site.hits[f"/workshops/slow-{n}/"] <= 2 for n in range(1, pages + 1)), "only the page in flight again"
    assert workshops(stack, "rq_stopped") == sorted(f"rq_stopped workshop {n}" for n in range(1, pages + 1))


def test_a_cancel_through_one_server_reaches_the_run_in_whichever_worker_holds_it(stack, sites):
    slow_studio(stack, sites, "rq_cancelled", 20, delay=0.4)
    first, second = stack.live_servers()[:2]
    before = start(stack, first, "rq_cancelled", processed(2))
    answer = httpx.post(f"{second.url}/api/runs/{before.run_id}/cancel/", headers=stack.auth, timeout=30)
    assert answer.status_code in (200, 202), answer.text
    after = resume(stack, first, before.run_id, before.events[-1][0])
    assert after.of_type("complete")[0]["data"]["status"] == "cancelled"
    assert stack.status(before.run_id) == "cancelled"
    assert workshops(stack, "rq_cancelled") == []


def test_redis_restarting_mid_run_loses_no_event(stack, sites):
    pages = 12
    slow_studio(stack, sites, "rq_redis", pages, delay=0.4)
    servers = stack.live_servers()[:2]
    run_id = create_run(stack, servers[0], "rq_redis")
    clients = [watch(stack, server, run_id) for server in servers]
    for client in clients:
        client.wait_until(processed(2))
    stack.redis.stop()
    time.sleep(1.5)  # events published meanwhile reach the log only
    assert stack.sql("SELECT status FROM streaming_run WHERE id = %s", (run_id,)) == [("running",)], "still mid-run"
    stack.redis.start()
    for client in clients:
        client.join()
    stored = stack.events(run_id)
    assert stored[-1][1] == "complete" and stored[-1][2]["data"]["status"] == "succeeded"
    for server, client in zip(servers, clients, strict=True):
        assert client.error is None, f"the stream on {server.url} broke: {client.error!r}"
        assert client.events == stored, f"the stream on {server.url} caught up from the log: no gap, no duplicate"
    assert workshops(stack, "rq_redis") == sorted(f"rq_redis workshop {n}" for n in range(1, pages + 1))
    # The restarted Redis lost the workers' registrations: the workers still take runs.
    slow_studio(stack, sites, "rq_after_redis", 2, delay=0)
    again = start(stack, servers[0], "rq_after_redis", None)
    assert again.of_type("complete")[0]["data"]["status"] == "succeeded"


def test_a_server_killed_while_streaming_loses_its_clients_nothing(stack, sites):
    pages = 10
    slow_studio(stack, sites, "rq_server_killed", pages, delay=0.3)
    doomed = stack.add_server()
    survivor = stack.live_servers()[0]
    run_id = create_run(stack, survivor, "rq_server_killed")
    client = watch(stack, doomed, run_id)
    client.wait_until(processed(2))
    doomed.process.kill()  # SIGKILL while the client is connected
    doomed.process.wait()
    client.join()
    assert isinstance(client.error, httpx.TransportError), "the connection broke under the client"
    assert "complete" not in [t for _i, t, _e in client.events], "the server died mid-run"

    after = resume(stack, survivor, run_id, client.events[-1][0])
    assert client.events + after.events == stack.events(run_id), "no gap, no duplicate"
    assert after.of_type("complete")[0]["data"]["status"] == "succeeded"


def test_metrics_count_a_finished_run_for_a_user_who_may_view_runs(stack, sites):
    slow_studio(stack, sites, "rq_metrics", 2, delay=0)
    server = stack.live_servers()[0]
    done = start(stack, server, "rq_metrics", None)
    assert done.of_type("complete")[0]["data"]["status"] == "succeeded"
    assert stack.get(server, "/metrics").status_code == 401
    answer = stack.get(server, "/metrics", headers=stack.auth)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    succeeded = [
        line
        for line in answer.text.splitlines()
        if line.startswith('studios_runs{job="process_studio",status="succeeded"}')
    ]
    (count,) = (float(line.rsplit(" ", 1)[1]) for line in succeeded)
    (expected,) = stack.sql("SELECT count(*) FROM streaming_run WHERE status = 'succeeded'")[0]
    assert count == expected >= 1
    assert "studios_streams_open" in answer.text


def test_workers_serve_their_own_metrics(stack, sites):
    from tests.live.server import free_port

    port = free_port()
    worker = stack.add_worker(WORKER_METRICS_PORT=str(port))
    slow_studio(stack, sites, "rq_worker_metrics", 2, delay=0)
    server = stack.live_servers()[0]
    done = start(stack, server, "rq_worker_metrics", None)
    assert done.of_type("complete")[0]["data"]["status"] == "succeeded"
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    assert "studios_run_events_published_total" in text
    assert 'studios_runs{job="process_studio",status="succeeded"}' in text
    if worker.executed(done.run_id):
        assert 'studios_run_links_total{job="process_studio",outcome="fetched"} 2.0' in text


def test_readyz_names_what_is_unreachable(stack):
    server = stack.live_servers()[0]
    ready = stack.get(server, "/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}

    from tests.live.server import DaphneServer, free_port

    closed = f"postgres://postgres@127.0.0.1:{free_port()}/nowhere"
    cut_off = DaphneServer({**stack.env, "DATABASE_URL": closed}, stack.workdir / "cut-off.log").start()
    try:
        answer = stack.get(cut_off, "/readyz")
        assert answer.status_code == 503
        body = answer.json()
        assert body["failing"] == ["database"] and body["checks"]["redis"] == "ok"
        assert body["checks"]["database"].startswith("unreachable")
        assert stack.get(cut_off, "/healthz").status_code == 200, "up, but not ready"
    finally:
        cut_off.stop()


def test_readyz_answers_when_the_database_never_does(stack):
    """A database host that takes the connection and then says nothing (a dropped route, a hung
    server) fails the check after DATABASE_CONNECT_TIMEOUT instead of holding the request."""
    import socket

    from tests.live.server import DaphneServer

    silent = socket.create_server(("127.0.0.1", 0))  # the kernel accepts; nobody ever answers
    url = f"postgres://postgres@127.0.0.1:{silent.getsockname()[1]}/nowhere"
    server = DaphneServer(
        {**stack.env, "DATABASE_URL": url, "DATABASE_CONNECT_TIMEOUT": "1"}, stack.workdir / "silent.log"
    ).start()
    try:
        answer = stack.get(server, "/readyz")
        assert answer.status_code == 503
        assert answer.json()["failing"] == ["database"]
    finally:
        server.stop()
        silent.close()
