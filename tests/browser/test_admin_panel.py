"""Staff in Django admin, in a real Chromium against a real daphne: start, watch, reload, cancel, replay."""

import pytest

from streaming.models import Run, RunEvent
from studios.models import Studio
from tests.live.sse import read_stream

from .conftest import StaffBrowser

pytestmark = [pytest.mark.live]

FINISHED = ".run-panel__status[data-status='{}']"


def log_lines(page, panel=".run-panel"):
    """Each log line's message as sent: URLs shortened for display count by their full form (their title)."""
    return page.eval_on_selector_all(
        f"{panel} .run-panel__log li > span",
        """spans => spans.map(span => Array.from(span.childNodes)
             .map(node => node.nodeType === Node.TEXT_NODE ? node.textContent : node.title).join(''))""",
    )


def stored_log_messages(run):
    return [event.data["data"]["message"] for event in RunEvent.objects.filter(run=run, type="logs").order_by("seq")]


def test_process_action_shows_a_live_panel_to_completion(staff):
    page = staff.page
    studio = Studio.objects.get(studio_id="dance_n_addiction")
    page.goto("/admin/studios/studio/")
    page.check(f"input[name=_selected_action][value='{studio.pk}']")
    page.select_option("select[name=action]", "process_selected")
    page.click("button[name=index]")
    page.wait_for_url("**/admin/streaming/run/watch/?ids=*")

    page.wait_for_selector(FINISHED.format("succeeded"), timeout=60_000)
    run = Run.objects.get(subject="dance_n_addiction")
    assert page.inner_text(".run-panel__percentage") == "100.0%"
    assert page.inner_text(".run-panel__count") == f"{run.total}/{run.total}"
    assert page.get_attribute(".run-panel__connection", "data-state") == "finished"
    assert log_lines(page) == stored_log_messages(run)
    summary = page.inner_text(".run-panel__summary")
    assert f"workshops created\n{run.summary['workshops_created']}" in summary
    assert page.locator(".run-panel__log li[data-level='error']").count() == 1, "the dead link"
    workshops = page.locator(".run-panel__links a")
    assert workshops.inner_text() == "Workshops of Dance N Addiction"
    staff.screenshot("panel-finished-light.png", page.locator(".run-panel"))

    workshops.click()
    page.wait_for_selector("#result_list")
    assert page.locator("#result_list tbody tr").count() == run.summary["workshops_created"]


def test_reload_mid_run_restores_the_whole_log_and_continues(staff, slow_studio):
    page = staff.page
    page.goto(f"/admin/studios/studio/{slow_studio.pk}/change/")
    page.click("text=Process now")
    page.wait_for_selector(FINISHED.format("running"))
    page.wait_for_function("document.querySelectorAll('.run-panel__log li').length >= 6")
    staff.screenshot("panel-mid-run.png", page.locator(".run-panel"))
    staff.screenshot("studio-mid-run.png")
    before = log_lines(page)

    page.reload()
    page.wait_for_function(f"document.querySelectorAll('.run-panel__log li').length >= {len(before)}")
    assert log_lines(page)[: len(before)] == before, "the reloaded panel starts from the run's first event"
    page.wait_for_selector(FINISHED.format("succeeded"), timeout=60_000)
    run = Run.objects.get(subject="slow_studio")
    assert log_lines(page) == stored_log_messages(run), "every line once, in order"
    assert page.inner_text(".run-panel__percentage") == "100.0%"


def test_cancel_ends_a_running_run_as_cancelled(staff, slow_studio):
    page = staff.page
    page.goto(f"/admin/studios/studio/{slow_studio.pk}/change/")
    page.click("text=Process now")
    page.wait_for_function("document.querySelectorAll('.run-panel__log li').length >= 5")
    page.click(".run-panel__cancel")
    page.wait_for_selector(FINISHED.format("cancelled"), timeout=30_000)
    run = Run.objects.get(subject="slow_studio")
    assert run.status == "cancelled"
    assert run.current < run.total, "stopped between links, before the end"
    assert page.locator(".run-panel__cancel").is_hidden()
    assert not slow_studio.workshops.exists(), "a cancelled run saves nothing"


def test_a_cancel_that_fails_says_why_and_can_be_pressed_again(staff, make_slow_studio):
    studio = make_slow_studio("unsteady_network", pages=20)
    page = staff.page
    page.goto(f"/admin/studios/studio/{studio.pk}/change/")
    page.click("text=Process now")
    page.wait_for_selector(FINISHED.format("running"))
    button = page.locator(".run-panel__cancel")
    errors = page.locator(".run-panel__log li[data-level='error']")

    page.route("**/cancel/", lambda route: route.abort("internetdisconnected"))
    button.click()
    errors.filter(has_text="Cancel failed").wait_for()
    assert "try again" in errors.last.inner_text()
    assert button.is_enabled() and button.inner_text() == "Cancel"

    # The server refuses a request without its CSRF token: the panel shows the server's reason.
    page.unroute("**/cancel/")
    page.route(
        "**/cancel/",
        lambda route: route.continue_(
            headers={k: v for k, v in route.request.headers.items() if k.lower() != "x-csrftoken"}
        ),
    )
    with page.expect_response("**/cancel/") as refusal:
        button.click()
    assert 400 <= refusal.value.status < 500
    reason = refusal.value.json()["error"]["message"]
    errors.filter(has_text="Cancel refused").wait_for()
    assert errors.last.inner_text().endswith(f"Cancel refused: {reason}")
    assert button.is_enabled() and button.inner_text() == "Cancel"
    assert Run.objects.get(subject="unsteady_network").status == "running", "neither cancel reached the run"

    page.unroute("**/cancel/")
    button.click()
    page.wait_for_selector(FINISHED.format("cancelled"), timeout=30_000)


def test_run_detail_replays_a_finished_run(staff, demo):
    stream = read_stream(
        "POST",
        f"{demo['url']}/api/streaming/refresh-workshops",
        json={"studio_id": "groove_theory"},
        headers=demo["auth"],
    )
    run = Run.objects.get(pk=stream.run_id)
    page = staff.page
    page.goto("/admin/streaming/run/")
    row = page.locator("#result_list tbody tr").first
    assert "groove_theory" in row.inner_text()
    assert row.locator(".run-status").get_attribute("data-status") == "succeeded"
    staff.screenshot("run-list.png")

    page.goto(f"/admin/streaming/run/{run.pk}/change/")
    page.wait_for_selector(FINISHED.format("succeeded"))
    # A finished run's page says "succeeded" before its log is replayed; the replay ends with "finished".
    page.wait_for_selector(".run-panel__connection[data-state='finished']")
    assert log_lines(page) == stored_log_messages(run)
    assert page.inner_text(".run-panel__percentage") == "100.0%"


def test_panel_in_dark_mode(browser, demo):
    stream = read_stream(
        "POST",
        f"{demo['url']}/api/streaming/refresh-workshops",
        json={"studio_id": "the_movement_lab"},
        headers=demo["auth"],
    )
    dark = StaffBrowser(browser, demo["url"], color_scheme="dark")
    try:
        dark.page.goto(f"/admin/streaming/run/{stream.run_id}/change/")
        dark.page.wait_for_selector(FINISHED.format("succeeded"))
        dark.page.wait_for_selector(
            ".run-panel__connection[data-state='finished']"
        )  # the log replayed, for the screenshot
        background = dark.page.eval_on_selector(".run-panel", "el => getComputedStyle(el).backgroundColor")
        assert background != "rgb(255, 255, 255)", "the panel follows the admin's dark theme"
        dark.screenshot("panel-finished-dark.png", dark.page.locator(".run-panel"))
    finally:
        dark.close()
    assert dark.errors == []
