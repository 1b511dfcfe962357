"""The two demo studios for the optional paths: links only JavaScript writes, and pages with no structured data."""

import re
from io import StringIO

import extruct
import lxml.html
import pytest
from django.core.management import call_command

from studios.demo import llm as demo_llm
from studios.demo import sites
from studios.demo.loader import load_demo
from studios.models import Studio

pytestmark = pytest.mark.django_db


def test_extra_studios_are_loaded_on_request_only():
    assert load_demo()["studios"]["created"] == 3
    summary = load_demo(extra_studios=True)
    assert summary["studios"] == {"created": 2, "updated": 0, "unchanged": 3, "ids": summary["studios"]["ids"]}
    js, text = Studio.objects.get(studio_id="rhythm_republic"), Studio.objects.get(studio_id="tarang_dance_house")
    assert (js.render_js, js.extraction, text.render_js, text.extraction) == (True, "auto", False, "auto")
    assert "early bird" in text.extraction_hints
    assert load_demo(extra_studios=True)["studios"]["unchanged"] == 5


def test_demo_command_option_lists_the_extra_sites():
    out = StringIO()
    call_command("demo", "--extra-studios", stdout=out)
    output = out.getvalue()
    assert (
        "rhythm_republic      http://127.0.0.1:8008/demo/sites/rhythm_republic/  (json-ld, rendered with Chromium)"
        in output
    )
    assert (
        "tarang_dance_house   http://127.0.0.1:8008/demo/sites/tarang_dance_house/  (plain text, for the LLM)" in output
    )
    assert Studio.objects.count() == 5


def test_the_js_listing_has_no_workshop_link_until_its_script_runs(client):
    html = client.get("/demo/sites/rhythm_republic/").content.decode()
    hrefs = [a.get("href") for a in lxml.html.fromstring(html).iter("a")]
    assert not [h for h in hrefs if "/workshops/" in h or h.startswith(("workshops/", "./workshops/"))]
    for page in sites.get_studio("rhythm_republic")["workshops"]:
        assert f'{page["slug"]}/"' in html, "the script's data names every workshop page"


@pytest.mark.parametrize("slug", [p["slug"] for p in sites.get_studio("tarang_dance_house")["workshops"]])
def test_the_plain_text_pages_carry_no_structured_data_only_prose(client, slug):
    url = f"/demo/sites/tarang_dance_house/workshops/{slug}/"
    response = client.get(url)
    assert response.status_code == 200
    data = extruct.extract(
        response.content, base_url=f"http://testserver{url}", syntaxes=["json-ld", "microdata", "rdfa"]
    )
    assert data["json-ld"] == [] and data["microdata"] == []
    assert not [item for item in data["rdfa"] if set(item) - {"@id"}], "only the page node itself"
    html = response.content.decode()
    assert not re.search(r"<time|itemprop|itemscope|typeof=|property=|datetime=", html)
    text = lxml.html.fromstring(html).text_content()
    page = sites.get_page(sites.get_studio("tarang_dance_house"), slug)
    for event in sites.page_events(page):
        assert event["song"] in text and all(p["name"] in text for p in event["performers"])
        assert all(f"₹{price:,}" in text for _name, price in event["offers"])


def test_the_demo_llm_answers_pages_it_knows_and_not_others():
    url = "http://127.0.0.1:8008/demo/sites/tarang_dance_house/workshops/contemporary-intensive-nimisha/"
    answer = demo_llm.answer_for_url(url)
    assert answer["is_valid"] and answer["event_type"] == "intensive"
    (detail,) = answer["event_details"]
    assert [t["start_time"] for t in detail["time_details"]] == ["05:00 PM"] * 3
    assert detail["artist_id_list"] == ["nimisha.rao"] and detail["pricing_info"] == "EB: ₹4,200\nRegular: ₹5,000"
    assert demo_llm.answer_for_url(url.replace("contemporary-intensive-nimisha", "faq"))["is_valid"] is False
