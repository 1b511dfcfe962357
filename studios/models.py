import secrets
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models

from .conf import conf
from .pipeline.patterns import InvalidLinkPattern, compile_link_pattern
from .pipeline.validate import session_order, studio_zone


def default_time_zone():
    return settings.TIME_ZONE


def validate_time_zone(value):
    if value not in available_timezones():
        raise ValidationError(f"{value!r} is not a time zone name such as 'Asia/Kolkata'.")


def validate_link_pattern(value):
    try:
        compile_link_pattern(value)
    except InvalidLinkPattern as exc:
        raise ValidationError(
            f"Not a regular expression the crawler can run ({exc}); lookarounds such as (?=…) and "
            "backreferences such as \\1 are not supported."
        ) from None


def default_refresh_every_hours():
    """New studios take REFRESH_DEFAULT_INTERVAL (hours); unset or 0 leaves their schedule off."""
    hours = conf.REFRESH_DEFAULT_INTERVAL or 0
    return int(hours) if hours else None


def validate_cron(value):
    from croniter import CroniterBadDateError, croniter

    if not value:
        return
    if not croniter.is_valid(value):
        raise ValidationError(f"{value!r} is not a cron expression such as '0 6 * * *' (06:00 every day).")
    try:
        croniter(value).get_next(datetime)
    except CroniterBadDateError:
        # A date no month has (30 February): saving would fail to find the next due time.
        raise ValidationError(f"{value!r} never comes due: no month has that day.") from None


# A year: a longer interval would put the due time past what a date can hold.
MAX_REFRESH_EVERY_HOURS = 366 * 24


def validate_not_reserved(value):
    if value == "all":
        raise ValidationError("'all' is reserved for processing every active studio.")


class Extraction(models.TextChoices):
    AUTO = "auto", "Auto: structured data, then the LLM for pages without it"
    STRUCTURED = "structured", "Structured data (schema.org) only"
    LLM = "llm", "LLM only"


class Studio(models.Model):
    studio_id = models.SlugField(max_length=100, unique=True, validators=[validate_not_reserved])
    name = models.CharField(max_length=200)
    instagram_link = models.URLField(blank=True)
    image_url = models.URLField(blank=True)
    website = models.URLField(help_text="Where the crawl starts.")
    link_pattern = models.CharField(
        max_length=500,
        blank=True,
        validators=[validate_link_pattern],
        help_text="Regular expression a workshop link must match (searched in the full URL).",
    )
    max_depth = models.PositiveSmallIntegerField(default=1, help_text="How many link hops from the website to crawl.")
    concurrency = models.PositiveSmallIntegerField(default=5, help_text="Links fetched at once.")
    render_js = models.BooleanField(default=False, help_text="Read pages through headless Chromium.")
    extraction = models.CharField(
        max_length=20,
        choices=Extraction.choices,
        default=Extraction.AUTO,
        help_text="Which extractor reads the workshop pages; the LLM needs LLM_MODEL and LLM_BASE_URL or LLM_API_KEY.",
    )
    extraction_hints = models.TextField(blank=True, help_text="Free text for the LLM extractor.")
    time_zone = models.CharField(max_length=64, default=default_time_zone, validators=[validate_time_zone])
    active = models.BooleanField(default=True)
    refresh_every_hours = models.PositiveIntegerField(
        null=True,
        blank=True,
        default=default_refresh_every_hours,
        validators=[MaxValueValidator(MAX_REFRESH_EVERY_HOURS)],
        help_text="Refresh every N hours; empty for no interval.",
    )
    refresh_cron = models.CharField(
        max_length=100,
        blank=True,
        validators=[validate_cron],
        help_text="Or a cron expression in the studio's time zone, e.g. '0 6 * * *'; wins over the interval.",
    )
    next_refresh_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="When the schedule next refreshes the studio."
    )
    respect_robots_txt = models.BooleanField(
        default=True, help_text="Leave the pages the site's robots.txt disallows unfetched."
    )
    llm_monthly_token_budget = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="LLM tokens this studio may use per calendar month; empty for no limit.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # A new or changed schedule counts from now; an unchanged one keeps its due time.
        if getattr(self, "_loaded_schedule", None) != self._schedule_key() or (
            self.has_schedule and self.active and self.next_refresh_at is None
        ):
            from django.utils import timezone

            self.next_refresh_at = self.next_refresh_after(timezone.now()) if self.active else None
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "next_refresh_at"}
        super().save(*args, **kwargs)
        self._loaded_schedule = self._schedule_key()

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_schedule = instance._schedule_key()
        return instance

    def _schedule_key(self):
        return (self.refresh_every_hours, self.refresh_cron, self.time_zone, self.active)

    @property
    def has_schedule(self) -> bool:
        return bool(self.refresh_cron or self.refresh_every_hours)

    def schedule_text(self) -> str:
        if self.refresh_cron:
            return f"cron {self.refresh_cron} ({self.time_zone})"
        if self.refresh_every_hours:
            return f"every {self.refresh_every_hours} h"
        return "off"

    def next_refresh_after(self, moment: datetime) -> datetime | None:
        """The first due time of the schedule after `moment`; None when the schedule is off."""
        if self.refresh_cron:
            from croniter import croniter

            local = moment.astimezone(studio_zone(self.time_zone))
            return croniter(self.refresh_cron, local).get_next(datetime)
        if self.refresh_every_hours:
            return moment + timedelta(hours=self.refresh_every_hours)
        return None


class Artist(models.Model):
    artist_id = models.CharField(max_length=100, unique=True, help_text="Instagram handle, without the @.")
    name = models.CharField(max_length=200)
    aliases = models.JSONField(default=list, blank=True, help_text="Other names the artist is billed under.")
    image_url = models.URLField(blank=True)
    instagram_link = models.URLField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} (@{self.artist_id})"


def session_start(day: date, start: time | None, zone: ZoneInfo) -> datetime:
    """When a session starts, as `Workshop.first_session_at` holds it: a date only counts from the
    start of its day (`Workshop.first_session_all_day` then says it is the whole day)."""
    return datetime.combine(day, start or time.min, tzinfo=zone)


class EventType(models.TextChoices):
    WORKSHOP = "workshop"
    INTENSIVE = "intensive"
    REGULARS = "regulars"


class PaymentLinkType(models.TextChoices):
    URL = "url"
    WHATSAPP = "whatsapp"


class Workshop(models.Model):
    studio = models.ForeignKey(Studio, on_delete=models.CASCADE, related_name="workshops")
    source_url = models.URLField(max_length=1000)
    event_type = models.CharField(max_length=20, choices=EventType.choices, default=EventType.WORKSHOP)
    title = models.CharField(max_length=300, blank=True)
    song = models.CharField(max_length=300, blank=True)
    by = models.CharField(max_length=300, blank=True, help_text="The artists as the studio billed them.")
    artists = models.ManyToManyField(Artist, blank=True, related_name="workshops")
    pricing_info = models.TextField(blank=True, help_text="One price tier per line.")
    payment_link = models.URLField(max_length=1000, blank=True)
    payment_link_type = models.CharField(max_length=20, choices=PaymentLinkType.choices, default=PaymentLinkType.URL)
    is_archived = models.BooleanField(default=False)
    first_session_at = models.DateTimeField(null=True, blank=True)
    # A recurring event (read from its page's eventSchedule) is listed with its next sessions, which
    # move on with every run: it is told from others by the day its series starts, not its first session.
    recurring = models.BooleanField(default=False)
    series_start = models.DateField(
        null=True, blank=True, help_text="A recurring event's first session as its schedule gives it, if it does."
    )
    last_seen_run = models.ForeignKey(
        "streaming.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["first_session_at", "id"]
        indexes = [models.Index(fields=["studio", "source_url"])]

    def __str__(self):
        return self.title or self.song or self.source_url

    def first_session(self) -> "Session | None":
        """The session `first_session_at` is taken from: on the same day, one with a date only comes
        first, as runs order them. Reads prefetched sessions when there are."""
        return min(
            self.sessions.all(),
            key=lambda session: session_order((session.date, session.start_time, session.end_time)),
            default=None,
        )

    def first_session_start(self) -> datetime | None:
        """`first_session_at` as the sessions give it, in the studio's zone."""
        first = self.first_session()
        return (
            None if first is None else session_start(first.date, first.start_time, studio_zone(self.studio.time_zone))
        )

    @property
    def first_session_all_day(self) -> bool:
        """Whether `first_session_at` is a date without a time: the whole day, not midnight."""
        first = self.first_session()
        return first is not None and first.all_day


class Session(models.Model):
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="sessions")
    date = models.DateField()
    start_time = models.TimeField(null=True, blank=True)
    end_time = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["date", "start_time"]

    def __str__(self):
        return self.display()

    @property
    def all_day(self) -> bool:
        """A date without a time: the studio announced the day, not a start (so not midnight)."""
        return self.start_time is None

    def display(self) -> str:
        """The session as its studio announces it, in the studio's own zone."""
        day = self.date.strftime("%a %d %b %Y")
        if self.all_day:
            return f"{day} (all day)"
        text = f"{day}, {self.start_time.strftime('%H:%M')}"
        return text + (f"–{self.end_time.strftime('%H:%M')}" if self.end_time else "")


class ProcessedLink(models.Model):
    """What one run learnt from one workshop link, kept as it goes.

    A run resumed after its process died reads these instead of fetching the links again.
    """

    run = models.ForeignKey("streaming.Run", on_delete=models.CASCADE, related_name="+")
    url = models.URLField(max_length=1000)
    result = models.JSONField(help_text="The link's outcome: its events, or why it failed.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "url"], name="one_result_per_link_and_run")]

    def __str__(self):
        return f"run {self.run_id}: {self.url}"


class LinkState(models.Model):
    """What the last run learnt about one workshop link: its validators and what extraction made of it.

    The next run asks the site with If-None-Match / If-Modified-Since; a 304, or a body whose
    extraction input hashes the same, reuses `result` without calling the LLM.
    """

    studio = models.ForeignKey(Studio, on_delete=models.CASCADE, related_name="link_states")
    url = models.URLField(max_length=1000)
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    content_hash = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the text extraction reads.")
    result = models.JSONField(help_text="The link's last extraction: its events.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["studio", "url"], name="one_state_per_studio_link")]

    def __str__(self):
        return self.url


class ChangeKind(models.TextChoices):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    ARCHIVED = "archived"


class WorkshopChange(models.Model):
    """What one run did to one workshop: created, updated (fields old → new), unchanged or archived."""

    run = models.ForeignKey("streaming.Run", on_delete=models.CASCADE, related_name="workshop_changes")
    studio = models.ForeignKey(Studio, on_delete=models.CASCADE, related_name="+")
    workshop = models.ForeignKey(Workshop, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes")
    kind = models.CharField(max_length=20, choices=ChangeKind.choices)
    title = models.CharField(max_length=300, blank=True, help_text="The workshop's title (or song) at the time.")
    source_url = models.URLField(max_length=1000)
    fields = models.JSONField(
        default=dict, blank=True, help_text='For updates: {"field": {"old": …, "new": …}} of what changed.'
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "id"]
        indexes = [models.Index(fields=["run", "kind"])]

    def __str__(self):
        return f"run {self.run_id}: {self.kind} {self.title or self.source_url}"


class LLMUsage(models.Model):
    """LLM tokens a studio used in one calendar month (its first day), across its runs."""

    studio = models.ForeignKey(Studio, on_delete=models.CASCADE, related_name="llm_usage")
    month = models.DateField(help_text="The month's first day.")
    requests = models.PositiveIntegerField(default=0)
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-month"]
        constraints = [models.UniqueConstraint(fields=["studio", "month"], name="one_usage_row_per_studio_month")]

    def __str__(self):
        return f"{self.studio_id} {self.month:%Y-%m}"

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def new_feed_key() -> str:
    return secrets.token_urlsafe(24)


class CalendarFeedKey(models.Model):
    """A user's secret for the calendar feed: calendar apps send no headers, so the feed URL carries
    it (``/api/workshops.ics?key=…``). Deleting it revokes every URL made with it."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed_key")
    key = models.CharField(max_length=64, unique=True, default=new_feed_key, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "calendar feed key"

    def __str__(self):
        return f"calendar feed of {self.user}"


class WebhookEvent(models.TextChoices):
    RUN_FINISHED = "run.finished", "run.finished"
    WORKSHOP_CREATED = "workshop.created", "workshop.created"
    WORKSHOP_UPDATED = "workshop.updated", "workshop.updated"
    WORKSHOP_ARCHIVED = "workshop.archived", "workshop.archived"


def validate_webhook_events(value):
    known = set(WebhookEvent.values)
    if not isinstance(value, list) or not value or any(event not in known for event in value):
        raise ValidationError(f"Name one or more of {', '.join(WebhookEvent.values)}.")


def validate_webhook_url(value):
    """The rules of page fetches: http(s) only, and no private address unless FETCH_ALLOW_PRIVATE."""
    from .pipeline.fetch import target_refusal

    reason = target_refusal(value)
    if reason:
        raise ValidationError(f"This URL cannot receive webhooks: {reason}.")


class WebhookEndpoint(models.Model):
    """A URL that is sent a signed JSON POST for each event it asked for."""

    name = models.CharField(max_length=100, blank=True, help_text="What the endpoint is, for staff.")
    url = models.URLField(
        max_length=200,
        validators=[validate_webhook_url],
        help_text="Receives a POST per event; the private-address rules of page fetches apply.",
    )
    secret = models.CharField(
        max_length=200, help_text="Signs each body: X-Signature-256: sha256=<hex HMAC-SHA256 of the body>."
    )
    events = models.JSONField(
        default=list,
        validators=[validate_webhook_events],
        help_text="The events it wants: " + ", ".join(WebhookEvent.values) + ".",
    )
    active = models.BooleanField(default=True, help_text="Inactive endpoints are sent nothing.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "webhook endpoint"

    def __str__(self):
        return self.name or self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookDelivery(models.Model):
    """One event sent (or being sent) to one endpoint: each attempt's outcome, the last one kept."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    run = models.ForeignKey(
        "streaming.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_deliveries"
    )
    payload = models.JSONField(help_text="The JSON body sent.")
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    response_code = models.PositiveIntegerField(null=True, blank=True, help_text="The last attempt's HTTP status.")
    error = models.TextField(blank=True, help_text="Why the last attempt failed.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["endpoint", "status"])]

    def __str__(self):
        return f"{self.event} to {self.endpoint} ({self.status})"
