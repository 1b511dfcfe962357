"""Staff see a studio's schedule in the studio list, and what a run changed on its admin page."""

import pytest

from streaming.models import Run
from studios.models import Studio, Workshop
from studios.pipeline.process import process_studio
from tests.pipeline.support import FakeReporter

pytestmark = [pytest.mark.live]


def test_the_schedule_columns_and_a_runs_changes(staff, demo, settings):
    settings.FETCH_ALLOW_PRIVATE = True
    studio = Studio.objects.get(studio_id="dance_n_addiction")
    studio.refresh_every_hours = 6
    studio.save()
    first = Run.objects.create(job="process_studio", subject=studio.studio_id, status="succeeded")
    process_studio(studio, FakeReporter(), run=first)
    # Someone edited a workshop by hand; the next run puts the site's price back and says so.
    edited = Workshop.objects.filter(studio=studio, pricing_info__contains="₹").first()
    site_price = edited.pricing_info
    Workshop.objects.filter(pk=edited.pk).update(pricing_info="Early bird: ₹999")
    second = Run.objects.create(job="process_studio", subject=studio.studio_id, status="succeeded", trigger="schedule")
    summary = process_studio(Studio.objects.get(pk=studio.pk), FakeReporter(), run=second)
    Run.objects.filter(pk=second.pk).update(summary=summary)
    assert summary["workshops_updated"] == 1 and summary["links_unchanged"] == summary["links_processed"]

    page = staff.page
    page.set_viewport_size({"width": 1600, "height": 900})  # every column of the studio list in view
    page.goto("/admin/studios/studio/")
    row = page.locator("#result_list tbody tr", has_text="Dance n Addiction").inner_text()
    assert "every 6 h" in row and "succeeded" in row
    page.evaluate("document.querySelector('#changelist-filter')?.remove()")  # the table, not the filters
    staff.screenshot("studio-schedules.png", page.locator("#result_list"))

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/admin/streaming/run/{second.pk}/change/")
    changes = page.locator(".inline-group", has_text="Changes")
    text = changes.inner_text()
    assert "pricing_info" in text and "Early bird: ₹999 → " + site_price.replace("\n", " / ") in text
    assert text.count("Unchanged") == summary["workshops_unchanged"]
    staff.screenshot("run-changes.png", changes)
