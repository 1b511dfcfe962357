"""What the OpenAPI schema says of run streams and of the JSON errors before them.

The stream endpoints are plain Django views, which drf-spectacular cannot see: each names, with
``documented_by``, a never-routed DRF view whose schema describes it, and the project's schema
hook adds that description at the plain view's route.
"""

from collections.abc import Callable
from typing import Any, TypeVar

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.views import APIView

from .serializers import RUN_EVENT, ErrorSerializer, RunStreamFrameSerializer

View = TypeVar("View", bound=Callable[..., Any])

STREAM_DESCRIPTION = """\
A `200 text/event-stream` response with `Cache-Control: no-cache`, `X-Accel-Buffering: no` and
`X-Run-Id`. Each frame is

```
id: run-<run id>:<seq>
event: <type>
data: <one RunEvent envelope, JSON>
```

The schema below describes one frame as an SSE client reads it (`event`, `id`, `data`). The `data`
of the run's events is one `RunEvent` envelope: `logs`, `progress_bar`, `complete` (always the run's
last event; the server then ends the response), `error` (the run itself failed; a `complete` with
status `failed` follows) or `close` (the stream's time limit ended it while the run goes on; reconnect
with the last id). django-eventstream's own frames (`stream-open`, `keep-alive`, `stream-reset`,
`stream-error`) may appear between them: ignore types you do not know.
"""

STREAM_FORBIDDEN = (
    "`permission_denied` (the user lacks the permission), "
    "`cross_site_refused` (a session request from another site), `csrf_failed` (a session POST without the CSRF token)"
)

STREAM_LIMITED = (
    "`too_many_streams`: the user holds STREAM_MAX_PER_USER streams open already; `Retry-After` says when to try again"
)

# The events endpoint's Last-Event-ID: an id of the run's frames (the run in the path), or nothing.
# Digits beyond 18 name no event; another run's id, which a pattern cannot tell apart, answers 400 too.
LAST_EVENT_ID_PATTERN = r"^(run-(0|[1-9][0-9]*):[0-9]{1,18})?$"

STREAM_HEADERS = [
    OpenApiParameter("X-Run-Id", int, OpenApiParameter.HEADER, response=[200], description="The run streamed."),
    OpenApiParameter("Cache-Control", str, OpenApiParameter.HEADER, response=[200], description="`no-cache`"),
    OpenApiParameter("X-Accel-Buffering", str, OpenApiParameter.HEADER, response=[200], description="`no`"),
]


def stream_response(description: str) -> dict[tuple[int, str], OpenApiResponse]:
    return {(200, "text/event-stream"): OpenApiResponse(RunStreamFrameSerializer, description=description)}


class RunEventJSONFieldExtension(OpenApiSerializerFieldExtension):
    # OpenAPI 3.0 has no contentMediaType/contentSchema (3.1 has): an extension names the envelope's
    # schema instead, which also keeps RunEvent and its event types among the components.
    target_class = "streaming.serializers.RunEventJSONField"

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        envelope = auto_schema.resolve_serializer(RUN_EVENT, direction)
        return {"type": "string", "x-contentMediaType": "application/json", "x-contentSchema": envelope.ref}


def error_doc(codes: str) -> OpenApiResponse:
    """An OpenAPI response: the JSON error, described by the codes it may carry."""
    return OpenApiResponse(ErrorSerializer, description=f"Error codes: {codes}.")


def documented_by(schema_view: type[APIView]) -> Callable[[View], View]:
    """Decorate a plain view: `schema_view` (an APIView that is never routed) describes it."""

    def decorator(view: View) -> View:
        view.schema_view = schema_view  # type: ignore[attr-defined]
        return view

    return decorator
