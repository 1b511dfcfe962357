"""The one retry policy of the pipeline's network calls (pages, rendered pages, the LLM).

A transient failure is tried again after an exponential backoff (``backoff``, then twice that, …),
or after the pause the server asked for (Retry-After), for at most ``retries`` more attempts. No
pause runs past the caller's deadline, and a stop signal ends a pause at once: the call then raises
StopRequested instead of trying again.
"""

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type

from .errors import StopRequested, Transient

T = TypeVar("T")


def _failure(state: RetryCallState) -> BaseException:
    """The exception of the attempt that just failed (tenacity asks only after a failed attempt)."""
    exception = state.outcome.exception() if state.outcome is not None else None
    if exception is None:
        raise RuntimeError("tenacity asked about a retry without a failed attempt")
    return exception


def asked_pause(failure: BaseException) -> float | None:
    """The pause the server asked for with a transient failure (Retry-After), for `server_delay`."""
    return failure.retry_after if isinstance(failure, Transient) else None


def call_with_retries(
    call: Callable[[], T],
    *,
    retry_on: type[Exception] | tuple[type[Exception], ...],
    retries: int,
    backoff: float,
    stop: threading.Event | None = None,
    deadline: float | None = None,
    server_delay: Callable[[BaseException], float | None] | None = None,
    max_server_delay: float = float("inf"),
    before_retry: Callable[[BaseException, float], None] | None = None,
) -> T:
    """call()'s result, retrying the exceptions in `retry_on`; the last one is raised on giving up.

    `deadline` is a time.monotonic() value no pause may pass. `server_delay` reads the pause a
    server asked for from a failure (None: the backoff applies); a longer one than
    `max_server_delay` is not waited for. `before_retry` hears each failure and the pause before
    the next attempt.
    """

    def pause(state: RetryCallState) -> float:
        asked = server_delay(_failure(state)) if server_delay else None
        return asked if asked is not None else backoff * 2 ** (state.attempt_number - 1)

    def give_up(state: RetryCallState) -> bool:
        upcoming = state.upcoming_sleep
        return (
            state.attempt_number > retries
            or upcoming > max_server_delay
            or (deadline is not None and time.monotonic() + upcoming > deadline)
        )

    def sleep(seconds: float) -> None:
        if stop is None:
            time.sleep(seconds)
        elif stop.wait(seconds):
            raise StopRequested()

    def attempt() -> T:
        if stop is not None and stop.is_set():
            raise StopRequested()
        return call()

    retrying = Retrying(
        retry=retry_if_exception_type(retry_on),
        wait=pause,
        stop=give_up,
        sleep=sleep,
        before_sleep=(lambda state: before_retry(_failure(state), state.upcoming_sleep)) if before_retry else None,
        reraise=True,
    )
    return retrying(attempt)
