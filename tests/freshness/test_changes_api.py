"""GET /api/runs/<id>/changes/: what a run changed, paginated, filtered by kind, under the runs' permission."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from streaming.models import Run
from studios.models import Studio, Workshop, WorkshopChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_with_changes():
    studio = Studio.objects.create(studio_id="s", name="S", website="https://example.com/")
    run = Run.objects.create(job="process_studio", subject="s", status="succeeded")
    for n, kind in enumerate(["created", "updated", "unchanged", "unchanged", "archived"]):
        workshop = Workshop.objects.create(studio=studio, source_url=f"https://example.com/w/{n}", title=f"W{n}")
        fields = {"pricing_info": {"old": "₹1,000", "new": "₹1,500"}} if kind == "updated" else {}
        WorkshopChange.objects.create(
            run=run,
            studio=studio,
            workshop=workshop,
            kind=kind,
            title=workshop.title,
            source_url=workshop.source_url,
            fields=fields,
        )
    return run


def client_with(*perms):
    user = get_user_model().objects.create_user(f"u{get_user_model().objects.count()}", password="p")
    user.user_permissions.set(Permission.objects.filter(codename__in=perms))
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_lists_a_runs_changes_filtered_by_kind(run_with_changes):
    client = client_with("view_run")
    body = client.get(f"/api/runs/{run_with_changes.pk}/changes/").json()
    assert body["count"] == 5 and [c["kind"] for c in body["results"]] == [
        "created",
        "updated",
        "unchanged",
        "unchanged",
        "archived",
    ]
    updated = client.get(f"/api/runs/{run_with_changes.pk}/changes/?kind=updated").json()["results"]
    assert updated == [
        {
            **updated[0],
            "kind": "updated",
            "studio": "s",
            "title": "W1",
            "fields": {"pricing_info": {"old": "₹1,000", "new": "₹1,500"}},
        }
    ]
    page = client.get(f"/api/runs/{run_with_changes.pk}/changes/?page_size=2&page=2").json()
    assert page["count"] == 5 and len(page["results"]) == 2


def test_unknown_runs_and_kinds_and_watchers_without_permission(run_with_changes):
    client = client_with("view_run")
    missing = client.get("/api/runs/999999/changes/")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "run_not_found"
    assert client.get(f"/api/runs/{run_with_changes.pk}/changes/?kind=renamed").status_code == 400
    assert client_with().get(f"/api/runs/{run_with_changes.pk}/changes/").status_code == 403
    assert APIClient().get(f"/api/runs/{run_with_changes.pk}/changes/").status_code == 401
