from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from .pipeline.patterns import InvalidLinkPattern, compile_link_pattern


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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


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


class Session(models.Model):
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="sessions")
    date = models.DateField()
    start_time = models.TimeField(null=True, blank=True)
    end_time = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["date", "start_time"]

    def __str__(self):
        return f"{self.date} {self.start_time or ''}".strip()


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
