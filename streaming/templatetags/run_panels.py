from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone

from ..jobs import result_links
from ..models import Run

register = template.Library()


@register.inclusion_tag("streaming/run_panel.html")
def run_panel(run: Run | None = None) -> dict[str, Any]:
    """The live panel of one run: its whole log replayed from the first event, then followed live.

    Without a run, an empty panel that a page's own script feeds (the streaming test client).
    """
    zone = {"time_zone": timezone.get_current_timezone_name(), "time_zone_abbr": timezone.localtime().strftime("%Z")}
    if run is None:
        return {"run": None, **zone}
    return {
        **zone,
        "run": run,
        "events_url": reverse("run-events", args=[run.pk]),
        "cancel_url": reverse("run-cancel", args=[run.pk]),
        "links": result_links(run),
    }


@register.inclusion_tag("streaming/run_panel_assets.html")
def run_panel_assets() -> dict[str, Any]:
    return {}
