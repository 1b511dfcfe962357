from urllib.parse import urlencode, urlsplit

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, IntegerField, OuterRef, Q, Subquery, Value, When
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from streaming.admin import RunAdmin, watch_url, zone_header
from streaming.models import Run
from streaming.permissions import can_start_runs, can_watch_runs
from streaming.services import SubjectRefused, active_run, start_run

from .costs import RECENT_MONTHS, llm_cost, month_usage, recent_usage
from .jobs import PROCESS_STUDIO
from .models import (
    Artist,
    CalendarFeedKey,
    ChangeKind,
    DeliveryStatus,
    Session,
    Studio,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    Workshop,
    WorkshopChange,
)
from .pipeline.preview import preview_page
from .webhooks import send_later


class TryLinkForm(forms.Form):
    url = forms.URLField(label="Link", assume_scheme="https", widget=forms.URLInput(attrs={"size": 70}))


@admin.register(Studio)
class StudioAdmin(admin.ModelAdmin):
    list_display = [
        "name_and_id",
        "website_link",
        "active",
        "render_js",
        "workshop_count",
        "schedule",
        "next_refresh",
        "last_run",
    ]
    list_filter = ["active", "render_js"]
    search_fields = ["name", "studio_id"]
    prepopulated_fields = {"studio_id": ("name",)}
    readonly_fields = [
        "next_refresh_at",
        "llm_usage_this_month",
        "llm_usage_by_month",
        "calendar_feed",
        "created_at",
        "updated_at",
    ]
    actions = ["process_selected", "full_refresh_selected"]
    change_form_template = "admin/studios/studio/change_form.html"
    fieldsets = [
        (None, {"fields": ["name", "studio_id", "active"]}),
        (
            "Crawling",
            {
                "fields": [
                    "website",
                    "link_pattern",
                    "max_depth",
                    "concurrency",
                    "render_js",
                    "respect_robots_txt",
                    "time_zone",
                ]
            },
        ),
        ("Schedule", {"fields": ["refresh_every_hours", "refresh_cron", "next_refresh_at"]}),
        (
            "Extraction",
            {
                "fields": [
                    "extraction",
                    "extraction_hints",
                    "llm_monthly_token_budget",
                    "llm_usage_this_month",
                    "llm_usage_by_month",
                ]
            },
        ),
        ("Profile", {"fields": ["instagram_link", "image_url", "calendar_feed"]}),
        ("History", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_urls(self):
        process = path(
            "<path:object_id>/process/", self.admin_site.admin_view(self.process_view), name="studios_studio_process"
        )
        try_link = path(
            "<path:object_id>/try-link/", self.admin_site.admin_view(self.try_link_view), name="studios_studio_try_link"
        )
        return [process, try_link, *super().get_urls()]

    @admin.action(description="Process selected studios", permissions=["start_run"])
    def process_selected(self, request, queryset):
        return self._watch_started(request, queryset)

    @admin.action(
        description="Fully refresh selected studios (read and extract every page again)", permissions=["start_run"]
    )
    def full_refresh_selected(self, request, queryset):
        return self._watch_started(request, queryset, params={"full_refresh": True})

    def _watch_started(self, request, studios, params=None):
        """Start (or join) each studio's run and show their panels; a studio whose run cannot start
        (deleted meanwhile) is named in an error message instead."""
        runs = [run for studio in studios if (run := self._start(request, studio, params))]
        return redirect(watch_url(runs)) if runs else None

    def _start(self, request, studio, params=None):
        try:
            return start_run(PROCESS_STUDIO, studio.studio_id, params=params, user=request.user)[0]
        except SubjectRefused as refused:
            self.message_user(request, f"{studio.name} not processed: {refused.message}", messages.ERROR)
            return None

    @admin.display(description="Schedule")
    def schedule(self, obj):
        return obj.schedule_text()

    @admin.display(description="Name (studio ID)", ordering="name")
    def name_and_id(self, obj):
        return format_html('{}<br><small class="quiet">{}</small>', obj.name, obj.studio_id)

    @admin.display(description="Website", ordering="website")
    def website_link(self, obj):
        """Host and path, cut to fit the column; the whole URL on hover and as the link."""
        parts = urlsplit(obj.website)
        shown = (parts.netloc + parts.path).rstrip("/")
        if len(shown) > 26:
            shown = shown[:25] + "…"
        return format_html(
            '<a href="{}" title="{}" rel="noopener" target="_blank">{}</a>', obj.website, obj.website, shown
        )

    @admin.display(description="Next refresh", ordering="next_refresh_at")
    def next_refresh(self, obj):
        return _short_time(obj.next_refresh_at)

    @admin.display(description=zone_header("Last run"), ordering="last_run_at")
    def last_run(self, obj):
        if obj.last_run_id is None:
            return "—"
        url = reverse("admin:streaming_run_change", args=[obj.last_run_id])
        return format_html('<a href="{}">{}</a> {}', url, obj.last_run_status, _short_time(obj.last_run_at))

    @admin.display(description="Calendar feed")
    def calendar_feed(self, obj):
        return subscribe_link("studio", obj.studio_id) if obj.pk else "—"

    @admin.display(description="LLM use this month")
    def llm_usage_this_month(self, obj):
        if obj.pk is None:
            return "—"
        usage = month_usage(obj)
        budget = f" of {obj.llm_monthly_token_budget:,}" if obj.llm_monthly_token_budget else ""
        cost = llm_cost(usage.prompt_tokens, usage.completion_tokens)
        cost_text = f", about ${cost:.4f}" if cost is not None else ""
        return f"{usage.total_tokens:,}{budget} tokens in {usage.requests} calls{cost_text}"

    @admin.display(description=f"LLM use, last {RECENT_MONTHS} months")
    def llm_usage_by_month(self, obj):
        usage = recent_usage(obj) if obj.pk else []
        if not usage:
            return "—"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    f"{row.month:%Y-%m}",
                    f"{row.requests:,}",
                    f"{row.prompt_tokens:,}",
                    f"{row.completion_tokens:,}",
                    "—" if (cost := llm_cost(row.prompt_tokens, row.completion_tokens)) is None else f"${cost:.4f}",
                )
                for row in usage
            ),
        )
        return format_html(
            "<table><thead><tr><th>Month</th><th>Calls</th><th>Input tokens</th><th>Output tokens</th>"
            "<th>Estimated cost</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    def has_start_run_permission(self, request, obj=None):
        return can_start_runs(request.user)

    @method_decorator(require_POST)
    def process_view(self, request, object_id):
        """The change page's "Process now" button: start (or join) the run, then show its panel."""
        if not self.has_start_run_permission(request):
            raise PermissionDenied
        studio = get_object_or_404(Studio, pk=object_id)
        if self._start(request, studio) is None:
            return redirect("admin:studios_studio_changelist")
        return redirect("admin:studios_studio_change", studio.pk)

    def try_link_view(self, request, object_id):
        """*Try a link*: what a run of this studio would save from one page, and what it would drop."""
        studio = get_object_or_404(Studio, pk=object_id)
        if not self.has_change_permission(request, studio):
            raise PermissionDenied
        form = TryLinkForm(request.GET or None, initial={"url": studio.website})
        preview = preview_page(form.cleaned_data["url"], studio=studio) if form.is_valid() else None
        context = {
            **self.admin_site.each_context(request),
            "title": f"Try a link with {studio.name}'s settings",
            "opts": self.model._meta,
            "original": studio,
            "form": form,
            "preview": preview,
            "events": [
                {"kept": kept, "sessions": kept.sessions, "pricing": kept.event.pricing_info.splitlines()}
                for kept in (preview.kept if preview else [])
            ],
        }
        return TemplateResponse(request, "admin/studios/studio/try_link.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        studio = (
            Studio.objects.filter(pk=object_id).first()
            if str(object_id).isascii() and str(object_id).isdigit()
            else None
        )
        if studio is not None:
            extra_context = {
                **(extra_context or {}),
                "run": active_run(PROCESS_STUDIO, studio.studio_id)
                or Run.objects.filter(job=PROCESS_STUDIO, subject=studio.studio_id).order_by("-created_at").first(),
                "can_process": self.has_start_run_permission(request),
                "try_link_form": TryLinkForm(initial={"url": studio.website})
                if self.has_change_permission(request, studio)
                else None,
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_queryset(self, request):
        runs = Run.objects.filter(job=PROCESS_STUDIO, subject=OuterRef("studio_id")).order_by("-created_at", "-id")
        return (
            super()
            .get_queryset(request)
            .annotate(
                current_workshops=Count("workshops", filter=Q(workshops__is_archived=False)),
                last_run_id=Subquery(runs.values("pk")[:1]),
                last_run_status=Subquery(runs.values("status")[:1]),
                last_run_at=Subquery(runs.values("created_at")[:1]),
            )
        )

    @admin.display(description="Workshops", ordering="current_workshops")
    def workshop_count(self, obj):
        """Current (not archived) workshops, linked to their list."""
        url = reverse("admin:studios_workshop_changelist")
        return format_html(
            '<a href="{}?studio__id__exact={}&amp;is_archived__exact=0">{}</a>', url, obj.pk, obj.current_workshops
        )


def subscribe_link(kind, public_id):
    """The admin's link to the user's secret calendar feed of a studio's or an artist's workshops."""
    url = reverse("calendar-subscribe") + "?" + urlencode({kind: public_id})
    return format_html('<a href="{}">Subscribe to the upcoming workshops (.ics)</a>', url)


def _short_time(moment):
    """A date-time in a list: short, on one line, with its full value and zone on hover."""
    if moment is None:
        return "—"
    local = timezone.localtime(moment)
    return format_html(
        '<time datetime="{}" title="{}" style="white-space:nowrap">{}</time>',
        moment.isoformat(),
        local.strftime("%Y-%m-%d %H:%M %Z"),
        local.strftime("%b %d, %H:%M"),
    )


class AliasesField(forms.CharField):
    """The aliases list edited as text, one alias per line."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        if isinstance(value, (list, tuple)):
            return "\n".join(value)
        return value

    def to_python(self, value):
        if isinstance(value, (list, tuple)):
            return [str(v).strip() for v in value if str(v).strip()]
        aliases = []
        for line in (value or "").splitlines():
            alias = line.strip()
            if alias and alias not in aliases:
                aliases.append(alias)
        return aliases


class ArtistForm(forms.ModelForm):
    aliases = AliasesField(required=False, help_text="Other names the artist is billed under, one per line.")

    class Meta:
        model = Artist
        fields = ["artist_id", "name", "aliases", "instagram_link", "image_url"]


@admin.register(Artist)
class ArtistAdmin(admin.ModelAdmin):
    form = ArtistForm
    list_display = ["name", "artist_id", "alias_list"]
    readonly_fields = ["calendar_feed"]

    @admin.display(description="Calendar feed")
    def calendar_feed(self, obj):
        return subscribe_link("artist", obj.artist_id) if obj.pk else "—"

    search_fields = ["name", "artist_id"]

    @admin.display(description="Aliases")
    def alias_list(self, obj):
        return ", ".join(obj.aliases or [])

    def get_search_results(self, request, queryset, search_term):
        """Name and handle through the database; aliases (a JSON list) matched in Python.

        An artist matches when every word of the search is found in its name, handle or one of its
        aliases (case-insensitive), which works the same on every database and for any script.
        """
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        words = [w.casefold() for w in search_term.split()]
        if not words:
            return results, may_have_duplicates
        alias_ids = [
            pk
            for pk, name, artist_id, aliases in queryset.values_list("pk", "name", "artist_id", "aliases")
            if aliases
            and all(any(word in text.casefold() for text in [name, artist_id, *map(str, aliases)]) for word in words)
        ]
        if alias_ids:
            results = results | queryset.filter(pk__in=alias_ids)
        return results, may_have_duplicates


class SessionInline(admin.TabularInline):
    model = Session
    extra = 0
    fields = ["date", "start_time", "end_time"]


class WhenFilter(admin.SimpleListFilter):
    title = "when"
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [("upcoming", "Upcoming"), ("past", "Past"), ("undated", "No date")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "upcoming":
            return queryset.filter(first_session_at__gte=now)
        if self.value() == "past":
            return queryset.filter(first_session_at__lt=now)
        if self.value() == "undated":
            return queryset.filter(first_session_at__isnull=True)
        return queryset


@admin.register(Workshop)
class WorkshopAdmin(admin.ModelAdmin):
    list_display = ["title_or_song", "studio", "event_type", "by", "first_session", "is_archived"]
    list_filter = ["studio", "event_type", WhenFilter, "is_archived"]
    list_select_related = ["studio"]
    search_fields = ["title", "song", "by", "studio__name"]
    date_hierarchy = "first_session_at"
    autocomplete_fields = ["artists"]
    inlines = [SessionInline]
    # The first session is shown as its sessions give it; runs and this form keep first_session_at in step.
    readonly_fields = ["first_session", "last_seen_run", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["studio", "event_type", "title", "song", "by", "artists"]}),
        ("Booking", {"fields": ["pricing_info", "payment_link", "payment_link_type"]}),
        (
            "Source",
            {"fields": ["source_url", "first_session", "is_archived", "last_seen_run", "created_at", "updated_at"]},
        ),
    ]

    @admin.display(description="Title", ordering="title")
    def title_or_song(self, obj):
        return obj.title or obj.song or obj.source_url

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("sessions")

    @admin.display(description="First session", ordering="first_session_at")
    def first_session(self, obj):
        """In the studio's zone, as announced: a session with a date only shows "(all day)", not midnight."""
        first = obj.first_session() if obj.pk else None
        if first is None:
            return "—"
        return first.display() if first.all_day else f"{first.display()} {obj.studio.time_zone}"

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The lists order and filter by first_session_at: it follows the sessions edited here.
        workshop = Workshop.objects.select_related("studio").get(pk=form.instance.pk)
        Workshop.objects.filter(pk=workshop.pk).update(first_session_at=workshop.first_session_start())


@admin.register(CalendarFeedKey)
class CalendarFeedKeyAdmin(admin.ModelAdmin):
    """Each user's secret feed key; deleting one revokes every calendar URL made with it."""

    list_display = ["user", "created_at"]
    search_fields = ["user__username"]
    fields = ["user", "created_at"]
    readonly_fields = ["created_at"]

    def has_change_permission(self, request, obj=None):
        return False


class WebhookEndpointForm(forms.ModelForm):
    secret = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        min_length=16,
        max_length=200,
        strip=False,
        help_text="Signs each body (X-Signature-256). Never shown again; leave empty to keep the current one.",
    )
    events = forms.MultipleChoiceField(choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "secret", "events", "active"]

    def clean_secret(self):
        secret = self.cleaned_data.get("secret")
        if secret:
            return secret
        if self.instance.pk:
            return self.instance.secret
        raise forms.ValidationError("A new endpoint needs a secret.")


class WebhookDeliveryInline(admin.TabularInline):
    """The endpoint's latest deliveries and how each went."""

    model = WebhookDelivery
    verbose_name_plural = "Latest deliveries"
    fields = ["event", "run", "status", "attempts", "response_code", "error", "created_at", "delivered_at"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-id")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Where events are POSTed, signed with the endpoint's secret; its deliveries below."""

    form = WebhookEndpointForm
    list_display = ["__str__", "url", "event_list", "active", "delivered", "failed", "pending"]
    list_filter = ["active"]
    inlines = [WebhookDeliveryInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                delivered_count=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.DELIVERED)),
                failed_count=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
                pending_count=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.PENDING)),
            )
        )

    @admin.display(description="Events")
    def event_list(self, endpoint):
        return ", ".join(endpoint.events)

    @admin.display(description="Delivered", ordering="delivered_count")
    def delivered(self, endpoint):
        return endpoint.delivered_count

    @admin.display(description="Failed", ordering="failed_count")
    def failed(self, endpoint):
        return endpoint.failed_count

    @admin.display(description="Pending", ordering="pending_count")
    def pending(self, endpoint):
        return endpoint.pending_count


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Every delivery with its status, attempts and last response; failed ones can be sent again."""

    list_display = ["id", "event", "endpoint", "run", "status", "attempts", "response_code", "created_at"]
    list_filter = ["status", "event", "endpoint"]
    list_select_related = ["endpoint"]
    fields = [
        "endpoint",
        "event",
        "run",
        "status",
        "attempts",
        "response_code",
        "error",
        "created_at",
        "last_attempt_at",
        "delivered_at",
        "payload",
    ]
    readonly_fields = fields
    actions = ["send_again"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_resend_permission(self, request):
        return request.user.has_perm("studios.change_webhookendpoint")

    @admin.action(description="Send selected deliveries again", permissions=["resend"])
    def send_again(self, request, queryset):
        ids = list(queryset.exclude(status=DeliveryStatus.PENDING).values_list("pk", flat=True))
        WebhookDelivery.objects.filter(pk__in=ids).update(status=DeliveryStatus.PENDING, attempts=0)
        send_later(ids)
        self.message_user(request, f"{len(ids)} deliveries are being sent again.")


KIND_ORDER = Case(
    *(
        When(kind=kind, then=Value(index))
        for index, kind in enumerate(
            [ChangeKind.CREATED, ChangeKind.UPDATED, ChangeKind.ARCHIVED, ChangeKind.UNCHANGED]
        )
    ),
    output_field=IntegerField(),
)


class WorkshopChangeInline(admin.TabularInline):
    """The run page's Changes section: what the run did to each workshop, changes first."""

    model = WorkshopChange
    verbose_name = "change"
    verbose_name_plural = "Changes"
    fields = ["kind", "workshop_link", "changed_fields"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    class Media:
        css = {"all": ["studios/run_changes.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("workshop").order_by(KIND_ORDER, "id")

    def has_view_permission(self, request, obj=None):
        return can_watch_runs(request.user)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Workshop")
    def workshop_link(self, change):
        if change.workshop_id is None:
            return change.title or change.source_url
        url = reverse("admin:studios_workshop_change", args=[change.workshop_id])
        return format_html(
            '<a href="{}">{}</a> <small>{}</small>', url, change.title or change.source_url, change.source_url
        )

    @admin.display(description="What changed (old → new)")
    def changed_fields(self, change):
        if not change.fields:
            return "—"
        rows = format_html_join(
            "",
            "<li><b>{}</b>: {} → {}</li>",
            ((name, _short(v.get("old")), _short(v.get("new"))) for name, v in change.fields.items()),
        )
        return format_html('<ul style="margin:0">{}</ul>', rows)


def _short(value, limit=120):
    text = "; ".join(map(str, value)) if isinstance(value, list) else ("" if value is None else str(value))
    text = text.replace("\n", " / ")
    return (text[:limit] + "…") if len(text) > limit else (text or "(empty)")


class RunWithChangesAdmin(RunAdmin):
    """The runs admin, with the workshops a studio run changed (its Changes section) and its LLM cost."""

    inlines = [WorkshopChangeInline]
    fields = [*RunAdmin.fields, "llm_cost"]
    readonly_fields = fields

    @admin.display(description="LLM tokens and estimated cost")
    def llm_cost(self, run):
        return llm_summary_text(run.summary)


def llm_summary_text(summary):
    tokens = (summary or {}).get("llm_tokens") or {}
    if not tokens:
        return "—"
    cost = llm_cost(tokens.get("prompt_tokens", 0), tokens.get("completion_tokens", 0))
    text = f"{tokens.get('total_tokens', 0):,} tokens ({tokens.get('prompt_tokens', 0):,} in, {tokens.get('completion_tokens', 0):,} out) in {tokens.get('requests', 0)} calls"
    return text + (f", about ${cost:.4f}" if cost is not None else "")


admin.site.unregister(Run)
admin.site.register(Run, RunWithChangesAdmin)
