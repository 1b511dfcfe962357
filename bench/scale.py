"""Benchmark: runs executed by 1, 2 and 4 RQ workers, and watched by 100 clients over two servers.

    .venv/bin/python bench/scale.py [--studios 20] [--links 50] [--delay 0.1] [--clients 100]

Each pass starts a deployment of its own (tests/scale/stack.py): a fresh PostgreSQL database on
DATABASE_TEST_URL's server, a private redis-server, two daphne servers and N workers with
TASKS_BACKEND=rq. It serves `--studios` local studio sites of `--links` workshop pages, each page
answering after `--delay` seconds, read 5 at a time, starts every studio at once through the
REST API and times them to the last run's end. With watchers, each run is watched by
clients/studios clients from its start, alternating between the two servers; every event's
delivery delay is its arrival minus its envelope timestamp, and each client's events must equal
the run's log.
"""

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx
from httpx_sse import connect_sse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.scale.stack import Stack  # noqa: E402
from tests.sites import LocalSite, Response  # noqa: E402

SLOW_EVENT_PAGE = """<html><head><script type="application/ld+json">
{{"@context": "https://schema.org", "@type": "DanceEvent", "name": "{studio_id} workshop",
  "startDate": "2099-01-{number:02d}T18:00:00+05:30", "endDate": "2099-01-{number:02d}T20:00:00+05:30"}}
</script></head><body><h1>Workshop {number}</h1></body></html>"""


def make_sites(studios, links, delay):
    sites = []
    for index in range(studios):
        studio_id = f"bench_{index:02d}"
        site = LocalSite()
        anchors = []
        for number in range(1, links + 1):
            path = f"/workshops/w-{number}/"
            site.add(
                path,
                Response(
                    SLOW_EVENT_PAGE.format(number=(number - 1) % 28 + 1, studio_id=f"{studio_id} {number}"), delay=delay
                ),
            )
            anchors.append(f'<a href="{path}">Workshop {number}</a>')
        site.add("/", "<html><body>" + "".join(anchors) + "</body></html>")
        sites.append((studio_id, site))
    return sites


def watch(url, headers, out):
    """Read a run's stream to its end; out gets (id, type, envelope, arrival)."""
    with httpx.Client(timeout=300) as client, connect_sse(client, "GET", url, headers=dict(headers)) as source:
        for sse in source.iter_sse():
            if sse.event in ("stream-open", "keep-alive", "stream-reset"):
                continue
            out.append((sse.id, sse.event, json.loads(sse.data), time.time()))


def cpu_ticks():
    """(all, idle) ticks of every core since boot, from /proc/stat: their change over a pass says how
    busy the machine was, whoever used it (servers, workers, PostgreSQL, the sites)."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(values), values[3] + values[4]  # idle and iowait


def one_pass(workdir, sites, workers, clients, links):
    stack = Stack(workdir, servers=2, workers=workers, STREAM_MAX_PER_USER="500", MAX_LINKS_PER_RUN=str(links))
    try:
        creates = "".join(
            f"Studio.objects.create(studio_id={sid!r}, name={sid!r}, website={site.url('/')!r}, link_pattern='/workshops/', concurrency=5);"
            for sid, site in sites
        )
        token = stack.manage(
            "shell",
            "-c",
            "from django.contrib.auth import get_user_model; from rest_framework.authtoken.models import Token;"
            "from studios.models import Studio;"
            + creates
            + "u = get_user_model().objects.create_superuser('b', 'b@example.com', 'pw');"
            "print(Token.objects.create(user=u).key)",
        ).split()[-1]
        auth = {"Authorization": f"Token {token}"}
        servers = stack.live_servers()
        started, ticks_at_start = time.monotonic(), cpu_ticks()
        run_ids = []
        with httpx.Client(timeout=60) as client:
            for index, (sid, _site) in enumerate(sites):
                answer = client.post(
                    f"{servers[index % 2].url}/api/runs/", json={"job": "process_studio", "subject": sid}, headers=auth
                )
                answer.raise_for_status()
                run_ids.append(answer.json()["id"])
        streams, threads = [], []
        for n in range(clients):
            run_id = run_ids[n % len(run_ids)]
            events = []
            streams.append((run_id, events))
            thread = threading.Thread(
                target=watch, args=(f"{servers[n % 2].url}/api/runs/{run_id}/events/", auth, events), daemon=True
            )
            thread.start()
            threads.append(thread)
        while True:
            rows = stack.sql("SELECT count(*) FILTER (WHERE finished_at IS NULL), max(finished_at) FROM streaming_run")
            if rows[0][0] == 0:
                break
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        ticks, idle = (now - then for now, then in zip(cpu_ticks(), ticks_at_start, strict=True))
        statuses = dict(stack.sql("SELECT status, count(*) FROM streaming_run GROUP BY status"))
        for thread in threads:
            thread.join(timeout=120)
        result = {
            "workers": workers,
            "seconds": elapsed,
            "runs_per_minute": 60 * len(run_ids) / elapsed,
            "statuses": statuses,
            "cpu_busy_percent": 100 * (1 - idle / ticks),
        }
        if clients:
            delays, lost, complete = [], 0, 0
            logs = {
                run_id: [
                    (f"run-{run_id}:{s}", t)
                    for s, t in stack.sql(
                        "SELECT seq, type FROM streaming_runevent WHERE run_id = %s ORDER BY seq", (run_id,)
                    )
                ]
                for run_id in run_ids
            }
            for run_id, events in streams:
                got = [(event_id, type_) for event_id, type_, _env, _at in events]
                lost += got != logs[run_id]
                complete += bool(got) and got[-1][1] == "complete"
                for _id, _type, envelope, arrival in events:
                    sent = datetime.fromisoformat(envelope["timestamp"].replace("Z", "+00:00")).timestamp()
                    delays.append(max(arrival - sent, 0.0) * 1000)
            delays.sort()
            result.update(
                clients=clients,
                events=len(delays),
                clients_not_equal_to_log=lost,
                clients_complete=complete,
                p50_ms=statistics.median(delays),
                p99_ms=delays[int(0.99 * (len(delays) - 1))],
                max_ms=delays[-1],
            )
        return result
    finally:
        stack.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--studios", type=int, default=20)
    parser.add_argument("--links", type=int, default=50)
    parser.add_argument("--delay", type=float, default=0.1)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--watched-with", type=int, default=2, help="the pass (workers) whose runs the clients watch")
    args = parser.parse_args()
    sites = make_sites(args.studios, args.links, args.delay)
    results = []
    try:
        for workers in (int(n) for n in args.workers.split(",")):
            workdir = Path(tempfile.mkdtemp(prefix=f"bench-scale-{workers}-"))
            clients = args.clients if workers == args.watched_with else 0
            result = one_pass(workdir, sites, workers, clients, args.links)
            results.append(result)
            print(json.dumps(result), flush=True)
            for _sid, site in sites:
                site.hits.clear()
    finally:
        for _sid, site in sites:
            site.close()
    base = results[0]["runs_per_minute"]
    print(f"\n{args.studios} studios x {args.links} links, {args.delay * 1000:.0f} ms per page, concurrency 5\n")
    print("| workers | wall time | runs per minute | vs 1 worker | CPU busy (all cores) |")
    print("|---|---|---|---|---|")
    for result in results:
        print(
            f"| {result['workers']} | {result['seconds']:.1f} s | {result['runs_per_minute']:.1f} | "
            f"{result['runs_per_minute'] / base:.2f}x | {result['cpu_busy_percent']:.0f}% |"
        )
    for result in results:
        if result.get("clients"):
            print(
                f"\n{result['clients']} clients over 2 servers, {result['workers']} workers: {result['events']} events delivered, "
                f"p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, max {result['max_ms']:.0f} ms; "
                f"{result['clients_complete']}/{result['clients']} saw `complete`; "
                f"{result['clients_not_equal_to_log']} differ from the run's log"
            )


if __name__ == "__main__":
    main()
