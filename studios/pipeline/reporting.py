import threading
from concurrent.futures import Future
from typing import Protocol, TypeVar

from .errors import StopRequested

T = TypeVar("T")

# How often a thread waiting on fetches asks whether a cancel arrived: a cancel takes effect within
# about this long, plus the time a fetch in flight needs to notice the stop signal.
STOP_POLL_INTERVAL = 0.5


class Reporter(Protocol):
    """What the pipeline needs from whoever runs it."""

    def log(self, level: str, message: str) -> None:
        """level is one of info, success, warning, error."""

    def progress(self, current: int, total: int, message: str = "") -> None: ...

    def should_stop(self) -> bool:
        """True once a cancel was requested; asked from the calling thread only (it may use the database)."""


def stop_if_asked(reporter: Reporter, stop: threading.Event) -> None:
    """On a cancel, signal the fetches in flight to abort and raise StopRequested."""
    if reporter.should_stop():
        stop.set()
        raise StopRequested()


def result_unless_stopped(future: Future[T], reporter: Reporter, stop: threading.Event) -> T:
    """The future's result, asking the reporter every STOP_POLL_INTERVAL whether to stop meanwhile."""
    while True:
        try:
            return future.result(timeout=STOP_POLL_INTERVAL)
        except TimeoutError:
            stop_if_asked(reporter, stop)
