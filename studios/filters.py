"""Query filters of the catalogue API (django-filter); a value that does not parse answers 400."""

import json

from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django_filters import rest_framework as filters

from .models import Artist, EventType, Session, Studio, Workshop


class StrictBooleanField(forms.Field):
    """true/false (or 1/0); anything else is an error, not silently no filter."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        lowered = str(value).strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise forms.ValidationError("Use true or false.", code="invalid")


class StrictBooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        # django-filter's BooleanWidget would turn every unknown value into "no filter".
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class StudioFilter(filters.FilterSet):
    active = StrictBooleanFilter(help_text="Only active (true) or inactive (false) studios.")

    class Meta:
        model = Studio
        fields = ["active"]


class ArtistFilter(filters.FilterSet):
    search = filters.CharFilter(
        method="filter_search",
        help_text="Case-insensitive text that the name, the artist_id or any alias contains.",
    )

    class Meta:
        model = Artist
        fields = ["search"]

    def filter_search(self, queryset, name, value):
        term = value.strip()
        if not term:
            return queryset
        return queryset.filter(
            Q(name__icontains=term) | Q(artist_id__icontains=term) | Q(pk__in=artists_with_alias_containing(term))
        )


def artists_with_alias_containing(term):
    """Ids of the artists one of whose aliases contains `term`, the same on SQLite and PostgreSQL.

    The database narrows the candidates by the JSON text of the list (which SQLite stores with
    non-ASCII characters escaped, PostgreSQL does not, hence both forms of the term); each
    candidate's aliases are then compared one by one, so text across two aliases never matches.
    """
    escaped = json.dumps(term)[1:-1]
    candidates = Artist.objects.filter(Q(aliases__icontains=term) | Q(aliases__icontains=escaped))
    folded = term.casefold()
    return [
        pk
        for pk, aliases in candidates.values_list("pk", "aliases")
        if isinstance(aliases, list) and any(folded in str(alias).casefold() for alias in aliases)
    ]


class WorkshopFilter(filters.FilterSet):
    """Session conditions (date_from, date_to, upcoming=true) hold for one and the same session."""

    studio = filters.CharFilter(field_name="studio__studio_id", help_text="A studio_id.")
    artist = filters.CharFilter(field_name="artists__artist_id", help_text="An artist_id: workshops it teaches.")
    event_type = filters.ChoiceFilter(choices=EventType.choices)
    date_from = filters.DateFilter(method="filter_by_sessions", help_text="Has a session on or after this date.")
    date_to = filters.DateFilter(method="filter_by_sessions", help_text="Has a session on or before this date.")
    upcoming = StrictBooleanFilter(
        method="filter_by_sessions",
        help_text="true: has a session today or later (today in the server's TIME_ZONE); "
        "false: has none (every session is past).",
    )
    archived = StrictBooleanFilter(
        method="filter_archived",
        help_text="true: only archived workshops (the ones a run no longer saw); "
        "false, the default: only current ones.",
    )

    class Meta:
        model = Workshop
        fields = ["studio", "artist", "event_type", "date_from", "date_to", "upcoming", "archived"]

    def filter_by_sessions(self, queryset, name, value):
        return queryset  # all session conditions together, in filter_queryset

    def filter_archived(self, queryset, name, value):
        return queryset  # in filter_queryset, which also applies the default

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        archived = data.get("archived")
        queryset = queryset.filter(is_archived=bool(archived))

        date_from, date_to, upcoming = data.get("date_from"), data.get("date_to"), data.get("upcoming")
        if upcoming is True:
            today = timezone.localdate()
            date_from = max(date_from, today) if date_from else today
        sessions = Session.objects.filter(workshop=OuterRef("pk"))
        if date_from:
            sessions = sessions.filter(date__gte=date_from)
        if date_to:
            sessions = sessions.filter(date__lte=date_to)
        if date_from or date_to:
            queryset = queryset.filter(Exists(sessions))
        if upcoming is False:
            queryset = queryset.exclude(
                Exists(Session.objects.filter(workshop=OuterRef("pk"), date__gte=timezone.localdate()))
            )
        return queryset
