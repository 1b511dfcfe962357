from collections.abc import Iterable

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.html import format_html
from django.utils.safestring import SafeString

from .models import Run, RunStatus
from .permissions import can_start_runs, can_watch_runs
from .services import SubjectRefused, start_run
from .storage import parse_seq

RETRYABLE = (RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.INTERRUPTED)


def watch_url(runs: Iterable[Run]) -> str:
    """The admin page that shows a live panel for each of these runs."""
    return reverse("admin:streaming_run_watch") + "?ids=" + ",".join(str(run.pk) for run in runs)


def zone_header(label: str) -> str:
    """A list column's header naming the zone its times are in (the server's, as the cells), e.g.
    "Started (IST)"; worked out when a page is drawn, so it follows the zone and summer time."""
    return lazy(lambda: f"{label} ({timezone.localtime().strftime('%Z')})", str)()


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    # On a 1280 px screen every column fits on one line: the job is a filter and on the run's page.
    list_display = ["id", "status_badge", "subject", "progress", "requested", "started", "duration_text", "counts"]
    list_display_links = ["id", "subject"]
    list_filter = ["status", "job", "created_at"]
    search_fields = ["subject"]
    list_select_related = ["requested_by"]
    date_hierarchy = "created_at"
    actions = ["retry"]
    change_form_template = "admin/streaming/run/change_form.html"
    # The summary is the live panel's (above the fields), not repeated here as raw JSON.
    fields = ["job", "subject", "status", "requested_by", "trigger", "created_at", "started_at", "finished_at", "error"]
    readonly_fields = fields

    class Media:
        css = {"all": ["streaming/run_panel.css"]}  # the status badges in the run list

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Run | None = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Run | None = None) -> bool:
        # Django's default lets change_run alone view runs; the rule of every path is view_run.
        return can_watch_runs(request.user)

    def get_urls(self) -> list[URLPattern | URLResolver]:
        watch = path("watch/", self.admin_site.admin_view(self.watch_view), name="streaming_run_watch")
        return [watch, *super().get_urls()]

    def watch_view(self, request: HttpRequest) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        ids = [run_id for part in request.GET.get("ids", "").split(",") if (run_id := parse_seq(part.strip()))]
        runs: list[Run] = list(Run.objects.filter(pk__in=ids).order_by("pk"))
        context = {**self.admin_site.each_context(request), "title": "Live runs", "runs": runs, "opts": self.opts}
        return TemplateResponse(request, "admin/streaming/run/watch.html", context)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, run: Run) -> SafeString:
        return format_html('<span class="run-status" data-status="{}">{}</span>', run.status, run.get_status_display())

    @admin.display(description="Requested by", ordering="requested_by")
    def requested(self, run: Run) -> object:
        """The user who asked, or what did (the schedule)."""
        if run.requested_by_id:
            return run.requested_by
        return f"({run.trigger})" if run.trigger else "—"

    @admin.display(description="Progress", ordering="percentage")
    def progress(self, run: Run) -> str:
        return f"{run.percentage:.1f}% ({run.current}/{run.total})"

    @admin.display(description=zone_header("Started"), ordering="started_at")
    def started(self, run: Run) -> SafeString | str:
        """Short, on one line; the full date with its zone on hover (the run page shows it too)."""
        if run.started_at is None:
            return "—"
        local = timezone.localtime(run.started_at)
        return format_html(
            '<time datetime="{}" title="{}">{}</time>',
            run.started_at.isoformat(),
            local.strftime("%Y-%m-%d %H:%M:%S %Z"),
            local.strftime("%b %d, %H:%M"),
        )

    @admin.display(description="Duration")
    def duration_text(self, run: Run) -> str:
        return str(run.duration).split(".")[0] if run.duration else "—"

    @admin.display(description="Counts")
    def counts(self, run: Run) -> SafeString | str:
        """The summary's non-zero counts, whatever the job reports: one line, cut to the column; all on hover."""
        counts: list[tuple[str, int]] = [
            (key, value)
            for key, value in run.summary.items()
            if isinstance(value, int) and not isinstance(value, bool) and value
        ]
        text = ", ".join(f"{key.replace('_', ' ')}: {value}" for key, value in counts)
        return format_html('<span class="run-counts" title="{}">{}</span>', text, text) if text else "—"

    @admin.action(description="Retry selected runs (failed, cancelled or interrupted)", permissions=["add_run"])
    def retry(self, request: HttpRequest, queryset: QuerySet[Run]) -> HttpResponseRedirect | None:
        runs: list[Run] = []
        skipped = 0
        for run in queryset:
            if run.status not in RETRYABLE:
                skipped += 1
                continue
            try:
                runs.append(start_run(run.job, run.subject, params=run.params, user=request.user)[0])
            except SubjectRefused as refused:
                self.message_user(request, f"Run {run.pk} not retried: {refused.message}", messages.ERROR)
        if skipped:
            self.message_user(
                request,
                f"{skipped} run(s) skipped: only failed, cancelled or interrupted runs are retried.",
                messages.WARNING,
            )
        if runs:
            return redirect(watch_url(runs))
        return None

    def has_add_run_permission(self, request: HttpRequest) -> bool:
        return can_start_runs(request.user)
