"""The catalogue API (studios, artists, workshops) and the schema of the studio streaming endpoints."""

from django.db.models import F
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView

from config.rest import ModelPermission, PublicIdCreateMixin, PublicIdLookupMixin
from config.schema import NO_NUL_PATTERN
from streaming.http import ApiError
from streaming.models import Run
from streaming.permissions import can_watch_runs
from streaming.schema import (
    STREAM_DESCRIPTION,
    STREAM_FORBIDDEN,
    STREAM_HEADERS,
    STREAM_LIMITED,
    error_doc,
    stream_response,
)

from .filters import ArtistFilter, StudioFilter, WorkshopFilter
from .jobs import ALL_STUDIOS
from .models import Artist, ChangeKind, Studio, WebhookEndpoint, Workshop, WorkshopChange
from .serializers import (
    ArtistCreateSerializer,
    ArtistSerializer,
    StudioCreateSerializer,
    StudioDetailSerializer,
    StudioSerializer,
    WebhookEndpointSerializer,
    WorkshopChangeSerializer,
    WorkshopSerializer,
)


def workshop_queryset():
    """Workshops with what their representation needs in three queries, by first session (undated last)."""
    return (
        Workshop.objects.select_related("studio")
        .prefetch_related("sessions", "artists")
        .order_by(F("first_session_at").asc(nulls_last=True), "id")
    )


@extend_schema_view(
    list=extend_schema(summary="List studios", description="By name."),
    create=extend_schema(summary="Create a studio", responses={201: StudioSerializer}),
    retrieve=extend_schema(summary="A studio"),
    update=extend_schema(summary="Replace a studio's fields (studio_id stays)"),
    partial_update=extend_schema(summary="Change some of a studio's fields (studio_id stays)"),
    destroy=extend_schema(summary="Delete a studio and its workshops"),
)
class StudioViewSet(PublicIdLookupMixin, PublicIdCreateMixin, viewsets.ModelViewSet):
    queryset = Studio.objects.order_by("name", "studio_id")
    serializer_class = StudioSerializer
    permission_classes = [ModelPermission]
    filterset_class = StudioFilter
    lookup_field = "studio_id"
    lookup_value_regex = "[-a-zA-Z0-9_]+"
    not_found_code = "studio_not_found"
    not_found_noun = "studio"
    action_permissions = {"workshops": ["studios.view_studio", "studios.view_workshop"]}

    create_serializer_class = StudioCreateSerializer
    conflict_code = "studio_exists"
    conflict_noun = "a studio"

    def get_serializer_class(self):
        # Only the detail reads the LLM use: a query per studio would slow the list.
        return StudioDetailSerializer if self.action == "retrieve" else super().get_serializer_class()

    @extend_schema(
        summary="A studio's workshops",
        description="The same as /api/workshops/?studio=<studio_id>, with the same filters.",
        responses=WorkshopSerializer(many=True),
    )
    @action(
        detail=True,
        methods=["get"],
        queryset=workshop_queryset(),
        filterset_class=WorkshopFilter,
        serializer_class=WorkshopSerializer,
    )
    def workshops(self, request, studio_id=None):
        studio = Studio.objects.filter(studio_id=studio_id).first()
        if studio is None:
            raise ApiError(404, self.not_found_code, f"There is no studio {studio_id[:100]!r}.")
        queryset = self.filter_queryset(self.get_queryset().filter(studio=studio))
        page = self.paginate_queryset(queryset)
        serializer = WorkshopSerializer(page, many=True, context=self.get_serializer_context())
        return self.get_paginated_response(serializer.data)


@extend_schema_view(
    list=extend_schema(summary="List artists", description="By name; `search` looks in names, ids and aliases."),
    create=extend_schema(summary="Create an artist", responses={201: ArtistSerializer}),
    retrieve=extend_schema(summary="An artist"),
    update=extend_schema(summary="Replace an artist's fields (artist_id stays)"),
    partial_update=extend_schema(summary="Change some of an artist's fields (artist_id stays)"),
    destroy=extend_schema(summary="Delete an artist", description="Its workshops stay, without it."),
)
class ArtistViewSet(PublicIdLookupMixin, PublicIdCreateMixin, viewsets.ModelViewSet):
    queryset = Artist.objects.order_by("name", "artist_id")
    serializer_class = ArtistSerializer
    permission_classes = [ModelPermission]
    filterset_class = ArtistFilter
    lookup_field = "artist_id"
    lookup_value_regex = "[^/]+"
    not_found_code = "artist_not_found"
    not_found_noun = "artist"

    create_serializer_class = ArtistCreateSerializer
    conflict_code = "artist_exists"
    conflict_noun = "an artist"


@extend_schema_view(
    list=extend_schema(
        summary="List workshops",
        description="By first session (workshops without a dated session last), each with its sessions and "
        "artists. Archived workshops are left out unless `archived=true`.",
    ),
    retrieve=extend_schema(summary="A workshop"),
)
class WorkshopViewSet(PublicIdLookupMixin, viewsets.ReadOnlyModelViewSet):
    queryset = workshop_queryset()
    serializer_class = WorkshopSerializer
    permission_classes = [ModelPermission]
    filterset_class = WorkshopFilter
    not_found_code = "workshop_not_found"
    not_found_noun = "workshop"
    lookup_field = "pk"
    lookup_url_kwarg = "id"

    def get_queryset(self):
        return workshop_queryset()


@extend_schema_view(
    list=extend_schema(summary="List webhook endpoints", description="Oldest first; secrets are never returned."),
    create=extend_schema(
        summary="Register a webhook endpoint",
        description="Its URL must pass the private-address rules of page fetches (400 invalid otherwise).",
        responses={201: WebhookEndpointSerializer},
    ),
    retrieve=extend_schema(summary="A webhook endpoint"),
    update=extend_schema(summary="Replace a webhook endpoint's fields"),
    partial_update=extend_schema(summary="Change some of a webhook endpoint's fields"),
    destroy=extend_schema(summary="Delete a webhook endpoint and its deliveries"),
)
class WebhookEndpointViewSet(PublicIdLookupMixin, viewsets.ModelViewSet):
    queryset = WebhookEndpoint.objects.order_by("id")
    serializer_class = WebhookEndpointSerializer
    permission_classes = [ModelPermission]
    not_found_code = "webhook_not_found"
    not_found_noun = "webhook endpoint"
    lookup_field = "pk"
    lookup_url_kwarg = "id"


class CanWatchRuns(BasePermission):
    """The runs API's rule (streaming.permissions): whoever may watch a run may read what it changed."""

    def has_permission(self, request, view):
        return can_watch_runs(request.user)


class ChangeFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=ChangeKind.choices, help_text="Only changes of this kind.")

    class Meta:
        model = WorkshopChange
        fields = ["kind"]


@extend_schema_view(
    get=extend_schema(
        summary="What a run changed",
        description="Per workshop the run saw or archived: `created`, `updated` (with the fields that changed, "
        "old and new), `unchanged` or `archived`, in the order the run saved them. The run's summary counts them "
        "(workshops_created, …). Same permission as reading the run.",
        responses={200: WorkshopChangeSerializer(many=True), 404: error_doc("`run_not_found`")},
        tags=["runs"],
    )
)
class RunChangesView(generics.ListAPIView):
    serializer_class = WorkshopChangeSerializer
    permission_classes = [CanWatchRuns]
    filterset_class = ChangeFilter

    queryset = WorkshopChange.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WorkshopChange.objects.none()
        run_id = self.kwargs["run_id"]
        if not Run.objects.filter(pk=run_id).exists():
            raise ApiError(404, "run_not_found", f"There is no run {run_id}.")
        return WorkshopChange.objects.filter(run_id=run_id).select_related("studio").order_by("id")


# --- the schema of the streaming endpoints in studios/views.py ---

STUDIO_ID_MAX_LENGTH = Studio._meta.get_field("studio_id").max_length


class RefreshWorkshopsBodySerializer(serializers.Serializer):
    studio_id = serializers.CharField(
        max_length=STUDIO_ID_MAX_LENGTH, help_text="A studio_id, or 'all' for every active studio."
    )


START_DESCRIPTION = """Starts processing (or joins the run already processing the same subject) and streams
the run from its first event to its `complete`. Needs `streaming.add_run` and `streaming.view_run`.
An `EventSource` that reconnects sends `Last-Event-ID`; the stream then resumes the run it names
instead of starting another.

"""

START_ERRORS = {
    403: error_doc(STREAM_FORBIDDEN),
    429: error_doc(STREAM_LIMITED),
    404: error_doc("`studio_not_found`, `no_active_studios` (for 'all')"),
}

LAST_EVENT_ID = OpenApiParameter(
    "Last-Event-ID",
    str,
    OpenApiParameter.HEADER,
    description="Sent by a reconnecting EventSource: `run-<id>:<seq>` resumes that run after that event "
    "(when it is a run of this endpoint's job and studio); any other value resumes nothing.",
)


def studio_id_parameter(description, allow_all):
    schema = {"type": "string", "minLength": 1, "maxLength": STUDIO_ID_MAX_LENGTH, "pattern": NO_NUL_PATTERN}
    if not allow_all:
        schema["not"] = {"enum": [ALL_STUDIOS]}
    return OpenApiParameter("studio_id", schema, required=True, description=description)


class RefreshWorkshopsSchema(APIView):
    """Never routed: the schema of studios.views.refresh_workshops."""

    @extend_schema(
        operation_id="streaming_refresh_workshops_get",
        summary="Process a studio (or all) and stream it, for EventSource",
        description=START_DESCRIPTION + STREAM_DESCRIPTION,
        parameters=[
            studio_id_parameter("A studio_id, or 'all' for every active studio.", allow_all=True),
            LAST_EVENT_ID,
            *STREAM_HEADERS,
        ],
        responses={
            **stream_response("The run's events until its `complete`."),
            400: error_doc("`missing_studio_id`, `invalid_studio_id` (not a string, or too long)"),
            **START_ERRORS,
        },
        tags=["streaming"],
    )
    def get(self, request):
        raise NotImplementedError  # pragma: no cover

    @extend_schema(
        operation_id="streaming_refresh_workshops",
        summary="Process a studio (or all) and stream it",
        description=START_DESCRIPTION + STREAM_DESCRIPTION,
        request=RefreshWorkshopsBodySerializer,
        parameters=[LAST_EVENT_ID, *STREAM_HEADERS],
        responses={
            **stream_response("The run's events until its `complete`."),
            400: error_doc("`missing_studio_id`, `invalid_studio_id`, `invalid_json`"),
            **START_ERRORS,
        },
        tags=["streaming"],
    )
    def post(self, request):
        raise NotImplementedError  # pragma: no cover


class ProcessStudioSchema(APIView):
    """Never routed: the schema of studios.views.process_studio."""

    @extend_schema(
        operation_id="streaming_process_studio",
        summary="Process one studio and stream it",
        description=START_DESCRIPTION + STREAM_DESCRIPTION,
        parameters=[
            studio_id_parameter("A studio_id ('all' is refused here).", allow_all=False),
            LAST_EVENT_ID,
            *STREAM_HEADERS,
        ],
        responses={
            **stream_response("The run's events until its `complete`."),
            400: error_doc("`missing_studio_id`, `invalid_studio_id` (not a string, too long, or 'all')"),
            403: error_doc(STREAM_FORBIDDEN),
            429: error_doc(STREAM_LIMITED),
            404: error_doc("`studio_not_found`"),
        },
        tags=["streaming"],
    )
    def get(self, request):
        raise NotImplementedError  # pragma: no cover
