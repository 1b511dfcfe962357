"""Serializers of the runs API, and the shapes the OpenAPI schema gives the errors and the stream events."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from .events import LOG_LEVELS
from .jobs import job_names
from .models import FINISHED_STATUSES, Run


class RunSerializer(serializers.ModelSerializer):
    requested_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="The user who started the run, if one did."
    )
    url = serializers.SerializerMethodField(help_text="This run in the API.")
    events_url = serializers.SerializerMethodField(
        help_text="The run's Server-Sent Events stream, from its first event (GET with the same credentials)."
    )

    class Meta:
        model = Run
        fields = [
            "id",
            "job",
            "subject",
            "params",
            "status",
            "current",
            "total",
            "percentage",
            "message",
            "summary",
            "error",
            "requested_by",
            "trigger",
            "cancel_requested",
            "created_at",
            "started_at",
            "finished_at",
            "heartbeat_at",
            "url",
            "events_url",
        ]
        read_only_fields = fields

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    @extend_schema_field({"type": "string", "format": "uri"})
    def get_url(self, run: Run) -> str:
        return self._absolute(reverse("run-detail", kwargs={"run_id": run.pk}))

    @extend_schema_field({"type": "string", "format": "uri"})
    def get_events_url(self, run: Run) -> str:
        return self._absolute(reverse("run-events", kwargs={"run_id": run.pk}))


class RunStartSerializer(serializers.Serializer):
    job = serializers.ChoiceField(choices=[], help_text="A registered job.")
    subject = serializers.CharField(
        max_length=Run._meta.get_field("subject").max_length,
        help_text="What the job works on; the job's subject check says which subjects it accepts. "
        "One run of a job and subject is active at a time.",
    )
    params = serializers.DictField(
        required=False,
        default=dict,
        help_text="Options the job reads, as the job documents them. Ignored when an active run is joined.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["job"].choices = job_names()

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        # Taken as the schema says: DRF would turn a number into a string.
        if isinstance(data, Mapping):
            errors = {
                name: ["Must be a string."] for name in ("job", "subject") if not isinstance(data.get(name, ""), str)
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


# --- shapes that exist only in the schema ---


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable, e.g. studio_not_found.")
    message = serializers.CharField(help_text="For people.")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        # "fields" cannot be declared as a class attribute: it is the serializer's own property.
        fields["fields"] = serializers.DictField(
            required=False,
            child=serializers.JSONField(),
            help_text="Only with code 'invalid': the messages by field name (non_field_errors for the whole body).",
        )
        return fields


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


def _one_of(values: Iterable[str], **kwargs: Any) -> serializers.CharField:
    """A string field whose schema admits only `values`."""

    @extend_schema_field({"type": "string", "enum": list(values)})
    class OneOf(serializers.CharField):
        pass

    return OneOf(**kwargs)


def _const(value: str) -> serializers.CharField:
    """The event type an envelope carries."""
    return _one_of([value], help_text=f"Always '{value}', the same as the frame's event: line.")


class _Envelope(serializers.Serializer):
    timestamp = serializers.DateTimeField(help_text="UTC, millisecond precision, e.g. 2024-01-15T10:30:00.123Z.")


class LogsEventDataSerializer(serializers.Serializer):
    message = serializers.CharField()
    level = serializers.ChoiceField(choices=LOG_LEVELS, help_text="A failing link is a line at level error.")


class LogsEventSerializer(_Envelope):
    type = _const("logs")
    data = LogsEventDataSerializer()


class ProgressBarEventDataSerializer(serializers.Serializer):
    percentage = serializers.FloatField(min_value=0, max_value=100)
    current = serializers.IntegerField(min_value=0)
    total = serializers.IntegerField(min_value=0)
    message = serializers.CharField(allow_blank=True)


class ProgressBarEventSerializer(_Envelope):
    type = _const("progress_bar")
    data = ProgressBarEventDataSerializer()


class CompleteEventDataSerializer(serializers.Serializer):
    message = serializers.CharField()
    run_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=[str(status) for status in FINISHED_STATUSES])
    summary = serializers.DictField(child=serializers.JSONField(), help_text="The job's counts, as in the run.")


class CompleteEventSerializer(_Envelope):
    type = _const("complete")
    data = CompleteEventDataSerializer()


class ErrorEventDataSerializer(serializers.Serializer):
    message = serializers.CharField()
    code = serializers.CharField(help_text="e.g. run_failed")


class ErrorEventSerializer(_Envelope):
    type = _const("error")
    data = ErrorEventDataSerializer()


class CloseEventDataSerializer(serializers.Serializer):
    message = serializers.CharField()
    reason = serializers.ChoiceField(
        choices=["timeout", "finished"],
        help_text="timeout: STREAM_TIMEOUT ended the stream while the run goes on (reconnect with the last id); "
        "finished: a resume after the run's end.",
    )


class CloseEventSerializer(_Envelope):
    type = _const("close")
    data = CloseEventDataSerializer()


RUN_EVENT = PolymorphicProxySerializer(
    component_name="RunEvent",
    serializers={
        "logs": LogsEventSerializer,
        "progress_bar": ProgressBarEventSerializer,
        "complete": CompleteEventSerializer,
        "error": ErrorEventSerializer,
        "close": CloseEventSerializer,
    },
    resource_type_field_name="type",
    many=False,
)

# django-eventstream's own frames, which a run's stream passes on between the run's events.
LIBRARY_FRAME_TYPES = ("stream-open", "keep-alive", "stream-reset", "stream-error")

# A frame's id: the run's channel and the event's seq, as django-eventstream writes it and reads it
# back from Last-Event-ID ("error" on the library's stream-error).
FRAME_ID_PATTERN = r"^run-(0|[1-9][0-9]*):[0-9]+$|^error$"


class RunEventJSONField(serializers.CharField):
    """A frame's data: one RunEvent envelope as JSON (its schema: streaming.schema's extension)."""


class RunStreamFrameSerializer(serializers.Serializer):
    event = _one_of(
        [*RUN_EVENT.serializers, *LIBRARY_FRAME_TYPES],
        help_text="The frame's event: line. The run's events, or django-eventstream's own frames: "
        "stream-open (data empty), keep-alive (data empty), stream-reset and stream-error (data JSON); "
        "ignore types you do not know.",
    )
    id = serializers.RegexField(
        FRAME_ID_PATTERN,
        required=False,
        help_text="The frame's id: line, `run-<run id>:<seq>`; send the last one seen as Last-Event-ID to resume.",
    )
    data = RunEventJSONField(
        allow_blank=True,
        help_text="The frame's data: for the run's events one RunEvent envelope as JSON "
        "(x-contentSchema); empty for stream-open and keep-alive.",
    )
