"""Benchmark: live delivery of run events, the project side by side with a minimal peer.

    /path/to/project/.venv/bin/python bench/live_delivery.py --quick   # a short run (about 1 min)
    /path/to/project/.venv/bin/python bench/live_delivery.py           # the full run (about 8 min)

The peer is Starlette + sse-starlette on uvicorn (one worker, bench/peer_app.py), installed by this
script into bench/.peer-venv from bench/peer-requirements.txt. It serves the same URLs and frames
from memory. The project runs on daphne as in production, against a fresh SQLite file and a
Redis server this script starts on a free loopback port; events are published from this process
with streaming.events.publish, so they reach daphne through Redis as a worker's would.

Every repetition starts both servers afresh and measures each scenario on both, one after the
other, alternating which goes first; the report gives min/median/max over the repetitions and the
ratio project/peer (the median of the per-repetition ratios). Scenarios:

- memory per idle stream: RSS growth with K idle streams open on a quiet run, divided by K;
- delivery: N watchers of one run of E log events published at a fixed pacing, each event
  carrying its send time; latency p50/p99/max over every (watcher, event), lost, duplicated,
  out-of-order and completed per watcher; server threads with the N streams open; publish cost;
- publish cost with no watcher;
- replay: one client reads a finished 1,000-event run from its start, events/s;
- first frame: POST /api/streaming/refresh-workshops for a demo studio, time to the first `logs`
  frame, for 1 client (the median of 5 starts one after the other) and for 50 simultaneous starters;
- through Pushpin (when `pushpin` is installed and the project configures GRIP): many watchers
  of a short run of the project, behind Pushpin.

All traffic stays on 127.0.0.1; every wait is bounded. Results go to a JSON file (--json) and a
plot of p99 latency against N (--plot, drawn with the peer virtualenv's matplotlib).
"""

import argparse
import json
import os
import resource
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
PEER_VENV = BENCH / ".peer-venv"
PEER_PYTHON = PEER_VENV / "bin" / "python"
sys.path.insert(0, str(ROOT))

from tests.live.private_redis import PrivateRedis  # noqa: E402
from tests.live.pushpin import PushpinServer  # noqa: E402
from tests.live.pushpin import installed as pushpin_installed  # noqa: E402
from tests.live.server import DaphneServer, free_port  # noqa: E402

STUDIO = "dance_n_addiction"


# --- helpers ---------------------------------------------------------------------------------


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def threads(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def wait_http(url, process, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def stop(process, timeout=15):
    if process and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def log_to(path):
    """A file a server subprocess writes its output to; it lives as long as the subprocess."""
    return open(path, "ab")  # noqa: SIM115


def summary(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def ensure_peer_venv():
    if not PEER_PYTHON.exists():
        print("creating bench/.peer-venv (starlette, sse-starlette, uvicorn, matplotlib)", flush=True)
        subprocess.run(["python3", "-m", "venv", str(PEER_VENV)], check=True)
    subprocess.run(
        [str(PEER_PYTHON), "-m", "pip", "install", "-q", "-r", str(BENCH / "peer-requirements.txt")],
        check=True,
        timeout=600,
    )


class Clients:
    """A bench/sse_load.py process holding `count` SSE clients."""

    def __init__(
        self,
        port,
        path,
        count,
        *,
        expect=None,
        method="GET",
        body="",
        headers=None,
        mode="follow",
        concurrency=100,
        timeout=300,
        sources=None,
    ):
        spec = {
            "host": "127.0.0.1",
            "port": port,
            "path": path,
            "count": count,
            "expect": expect,
            "method": method,
            "body": body,
            "headers": headers or {},
            "mode": mode,
            "concurrency": concurrency,
            "timeout": timeout,
            "sources": sources,
        }
        self.timeout = timeout
        self.process = subprocess.Popen(
            [sys.executable, str(BENCH / "sse_load.py"), json.dumps(spec)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def _line(self, timeout):
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            raise RuntimeError(f"the clients said nothing within {timeout}s")
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the clients exited with {self.process.wait(5)}")
        return json.loads(line)

    def opened(self, timeout=180):
        return self._line(timeout)

    def result(self):
        try:
            deadline = time.monotonic() + self.timeout + 60
            while True:
                message = self._line(max(1.0, deadline - time.monotonic()))
                if "result" in message:
                    return message["result"]
        finally:
            self.close()

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


# --- the two servers, behind one interface -----------------------------------------------------


class Project:
    name = "project"

    def __init__(self, workdir, redis_url, token):
        self.workdir = workdir
        self.redis_url = redis_url
        self.token = token
        self.server = None

    def start(self):
        self.server = DaphneServer(
            {
                "DATABASE_URL": os.environ["DATABASE_URL"],
                "REDIS_URL": self.redis_url,
                "STREAM_MAX_PER_USER": "100000",
                # The bench's runs have no executor; the watchdog must not take them for lost.
                "RUN_HEARTBEAT_STALE_SECONDS": "86400",
                "LOG_LEVEL": "WARNING",
            },
            self.workdir / "daphne.log",
        ).start()
        self.port, self.pid = self.server.port, self.server.process.pid

    def stop(self):
        self.server.stop()

    @property
    def headers(self):
        return {"Authorization": f"Token {self.token}"}

    def new_run(self):
        from streaming.models import Run

        return Run.objects.create(job="process_studio", subject=f"bench-{uuid.uuid4().hex[:12]}", status="running").pk

    def publish_paced(self, run_id, count, interval):
        """Publish `count` log events `interval` s apart (on a fixed schedule), then `complete`; the publish costs."""
        from streaming.events import publish

        costs = []
        start = time.monotonic()
        for seq in range(1, count + 1):
            delay = start + (seq - 1) * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            began = time.perf_counter()
            publish(run_id, "logs", {"message": f"m={seq}:{time.monotonic():.6f}", "level": "info"})
            costs.append(time.perf_counter() - began)
        self.end(run_id)
        return costs

    def end(self, run_id):
        from streaming.events import publish
        from streaming.models import Run

        publish(
            run_id, "complete", {"message": "Process completed", "run_id": run_id, "status": "succeeded", "summary": {}}
        )
        Run.objects.filter(pk=run_id).update(status="succeeded")

    def finished_run(self, count):
        from django.utils import timezone

        from streaming.events import envelope
        from streaming.models import Run, RunEvent

        run = Run.objects.create(
            job="process_studio",
            subject=f"bench-{uuid.uuid4().hex[:12]}",
            status="succeeded",
            finished_at=timezone.now(),
        )
        rows = [
            RunEvent(run=run, seq=seq, type="logs", data=envelope("logs", {"message": f"m={seq}:0.0", "level": "info"}))
            for seq in range(1, count + 1)
        ]
        rows.append(
            RunEvent(
                run=run,
                seq=count + 1,
                type="complete",
                data=envelope(
                    "complete", {"message": "Process completed", "run_id": run.pk, "status": "succeeded", "summary": {}}
                ),
            )
        )
        RunEvent.objects.bulk_create(rows)
        return run.pk


class Peer:
    name = "peer"

    def __init__(self, workdir):
        self.workdir = workdir
        self.process = None
        self.headers = {}

    def start(self):
        self.port = free_port()
        log = log_to(self.workdir / "peer.log")
        self.process = subprocess.Popen(
            [
                str(PEER_PYTHON),
                "-m",
                "uvicorn",
                "peer_app:app",
                "--app-dir",
                str(BENCH),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.pid = self.process.pid
        self.url = f"http://127.0.0.1:{self.port}"
        wait_http(f"{self.url}/healthz", self.process)

    def stop(self):
        stop(self.process)

    def _post(self, path, timeout=30, **params):
        response = httpx.post(f"{self.url}{path}", params=params, timeout=timeout)
        response.raise_for_status()
        return response.json()

    def new_run(self):
        return self._post("/bench/runs")["run_id"]

    def publish_paced(self, run_id, count, interval):
        self._post("/bench/costs")
        self._post(f"/bench/runs/{run_id}/publish", count=count, interval=interval)
        budget = count * interval + 120
        done = httpx.get(f"{self.url}/bench/runs/{run_id}/wait", params={"timeout": budget}, timeout=budget + 10).json()
        if not done["done"]:
            raise RuntimeError("the peer's publisher did not finish")
        return self._post("/bench/costs")["costs"][:count]

    def end(self, run_id):
        self._post(f"/bench/runs/{run_id}/end")

    def finished_run(self, count):
        return self._post("/bench/finished", count=count)["run_id"]


# --- scenarios -----------------------------------------------------------------------------------


def idle_memory(target, streams):
    """KiB of server RSS per idle stream, with `streams` streams open on a quiet run."""
    run_id = target.new_run()
    path = f"/api/runs/{run_id}/events/"
    warm = Clients(target.port, path, 20, headers=target.headers, mode="idle")
    warm.opened()
    warm.close()
    time.sleep(1.0)
    before = rss_kib(target.pid)
    clients = Clients(target.port, path, streams, headers=target.headers, mode="idle")
    opened = clients.opened()
    time.sleep(1.5)
    after = rss_kib(target.pid)
    clients.close()
    target.end(run_id)
    return {
        "kib_per_stream": (after - before) / max(opened["opened"], 1),
        "opened": opened["opened"],
        "rss_before_kib": before,
        "rss_after_kib": after,
    }


def delivery(target, watchers, events, interval):
    run_id = target.new_run()
    clients = Clients(
        target.port,
        f"/api/runs/{run_id}/events/",
        watchers,
        expect=events,
        headers=target.headers,
        timeout=events * interval + 240,
    )
    opened = clients.opened()
    open_threads = threads(target.pid)
    costs = target.publish_paced(run_id, events, interval)
    end_threads = threads(target.pid)
    result = clients.result()
    result.update(
        open=opened,
        threads=max(open_threads, end_threads),
        publish_cost=statistics.mean(costs) if costs else None,
        publish_cost_p99=sorted(costs)[int(0.99 * len(costs))] if costs else None,
    )
    return result


def publish_alone(target, events, interval):
    run_id = target.new_run()
    costs = target.publish_paced(run_id, events, interval)
    return {"publish_cost": statistics.mean(costs), "publish_cost_p99": sorted(costs)[int(0.99 * len(costs))]}


def replay(target, run_id, reads):
    rates = []
    for _ in range(reads):
        result = Clients(
            target.port, f"/api/runs/{run_id}/events/", 1, expect=None, headers=target.headers, timeout=120
        ).result()
        if result["completed"] != 1:
            raise RuntimeError(f"{target.name}: replay did not complete: {result}")
        rates.append(result["frames"] / result["elapsed"])
    return {"events_per_s": statistics.median(rates), "frames": result["frames"]}


def first_frame(target, starters):
    body = json.dumps({"studio_id": STUDIO})
    result = Clients(
        target.port,
        "/api/streaming/refresh-workshops",
        starters,
        method="POST",
        body=body,
        headers=target.headers,
        concurrency=starters,
        timeout=120,
    ).result()
    if result["first_log"] is None or result["first_log"]["n"] != starters:
        raise RuntimeError(f"{target.name}: not every starter saw a log: {result}")
    return {
        "p50": result["first_log"]["p50"],
        "p99": result["first_log"]["p99"],
        "max": result["first_log"]["max"],
        "completed": result["completed"],
    }


def first_frame_alone(target, starts):
    """One client starting a run, `starts` times one after the other: the median, and each time.

    A single start measured mostly the first run after the server booted, which also pays one-time
    costs (imports, first connections): the median says what a start costs.
    """
    times = []
    for _ in range(starts):
        times.append(first_frame(target, 1)["p50"])
        time.sleep(1.0)  # the run ends; the next start begins a new one
    return {"p50": statistics.median(times), "times": times}


# --- Pushpin ---------------------------------------------------------------------------------


def pushpin_scenario(workdir, redis_url, token, watchers, events, interval):
    """Many watchers of one short run of the project behind Pushpin; None (with the reason) when it cannot run."""
    if not pushpin_installed():
        return None, "pushpin is not installed"
    pushpin = PushpinServer(workdir / "pushpin", max_connections=watchers + 1000)
    project = Project(workdir, redis_url, token)
    os.environ["GRIP_URL"] = pushpin.grip_url  # for daphne; this process publishes through a child that sees it too
    project.start()
    pushpin.start(project.port)
    http_port = pushpin.port
    try:
        run_id = project.new_run()
        sources = [f"127.0.0.{i}" for i in range(1, 9)]
        clients = Clients(
            http_port,
            f"/api/runs/{run_id}/events/",
            watchers,
            expect=events,
            headers=project.headers,
            # More new streams than this at once and Pushpin (its proxy to the origin) answers some 502.
            concurrency=100,
            timeout=events * interval + 300,
            sources=sources,
        )
        opened = clients.opened(timeout=600)
        publisher = subprocess.run(
            [sys.executable, __file__, "--publish", str(run_id), str(events), str(interval)],
            env=os.environ,
            capture_output=True,
            text=True,
            timeout=events * interval + 120,
            check=True,
        )
        result = clients.result()
        result.update(open=opened, publish_cost=json.loads(publisher.stdout.splitlines()[-1])["publish_cost"])
        return result, None
    finally:
        pushpin.stop()
        project.stop()
        os.environ.pop("GRIP_URL", None)


# --- the run ---------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run: fewer watchers, events and repetitions")
    parser.add_argument("--repetitions", type=int)
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--plot", type=Path, default=None, help="draw p99 latency against N into this PNG")
    parser.add_argument(
        "--markdown", type=Path, default=None, help="with --json: print the tables of those results as Markdown"
    )
    parser.add_argument("--publish", nargs=3, metavar=("RUN", "EVENTS", "INTERVAL"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.markdown:
        results = json.loads(args.markdown.read_text())
        for rep in results["reps"]:
            for side in rep.values():
                side["delivery"] = {int(n): r for n, r in side["delivery"].items()}
        print(markdown(results))
        return
    if args.publish:  # a child that publishes with the environment it was given (the Pushpin scenario)
        import django

        django.setup()
        costs = Project(None, None, None).publish_paced(
            int(args.publish[0]), int(args.publish[1]), float(args.publish[2])
        )
        print(json.dumps({"publish_cost": statistics.mean(costs)}))
        return

    quick = args.quick
    reps = args.repetitions or (1 if quick else 3)
    ns = [10, 100] if quick else [10, 100, 1000]
    events = 100 if quick else 400
    interval = 0.02
    idle_streams = 100 if quick else 500
    replay_events = 1000
    starters = 10 if quick else 50
    pushpin_watchers, pushpin_events = (500, 50) if quick else (10_000, 50)

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the clients and Pushpin inherit it

    ensure_peer_venv()
    workdir = Path(tempfile.mkdtemp(prefix="bench-live-"))
    running = []
    redis = PrivateRedis(workdir).start()
    redis_url = redis.url
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"sqlite:///{workdir / 'bench.sqlite3'}",
        REDIS_URL=redis_url,
        DEMO="1",
        FETCH_ALLOW_PRIVATE="1",
        LOG_LEVEL="WARNING",
    )
    results = {
        "config": {
            "repetitions": reps,
            "watchers": ns,
            "events": events,
            "interval_s": interval,
            "idle_streams": idle_streams,
            "replay_events": replay_events,
            "starters": starters,
            "cores": os.cpu_count(),
        },
        "reps": [],
    }
    try:
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, check=True, timeout=300)
        # The demo studios' sites are served by the daphne of each repetition; their port changes, so
        # the demo is loaded again (with that port) each time.
        import django

        django.setup()
        token = None
        for rep in range(reps):
            project, peer = Project(workdir, redis_url, token), Peer(workdir)
            running = [project, peer]  # stopped in `finally` should a scenario fail
            project.start()
            subprocess.run(
                [*manage, "demo", "--base-url", project.server.url, "--admin"],
                cwd=ROOT,
                check=True,
                capture_output=True,
                timeout=300,
            )
            if token is None:
                from rest_framework.authtoken.models import Token

                token = Token.objects.get(user__username="admin").key
            project.token = token
            peer.start()
            order = [project, peer] if rep % 2 == 0 else [peer, project]
            out = {t.name: {"delivery": {}} for t in order}
            print(
                f"\nrepetition {rep + 1}/{reps}: {order[0].name} first; daphne pid {project.pid}, peer pid {peer.pid}",
                flush=True,
            )
            for target in order:
                out[target.name]["threads_idle"] = threads(target.pid)
                out[target.name]["idle"] = idle_memory(target, idle_streams)
                print(
                    f"  {target.name:8} idle memory {out[target.name]['idle']['kib_per_stream']:.1f} KiB/stream",
                    flush=True,
                )
            for n in ns:
                for target in order:
                    r = out[target.name]["delivery"][n] = delivery(target, n, events, interval)
                    print(
                        f"  {target.name:8} N={n:<5} p50 {r['latency']['p50'] * 1000:8.1f} ms  p99 {r['latency']['p99'] * 1000:8.1f} ms"
                        f"  max {r['latency']['max'] * 1000:8.1f} ms  completed {r['completed']}/{n}  lost {r['lost']}"
                        f"  dup {r['duplicated']}  ooo {r['out_of_order']}  threads {r['threads']}"
                        f"  publish {r['publish_cost'] * 1e6:.0f} us  client cpu {r['client_cpu']:.0%}",
                        flush=True,
                    )
            for target in order:
                r = out[target.name]["publish_alone"] = publish_alone(target, events, interval)
                print(f"  {target.name:8} publish, no watcher: {r['publish_cost'] * 1e6:.0f} us/event", flush=True)
            for target in order:
                run_id = target.finished_run(replay_events)
                r = out[target.name]["replay"] = replay(target, run_id, 3)
                print(f"  {target.name:8} replay {r['events_per_s']:.0f} events/s ({r['frames']} events)", flush=True)
            for target in order:
                one = out[target.name]["first_one"] = first_frame_alone(target, 5)
                many = out[target.name]["first_many"] = first_frame(target, starters)
                print(
                    f"  {target.name:8} first frame: 1 client {one['p50'] * 1000:.1f} ms; {starters} starters"
                    f" p50 {many['p50'] * 1000:.1f} ms p99 {many['p99'] * 1000:.1f} ms",
                    flush=True,
                )
                time.sleep(1.0)  # the run ends; the next start begins a new one
            for target in order:
                out[target.name]["rss_end_kib"] = rss_kib(target.pid)
                target.stop()
            running = []
            results["reps"].append(out)
        pushpin, reason = pushpin_scenario(workdir, redis_url, token, pushpin_watchers, pushpin_events, interval)
        results["pushpin"] = pushpin or {"skipped": reason}
        if pushpin is None:
            print(f"\nPushpin scenario skipped: {reason}", flush=True)
    finally:
        for server in running:
            if getattr(server, "pid", None):
                server.stop()
        redis.stop()
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if args.plot:
        subprocess.run(
            [str(PEER_PYTHON), str(BENCH / "plot_latency.py"), str(args.json or "-"), str(args.plot)],
            input=json.dumps(results),
            text=True,
            check=True,
            timeout=120,
        )
    shutil.rmtree(workdir, ignore_errors=True)


# --- the report --------------------------------------------------------------------------------


def figures(results):
    """name -> (unit, {project: [per rep], peer: [per rep]}, higher_is_better)."""
    reps = results["reps"]
    rows = {}

    def add(name, unit, get, higher=False):
        rows[name] = (unit, {side: [get(rep[side]) for rep in reps] for side in ("project", "peer")}, higher)

    add("first frame, 1 client", "ms", lambda r: r["first_one"]["p50"] * 1000)
    add(f"first frame, {results['config']['starters']} starters p99", "ms", lambda r: r["first_many"]["p99"] * 1000)
    for n in results["config"]["watchers"]:
        for q in ("p50", "p99", "max"):
            add(f"latency N={n} {q}", "ms", lambda r, n=n, q=q: r["delivery"][n]["latency"][q] * 1000)
        add(
            f"N={n} lost/dup/ooo",
            "events",
            lambda r, n=n: r["delivery"][n]["lost"] + r["delivery"][n]["duplicated"] + r["delivery"][n]["out_of_order"],
        )
        add(f"N={n} completed", "clients", lambda r, n=n: r["delivery"][n]["completed"], higher=True)
        add(f"N={n} client CPU", "%", lambda r, n=n: r["delivery"][n]["client_cpu"] * 100)
    top = results["config"]["watchers"][-1]
    add(f"server threads, {top} streams", "", lambda r: r["delivery"][top]["threads"])
    add("memory per idle stream", "KiB", lambda r: r["idle"]["kib_per_stream"])
    add("replay, finished 1,000-event run", "events/s", lambda r: r["replay"]["events_per_s"], higher=True)
    add("publish cost, N=0", "us", lambda r: r["publish_alone"]["publish_cost"] * 1e6)
    add(f"publish cost, N={top}", "us", lambda r: r["delivery"][top]["publish_cost"] * 1e6)
    return rows


def ratio(project, peer):
    pairs = [a / b for a, b in zip(project, peer, strict=True) if a is not None and b]
    return statistics.median(pairs) if pairs else None


def report(results):
    rows = figures(results)
    results["table"] = {}
    print(f"\n{'figure':<36} {'project min / median / max':>30} {'peer min / median / max':>30} {'ratio':>7}")
    for name, (unit, sides, _) in rows.items():
        s_project, s_peer = summary(sides["project"]), summary(sides["peer"])
        r = ratio(sides["project"], sides["peer"])
        results["table"][name] = {"unit": unit, "project": s_project, "peer": s_peer, "ratio": r}
        fmt = lambda s: "–" if s is None else f"{s['min']:.4g} / {s['median']:.4g} / {s['max']:.4g}"  # noqa: E731
        print(
            f"{name + (' (' + unit + ')' if unit else ''):<36} {fmt(s_project):>30} {fmt(s_peer):>30}"
            f" {'' if r is None else f'{r:.2f}×':>7}"
        )
    targets(results)
    if "pushpin" in results and "skipped" not in results["pushpin"]:
        p = results["pushpin"]
        print(
            f"\nthrough Pushpin: {p['completed']}/{p['clients']} completed, lost {p['lost']}, p50 {p['latency']['p50'] * 1000:.0f} ms,"
            f" p99 {p['latency']['p99'] * 1000:.0f} ms, max {p['latency']['max'] * 1000:.0f} ms, client CPU {p['client_cpu']:.0%}"
        )


def markdown(results):
    """The figures and the targets as Markdown tables (for docs/benchmarks.md)."""
    report_quietly = results.get("table") and results.get("targets")
    if not report_quietly:
        report(results)

    def fmt(s):
        if s is None:
            return "–"
        return " / ".join(f"{v:.3g}" if v < 1000 else f"{v:,.0f}" for v in (s["min"], s["median"], s["max"]))

    lines = ["| figure | project min / median / max | peer min / median / max | project ÷ peer |", "|---|---|---|---|"]
    for name, row in results["table"].items():
        unit = f" ({row['unit']})" if row["unit"] else ""
        r = "" if row["ratio"] is None else f"{row['ratio']:.2f}×"
        lines.append(f"| {name}{unit} | {fmt(row['project'])} | {fmt(row['peer'])} | {r} |")
    lines += ["", "| target | met | figure (medians) |", "|---|---|---|"]
    for t in results["targets"]:
        lines.append(
            f"| {t['target']} | {'–' if t['met'] is None else 'yes' if t['met'] else '**no**'} | {t['figure']} |"
        )
    return "\n".join(lines)


def targets(results):
    """The issue's targets, each met or not, with the figure (medians over the repetitions)."""
    table, config = results["table"], results["config"]
    median = lambda name, side="project": table[name][side]["median"] if table.get(name) and table[name][side] else None  # noqa: E731
    ratio_of = lambda name: table[name]["ratio"] if name in table else None  # noqa: E731
    checks = []
    for n in (100, 1000):
        if n in config["watchers"]:
            r, lost = ratio_of(f"latency N={n} p99"), table[f"N={n} lost/dup/ooo"]["project"]["max"]
            checks.append(
                (
                    f"p99 at N={n} within 1.5x the peer's, nothing lost",
                    r is not None and r <= 1.5 and lost == 0,
                    f"{r:.2f}x ({median(f'latency N={n} p99'):.0f} ms vs {median(f'latency N={n} p99', 'peer'):.0f} ms), lost/dup/ooo {lost:.0f}",
                )
            )
    kib = median("memory per idle stream")
    checks.append(("memory per idle stream <= 64 KB", kib <= 64, f"{kib:.1f} KiB"))
    top = config["watchers"][-1]
    t = table[f"server threads, {top} streams"]["project"]["max"]
    checks.append((f"server threads with {top} streams <= 50", t <= 50, f"{t:.0f}"))
    r = ratio_of("replay, finished 1,000-event run")
    checks.append(("replay >= 0.6x the peer's events/s", r >= 0.6, f"{r:.2f}x"))
    r = ratio_of("first frame, 1 client")
    checks.append(
        (
            "first frame, one client, within 3x",
            r <= 3,
            f"{r:.1f}x ({median('first frame, 1 client'):.1f} ms vs {median('first frame, 1 client', 'peer'):.1f} ms)",
        )
    )
    name = f"first frame, {config['starters']} starters p99"
    r = ratio_of(name)
    checks.append(
        (
            f"{config['starters']} simultaneous starters p99 within 5x",
            r <= 5,
            f"{r:.1f}x ({median(name):.0f} ms vs {median(name, 'peer'):.0f} ms)",
        )
    )
    p = results.get("pushpin") or {}
    if "latency" in p:
        ok = p["completed"] == p["clients"] and p["lost"] == 0 and p["latency"]["p99"] < 2
        checks.append(
            (
                f"through Pushpin, {p['clients']} watchers complete, p99 < 2 s",
                ok,
                f"{p['completed']}/{p['clients']} completed, lost {p['lost']}, p99 {p['latency']['p99'] * 1000:.0f} ms",
            )
        )
    else:
        checks.append(("through Pushpin", None, f"not run: {p.get('skipped', 'not attempted')}"))
    results["targets"] = [{"target": a, "met": b, "figure": c} for a, b, c in checks]
    print("\ntargets:")
    for target, met, figure in checks:
        print(f"  {'n/a' if met is None else 'met' if met else 'MISSED':>6}  {target}: {figure}")


if __name__ == "__main__":
    main()
