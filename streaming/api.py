"""The REST API's shared parts (permissions, pagination, JSON parsing, schema), and the runs API.

Every DRF view of the project uses what is here through ``REST_FRAMEWORK`` in settings; errors
go through ``streaming.http.api_exception_handler``, so they share the streaming endpoints' shape.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.urls import URLPattern, URLResolver, get_resolver
from django_filters import rest_framework as filters
from drf_spectacular.generators import EndpointEnumerator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from .http import ApiError
from .models import Run, RunStatus
from .serializers import RUN_EVENT, ErrorSerializer, RunSerializer, RunStartSerializer
from .services import request_cancel, start_run

# --- permissions ---

PERMISSION_FOR_METHOD = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


class ModelPermission(BasePermission):
    """Reads need the model's view permission; writes need a staff user with add/change/delete.

    A view names other permissions for one of its actions in ``action_permissions``: a list whose
    entries are all needed, an entry being a permission or a tuple of which any one will do
    (``{"cancel": ["streaming.view_run", ("streaming.change_run", "streaming.add_run")]}``).
    Anonymous requests fail here and DRF answers 401.
    """

    message = "You do not have permission to perform this action."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if request.method not in SAFE_METHODS and not user.is_staff:
            self.message = "Only staff may change this."
            return False
        return all(
            any(user.has_perm(perm) for perm in entry) if isinstance(entry, tuple) else user.has_perm(entry)
            for entry in self.required_permissions(request, view)
        )

    @staticmethod
    def required_permissions(request, view):
        custom = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if custom is not None:
            return custom
        opts = view.get_queryset().model._meta
        return [f"{opts.app_label}.{PERMISSION_FOR_METHOD.get(request.method, 'change')}_{opts.model_name}"]


# --- looking objects up by their public id ---


class PublicIdLookupMixin:
    # get_object by `lookup_field` that answers 404 `<not_found_code>` with a message naming the id.
    # No integer is assumed: a value the field cannot hold finds nothing. (A comment, not a
    # docstring: drf-spectacular would show a docstring as every operation's description.)

    not_found_code = "not_found"
    not_found_noun = "object"

    def get_object(self):
        value = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        try:
            obj = self.get_queryset().filter(**{self.lookup_field: value}).first()
        except (TypeError, ValueError, DjangoValidationError):
            obj = None
        if obj is None:
            shown = value if isinstance(value, int) else str(value)[:100]
            raise ApiError(404, self.not_found_code, f"There is no {self.not_found_noun} {shown!r}.")
        self.check_object_permissions(self.request, obj)
        return obj


# --- creating an object under a public id ---


def save_new_or_conflict(serializer, model, field, code, noun):
    """Save a validated create serializer; an id already taken answers 409 `code`, not 400.

    The create serializers leave uniqueness to this function, so that a conflict with an existing
    object (or a simultaneous create) is told apart from invalid input.
    """
    value = serializer.validated_data[field]
    message = f"There is already {noun} {value!r}."
    if model.objects.filter(**{field: value}).exists():
        raise ApiError(409, code, message)
    try:
        with transaction.atomic():
            serializer.save()
    except IntegrityError:
        raise ApiError(409, code, message) from None


class PublicIdCreateMixin:
    """Create through `create_serializer_class`; an id already taken answers 409 `conflict_code`."""

    create_serializer_class = None
    conflict_code = "conflict"
    conflict_noun = "an object"

    def get_serializer_class(self):
        if self.action == "create" and self.create_serializer_class is not None:
            return self.create_serializer_class
        return super().get_serializer_class()

    def perform_create(self, serializer):
        model = self.get_queryset().model
        save_new_or_conflict(serializer, model, self.lookup_field, self.conflict_code, self.conflict_noun)


# --- the schema ---

ERROR_CODES = {
    "400": "`invalid` (the body or a query parameter is not valid; `fields` says which and why), "
    "`invalid_json`, `invalid_page_size`",
    "401": "`not_authenticated` (no credentials), `invalid_token`",
    "403": "`permission_denied` (not staff, or the model permission is missing), "
    "`csrf_failed` (a session request without the CSRF token)",
    "413": "`body_too_large`: a body over 64 KiB",
    "415": "`unsupported_media_type`: the body is not `application/json`",
}


def error_response(codes):
    """An OpenAPI response: the JSON error, described by the codes it may carry."""
    return OpenApiResponse(ErrorSerializer, description=f"Error codes: {codes}.")


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, adding the JSON error responses every operation may give."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, description in self._error_statuses().items():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    error_response(description), code, media_types=["application/json"], direction=direction
                )
        return dict(sorted(responses.items()))

    def _get_filter_parameters(self):
        # django-filter takes an empty value (?status=) as no filter; say so, since an empty value
        # is otherwise outside an enum's, a date's or a boolean's schema.
        return [{**parameter, "allowEmptyValue": True} for parameter in super()._get_filter_parameters()]

    def _error_statuses(self):
        statuses = {"401": ERROR_CODES["401"], "403": ERROR_CODES["403"]}
        not_found = []
        if "{" in self.path:
            not_found.append(f"`{getattr(self.view, 'not_found_code', None) or 'not_found'}`")
        if self.method == "GET" and self._is_list_view():
            statuses["400"] = "`invalid` (a filter's value; `fields` says which), `invalid_page_size`"
            not_found.append("`page_not_found`")
        if self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None:
            statuses.update({code: ERROR_CODES[code] for code in ("400", "413", "415")})
        if not_found:
            statuses["404"] = ", ".join(not_found)
        conflict_code = getattr(self.view, "conflict_code", None)
        if conflict_code and self.method == "POST" and getattr(self.view, "action", None) == "create":
            statuses["409"] = f"`{conflict_code}`: an object with this id exists already"
        return statuses


# Plain Django views (the SSE endpoints) are not DRF views, so drf-spectacular cannot see them.
# Each is described by a DRF view that is never routed; a preprocessing hook adds it to the
# schema at the plain view's real route, found by its URL name.
_documented_plain_views = []


def documents(url_name):
    """Class decorator for an APIView whose schema describes the plain view named `url_name`."""

    def decorator(cls):
        _documented_plain_views.append((url_name, cls))
        return cls

    return decorator


def add_plain_views_to_schema(endpoints, **kwargs):
    """SPECTACULAR_SETTINGS PREPROCESSING_HOOKS entry."""
    routes = dict(_named_routes(get_resolver().url_patterns))
    enumerator = EndpointEnumerator()
    for url_name, cls in _documented_plain_views:
        path_regex = routes[url_name]
        callback = cls.as_view()
        for method in enumerator.get_allowed_methods(callback):
            endpoints.append((enumerator.get_path_from_regex(path_regex), path_regex, method, callback))
    return endpoints


def _named_routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLPattern) and pattern.name:
            yield pattern.name, prefix + str(pattern.pattern)
        elif isinstance(pattern, URLResolver):
            yield from _named_routes(pattern.url_patterns, prefix + str(pattern.pattern))


STREAM_DESCRIPTION = """\
A `200 text/event-stream` response with `Cache-Control: no-cache`, `X-Accel-Buffering: no` and
`X-Run-Id`. Each frame is

```
id: run-<run id>:<seq>
event: <type>
data: <one RunEvent envelope, JSON>
```

The `data` of every frame is one `RunEvent` envelope (the schema below): `logs`, `progress_bar`,
`complete` (always the run's last event; the server then ends the response), `error` (the run itself
failed; a `complete` with status `failed` follows) or `close` (the stream's time limit ended it while
the run goes on; reconnect with the last id). django-eventstream's own frames (`stream-open`,
`keep-alive`, `stream-reset`) may appear between them: ignore types you do not know.
"""

STREAM_FORBIDDEN = (
    "`permission_denied` (the user lacks the permission), "
    "`cross_site_refused` (a session request from another site), `csrf_failed` (a session POST without the CSRF token)"
)

STREAM_HEADERS = [
    OpenApiParameter("X-Run-Id", int, OpenApiParameter.HEADER, response=[200], description="The run streamed."),
    OpenApiParameter("Cache-Control", str, OpenApiParameter.HEADER, response=[200], description="`no-cache`"),
    OpenApiParameter("X-Accel-Buffering", str, OpenApiParameter.HEADER, response=[200], description="`no`"),
]


def stream_response(description):
    return {(200, "text/event-stream"): OpenApiResponse(RUN_EVENT, description=description)}


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
class RunViewSet(PublicIdLookupMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Run.objects.select_related("requested_by")
    serializer_class = RunSerializer
    permission_classes = [ModelPermission]
    filterset_class = RunFilter
    lookup_field = "pk"
    lookup_url_kwarg = "run_id"
    lookup_value_converter = "int"  # run ids are public ids, like the events stream's <int:run_id>
    not_found_code = "run_not_found"
    not_found_noun = "run"
    # Starting a run also shows it (the response, its events_url): the same pair as the stream endpoints.
    # Whoever may start runs may cancel them too, as in the admin's live panel.
    action_permissions = {
        "create": ["streaming.add_run", "streaming.view_run"],
        "cancel": ["streaming.view_run", ("streaming.change_run", "streaming.add_run")],
    }

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
    def create(self, request):
        start = RunStartSerializer(data=request.data)
        start.is_valid(raise_exception=True)
        run, created = start_run(start.validated_data["job"], start.validated_data["subject"], user=request.user)
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
            409: error_response("`run_not_active`: the run has already finished"),
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, run_id=None):
        run = self.get_object()
        was_running = run.status == RunStatus.RUNNING
        if not request_cancel(run):
            raise ApiError(409, "run_not_active", f"Run {run.pk} has already finished ({run.status}).")
        if was_running:
            # The worker stops between two steps, maybe before this answer is sent: answer what
            # was accepted (a running run told to stop), not a race with the worker.
            run.cancel_requested = True
            return Response(RunSerializer(run, context=self.get_serializer_context()).data, status=status.HTTP_202_ACCEPTED)
        run.refresh_from_db()
        return Response(RunSerializer(run, context=self.get_serializer_context()).data, status=status.HTTP_200_OK)


@documents("run-events")
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
                "Last-Event-ID", str, OpenApiParameter.HEADER, description="The last id seen, `run-<id>:<seq>`."
            ),
            OpenApiParameter("lastEventId", str, description="The same as the Last-Event-ID header."),
            *STREAM_HEADERS,
        ],
        responses={
            **stream_response("The run's events, then the end of the response."),
            400: error_response("`invalid_last_event_id`"),
            403: error_response(STREAM_FORBIDDEN),
            404: error_response("`run_not_found`"),
        },
        tags=["runs"],
    )
    def get(self, request, run_id):
        raise NotImplementedError  # pragma: no cover
