from django.http import JsonResponse

from .channels import can_view_runs
from .http import ApiError, api_endpoint, authenticate, require
from .models import Run
from .services import request_cancel
from .sse import last_event_seq, run_stream_response


@api_endpoint(methods=["GET"])
def run_events(request, run_id):
    """Watch or resume any run's stream, from its first event unless Last-Event-ID says otherwise."""
    user = authenticate(request)
    require(can_view_runs(user), "You may not view runs.")
    run = Run.objects.filter(pk=run_id).first()
    if run is None:
        raise ApiError(404, "run_not_found", f"There is no run {run_id}.")
    return run_stream_response(request, run, user, after_seq=last_event_seq(request, run))


@api_endpoint(methods=["POST"])
def run_cancel(request, run_id):
    user = authenticate(request)
    require(user.has_perm("streaming.change_run") or user.has_perm("streaming.add_run"), "You may not cancel runs.")
    run = Run.objects.filter(pk=run_id).first()
    if run is None:
        raise ApiError(404, "run_not_found", f"There is no run {run_id}.")
    if not request_cancel(run):
        raise ApiError(409, "run_not_active", f"Run {run_id} has already finished ({run.status}).")
    return JsonResponse({"id": run.pk, "status": "cancel_requested"}, status=202)
