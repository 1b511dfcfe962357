"""Pipeline test helpers: page fixtures, a fake reporter, the demo sites served locally, real Chromium."""

import os
import shutil
import threading
import time
from pathlib import Path

from studios.pipeline.render import CLOSE_TIMEOUT
from tests.services import skip_or_fail
from tests.sites import LocalSite, Response

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "pipeline"


def fixture_html(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


class FakeReporter:
    """Collects what the pipeline reports; asks to stop once `stop_after` links were reported."""

    def __init__(self, stop_after: int | None = None):
        self.logs: list[tuple[str, str]] = []
        self.progress_calls: list[tuple[int, int, str]] = []
        self.threads: set[str] = set()
        self.stop_after = stop_after
        self.cancel_requested = False

    def log(self, level, message):
        self.threads.add(threading.current_thread().name)
        self.logs.append((level, message))

    def progress(self, current, total, message=""):
        self.threads.add(threading.current_thread().name)
        self.progress_calls.append((current, total, message))

    def should_stop(self):
        self.threads.add(threading.current_thread().name)
        links_done = max(len(self.progress_calls) - 1, 0)
        return self.cancel_requested or (self.stop_after is not None and links_done >= self.stop_after)

    def cancel_after(self, seconds: float) -> None:
        """Ask to stop `seconds` from now, as a user pressing Cancel while the run is busy."""
        timer = threading.Timer(seconds, setattr, (self, "cancel_requested", True))
        timer.daemon = True
        timer.start()

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


def chromium_processes(started_since: float = 0.0) -> dict[int, set[int]]:
    """Chromium processes this test process started, each with its ancestors (scanning /proc;
    zombies excluded); with `started_since` (a CLOCK_BOOTTIME reading), only those started after it.

    Those under another Python process are not counted: the live servers the session started are
    children of this process too, and a run of theirs renders pages with a Chromium of its own."""
    parents, commands, new = {}, {}, set()
    ticks = os.sysconf("SC_CLK_TCK")
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
        if int(fields[19]) / ticks >= started_since:
            new.add(int(entry.name))
    me = os.getpid()

    def ancestors_up_to_me(pid):
        """The ancestors of `pid` below this process, or None when it is not a descendant of ours."""
        seen = set()
        while pid in parents and pid not in seen:
            seen.add(pid)
            pid = parents[pid]
            if pid == me:
                return seen
            if os.path.basename(commands.get(pid, "")).startswith("python"):
                return None  # a live server's, or another command's
        return None

    found = {}
    for pid, command in commands.items():
        if (
            pid in new
            and "chromium" in os.path.basename(command)
            and (ancestors := ancestors_up_to_me(pid)) is not None
        ):
            found[pid] = ancestors
    return found


def chromium_left_behind(before: dict[int, set[int]], since: float) -> set[int]:
    """Chromium processes started since `since`, except those that a browser already running then
    (in `before`) started meanwhile: the browser tests keep one open for the session, and it starts
    helper processes whenever it likes."""
    return {pid for pid, ancestors in chromium_processes(since).items() if not ancestors & before.keys()}


def real_chromium(settings):
    """Fixture body: skip (or fail under REQUIRE_SERVICES) without Chromium; after the test, assert
    that it left no Chromium process behind (waiting a moment for them to exit)."""
    settings.CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not shutil.which(settings.CHROMIUM_PATH):
        skip_or_fail(f"Chromium is not installed at {settings.CHROMIUM_PATH} (apt-get install chromium)")
    settings.RENDER_TIMEOUT = 5
    # Start times in /proc are in clock ticks: a process started in the same tick counts as new.
    since = time.clock_gettime(time.CLOCK_BOOTTIME) - 1 / os.sysconf("SC_CLK_TCK")
    before = chromium_processes()
    yield settings.CHROMIUM_PATH
    # The renderer itself gives Chromium CLOSE_TIMEOUT seconds to exit before it kills it.
    deadline = time.monotonic() + CLOSE_TIMEOUT + 5
    while (left := chromium_left_behind(before, since)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, f"Chromium processes left behind: {sorted(left)}"
