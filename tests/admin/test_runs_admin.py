"""Run history in admin: the list, the panels a page carries, and the Retry action."""

from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from streaming.models import Run, RunStatus
from studios.jobs import PROCESS_STUDIO
from studios.models import Studio
from tests.runs import wait_for_run

RUNS = "/admin/streaming/run/"


@pytest.fixture
def admin_client_tx(client, transactional_db):
    admin = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(admin)
    return client


@pytest.fixture
def unreachable_studio(transactional_db, settings):
    settings.FETCH_ALLOW_PRIVATE = True
    settings.FETCH_RETRIES = 0
    # Port 9 (discard) refuses connections here: discovery fails at once and the run fails.
    return Studio.objects.create(studio_id="gone", name="Gone Studio", website="http://127.0.0.1:9/")


def test_retry_starts_a_new_run_for_failed_cancelled_and_interrupted_runs(admin_client_tx, unreachable_studio):
    old = [
        Run.objects.create(job=PROCESS_STUDIO, subject="gone", status=status)
        for status in (RunStatus.FAILED, RunStatus.SUCCEEDED)
    ]
    response = admin_client_tx.post(RUNS, {"action": "retry", "_selected_action": [run.pk for run in old]})
    assert response.status_code == 302
    retried = Run.objects.exclude(pk__in=[run.pk for run in old]).get()
    assert response["Location"] == f"{RUNS}watch/?ids={retried.pk}"
    assert (retried.job, retried.subject, retried.requested_by.username) == (PROCESS_STUDIO, "gone", "admin")
    assert wait_for_run(retried).status == RunStatus.FAILED, "the website is still unreachable"
    # The succeeded run was not retried, and the page says why.
    page = admin_client_tx.get(RUNS)
    assert b"only failed, cancelled or interrupted runs are retried" in page.content


def test_watch_page_and_run_page_carry_a_live_panel(admin_client_tx, unreachable_studio):
    runs = [Run.objects.create(job=PROCESS_STUDIO, subject="gone", status=RunStatus.FAILED) for _ in range(2)]
    page = admin_client_tx.get(f"{RUNS}watch/?ids={runs[0].pk},{runs[1].pk}")
    assert page.status_code == 200
    for run in runs:
        assert f'data-events-url="/api/runs/{run.pk}/events/"'.encode() in page.content
    detail = admin_client_tx.get(f"{RUNS}{runs[0].pk}/change/")
    assert f'data-events-url="/api/runs/{runs[0].pk}/events/"'.encode() in detail.content
    assert b"streaming/run_panel.js" in detail.content


@pytest.mark.parametrize(
    "permissions, status", [(["change_run"], 403), (["change_run", "add_run"], 403), (["view_run"], 200)]
)
def test_run_pages_need_the_view_run_permission(client, db, permissions, status):
    staff = get_user_model().objects.create_user("staff", "staff@example.com", "pw", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="streaming", codename__in=permissions))
    client.force_login(staff)
    run = Run.objects.create(job=PROCESS_STUDIO, subject="gone", status=RunStatus.FAILED)
    assert client.get(f"{RUNS}watch/?ids={run.pk}").status_code == status
    assert client.get(f"{RUNS}{run.pk}/change/").status_code == status
    assert client.get(RUNS).status_code == status


def test_studio_page_shows_its_latest_run_and_process_now(admin_client_tx, unreachable_studio):
    page = admin_client_tx.get(f"/admin/studios/studio/{unreachable_studio.pk}/change/")
    assert b"Process now" in page.content and b"run-panel" not in page.content
    response = admin_client_tx.post(f"/admin/studios/studio/{unreachable_studio.pk}/process/")
    assert response.status_code == 302
    run = wait_for_run(Run.objects.get(subject="gone"))
    page = admin_client_tx.get(f"/admin/studios/studio/{unreachable_studio.pk}/change/")
    assert f'data-events-url="/api/runs/{run.pk}/events/"'.encode() in page.content
    assert admin_client_tx.get(f"/admin/studios/studio/{unreachable_studio.pk}/process/").status_code == 405


def test_staff_without_run_permission_cannot_process(client, unreachable_studio):
    from django.contrib.auth.models import Permission

    clerk = get_user_model().objects.create_user("clerk", "c@example.com", "pw", is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_studio", "change_studio"]))
    client.force_login(clerk)
    page = client.get(f"/admin/studios/studio/{unreachable_studio.pk}/change/")
    assert b"Process now" not in page.content
    assert client.post(f"/admin/studios/studio/{unreachable_studio.pk}/process/").status_code == 403
    assert not Run.objects.exists()


@pytest.fixture
def deleted_while_starting(monkeypatch):
    """The studio named is deleted just before its run starts, as by another staff member meanwhile."""
    from studios import admin as studios_admin

    real_start_run = studios_admin.start_run

    def start_run(job, subject, **kwargs):
        if subject == "gone":
            Studio.objects.filter(studio_id=subject).delete()
        return real_start_run(job, subject, **kwargs)

    monkeypatch.setattr(studios_admin, "start_run", start_run)


@pytest.mark.parametrize("action", ["process_selected", "full_refresh_selected"])
def test_a_studio_deleted_while_its_run_starts_is_named_not_a_server_error(
    admin_client_tx, unreachable_studio, deleted_while_starting, action
):
    other = Studio.objects.create(studio_id="other", name="Other Studio", website="http://127.0.0.1:9/")
    selected = [unreachable_studio.pk, other.pk]
    response = admin_client_tx.post(
        "/admin/studios/studio/", {"action": action, "_selected_action": selected}, follow=True
    )
    assert response.status_code == 200
    started = Run.objects.get()
    assert started.subject == "other"
    assert response.redirect_chain[-1][0] == f"{RUNS}watch/?ids={started.pk}"
    assert "Gone Studio not processed: There is no studio 'gone'." in unescape(response.content.decode())
    wait_for_run(started)


def test_process_now_on_a_studio_deleted_meanwhile_is_named_not_a_server_error(
    admin_client_tx, unreachable_studio, deleted_while_starting
):
    response = admin_client_tx.post(f"/admin/studios/studio/{unreachable_studio.pk}/process/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/admin/studios/studio/"
    assert "Gone Studio not processed: There is no studio 'gone'." in unescape(response.content.decode())
    assert not Run.objects.exists()
