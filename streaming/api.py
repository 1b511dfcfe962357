"""The runs API: list and read runs, start or join one, cancel one; and the schema of a run's stream."""

from typing import NoReturn

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import Run, RunStatus
from .permissions import RunPermission
from .schema import (
    LAST_EVENT_ID_PATTERN,
    STREAM_DESCRIPTION,
    STREAM_FORBIDDEN,
    STREAM_HEADERS,
    STREAM_LIMITED,
    error_doc,
    stream_response,
)
from .serializers import RunSerializer, RunStartSerializer
from .services import SubjectRefused, request_cancel, start_run


class RunNotActive(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "run_not_active"


# --- runs ---


class RunFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=RunStatus.choices)
    job = filters.CharFilter(help_text="A job name, e.g. process_studio.")
    subject = filters.CharFilter(help_text="What the run works on: a studio_id or 'all'.")

    class Meta:
        model = Run
        fields = ["status", "job", "subject"]


@extend_schema_view(
    list=extend_schema(summary="List runs", description="Newest first."),
    retrieve=extend_schema(summary="A run: status, progress, summary, error and timestamps"),
)
class RunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Run.objects.select_related("requested_by")
    serializer_class = RunSerializer
    permission_classes = [RunPermission]
    filterset_class = RunFilter
    lookup_field = "pk"
    lookup_url_kwarg = "run_id"
    lookup_value_converter = "int"  # run ids are public ids, like the events stream's <int:run_id>
    not_found_code = "run_not_found"

    def get_object(self) -> Run:
        run_id = self.kwargs[self.lookup_url_kwarg]
        run = self.get_queryset().filter(pk=run_id).first()
        if run is None:
            raise NotFound(f"There is no run {run_id}.", code=self.not_found_code)
        return run

    @extend_schema(
        summary="Start a run, or join the active one",
        description="Starts `job` on `subject` and answers 201 with the run; when a run of the same job on "
        "the same subject is already queued or running, answers 200 with that run instead (one active run per "
        "subject). Follow `events_url` for its live events.",
        request=RunStartSerializer,
        responses={
            201: OpenApiResponse(RunSerializer, description="A new run, queued."),
            200: OpenApiResponse(RunSerializer, description="The run already active on this subject, joined."),
        },
    )
    def create(self, request: Request) -> Response:
        start = RunStartSerializer(data=request.data)
        start.is_valid(raise_exception=True)
        try:
            run, created = start_run(
                start.validated_data["job"],
                start.validated_data["subject"],
                params=start.validated_data.get("params") or {},
                user=request.user,
            )
        except SubjectRefused as refused:
            raise ValidationError({"subject": [refused.message]}) from None
        data = RunSerializer(run, context=self.get_serializer_context()).data
        if created:
            return Response(data, status=status.HTTP_201_CREATED, headers={"Location": data["url"]})
        return Response(data, status=status.HTTP_200_OK)

    @extend_schema(
        summary="Cancel a run",
        description="Cancelling is cooperative: a queued run ends at once (200, status `cancelled`); a running one "
        "stops between two steps (202, `cancel_requested` true; its stream ends with `complete`, status `cancelled`).",
        operation_id="runs_cancel",
        request=None,
        responses={
            200: OpenApiResponse(RunSerializer, description="The run was queued and is now cancelled."),
            202: OpenApiResponse(RunSerializer, description="The run is running and will stop at its next step."),
            409: error_doc("`run_not_active`: the run has already finished"),
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, run_id: int | None = None) -> Response:
        run = self.get_object()
        was_running = run.status == RunStatus.RUNNING
        if not request_cancel(run):
            raise RunNotActive(f"Run {run.pk} has already finished ({run.status}).")
        if was_running:
            # The worker stops between two steps, maybe before this answer is sent: answer what
            # was accepted (a running run told to stop), not a race with the worker.
            run.cancel_requested = True
            return Response(
                RunSerializer(run, context=self.get_serializer_context()).data, status=status.HTTP_202_ACCEPTED
            )
        run.refresh_from_db()
        return Response(RunSerializer(run, context=self.get_serializer_context()).data, status=status.HTTP_200_OK)


class RunEventsSchema(APIView):
    """Never routed: the schema of streaming.views.run_events."""

    @extend_schema(
        operation_id="runs_events",
        summary="Watch or resume a run's stream",
        description="Replays the run from its first event, or from after the id in `Last-Event-ID` (or "
        "`?lastEventId=`), then follows it live until `complete`. A resume after the run's end gets one "
        "`close` event with reason `finished`. Needs `streaming.view_run`.\n\n" + STREAM_DESCRIPTION,
        parameters=[
            OpenApiParameter(
                "Last-Event-ID",
                {"type": "string", "pattern": LAST_EVENT_ID_PATTERN},
                OpenApiParameter.HEADER,
                description="The last id seen of this run, `run-<run_id>:<seq>`; an id of another run answers 400.",
            ),
            OpenApiParameter(
                "lastEventId",
                {"type": "string", "pattern": LAST_EVENT_ID_PATTERN},
                description="The same as the Last-Event-ID header (which wins when both are sent).",
            ),
            *STREAM_HEADERS,
        ],
        responses={
            **stream_response("The run's events, then the end of the response."),
            400: error_doc("`invalid_last_event_id`: not an id of this run's events"),
            403: error_doc(STREAM_FORBIDDEN),
            429: error_doc(STREAM_LIMITED),
            404: error_doc("`run_not_found`"),
        },
        tags=["runs"],
    )
    def get(self, request: Request, run_id: int) -> NoReturn:
        raise NotImplementedError  # pragma: no cover
