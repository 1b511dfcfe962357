"""A run's stream over WebSocket at /ws/runs/<id>/: the same events, ids and rules as its SSE stream.

Each event is one text message ``{"id": "run-<id>:<seq>", "event": "<type>", "data": <envelope>}``,
served from the run's feed (streaming.fanout) like every SSE stream of the run. The socket closes
(code 1000) after `complete`; at STREAM_TIMEOUT a `close` event comes first, and reconnecting with
``?last_event_id=run-<id>:<seq>`` resumes after that event.

Who asks: a session (the admin's pages, same-site only) or ``Authorization: Token <key>`` in the
handshake's headers, so a token never travels in a URL. A refused socket gets one message
``{"event": "error", "data": {"error": {"code", "message"}}}`` and is closed with 4400, 4401, 4403,
4404 or 4429.
"""

import asyncio
import json
import logging
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django_eventstream.utils import get_channelmanager

from .conf import conf
from .fanout import follow
from .http import ApiError, origin_allowed, token_user
from .models import Run
from .permissions import can_watch_runs
from .sse import KEEP_ALIVE_SECONDS, close_envelope, open_streams, seq_after
from .storage import RunEventStorage, channel_for_run

CLOSE_CODES = {400: 4400, 401: 4401, 403: 4403, 404: 4404, 429: 4429}

logger = logging.getLogger(__name__)


def page_scheme(scope: dict[str, Any]) -> str:
    """`http` or `https`: the scheme of pages of this site that may open this socket with a session.

    As Django decides `request.scheme`: SECURE_PROXY_SSL_HEADER when it is set and sent (a proxy
    that ends TLS), else the socket's own scheme. daphne leaves `scheme` out of a WebSocket scope
    (ASGI then means `ws`), even where it would set `https` for an HTTP request.
    """
    headers = dict(scope.get("headers", []))
    if settings.SECURE_PROXY_SSL_HEADER:
        name, secure_value = settings.SECURE_PROXY_SSL_HEADER
        header = name.removeprefix("HTTP_").lower().replace("_", "-").encode("latin-1")
        if header in headers:
            forwarded = headers[header].decode("latin-1").split(",", 1)[0].strip()
            return "https" if forwarded == secure_value else "http"
    return "https" if scope.get("scheme") in ("wss", "https") else "http"


class RunEventsConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.release = None
        self.follower: asyncio.Task | None = None
        await self.accept()
        try:
            user, run, after_seq, finished = await self._admit()
            self.release = open_streams.reserve(user)
        except ApiError as refused:
            message = {"error": {"code": refused.code, "message": refused.message}}
            await self.send(json.dumps({"event": "error", "data": message}))
            await self.close(code=CLOSE_CODES.get(refused.status, 4400))
            return
        if finished:
            # Nothing will follow: say so instead of holding the socket open until the time limit.
            await self._send_close("finished")
            await self.close(code=1000)
            return
        self.follower = asyncio.create_task(self._follow(run.pk, after_seq))

    async def disconnect(self, code: int) -> None:
        if self.follower is not None:
            self.follower.cancel()
        if self.release is not None:
            self.release()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Clients have nothing to say once connected; what they send is ignored."""

    async def _follow(self, run_id: int, after_seq: int) -> None:
        complete = False
        try:
            async for frames in follow(run_id, after_seq, conf.STREAM_TIMEOUT, quiet=KEEP_ALIVE_SECONDS):
                for frame in frames:
                    await self.send(frame.message)
                complete = bool(frames) and frames[-1].type == "complete"
        except Exception:
            # A task's exception would otherwise go unseen and leave the client waiting on a dead socket.
            logger.exception("Run %s: its socket stream failed", run_id)
            await self.close(code=1011)
            return
        if not complete:
            await self._send_close("timeout")
        await self.close(code=1000)

    async def _send_close(self, reason: str) -> None:
        """The `close` message SSE streams also send: the socket's own, so it has no event id."""
        await self.send(json.dumps({"event": "close", "data": close_envelope(reason)}))

    @database_sync_to_async
    def _admit(self) -> tuple[Any, Run, int, bool]:
        """Who asks, the run and where to start in it, and whether the run has nothing more to send."""
        user = self._user()
        if not can_watch_runs(user):
            raise ApiError(403, "permission_denied", "You may not view runs.")
        run_id = self.scope["url_route"]["kwargs"]["run_id"]
        run = Run.objects.filter(pk=run_id).first()
        if run is None:
            raise ApiError(404, "run_not_found", f"There is no run {run_id}.")
        if not get_channelmanager().can_read_channel(user, channel_for_run(run.pk)):
            raise ApiError(403, "permission_denied", "You may not view this run.")
        after_seq = self._after_seq(run)
        finished = not run.is_active and after_seq >= RunEventStorage().get_current_id(channel_for_run(run.pk))
        return user, run, after_seq, finished

    def _user(self) -> Any:
        headers = dict(self.scope.get("headers", []))
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        if authorization:
            scheme, _, key = authorization.partition(" ")
            user = token_user(key.strip()) if scheme == "Token" else None
            if user is None or not user.is_active:
                raise ApiError(401, "invalid_token", "Use 'Authorization: Token <key>' with a valid key.")
            return user
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            raise ApiError(401, "not_authenticated", "Sign in as staff or send 'Authorization: Token <key>'.")
        # A browser sends the session cookie whichever site opened the socket.
        origin = headers.get(b"origin", b"").decode("latin-1")
        host = headers.get(b"host", b"").decode("latin-1")
        if not origin or not origin_allowed(origin, host, page_scheme(self.scope)):
            raise ApiError(403, "cross_site_refused", "Sessions may open run sockets from this site only.")
        return user

    def _after_seq(self, run: Run) -> int:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        return seq_after((query.get("last_event_id") or query.get("lastEventId") or [""])[0], run.pk)


class NoSuchSocket(AsyncWebsocketConsumer):
    """Any WebSocket path without a consumer: the handshake is refused (daphne answers 403)."""

    async def connect(self) -> None:
        await self.close()
