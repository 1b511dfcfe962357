"""The streaming endpoints of DESIGN §7 (start or join a studio's processing and stream it),
and the staff page that exercises them."""

from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from streaming.channels import can_start_runs, can_view_runs
from streaming.http import ApiError, api_endpoint, authenticate, json_body, require
from streaming.services import start_run
from streaming.sse import resumed_run, run_stream_response

from .jobs import ALL_STUDIOS, PROCESS_STUDIO, subject_problem
from .models import Studio

STUDIO_ID_MAX_LENGTH = Studio._meta.get_field("studio_id").max_length


@api_endpoint(methods=["GET", "POST"])
def refresh_workshops(request):
    """POST {"studio_id": …} or GET ?studio_id=…; "all" processes every active studio."""
    user = authenticate(request)
    if request.method == "POST":
        studio_id = json_body(request).get("studio_id")
    else:
        studio_id = request.GET.get("studio_id")
    return _start_and_stream(request, user, studio_id, allow_all=True)


@api_endpoint(methods=["GET"])
def process_studio(request):
    user = authenticate(request)
    return _start_and_stream(request, user, request.GET.get("studio_id"), allow_all=False)


def _start_and_stream(request, user, studio_id, allow_all):
    require(can_start_runs(user) and can_view_runs(user), "You may not start runs.")
    subject = _validated_subject(studio_id, allow_all)
    resumed = resumed_run(request, PROCESS_STUDIO, subject)
    if resumed:
        run, after_seq = resumed
        return run_stream_response(request, run, user, after_seq=after_seq)
    run, _created = start_run(PROCESS_STUDIO, subject, user=user)
    return run_stream_response(request, run, user)


def _validated_subject(studio_id, allow_all):
    if studio_id is None or studio_id == "":
        raise ApiError(400, "missing_studio_id", "Give the studio to process as studio_id.")
    if not isinstance(studio_id, str):
        raise ApiError(400, "invalid_studio_id", "studio_id must be a string.")
    if len(studio_id) > STUDIO_ID_MAX_LENGTH:
        raise ApiError(400, "invalid_studio_id", f"studio_id may be at most {STUDIO_ID_MAX_LENGTH} characters.")
    if studio_id == ALL_STUDIOS and not allow_all:
        raise ApiError(400, "invalid_studio_id", "This endpoint processes one studio; use refresh-workshops for 'all'.")
    problem = subject_problem(studio_id)
    if problem:
        raise ApiError(404, *problem)
    return studio_id


@staff_member_required
@ensure_csrf_cookie
def test_client(request):
    """A page to try both endpoints from a browser: POST through fetch, GET through EventSource."""
    studios = Studio.objects.filter(active=True).order_by("name")
    return render(request, "studios/test_client.html", {"studios": studios, "title": "Streaming test client"})
