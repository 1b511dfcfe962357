"""Serializers of the catalogue API: studios, artists, and workshops with their sessions and artists."""

import re
import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, RegexValidator, URLValidator
from django.db import models
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.rest import StrictInputMixin
from config.schema import HTTP_URL_PATTERN

from .costs import RECENT_MONTHS, llm_cost, recent_usage
from .models import (
    MAX_REFRESH_EVERY_HOURS,
    Artist,
    LLMUsage,
    Session,
    Studio,
    WebhookEndpoint,
    WebhookEvent,
    Workshop,
    WorkshopChange,
    validate_not_reserved,
    validate_webhook_url,
)

TIME_ZONES = sorted(zoneinfo.available_timezones())

# PostgreSQL's integer: the largest token budget a studio can store on every database.
MAX_TOKEN_BUDGET = 2**31 - 1


def _cron_field(value):
    """One of the five fields: *, a value or a range, each with an optional /step, comma-separated."""
    item = rf"(?:\*|{value}(?:-{value})?)(?:/[1-9][0-9]?)?"
    return rf"{item}(?:,{item})*"


# The five-field form with numbers (minute, hour, day of month, month, day of week 0-7 with 0 and 7
# Sunday), single spaces. Every expression it matches is one croniter takes, so the schema and the
# server agree; the model's validator then refuses one that never comes due. "" (no cron) is not
# matched: drf-spectacular adds it as a oneOf branch of its own, which "" must match only once.
CRON_PATTERN = (
    "^(?:"
    + " ".join(
        _cron_field(value)
        for value in (
            r"[0-5]?[0-9]",
            r"(?:[01]?[0-9]|2[0-3])",
            r"(?:0?[1-9]|[12][0-9]|3[01])",
            r"(?:0?[1-9]|1[0-2])",
            r"[0-7]",
        )
    )
    + ")$"
)
_CRON_RE = re.compile(CRON_PATTERN)


def validate_cron_form(value):
    if value and not _CRON_RE.fullmatch(value):
        raise ValidationError(
            f"{value[:100]!r} is not a five-field cron expression of numbers such as '0 6 * * *' (06:00 every day)."
        )


@extend_schema_field({"oneOf": [{"type": "string", "format": "uri"}, {"type": "string", "maxLength": 0}]})
class OptionalURLField(serializers.URLField):
    """A URL, or "" for none."""


# anyOf, not the oneOf drf-spectacular writes for a blank-able field with a format: "" is a regex too.
@extend_schema_field({"type": "string", "maxLength": 500, "anyOf": [{"format": "regex"}, {"maxLength": 0}]})
class RegexField(serializers.CharField):
    """A regular expression RE2 can run (checked by the model field's validator), or "" for none."""


@extend_schema_field({"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$", "example": "18:30:00"})
class LocalTimeField(serializers.TimeField):
    """A wall-clock time in the studio's time zone, without an offset (so not a JSON Schema "time")."""


@extend_schema_field(
    {
        "type": "string",
        "maxLength": Studio._meta.get_field("refresh_cron").max_length,
        "pattern": CRON_PATTERN,
        "example": "0 6 * * *",
    }
)
class CronField(serializers.CharField):
    """A five-field cron expression in the studio's time zone that comes due (not 30 February), or ""."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.insert(0, validate_cron_form)


class CatalogueSerializer(StrictInputMixin, serializers.ModelSerializer):
    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if issubclass(field_class, serializers.CharField):
            # Text is kept as sent: DRF would strip what Python takes for whitespace (which is more
            # than JSON Schema's \s), so a schema-valid name like "\x1c" would come out blank.
            kwargs["trim_whitespace"] = False
        if isinstance(model_field, models.URLField) and model_field.blank:
            field_class = OptionalURLField
        elif isinstance(model_field, models.TimeField):
            field_class = LocalTimeField
        elif field_name == "link_pattern":
            field_class = RegexField
        elif field_name == "refresh_cron":
            field_class = CronField
        return field_class, kwargs


class StudioSerializer(CatalogueSerializer):
    """A studio as read and updated; its studio_id, the public key, is set once when it is created."""

    workshops_url = serializers.SerializerMethodField(help_text="This studio's workshops in the API.")
    time_zone = serializers.ChoiceField(
        choices=TIME_ZONES,
        required=False,
        help_text="An IANA time zone; past events are dropped in it. Default: the server's TIME_ZONE.",
    )

    class Meta:
        model = Studio
        fields = [
            "studio_id",
            "name",
            "website",
            "link_pattern",
            "max_depth",
            "concurrency",
            "render_js",
            "extraction",
            "extraction_hints",
            "time_zone",
            "active",
            "refresh_every_hours",
            "refresh_cron",
            "next_refresh_at",
            "respect_robots_txt",
            "llm_monthly_token_budget",
            "instagram_link",
            "image_url",
            "created_at",
            "updated_at",
            "workshops_url",
        ]
        read_only_fields = ["studio_id", "next_refresh_at", "created_at", "updated_at"]
        extra_kwargs = {
            "max_depth": {"min_value": 0, "max_value": 10},
            "concurrency": {"min_value": 1, "max_value": 50},
            # Bounds stated here, so that the schema says them whatever the database.
            "refresh_every_hours": {"min_value": 0, "max_value": MAX_REFRESH_EVERY_HOURS},
            "llm_monthly_token_budget": {"min_value": 0, "max_value": MAX_TOKEN_BUDGET},
            "next_refresh_at": {
                "help_text": "When the schedule next refreshes the studio; set on save from the schedule "
                "(a new or changed schedule counts from then), null when it is off or the studio inactive."
            },
        }

    @extend_schema_field({"type": "string", "format": "uri"})
    def get_workshops_url(self, studio):
        path = reverse("studio-workshops", kwargs={"studio_id": studio.studio_id})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class LLMUsageSerializer(serializers.ModelSerializer):
    month = serializers.DateField(format="%Y-%m", help_text="The calendar month, YYYY-MM.")
    estimated_cost_usd = serializers.SerializerMethodField(
        help_text="From LLM_PRICE_INPUT_PER_MTOK / LLM_PRICE_OUTPUT_PER_MTOK; null when no price is set."
    )

    class Meta:
        model = LLMUsage
        fields = ["month", "requests", "prompt_tokens", "completion_tokens", "estimated_cost_usd"]
        read_only_fields = fields

    def get_estimated_cost_usd(self, usage: LLMUsage) -> float | None:
        cost = llm_cost(usage.prompt_tokens, usage.completion_tokens)
        return None if cost is None else round(cost, 6)


class StudioDetailSerializer(StudioSerializer):
    """A studio as its detail shows it: with its LLM use of recent months."""

    llm_usage = serializers.SerializerMethodField(
        help_text=f"LLM calls and tokens by month, newest first, over the last {RECENT_MONTHS} months "
        "(a month without LLM use is left out)."
    )

    class Meta(StudioSerializer.Meta):
        fields = [*StudioSerializer.Meta.fields, "llm_usage"]

    @extend_schema_field(LLMUsageSerializer(many=True))
    def get_llm_usage(self, studio):
        return LLMUsageSerializer(recent_usage(studio), many=True).data


class StudioCreateSerializer(StudioSerializer):
    class Meta(StudioSerializer.Meta):
        read_only_fields = ["next_refresh_at", "created_at", "updated_at"]
        extra_kwargs = {
            **StudioSerializer.Meta.extra_kwargs,
            "studio_id": {
                "help_text": "The public key: letters, digits, - and _; 'all' is reserved. Cannot change later.",
                # Uniqueness is checked by the view, which answers 409 studio_exists.
                "validators": [validate_not_reserved],
            },
        }


class ArtistSerializer(CatalogueSerializer):
    """An artist as read and updated; artist_id (the Instagram handle) is set once when it is created."""

    aliases = serializers.ListField(
        child=serializers.CharField(max_length=200, trim_whitespace=False),
        max_length=50,
        required=False,
        help_text="Other names the artist is billed under; search matches them too.",
    )

    class Meta:
        model = Artist
        fields = ["artist_id", "name", "aliases", "image_url", "instagram_link"]
        read_only_fields = ["artist_id"]


class ArtistCreateSerializer(ArtistSerializer):
    class Meta(ArtistSerializer.Meta):
        read_only_fields = []
        extra_kwargs = {
            "artist_id": {
                "help_text": "The Instagram handle without the @: letters, digits, . and _. Cannot change later.",
                # Uniqueness is checked by the view, which answers 409 artist_exists.
                "validators": [
                    RegexValidator(
                        r"^[A-Za-z0-9._]+$", "Use the Instagram handle without the @: letters, digits, '.' and '_'."
                    ),
                    MaxLengthValidator(Artist._meta.get_field("artist_id").max_length),
                ],
            }
        }


class ArtistSummarySerializer(CatalogueSerializer):
    class Meta:
        model = Artist
        fields = ["artist_id", "name", "image_url", "instagram_link"]
        read_only_fields = fields


class SessionSerializer(CatalogueSerializer):
    all_day = serializers.BooleanField(
        read_only=True, help_text="A date without a time (start_time null): the whole day, not midnight."
    )

    class Meta:
        model = Session
        fields = ["date", "start_time", "end_time", "all_day"]
        read_only_fields = fields


class WorkshopSerializer(CatalogueSerializer):
    studio = serializers.SlugRelatedField(slug_field="studio_id", read_only=True, help_text="The studio's studio_id.")
    studio_name = serializers.CharField(source="studio.name", read_only=True)
    artists = ArtistSummarySerializer(many=True, read_only=True)
    sessions = SessionSerializer(many=True, read_only=True, help_text="By date and start time.")
    first_session_all_day = serializers.BooleanField(
        read_only=True,
        help_text="Whether the first session is a date without a time: first_session_at then holds the "
        "start of that day in the studio's zone, to be read as the whole day, not midnight.",
    )

    class Meta:
        model = Workshop
        fields = [
            "id",
            "studio",
            "studio_name",
            "event_type",
            "title",
            "song",
            "by",
            "artists",
            "sessions",
            "pricing_info",
            "payment_link",
            "payment_link_type",
            "source_url",
            "is_archived",
            "first_session_at",
            "first_session_all_day",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WorkshopChangeSerializer(serializers.ModelSerializer):
    studio = serializers.SlugRelatedField(slug_field="studio_id", read_only=True, help_text="The studio's studio_id.")
    workshop = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The workshop's id (/api/workshops/<id>/); null once deleted."
    )
    fields = serializers.JSONField(
        read_only=True,
        help_text='For `updated`: each changed field with its old and new value, {"pricing_info": {"old": "…", "new": "…"}}; '
        "sessions and artists as lists.",
    )

    class Meta:
        model = WorkshopChange
        fields = ["id", "kind", "studio", "workshop", "title", "source_url", "fields", "created_at"]
        read_only_fields = fields


@extend_schema_field({"type": "string", "format": "uri", "maxLength": 200, "pattern": HTTP_URL_PATTERN})
class WebhookURLField(serializers.CharField):
    """An http(s) URL as the schema's pattern states it, which the private-address rules let through."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 200)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)
        self.validators += [
            RegexValidator(HTTP_URL_PATTERN, "Enter a valid http or https URL."),
            URLValidator(schemes=["http", "https"]),
            validate_webhook_url,
        ]


class WebhookEndpointSerializer(CatalogueSerializer):
    """A webhook endpoint; its secret is written, never read back."""

    url = WebhookURLField(help_text="Receives a JSON POST per event. Private addresses are refused.")
    secret = serializers.CharField(
        write_only=True,
        min_length=16,
        max_length=200,
        trim_whitespace=False,
        help_text="Signs each body (X-Signature-256: sha256=<hex HMAC-SHA256 of the body>). Never returned.",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices),
        min_length=1,
        max_length=len(WebhookEvent.values),
        help_text="The events it is sent.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "name", "url", "secret", "events", "active", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate_events(self, value):
        return list(dict.fromkeys(value))  # each once, in the order given
