"""Staff try one link from a studio's admin page and see what a run would save from it."""

import pytest

from studios.demo import sites
from studios.models import Studio, Workshop

pytestmark = [pytest.mark.live]


def test_try_a_link_shows_the_preview_and_saves_nothing(staff, demo):
    page = staff.page
    studio = Studio.objects.get(studio_id="dance_n_addiction")
    link = f"{demo['url']}{sites.site_path('dance_n_addiction')}workshops/sunday-double-bill/"
    page.goto(f"/admin/studios/studio/{studio.pk}/change/")
    assert page.input_value("#id_try_url") == studio.website
    page.fill("#id_try_url", link)
    page.click(".try-link-box__submit")
    page.wait_for_selector(".try-link__result")

    assert page.get_attribute(".try-link__result", "data-extractor") == "structured"
    assert page.inner_text(".try-link__summary") == "2 workshops would be saved, read by the structured extractor."
    rows = page.locator(".try-link__events tbody tr")
    assert rows.count() == 2
    first = rows.nth(0).inner_text()
    assert "Sunday Double Bill: Kala Chashma" in first and "Kabir Sethi (@kabir.sethi)" in first
    assert "Early bird: ₹1,000" in first and "11:00–13:00" in first
    assert "No match: Rohan Pillai" in rows.nth(1).inner_text()
    assert page.input_value("#id_url") == link, "the form keeps the link for another try"
    assert Workshop.objects.count() == 0, "a preview saves nothing"
    staff.screenshot("try-a-link.png")


def test_a_link_that_cannot_be_read_says_why(staff, demo):
    page = staff.page
    studio = Studio.objects.get(studio_id="dance_n_addiction")
    page.goto(f"/admin/studios/studio/{studio.pk}/try-link/?url={demo['url']}/no-such-page/")
    assert "Could not read the page: HTTP 404" in page.inner_text(".try-link__error")
