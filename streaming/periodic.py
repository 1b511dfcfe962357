"""Background work a process repeats on its own: the run watchdog, a domain's scheduler.

One daemon thread per name and process; a failing pass is logged and tried again next time, and
each pass gives its database connection back, so an idle thread holds none.
"""

import logging
import threading
import time
from collections.abc import Callable

from django.db import close_old_connections

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_started: dict[str, threading.Thread] = {}


def start_periodic(
    name: str, interval: float, step: Callable[[], None], while_: Callable[[], bool] = lambda: True
) -> None:
    """Call `step()` every `interval` seconds in a thread named `name`, once per process, while `while_()`."""
    with _lock:
        if name in _started:
            return
        thread = threading.Thread(target=_repeat, args=(name, interval, step, while_), name=name, daemon=True)
        _started[name] = thread
        thread.start()


def _repeat(name: str, interval: float, step: Callable[[], None], while_: Callable[[], bool]) -> None:
    while while_():
        try:
            step()
        except Exception:
            logger.exception("%s failed; trying again in %ss", name, interval)
        finally:
            close_old_connections()
        time.sleep(interval)
