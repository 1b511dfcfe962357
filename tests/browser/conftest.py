import os
import shutil
from pathlib import Path

import pytest

from studios.pipeline.render import CHROMIUM_ARGS
from tests.services import skip_or_fail

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# The README's screenshots are tracked files: rewritten only when asked (`make screenshots`).
TAKE_SCREENSHOTS = os.environ.get("SCREENSHOTS") == "1"

# Playwright's sync API keeps an event loop in this thread, which Django would otherwise take for
# an async context; the ORM calls here are plain sequential test code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM):
        skip_or_fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class StaffBrowser:
    """A signed-in staff user's browser tab; page errors are collected so tests can assert none."""

    def __init__(self, browser, base_url, color_scheme="light"):
        self.base_url = base_url
        self.context = browser.new_context(
            base_url=base_url, color_scheme=color_scheme, viewport={"width": 1280, "height": 900}
        )
        self.page = self.context.new_page()
        self.errors = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto("/admin/login/")
        self.page.fill("#id_username", "admin")
        self.page.fill("#id_password", "admin-password")
        self.page.click("input[type=submit]")
        self.page.wait_for_url("**/admin/")

    def screenshot(self, name, locator=None):
        if not TAKE_SCREENSHOTS:
            return
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        # Transitions (the progress bar) are finished first, so a screenshot never catches one halfway.
        (locator or self.page).screenshot(path=str(SCREENSHOTS / name), animations="disabled")

    def close(self):
        self.context.close()


@pytest.fixture
def staff(browser, demo):
    tab = StaffBrowser(browser, demo["url"])
    yield tab
    tab.close()
    assert tab.errors == [], "no JavaScript errors on the page"


@pytest.fixture
def slow_studio(demo, make_slow_studio):
    return make_slow_studio("slow_studio")
