"""The streaming endpoints of DESIGN §7 (start or join a studio's processing and stream it),
and the staff page that exercises them."""

from functools import partial
from types import SimpleNamespace

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import redirect, render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_http_methods

from streaming.http import ApiError, api_endpoint, authenticate, is_text, json_body, require
from streaming.permissions import can_start_runs
from streaming.schema import documented_by
from streaming.services import SubjectRefused, dispatch_run, start_run
from streaming.sse import open_streams, resumed_run, run_stream_response

from .api import STUDIO_ID_MAX_LENGTH, ProcessStudioSchema, RefreshWorkshopsSchema
from .calendar import feed_url, reset_feed_key
from .jobs import ALL_STUDIOS, PROCESS_STUDIO, workshop_links
from .models import Studio


@documented_by(RefreshWorkshopsSchema)
@api_endpoint(methods=["GET", "POST"])
def refresh_workshops(request):
    """POST {"studio_id": …} or GET ?studio_id=…; "all" processes every active studio."""
    user = _may_start(request)
    if request.method == "POST":
        studio_id = json_body(request).get("studio_id")
    else:
        studio_id = request.GET.get("studio_id")
    return _start_and_stream(request, user, studio_id, allow_all=True)


@documented_by(ProcessStudioSchema)
@api_endpoint(methods=["GET"])
def process_studio(request):
    user = _may_start(request)
    return _start_and_stream(request, user, request.GET.get("studio_id"), allow_all=False)


def _may_start(request):
    # Who asks is settled before the body is read: a caller without permission costs no parsing.
    user = authenticate(request)
    require(can_start_runs(user), "You may not start runs.")
    open_streams.check(user)  # before a run starts that the user could not watch
    return user


def _start_and_stream(request, user, studio_id, allow_all):
    subject = _validated_subject(studio_id, allow_all)
    resumed = resumed_run(request, PROCESS_STUDIO, subject)
    if resumed:
        run, after_seq = resumed
        return run_stream_response(request, run, user, after_seq=after_seq)
    try:
        run, created = start_run(PROCESS_STUDIO, subject, user=user, dispatch=False)
    except SubjectRefused as refused:
        raise ApiError(404, refused.code, refused.message) from None
    # A run this request created begins once its stream's opening is written (run_stream_response).
    return run_stream_response(request, run, user, hand_over=partial(dispatch_run, run) if created else None)


def _validated_subject(studio_id, allow_all):
    if studio_id is None or studio_id == "":
        raise ApiError(400, "missing_studio_id", "Give the studio to process as studio_id.")
    if not is_text(studio_id):
        raise ApiError(400, "invalid_studio_id", "studio_id must be a string of valid Unicode text.")
    if len(studio_id) > STUDIO_ID_MAX_LENGTH:
        raise ApiError(400, "invalid_studio_id", f"studio_id may be at most {STUDIO_ID_MAX_LENGTH} characters.")
    if studio_id == ALL_STUDIOS and not allow_all:
        raise ApiError(400, "invalid_studio_id", "This endpoint processes one studio; use refresh-workshops for 'all'.")
    return studio_id


@staff_member_required
@ensure_csrf_cookie
def test_client(request):
    """A page to try the streams from a browser: POST through fetch, GET through EventSource, and a WebSocket."""
    studios = list(Studio.objects.filter(active=True).order_by("name"))
    # The links the admin panel shows under a finished run ("Workshops of …"), for each choice.
    links = {
        subject: workshop_links(SimpleNamespace(subject=subject))
        for subject in [*(studio.studio_id for studio in studios), ALL_STUDIOS]
    }
    context = {
        **admin.site.each_context(request),
        "studios": studios,
        "result_links": links,
        "title": "Streaming test client",
    }
    return render(request, "studios/test_client.html", context)


@staff_member_required
@require_http_methods(["GET", "POST"])
def calendar_subscribe(request):
    """The signed-in user's secret feed URL for a studio's or an artist's workshops, to paste into a calendar app;
    a POST resets it (a new key), which every user may do for their own, whatever their permissions."""
    if request.method == "POST":
        reset_feed_key(request.user)
        messages.success(request, "Your calendar feed link was reset: the URLs made before no longer work.")
        return redirect(request.get_full_path())
    filters = {"studio": request.GET.get("studio", ""), "artist": request.GET.get("artist", ""), "upcoming": "true"}
    url = feed_url(request, request.user, **filters)
    subject = filters["studio"] or filters["artist"] or "all studios"
    context = {
        **admin.site.each_context(request),
        "title": f"Calendar feed: workshops of {subject}",
        "feed_url": url,
        "webcal_url": "webcal://" + url.split("://", 1)[1],
    }
    return render(request, "studios/calendar_subscribe.html", context)
