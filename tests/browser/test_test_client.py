"""The staff streaming test client runs both endpoints in a real browser."""

import pytest

from streaming.models import Run

pytestmark = [pytest.mark.live]

SUCCEEDED = ".run-panel__status[data-status='succeeded']"


def test_test_client_runs_both_endpoints_to_completion(staff):
    page = staff.page
    page.goto("/streaming/test-client/")
    page.select_option("#studio", "dance_n_addiction")

    page.click("#start-post")
    page.wait_for_selector(SUCCEEDED, timeout=60_000)
    first = Run.objects.get()
    assert page.inner_text(".run-panel__title") == f"Run {first.pk}"
    assert page.inner_text(".run-panel__percentage") == "100.0%"
    assert page.get_attribute(".run-panel__connection", "data-state") == "finished"
    assert page.locator(".run-panel__log li[data-level='success']").count() >= 2
    staff.screenshot("test-client.png")

    page.select_option("#studio", "groove_theory")
    page.click("#start-get")
    page.wait_for_function(
        "document.querySelector('.run-panel__title').textContent.startsWith('Run ') && "
        f"document.querySelector('.run-panel__title').textContent !== 'Run {first.pk}'"
    )
    page.wait_for_selector(SUCCEEDED, timeout=60_000)
    second = Run.objects.exclude(pk=first.pk).get()
    assert second.subject == "groove_theory" and second.status == "succeeded"
    assert page.inner_text(".run-panel__title") == f"Run {second.pk}"
    assert page.is_disabled("#disconnect")


def test_errors_with_and_without_data_are_shown_not_crashed_on(staff):
    page = staff.page
    page.goto("/streaming/test-client/")
    # The GET endpoint refuses "all": EventSource sees a failed connection, an error event with no data.
    page.select_option("#studio", "all")
    page.click("#start-get")
    page.wait_for_selector(".run-panel__connection[data-state='disconnected']")
    # A request error on the POST endpoint arrives as JSON and is logged.
    page.evaluate("document.cookie = 'csrftoken=wrong; path=/'")
    page.click("#start-post")
    page.wait_for_selector(".run-panel__log li[data-level='error']")
    assert "csrf_failed" in page.inner_text(".run-panel__log")
    assert Run.objects.count() == 0


def test_the_websocket_button_starts_a_run_and_follows_it_to_completion(staff):
    page = staff.page
    sockets = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    page.goto("/streaming/test-client/")
    page.select_option("#studio", "dance_n_addiction")

    page.click("#start-ws")
    page.wait_for_selector(SUCCEEDED, timeout=60_000)
    run = Run.objects.get()
    assert run.subject == "dance_n_addiction" and run.status == "succeeded"
    assert sockets == [f"{staff.base_url.replace('http://', 'ws://')}/ws/runs/{run.pk}/"]
    assert page.inner_text(".run-panel__title") == f"Run {run.pk}"
    assert page.inner_text(".run-panel__percentage") == "100.0%"
    page.wait_for_selector(".run-panel__connection[data-state='finished']")
    assert page.locator(".run-panel__log li").count() == run.events.filter(type="logs").count()
    assert (
        page.locator(".run-panel__log li[data-level='error']").count()
        == run.events.filter(type="logs", data__data__level="error").count()
    )
    assert page.is_disabled("#disconnect")
