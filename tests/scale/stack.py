"""A deployment on this machine for the tests: a database of its own on the machine's PostgreSQL, a
Redis server of its own, daphne servers and RQ workers as real processes.

The Redis server is the test's own (redis-server on a free port) because Redis pub/sub channels are
shared by every database number of a server: on the machine's Redis, another suite's servers would
receive this one's run events. It also lets a test restart Redis under a run.
"""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from tests.live.private_redis import PrivateRedis
from tests.live.server import ROOT, DaphneServer, ServerProcess
from tests.services import skip_or_fail

POSTGRES_URL = os.environ.get("DATABASE_TEST_URL", "postgres://postgres@127.0.0.1:5432/test")
FAST_RECOVERY = {"RUN_HEARTBEAT_INTERVAL": "0.3", "RUN_HEARTBEAT_STALE_SECONDS": "2"}


def create_database():
    import psycopg

    name = f"studios_rq_{uuid.uuid4().hex[:8]}"
    base, _, _ = POSTGRES_URL.rpartition("/")
    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        skip_or_fail(f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}")
    admin.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return f"{base}/{name}"


def drop_database(url):
    import psycopg

    name = url.rpartition("/")[2]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Worker(ServerProcess):
    """`python manage.py rqworker` in a subprocess; SIGTERM is a warm shutdown that may finish a link."""

    name = "the worker"
    stop_timeout = 20

    def __init__(self, env, log_path):
        self.env = env
        self.log_path = Path(log_path)

    def start(self, timeout=30):
        return self.launch(
            [sys.executable, "manage.py", "rqworker", "default"],
            ready=lambda: "Listening on" in self.log(),
            timeout=timeout,
            cwd=ROOT,
            env=self.env,
        )

    def executed(self, run_id):
        return f"execute_run({run_id})" in self.log()


class Stack:
    """PostgreSQL, Redis, `servers` daphne processes and `workers` RQ workers with TASKS_BACKEND=rq."""

    def __init__(self, workdir: Path, servers=2, workers=2, **env):
        self.workdir = workdir
        self.redis = PrivateRedis(workdir).start()
        self.database_url = create_database()
        self.env = {
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis.url,
            "TASKS_BACKEND": "rq",
            **FAST_RECOVERY,
            **env,
        }
        self.servers = []
        self.workers = []
        probe = DaphneServer(self.env, workdir / "manage.log")
        self.base_env = probe.env
        self.manage("migrate", "--noinput")
        for _ in range(servers):
            self.add_server()
        for _ in range(workers):
            self.add_worker()

    def manage(self, *args, env=None):
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.base_env, **(env or {})},
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def add_server(self, **env):
        server = DaphneServer({**self.env, **env}, self.workdir / f"daphne-{len(self.servers)}.log").start()
        self.servers.append(server)
        return server

    def add_worker(self, **env):
        worker = Worker({**self.base_env, **env}, self.workdir / f"worker-{len(self.workers)}.log").start()
        self.workers.append(worker)
        return worker

    def live_workers(self):
        return [w for w in self.workers if w.process.poll() is None]

    def live_servers(self):
        return [s for s in self.servers if s.process.poll() is None]

    def holder(self, run_id, timeout=10):
        """The worker executing the run."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for worker in self.live_workers():
                if worker.executed(run_id):
                    return worker
            time.sleep(0.05)
        raise AssertionError(f"no worker took run {run_id}")

    def close(self):
        for process in self.servers + self.workers:
            process.stop()
        self.redis.stop()
        drop_database(self.database_url)

    def sql(self, query, params=()):
        import psycopg

        with psycopg.connect(self.database_url) as db:
            return db.execute(query, params).fetchall()

    def status(self, run_id):
        """The run's status now. A run's end is recorded before its `complete` event is published,
        so once a stream has read `complete` there is nothing to wait for (tests.runs.wait_for_run
        waits on runs of this process)."""
        ((status,),) = self.sql("SELECT status FROM streaming_run WHERE id = %s", (run_id,))
        return status

    def events(self, run_id):
        rows = self.sql("SELECT seq, type, data FROM streaming_runevent WHERE run_id = %s ORDER BY seq", (run_id,))
        return [(f"run-{run_id}:{seq}", type_, data) for seq, type_, data in rows]

    def get(self, server, path, **kwargs):
        return httpx.get(f"{server.url}{path}", timeout=30, **kwargs)
