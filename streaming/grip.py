"""GRIP: a proxy in front of the app (Pushpin) holds a run's streams, and the app publishes to it.

With GRIP_URL set, django-grip's middleware marks a request that came through the proxy (its
Grip-Sig verified with the key in GRIP_URL) as `request.grip.proxied`. Such a stream is answered
once (streaming.sse): what the run's log holds past the client's last event id, then instructions
to hold the connection on the run's GRIP channel. django-eventstream's `send_event` publishes every
event to that channel once, in the shape this module subscribes to: the frame's `id:` is built by
the proxy from the channel's last id (`build-id` filter), so each frame reads `id: run-<id>:<seq>`
exactly as when the app serves it. After `complete`, a close published on the channel ends every
held stream of the run.

Each published event names the one before it (prev-id), so the proxy sees a gap (an event it never
received, or one published before the hold began) and then follows the hold's next link: the run's
events URL with a signed token, and Grip-Last saying the last seq it delivered. It follows the link
too after REFRESH_SECONDS without an event, which ends streams whose close it missed, whose run ran
past STREAM_TIMEOUT, or whose user may no longer watch.
"""

import math
from urllib.parse import quote

from django.core import signing
from django.http import HttpRequest
from django.urls import reverse
from django_eventstream.utils import build_id_escape
from django_grip import publish
from gripcontrol import Channel, HttpStreamFormat

from .conf import conf
from .storage import RunEventStorage, channel_for_run, parse_seq

NEXT_PARAM = "grip_next"
NEXT_SALT = "streaming.grip.next"
REFRESH_SECONDS = 120
# The proxy follows next links of held streams in batches per link, about ten batches a second,
# and one request serves a batch; a link per stream made thousands of watchers wait minutes for
# their turn (the proxy refreshes every held stream of a channel once it has subscribed to it).
# So streams of one run and one user opened in the same minute share their link: their time limit
# counts from the end of that minute.
LINK_SHARING_SECONDS = 60


def enabled() -> bool:
    return bool(conf.GRIP_URL)


def proxied(request: HttpRequest) -> bool:
    """Whether the request came through the GRIP proxy (only ever with GRIP_URL set)."""
    grip = getattr(request, "grip", None)
    return bool(grip is not None and grip.proxied)


def grip_channel(run_id: int) -> str:
    """The channel django-eventstream publishes a run's events to (utils.publish_event)."""
    return "events-" + quote(channel_for_run(run_id))


def hold_stream(
    request: HttpRequest,
    run_id: int,
    last_seq: int,
    user_id: int,
    since: float,
    keep_alive: str,
    keep_alive_seconds: float,
) -> None:
    """Tell the proxy to keep the response open for the run's events after `last_seq`."""
    channel = grip_channel(run_id)
    subscription = Channel(channel, prev_id=str(last_seq))
    subscription.filters.append("build-id")  # as django-eventstream publishes: `id: %I`, built here
    instruct = request.grip.start_instruct()
    instruct.add_channel(subscription)
    instruct.set_hold_stream()
    instruct.meta["id_format"] = f"{build_id_escape(channel_for_run(run_id))}:%({channel})s"
    instruct.set_keep_alive(keep_alive, int(keep_alive_seconds))
    shared_since = math.ceil(since / LINK_SHARING_SECONDS) * LINK_SHARING_SECONDS
    token = _signer().sign_object({"run": run_id, "user": user_id, "since": shared_since})
    instruct.set_next_link(f"{reverse('run-events', args=[run_id])}?{NEXT_PARAM}={token}", timeout=REFRESH_SECONDS)


def _signer() -> signing.Signer:
    # Without a timestamp, unlike signing.dumps: the same claims give the same link.
    return signing.Signer(salt=NEXT_SALT)


def followed_link(request: HttpRequest, run_id: int) -> tuple[int, float, int] | None:
    """(user id, stream start, last seq delivered) when this is the proxy following a hold's next
    link of the run; None for any other request."""
    token = request.GET.get(NEXT_PARAM)
    if not token or not proxied(request):
        return None
    try:
        claims = _signer().unsign_object(token)
    except signing.BadSignature:
        return None
    last_ids = request.grip.last  # Grip-Last, read by django-grip's middleware
    seq = parse_seq(last_ids.get(grip_channel(run_id), ""))
    if claims.get("run") != run_id or seq is None:
        return None
    return claims["user"], claims["since"], seq


def close_held_streams(run_id: int) -> None:
    """End every stream of the run the proxy holds; published after the run's `complete`."""
    if not enabled():
        return
    last_seq = RunEventStorage().get_current_id(channel_for_run(run_id))
    # prev-id: delivered right after `complete`, never before it (the proxy orders by these ids).
    publish(grip_channel(run_id), HttpStreamFormat(close=True), id=f"{last_seq}-close", prev_id=str(last_seq))
