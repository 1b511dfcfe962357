"""Staff on a 1280 px laptop: the lists fit the screen, the panel names its time zone, the test client
shows every refusal, and the pages carry the admin's title and an icon."""

import pytest

from streaming.models import Run
from tests.live.sse import read_stream

pytestmark = [pytest.mark.live]

WIDTH = 1280


def overflow(page):
    """How far the page, or the list's table, reaches past the window's right edge (0 when it fits)."""
    return page.evaluate(
        """() => {
          const table = document.querySelector('#result_list');
          if (!table) return document.documentElement.scrollWidth - window.innerWidth;
          // The list's box scrolls sideways rather than widen the page: the table must fit inside it.
          const box = table.closest('.results') || table.parentElement;
          return Math.max(document.documentElement.scrollWidth - window.innerWidth,
                          table.getBoundingClientRect().right - box.getBoundingClientRect().right);
        }"""
    )


def row_heights(page):
    return page.eval_on_selector_all(
        "#result_list tbody tr", "rows => rows.map(row => row.getBoundingClientRect().height)"
    )


def test_the_lists_fit_a_laptop_screen(staff, demo):
    for studio_id in ("groove_theory", "dance_n_addiction"):
        read_stream(
            "POST",
            f"{demo['url']}/api/streaming/refresh-workshops",
            json={"studio_id": studio_id},
            headers=demo["auth"],
        )
    page = staff.page
    assert page.viewport_size["width"] == WIDTH

    page.goto("/admin/studios/studio/")
    assert overflow(page) <= 0, "the studio list fits 1280 px"
    assert page.locator("#result_list th", has_text="Workshops").is_visible()
    for column in ("Last run (IST)",):  # the server's zone, as in the cells
        box = page.locator("#result_list th", has_text=column).bounding_box()
        assert box and box["x"] + box["width"] <= WIDTH, column
    staff.screenshot("studio-list.png")

    page.goto("/admin/streaming/run/")
    assert overflow(page) <= 0, "the run list fits 1280 px"
    heights = row_heights(page)
    assert heights and max(heights) < 80, heights
    for column in ("Started (IST)", "Duration", "Counts"):
        header = page.locator("#result_list th", has_text=column).first
        box = header.bounding_box()
        assert box and box["x"] + box["width"] <= WIDTH, column
    staff.screenshot("run-list.png")

    page.goto("/admin/studios/workshop/")
    assert overflow(page) <= 0, "the workshop list fits 1280 px"


def test_the_panel_names_its_zone_and_the_page_its_title(staff, demo):
    stream = read_stream(
        "POST",
        f"{demo['url']}/api/streaming/refresh-workshops",
        json={"studio_id": "groove_theory"},
        headers=demo["auth"],
    )
    page = staff.page
    page.goto(f"/admin/streaming/run/{stream.run_id}/change/")
    page.wait_for_selector(".run-panel__connection[data-state='finished']")
    assert "Asia/Kolkata" in page.inner_text(".run-panel__zone")
    # The page's dates and the log's times are in that one zone, and say so.
    assert "IST" in page.inner_text(".field-started_at")
    assert page.locator(".run-panel__summary:visible").count() == 1
    assert page.locator(".field-summary").count() == 0, "the summary is shown once, in the panel"
    assert "Django administration" not in page.title()
    assert page.request.get("/favicon.ico").status == 200
    assert overflow(page) <= 0


def test_the_test_client_shows_each_refusal_and_links_like_the_panel(staff, demo):
    page = staff.page
    page.goto("/streaming/test-client/")
    assert page.locator("#user-tools").is_visible(), "the admin's user links"

    page.select_option("#studio", "all")
    page.click("#start-get")
    page.wait_for_selector(".run-panel__log li[data-level='error']")
    assert "HTTP 400" in page.inner_text(".run-panel__log") and "invalid_studio_id" in page.inner_text(
        ".run-panel__log"
    )
    assert page.inner_text(".run-panel__title") == "Not started"
    assert page.get_attribute(".run-panel__connection", "data-state") == "disconnected"
    assert overflow(page) <= 0
    staff.screenshot("test-client-refused.png")

    page.select_option("#studio", "groove_theory")
    page.click("#start-get")
    page.wait_for_selector(".run-panel__status[data-status='succeeded']", timeout=60_000)
    link = page.locator(".run-panel__links a")
    assert link.inner_text() == "Workshops of Groove Theory"
    assert Run.objects.get().subject == "groove_theory"


def test_long_urls_are_shortened_in_the_log_with_the_full_url_on_hover(staff, demo):
    page = staff.page
    page.goto("/streaming/test-client/")
    url = "https://example.com/" + "a" * 200 + "/end"
    page.evaluate(
        f"new RunPanel(document.querySelector('.run-panel')).addLog('info', 'Fetched {url} in 1 s', new Date().toISOString())"
    )
    shown = page.locator(".run-panel__log .run-panel__url")
    assert shown.get_attribute("title") == url
    assert len(shown.inner_text()) <= 60 and shown.inner_text().endswith("/end")
