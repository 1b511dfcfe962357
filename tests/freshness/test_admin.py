"""Admin: the studio list's schedule columns, the run page's Changes section and LLM cost, a full refresh."""

from datetime import timedelta

import pytest
from django.utils import timezone

from streaming.models import Run
from studios.costs import record_usage, this_month
from studios.models import LLMUsage, Studio, Workshop, WorkshopChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def studio():
    return Studio.objects.create(studio_id="s", name="Studio S", website="https://example.com/", refresh_every_hours=6)


def test_the_studio_list_shows_the_schedule_the_next_refresh_and_the_last_run(admin_client, studio):
    run = Run.objects.create(job="process_studio", subject="s", status="succeeded", trigger="schedule")
    page = admin_client.get("/admin/studios/studio/").content.decode()
    assert "Next refresh" in page and "Last run" in page and "every 6 h" in page
    assert f"/admin/streaming/run/{run.pk}/change/" in page and "succeeded" in page


def test_the_run_page_has_a_changes_section_and_the_llm_cost(admin_client, studio, settings):
    settings.LLM_PRICE_INPUT_PER_MTOK, settings.LLM_PRICE_OUTPUT_PER_MTOK = 0.15, 0.60
    run = Run.objects.create(
        job="process_studio",
        subject="s",
        status="succeeded",
        finished_at=timezone.now(),
        summary={
            "llm_tokens": {
                "prompt_tokens": 1_000_000,
                "completion_tokens": 100_000,
                "total_tokens": 1_100_000,
                "requests": 40,
            }
        },
    )
    workshop = Workshop.objects.create(studio=studio, source_url="https://example.com/w/1", title="Heels")
    WorkshopChange.objects.create(
        run=run,
        studio=studio,
        workshop=workshop,
        kind="updated",
        title="Heels",
        source_url=workshop.source_url,
        fields={"pricing_info": {"old": "₹1,000", "new": "₹1,500"}},
    )
    page = admin_client.get(f"/admin/streaming/run/{run.pk}/change/").content.decode()
    assert "Changes" in page and "pricing_info" in page and "₹1,000 → ₹1,500" in page
    assert "1,100,000 tokens" in page and "about $0.2100" in page


def test_the_studio_page_shows_this_months_llm_use_against_the_budget(admin_client, studio, settings):
    studio.llm_monthly_token_budget = 50_000
    studio.save()
    record_usage(studio, {"requests": 3, "prompt_tokens": 9_000, "completion_tokens": 1_000})
    page = admin_client.get(f"/admin/studios/studio/{studio.pk}/change/").content.decode()
    assert "10,000 of 50,000 tokens in 3 calls" in page


def test_the_studio_page_shows_past_months_llm_use_and_estimated_cost(admin_client, studio, settings):
    settings.LLM_PRICE_INPUT_PER_MTOK, settings.LLM_PRICE_OUTPUT_PER_MTOK = 0.15, 0.60
    last_month = (this_month() - timedelta(days=1)).replace(day=1)
    two_years_ago = this_month().replace(year=this_month().year - 2)
    LLMUsage.objects.create(
        studio=studio, month=last_month, requests=40, prompt_tokens=1_000_000, completion_tokens=100_000
    )
    LLMUsage.objects.create(studio=studio, month=two_years_ago, requests=7, prompt_tokens=123_456)
    record_usage(studio, {"requests": 3, "prompt_tokens": 10_000, "completion_tokens": 2_000})
    page = admin_client.get(f"/admin/studios/studio/{studio.pk}/change/").content.decode()
    assert "LLM use, last 12 months" in page
    assert f"<td>{last_month:%Y-%m}</td><td>40</td><td>1,000,000</td><td>100,000</td><td>$0.2100</td>" in page
    assert f"<td>{this_month():%Y-%m}</td><td>3</td><td>10,000</td><td>2,000</td><td>$0.0027</td>" in page
    assert f"{two_years_ago:%Y-%m}" not in page and "123,456" not in page, "older months are left out"


def test_full_refresh_action_starts_a_run_that_rereads_everything(admin_client, studio, monkeypatch):
    started = []
    monkeypatch.setattr(
        "studios.admin.start_run",
        lambda job, subject, params=None, user=None: started.append(params) or (Run(pk=1), True),
    )
    admin_client.post("/admin/studios/studio/", {"action": "full_refresh_selected", "_selected_action": [studio.pk]})
    assert started == [{"full_refresh": True}]
