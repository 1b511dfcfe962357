"""Benchmark: processing the demo studios and streaming their runs, on a real daphne.

    .venv/bin/python bench/streaming.py [--clients 50] [--replays 20]

Starts daphne on a free port against a fresh SQLite file with the demo loaded, then prints:
the wall time and time to first event of each studio's run, the time for N simultaneous clients
to read one run to its end, replay speed of a finished run, and the server's resident memory.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from httpx_sse import connect_sse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.live.server import DaphneServer  # noqa: E402

STUDIOS = ["dance_n_addiction", "groove_theory", "the_movement_lab"]


def rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def read(method, url, token, **kwargs):
    """(seconds to the first run event, seconds to the end, number of run events)."""
    started = time.perf_counter()
    first, count = None, 0
    with httpx.Client(timeout=120) as client:
        with connect_sse(client, method, url, headers={"Authorization": f"Token {token}"}, **kwargs) as source:
            for event in source.iter_sse():
                if event.event in ("stream-open", "keep-alive"):
                    continue
                count += 1
                first = first or time.perf_counter() - started
    return first, time.perf_counter() - started, count


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--replays", type=int, default=20)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    server = DaphneServer({"DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}"}, workdir / "daphne.log")
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=server.env, check=True)
    subprocess.run(
        [*manage, "demo", "--base-url", server.url, "--admin"],
        cwd=ROOT,
        env=server.env,
        check=True,
        capture_output=True,
    )
    token = subprocess.run(
        [
            *manage,
            "shell",
            "-c",
            "from rest_framework.authtoken.models import Token; print(Token.objects.get(user__username='admin').key)",
        ],
        cwd=ROOT,
        env=server.env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[-1]
    server.start()
    pid = server.process.pid
    try:
        print(f"daphne pid {pid}, {os.cpu_count()} cores; RSS at start {rss_mib(pid):.0f} MiB\n")
        print("one run per studio (POST refresh-workshops, read to the end):")
        print(f"  {'studio':<20} {'first event':>12} {'whole run':>10} {'events':>7}")
        for studio in STUDIOS:
            first, total, count = read(
                "POST", f"{server.url}/api/streaming/refresh-workshops", token, json={"studio_id": studio}
            )
            print(f"  {studio:<20} {first * 1000:>9.1f} ms {total:>8.2f} s {count:>7}")

        url = f"{server.url}/api/streaming/process-studio?studio_id=dance_n_addiction"
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            results = list(pool.map(lambda _: read("GET", url, token), range(args.clients)))
        wall = time.perf_counter() - started
        firsts = [first for first, _total, _count in results]
        print(f"\n{args.clients} clients start the same studio at once (one run, {args.clients} streams):")
        print(
            f"  all streams ended after {wall:.2f} s; first event median {statistics.median(firsts) * 1000:.0f} ms, "
            f"max {max(firsts) * 1000:.0f} ms; events per stream {results[0][2]}"
        )
        print(f"  RSS after: {rss_mib(pid):.0f} MiB")

        runs = httpx.get(f"{server.url}/api/runs/", headers={"Authorization": f"Token {token}"}).json()["results"]
        events_url = runs[0]["events_url"]
        times, count = [], 0
        for _ in range(args.replays):
            _first, total, count = read("GET", events_url, token)
            times.append(total)
        print(f"\nreplaying a finished run ({count} events) {args.replays} times:")
        print(
            f"  median {statistics.median(times) * 1000:.1f} ms per replay, {count / statistics.median(times):.0f} events/s"
        )
        print(f"\nRSS at the end: {rss_mib(pid):.0f} MiB")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
