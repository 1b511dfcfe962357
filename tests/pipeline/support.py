"""A local web site to crawl and a fake reporter for the pipeline tests."""

import os
import shutil
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "pipeline"


def fixture_html(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


@dataclass
class Response:
    body: bytes | str = b""
    status: int = 200
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    # Without Content-Length the body simply runs until the connection closes (HTTP/1.0).
    send_length: bool = True


class LocalSite:
    """Serves Responses by path; a list of Responses is served one per request, the last repeating."""

    def __init__(self):
        self.routes: dict[str, list[Response]] = {}
        self.hits: Counter[str] = Counter()
        # While down, every request (also one already waiting out its delay) is dropped unanswered.
        self.down = False
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            wbufsize = 1 << 16  # headers and body in one write, sparing a Nagle delay per request

            def do_GET(self):
                with site._lock:
                    site.hits[self.path] += 1
                    responses = site.routes.get(self.path) or [Response("not found", status=404)]
                    response = responses[min(site.hits[self.path], len(responses)) - 1]
                if response.delay:
                    time.sleep(response.delay)
                if site.down:
                    self.close_connection = True  # no answer at all, as from a server going away mid-request
                    return
                body = response.body.encode("utf-8") if isinstance(response.body, str) else response.body
                try:
                    self.send_response(response.status)
                    if response.content_type:
                        self.send_header("Content-Type", response.content_type)
                    if response.send_length:
                        self.send_header("Content-Length", str(len(body)))
                    for name, value in response.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout or size cap under test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        # A short poll interval keeps shutdown, and so every test using the site, quick.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self.thread.start()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def add(self, path: str, *responses: Response | str) -> str:
        self.routes[path] = [Response(r) if isinstance(r, str) else r for r in responses]
        return self.url(path)

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        return self.add(path, Response(b"", status=status, headers={"Location": location}))

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class FakeReporter:
    """Collects what the pipeline reports; asks to stop once `stop_after` links were reported."""

    def __init__(self, stop_after: int | None = None):
        self.logs: list[tuple[str, str]] = []
        self.progress_calls: list[tuple[int, int, str]] = []
        self.threads: set[str] = set()
        self.stop_after = stop_after

    def log(self, level, message):
        self.threads.add(threading.current_thread().name)
        self.logs.append((level, message))

    def progress(self, current, total, message=""):
        self.threads.add(threading.current_thread().name)
        self.progress_calls.append((current, total, message))

    def should_stop(self):
        self.threads.add(threading.current_thread().name)
        links_done = max(len(self.progress_calls) - 1, 0)
        return self.stop_after is not None and links_done >= self.stop_after

    def messages(self, level=None):
        return [message for lvl, message in self.logs if level is None or lvl == level]


def serve_demo_site(local: LocalSite, studio_id: str) -> str:
    """Copy one demo studio's website (as the demo views render it) into a LocalSite, same paths.

    The pages are rendered for the LocalSite's host, so their absolute links point at it; the
    listing's dead link stays a 404. Returns the listing page's URL.
    """
    from django.test import Client

    from studios.demo import sites

    studio = sites.get_studio(studio_id)
    client = Client(HTTP_HOST=f"127.0.0.1:{local.port}")
    base = sites.site_path(studio_id)
    paths = [base, f"{base}about/", f"{base}contact/", f"{base}workshops/{sites.FAQ_SLUG}/"]
    for page in studio["workshops"]:
        paths += [f"{base}workshops/{page['slug']}/", f"{base}book/{page['slug']}/"]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, f"{path}: {response.status_code}"
        local.add(path, Response(response.content, content_type=response["Content-Type"]))
    return local.url(base)


def chromium_processes() -> set[int]:
    """PIDs of Chromium processes descended from this test process (scanning /proc; zombies excluded)."""
    parents, commands = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] == "Z":
            continue
        parents[int(entry.name)], commands[int(entry.name)] = int(fields[1]), command
    me = os.getpid()

    def descends(pid):
        seen = set()
        while pid in parents and pid not in seen:
            seen.add(pid)
            pid = parents[pid]
            if pid == me:
                return True
        return False

    return {pid for pid, command in commands.items() if "chromium" in os.path.basename(command) and descends(pid)}


def real_chromium(settings):
    """Fixture body: skip (or fail under REQUIRE_SERVICES) without Chromium; after the test, assert
    that it left no Chromium process behind (waiting a moment for them to exit)."""
    from tests.conftest import skip_or_fail

    settings.CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not shutil.which(settings.CHROMIUM_PATH):
        skip_or_fail(f"Chromium is not installed at {settings.CHROMIUM_PATH} (apt-get install chromium)")
    settings.RENDER_TIMEOUT = 5
    before = chromium_processes()
    yield settings.CHROMIUM_PATH
    deadline = time.monotonic() + 5
    while (left := chromium_processes() - before) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, f"Chromium processes left behind: {sorted(left)}"
