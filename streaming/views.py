from django.http import HttpRequest, StreamingHttpResponse

from .api import RunEventsSchema
from .http import ApiError, api_endpoint, authenticate, require
from .models import Run
from .permissions import can_watch_runs
from .schema import documented_by
from .sse import continue_held_stream, last_event_seq, run_stream_response


@documented_by(RunEventsSchema)
@api_endpoint(methods=["GET"])
def run_events(request: HttpRequest, run_id: int) -> StreamingHttpResponse:
    """Watch or resume any run's stream, from its first event unless Last-Event-ID says otherwise."""
    continued = continue_held_stream(request, run_id)  # a GRIP proxy asking for more of a held stream
    if continued is not None:
        return continued
    user = authenticate(request)
    require(can_watch_runs(user), "You may not view runs.")
    run = Run.objects.filter(pk=run_id).first()
    if run is None:
        raise ApiError(404, "run_not_found", f"There is no run {run_id}.")
    return run_stream_response(request, run, user, after_seq=last_event_seq(request, run))
