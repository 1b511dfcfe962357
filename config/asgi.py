"""The ASGI application daphne serves: HTTP through Django, WebSocket through channels."""

import asyncio
import gc
import os
import re

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup(set_prefix=False)

from asgiref.sync import sync_to_async  # noqa: E402
from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core import signals  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.db import close_old_connections, reset_queries  # noqa: E402

from streaming.recovery import start_watchdog  # noqa: E402
from streaming.routing import websocket_urlpatterns  # noqa: E402
from streaming.shutdown import stop_runs_when_the_server_stops  # noqa: E402
from studios.pipeline.fetch import shared_ssl_context  # noqa: E402
from studios.schedules import start_scheduler  # noqa: E402

# The long-lived responses: a run's SSE stream, and the start endpoints that stream the run they start.
STREAM_PATHS = re.compile(r"^/api/(runs/[0-9]+/events/|streaming/)")


class StreamsShareOneThread(ASGIHandler):
    """Django's ASGI handler, except that stream requests run their sync parts on one shared thread,
    and every request crosses from the event loop to its sync code once.

    Django gives every request a thread of its own for the sync code it runs (middleware, the view),
    and that thread lives as long as the response: one idle thread per open stream. A stream's sync
    part (who asks, starting the run) is short and its body is async, so streams share the thread
    that sync code uses outside a request's own context instead.

    Every view and middleware here is sync, yet Django's async chain calls each middleware's hooks
    in a thread of their own (and WhiteNoise, sync only, back on the loop): about a dozen crossings
    per request, each waiting for the GIL while a run's thread works. The chain is loaded in sync
    mode instead and called in one crossing, which also runs what `request_started` did (below).
    """

    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=False)

    def _started_and_answered(self, request):
        reset_queries()
        close_old_connections()
        return self.get_response(request)

    async def get_response_async(self, request):
        response = asyncio.ensure_future(sync_to_async(self._started_and_answered, thread_sensitive=True)(request))
        try:
            return await asyncio.shield(response)
        except asyncio.CancelledError:
            # The client hung up while its view ran, and Django cancels the request. The view still
            # finishes on its thread; its response is closed as if sent, to give back what it holds
            # (a stream's slot among its user's STREAM_MAX_PER_USER, which was lost for good).
            response.add_done_callback(_close_unsent)
            raise

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and STREAM_PATHS.match(scope["path"]):
            await self.handle(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


# Django sends request_started from the event loop, and its two receivers, which act on the
# calling thread's connections, then took a crossing to the sync thread of their own: about 0.5 ms
# of every request, a stream's start included. The request's one crossing runs them instead.
signals.request_started.disconnect(reset_queries)
signals.request_started.disconnect(close_old_connections)

_closing: set[asyncio.Task] = set()  # the loop keeps only weak references to tasks


def _close_unsent(view_done: asyncio.Future) -> None:
    if view_done.cancelled() or view_done.exception() is not None:
        return
    closing = asyncio.ensure_future(sync_to_async(view_done.result().close, thread_sensitive=True)())
    _closing.add(closing)
    closing.add_done_callback(_closing.discard)


application = ProtocolTypeRouter(
    {
        "http": StreamsShareOneThread(),
        "websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
    }
)
# Built now rather than by the first run's first fetch, whose 20 ms of CPU stalled every stream.
shared_ssl_context()
# The objects loaded so far (Django, the apps, the libraries) live as long as the process: keep them
# out of the collector's full passes, which otherwise stalled every stream for 100 ms and more.
gc.freeze()
# The server process executes runs: keep their heartbeats fresh and resume runs whose process died.
start_watchdog()
# SIGTERM or Ctrl-C leaves its runs interrupted between two links, for the next start to resume.
stop_runs_when_the_server_stops()
# Refresh schedules: due studios are claimed in the database, so every server may look (README: Schedules).
if settings.SCHEDULER_IN_PROCESS:
    start_scheduler()
