"""Stopping a server process without failing its runs.

When the server is asked to stop (SIGTERM, Ctrl-C), its runs stop between two links and are left
`interrupted`, for the next server start to resume under the same id (streaming.recovery), as
after a crash; queued runs are left the same way. Without this, the interpreter would wait at exit
for every queued and running job to finish, and pages that failed only because the server (which
also serves the demo sites) was going away would be counted as failed.
"""

import logging
import sys
import threading
import time
from typing import Any

from twisted.internet.defer import Deferred

from .heartbeats import held_runs

logger = logging.getLogger(__name__)

# How long the server keeps serving while its runs reach the end of their current link. A link
# that takes longer (a slow page, a slow LLM answer) is still left between links, but after the
# server stopped listening.
GRACE_SECONDS = 10.0
POLL_SECONDS = 0.05

_stopping = threading.Event()
SERVER_STOPPING = "the server is stopping; it resumes when the server starts again"
WORKER_STOPPING = "its worker is stopping; another worker resumes it"
_why = SERVER_STOPPING


def is_stopping() -> bool:
    """Whether this process is shutting down: its runs must stop and be left for the next start."""
    return _stopping.is_set()


def stopping_message() -> str:
    """What a run left by this stopping process tells its watchers (a server's or a worker's words)."""
    return _why


def begin_stopping(why: str = SERVER_STOPPING) -> None:
    global _why
    _why = why
    _stopping.set()


def forget_stopping() -> None:
    """Serve on as if no stop had begun: for tests, which stop and carry on in one process."""
    _stopping.clear()


def stop_runs_when_the_server_stops() -> None:
    """Under daphne (Twisted), stop this process's runs before the server shuts down.

    The trigger runs before Twisted closes its listening sockets and connections, so the flag is
    up before any page the server itself serves can fail; Twisted waits for the returned Deferred
    (up to GRACE_SECONDS) before it goes on shutting down. Under another server this does nothing.
    """
    reactor = sys.modules.get("twisted.internet.reactor")
    if reactor is None:
        return  # importing it here would install a reactor that daphne would then have to replace
    reactor.addSystemEventTrigger("before", "shutdown", _stop_held_runs, reactor)


def _stop_held_runs(reactor: Any) -> Deferred:
    begin_stopping()
    held = held_runs()
    if held:
        logger.info("Server stopping: leaving %d run(s) interrupted between links: %s", len(held), sorted(held))
    released: Deferred[None] = Deferred()
    deadline = time.monotonic() + GRACE_SECONDS

    def check() -> None:
        left = held_runs()
        if not left:
            released.callback(None)
        elif time.monotonic() >= deadline:
            logger.warning("Server stopping: run(s) %s still on a link after %ss", sorted(left), GRACE_SECONDS)
            released.callback(None)
        else:
            reactor.callLater(POLL_SECONDS, check)

    check()
    return released
