import os
import shutil
from pathlib import Path

import pytest

from studios.models import Studio
from tests.conftest import skip_or_fail
from tests.pipeline.support import LocalSite, Response

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

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
        self.context = browser.new_context(base_url=base_url, color_scheme=color_scheme, viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.errors = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto("/admin/login/")
        self.page.fill("#id_username", "admin")
        self.page.fill("#id_password", "admin-password")
        self.page.click("input[type=submit]")
        self.page.wait_for_url("**/admin/")

    def screenshot(self, name, locator=None):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (locator or self.page).screenshot(path=str(SCREENSHOTS / name))

    def close(self):
        self.context.close()


@pytest.fixture
def staff(browser, demo):
    tab = StaffBrowser(browser, demo["url"])
    yield tab
    tab.close()
    assert tab.errors == [], "no JavaScript errors on the page"


@pytest.fixture
def slow_studio(demo):
    """A studio whose eight workshop pages each take 0.4 s, one at a time: a run long enough to watch."""
    site = LocalSite()
    links = []
    for number in range(1, 9):
        path = f"/workshops/slow-{number}/"
        site.add(path, Response(EVENT_PAGE.format(number=number), delay=0.4))
        links.append(f'<a href="{path}">Workshop {number}</a>')
    site.add("/", "<html><body>" + "".join(links) + "</body></html>")
    studio = Studio.objects.create(
        studio_id="slow_studio", name="Slow Studio", website=site.url("/"), link_pattern=r"/workshops/", concurrency=1
    )
    yield studio
    site.close()


EVENT_PAGE = """<html><head><script type="application/ld+json">
{{"@context": "https://schema.org", "@type": "DanceEvent", "name": "Slow workshop {number}",
  "startDate": "2099-01-{number:02d}T18:00:00+05:30", "endDate": "2099-01-{number:02d}T20:00:00+05:30",
  "workPerformed": {{"@type": "CreativeWork", "name": "Song {number}"}}}}
</script></head><body><h1>Slow workshop {number}</h1></body></html>"""
