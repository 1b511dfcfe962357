"""A real daphne server in a subprocess, serving the app against a given database."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env, *args):
    """`python manage.py *args` with `env` (a server's, for the same database); its output."""
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


def database_url(settings_dict):
    """A DATABASE_URL for the database the test process itself uses."""
    engine = settings_dict["ENGINE"]
    if engine.endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    if engine.endswith("postgresql"):
        user = settings_dict.get("USER") or ""
        password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
        auth = f"{user}{password}@" if user else ""
        host = settings_dict.get("HOST") or "127.0.0.1"
        port = settings_dict.get("PORT") or 5432
        return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"
    raise RuntimeError(f"no live-server support for {engine}")


class ServerProcess:
    """A server in a subprocess writing to `log_path`: started and waited for until it is ready,
    stopped with SIGTERM, killed if it lingers past `stop_timeout` seconds."""

    name = "the server"
    process: subprocess.Popen | None = None
    log_path: Path
    stop_timeout = 10

    def launch(self, command, ready, timeout, **popen):
        """Start `command` and wait until `ready()` holds; RuntimeError with the log's tail otherwise."""
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, **popen)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if ready():
                    return self
            except httpx.TransportError:
                pass  # not listening yet
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not start within {timeout}s:\n{self.log_tail()}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines=60):
        return "\n".join(self.log().splitlines()[-lines:])


class DaphneServer(ServerProcess):
    name = "daphne"

    def __init__(self, env, log_path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_path)
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            # The tests crawl the demo's sites, which only a server with the demo installed routes.
            "DEMO": "1",
            "FETCH_ALLOW_PRIVATE": "1",
            "FETCH_RETRY_BACKOFF": "0.05",
            "PYTHONUNBUFFERED": "1",
            # Tests that want an LLM start their own stand-in; a developer's settings must not leak in.
            "LLM_BASE_URL": "",
            "LLM_API_KEY": "",
            "LLM_MODEL": "",
            # Servers share the test database: a scheduler in each would start the runs of the tests'
            # due studios behind their backs. Tests of scheduling run schedulers themselves.
            "SCHEDULER_IN_PROCESS": "0",
            **env,
        }
        self.process = None

    def start(self, timeout=30):
        return self.launch(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "config.asgi:application"],
            ready=lambda: httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200,
            timeout=timeout,
            cwd=ROOT,
            env=self.env,
        )
