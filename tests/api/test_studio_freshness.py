"""A studio's freshness settings over the API: its schedule, robots.txt and LLM budget, as admin edits them."""

import datetime

import pytest
import yaml
from django.utils import timezone

from studios.costs import record_usage, this_month
from studios.models import LLMUsage, Studio
from studios.serializers import CRON_PATTERN

from .conftest import assert_error

SCHEDULED = {
    "studio_id": "scheduled",
    "name": "Scheduled",
    "website": "http://127.0.0.1:9/s/",
    "time_zone": "Asia/Kolkata",
    "refresh_cron": "0 6 * * *",
    "respect_robots_txt": False,
    "llm_monthly_token_budget": 50000,
}


def parse(value):
    return datetime.datetime.fromisoformat(value)


def test_a_studio_created_with_a_schedule_has_its_next_refresh(admin_api, catalogue):
    before = timezone.now()
    created = admin_api.post("/api/studios/", SCHEDULED, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert {key: body[key] for key in SCHEDULED} == SCHEDULED
    due = parse(body["next_refresh_at"])
    assert before < due <= before + datetime.timedelta(days=1)
    local = due.astimezone(datetime.timezone(datetime.timedelta(hours=5, minutes=30)))
    assert (local.hour, local.minute) == (6, 0), "the cron counts in the studio's time zone"
    studio = Studio.objects.get(studio_id="scheduled")
    assert studio.next_refresh_at == due and studio.respect_robots_txt is False
    assert studio.llm_monthly_token_budget == 50000


def test_patching_the_schedule_moves_the_next_refresh(admin_api, catalogue):
    admin_api.post("/api/studios/", {**SCHEDULED, "refresh_cron": ""}, format="json")

    before = timezone.now()
    patched = admin_api.patch("/api/studios/scheduled/", {"refresh_every_hours": 3}, format="json")
    assert patched.status_code == 200, patched.content
    due = parse(patched.json()["next_refresh_at"])
    assert before + datetime.timedelta(hours=3) <= due <= timezone.now() + datetime.timedelta(hours=3)

    unchanged = admin_api.patch("/api/studios/scheduled/", {"name": "Renamed"}, format="json")
    assert parse(unchanged.json()["next_refresh_at"]) == due, "an unchanged schedule keeps its due time"

    ignored = admin_api.patch("/api/studios/scheduled/", {"next_refresh_at": "2000-01-01T00:00:00Z"}, format="json")
    assert parse(ignored.json()["next_refresh_at"]) == due, "next_refresh_at is read-only"

    off = admin_api.patch(
        "/api/studios/scheduled/", {"refresh_every_hours": None, "llm_monthly_token_budget": None}, format="json"
    )
    assert off.status_code == 200, off.content
    assert off.json()["next_refresh_at"] is None and off.json()["llm_monthly_token_budget"] is None
    assert Studio.objects.get(studio_id="scheduled").next_refresh_at is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"refresh_cron": "every morning"}, "refresh_cron"),
        ({"refresh_cron": "0 25 * * *"}, "refresh_cron"),
        ({"refresh_cron": "0 0 30 2 *"}, "refresh_cron"),  # never comes due
        ({"refresh_every_hours": -1}, "refresh_every_hours"),
        ({"refresh_every_hours": 10**6}, "refresh_every_hours"),
        ({"refresh_every_hours": "6"}, "refresh_every_hours"),
        ({"llm_monthly_token_budget": -5}, "llm_monthly_token_budget"),
        ({"respect_robots_txt": "no"}, "respect_robots_txt"),
    ],
)
def test_bad_freshness_settings_are_refused(admin_api, catalogue, change, field):
    error = assert_error(admin_api.post("/api/studios/", {**SCHEDULED, **change}, format="json"), 400, "invalid")
    assert list(error["fields"]) == [field]
    assert not Studio.objects.filter(studio_id="scheduled").exists()
    patched = admin_api.patch("/api/studios/vibe/", change, format="json")
    assert list(assert_error(patched, 400, "invalid")["fields"]) == [field]


def test_a_studios_detail_shows_its_llm_use_of_recent_months(admin_api, catalogue, settings):
    settings.LLM_PRICE_INPUT_PER_MTOK, settings.LLM_PRICE_OUTPUT_PER_MTOK = 0.15, 0.60
    studio = Studio.objects.get(studio_id="vibe")
    last_month = (this_month() - datetime.timedelta(days=1)).replace(day=1)
    LLMUsage.objects.create(
        studio=studio, month=last_month, requests=40, prompt_tokens=1_000_000, completion_tokens=100_000
    )
    LLMUsage.objects.create(studio=studio, month=this_month().replace(year=this_month().year - 2), requests=7)
    record_usage(studio, {"requests": 3, "prompt_tokens": 10_000, "completion_tokens": 2_000})

    detail = admin_api.get("/api/studios/vibe/").json()
    assert detail["llm_usage"] == [
        {
            "month": f"{this_month():%Y-%m}",
            "requests": 3,
            "prompt_tokens": 10_000,
            "completion_tokens": 2_000,
            "estimated_cost_usd": 0.0027,
        },
        {
            "month": f"{last_month:%Y-%m}",
            "requests": 40,
            "prompt_tokens": 1_000_000,
            "completion_tokens": 100_000,
            "estimated_cost_usd": 0.21,
        },
    ]
    settings.LLM_PRICE_INPUT_PER_MTOK = settings.LLM_PRICE_OUTPUT_PER_MTOK = 0
    assert admin_api.get("/api/studios/vibe/").json()["llm_usage"][0]["estimated_cost_usd"] is None
    assert admin_api.get("/api/studios/dance_n_addiction/").json()["llm_usage"] == []


def test_the_schema_states_the_freshness_fields(client):
    components = yaml.safe_load(client.get("/api/schema/").content)["components"]["schemas"]
    studio = components["Studio"]["properties"]
    assert studio["next_refresh_at"]["readOnly"] is True and studio["next_refresh_at"]["nullable"] is True
    for name in ("StudioRequest", "PatchedStudioRequest"):
        fields = components[name]["properties"]
        assert "next_refresh_at" not in fields
        cron, blank = fields["refresh_cron"]["oneOf"]
        assert (
            cron["maxLength"] == 100 and cron["pattern"] == CRON_PATTERN and blank == {"type": "string", "maxLength": 0}
        )
        assert fields["refresh_every_hours"]["nullable"] is True
        assert (fields["refresh_every_hours"]["minimum"], fields["refresh_every_hours"]["maximum"]) == (0, 8784)
        assert fields["llm_monthly_token_budget"]["maximum"] == 2**31 - 1
