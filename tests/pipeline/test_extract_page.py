"""Trying one page: `manage.py extract_page` and the preview behind it; nothing is saved."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from studios.demo import sites
from studios.demo.loader import load_demo
from studios.models import Artist, Studio, Workshop
from studios.pipeline.preview import preview_page
from tests.sites import Response

from .support import serve_demo_site

pytestmark = pytest.mark.django_db
CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "extraction"


def extract_page(*args):
    out = StringIO()
    call_command("extract_page", *map(str, args), stdout=out)
    return out.getvalue()


@pytest.fixture
def demo_page(site):
    """A demo studio's site served locally, its studio and artists loaded; the double-bill page's URL."""
    load_demo(base_url=site.url(""))
    serve_demo_site(site, "dance_n_addiction")
    return site.url(f"{sites.site_path('dance_n_addiction')}workshops/sunday-double-bill/")


def test_extract_page_prints_a_demo_pages_workshops_and_saves_nothing(demo_page):
    before = (Workshop.objects.count(), Studio.objects.count(), Artist.objects.count())
    out = extract_page(demo_page, "--studio", "dance_n_addiction")
    assert "2 workshops would be saved (extractor: structured)" in out
    assert "1. Sunday Double Bill: Kala Chashma  [workshop]" in out
    assert "   artists: Kabir Sethi (@kabir.sethi)" in out
    assert "   unmatched: Rohan Pillai" in out
    assert "   price: Early bird: ₹1,000 | Regular: ₹1,300" in out
    assert (Workshop.objects.count(), Studio.objects.count(), Artist.objects.count()) == before


def test_extract_page_json(demo_page):
    data = json.loads(extract_page(demo_page, "--studio", "dance_n_addiction", "--json"))
    assert {"events", "dropped", "extractor"} <= set(data)
    assert data["extractor"] == "structured" and data["dropped"] == []
    first = data["events"][0]
    assert first["title"] == "Sunday Double Bill: Kala Chashma" and first["song"] == "Kala Chashma"
    assert first["artists"] == [{"artist_id": "kabir.sethi", "name": "Kabir Sethi"}]
    session = first["sessions"][0]
    assert session["start_time"] == "11:00:00" and session["end_time"] == "13:00:00"
    assert len(session["date"]) == 10 and session["date"][4] == "-"


def test_a_file_with_today_and_zone_reports_what_is_dropped_and_why():
    data = json.loads(
        extract_page(
            CORPUS / "tec_list_view.html", "--url", "https://northside-swing.example/events/",
            "--today", "2026-06-01", "--time-zone", "Europe/London", "--mode", "structured", "--json",
        )
    )  # fmt: skip
    assert data["url"] == "https://northside-swing.example/events/"
    assert [e["title"] for e in data["events"]] == ["Lindy Hop Level 2 – Swing-outs & Variations", "Charleston Taster"]
    assert data["events"][0]["sessions"] == [{"date": "2026-07-02", "start_time": "19:30:00", "end_time": "21:00:00"}]
    assert [(d["title"], d["reason"]) for d in data["dropped"]] == [("Blues Night", "past")]


def test_undated_and_duplicate_events_are_reported():
    out = extract_page(CORPUS / "unreadable_date.html", "--today", "2026-06-01", "--time-zone", "Australia/Sydney")
    assert "  - Krump Session: Big Homie Edition: undated, its date could not be read ('TBA')" in out
    data = json.loads(
        extract_page(
            CORPUS / "duplicate_microdata_and_jsonld.html",
            "--today",
            "2026-06-01",
            "--time-zone",
            "America/Sao_Paulo",
            "--json",
        )
    )
    assert [d["reason"] for d in data["dropped"]] == ["duplicate"] and len(data["events"]) == 1


def test_a_page_that_cannot_be_read_fails_the_command(site):
    url = site.add("/gone", Response("gone", status=404))
    with pytest.raises(CommandError, match="HTTP 404"):
        extract_page(url)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere.html"], "neither a URL nor a file"),
        ([CORPUS / "rdfa_event.html", "--studio", "nobody"], "No studio 'nobody'"),
        ([CORPUS / "rdfa_event.html", "--today", "tomorrow"], "YYYY-MM-DD"),
        ([CORPUS / "rdfa_event.html", "--time-zone", "Mars/Olympus"], "Unknown time zone"),
    ],
)
def test_bad_arguments_are_refused(args, message):
    with pytest.raises(CommandError, match=message):
        extract_page(*args)


def test_an_llm_studio_without_an_llm_is_an_error_not_a_crash(site):
    url = site.add("/w", (CORPUS / "rdfa_event.html").read_text("utf-8"))
    preview = preview_page(url, mode="llm")
    assert preview.error is not None and "no LLM is configured" in preview.error
