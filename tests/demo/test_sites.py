"""The demo studio websites the server hosts: links to crawl, and schema.org events in all three syntaxes."""

import re
from datetime import date, datetime, timedelta
from urllib.parse import urldefrag, urljoin, urlsplit
from zoneinfo import ZoneInfo

import lxml.html
import pytest

from studios.demo import sites

from .schema import SYNTAXES, all_events, events, extract

IST = ZoneInfo("Asia/Kolkata")
HOST = "http://testserver"
STUDIO_IDS = [s["studio_id"] for s in sites.STUDIOS]
PAGES = [(s["studio_id"], p["slug"]) for s in sites.STUDIOS for p in s["workshops"]]


def site_url(studio_id):
    return f"{HOST}/demo/sites/{studio_id}/"


def workshop_url(studio_id, slug):
    return f"{site_url(studio_id)}workshops/{slug}/"


def get(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, f"{url}: {response.status_code}"
    return response


def hrefs(html):
    return [a.get("href") for a in lxml.html.fromstring(html).iter("a") if a.get("href")]


def parse_start(value):
    """A schema.org date or date-time → (aware datetime or date, is_date_only)."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return date.fromisoformat(value), True
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() == timedelta(hours=5, minutes=30), value
    return parsed, False


def is_past(value):
    start, date_only = parse_start(value)
    if date_only:
        return start < datetime.now(IST).date()
    return start < datetime.now(IST)


def page_events(client, studio_id, slug):
    url = workshop_url(studio_id, slug)
    response = get(client, url)
    return response, all_events(extract(response.content, url))


# --- pages and links -------------------------------------------------------------------------------


def test_index_links_the_three_studio_sites(client):
    response = get(client, "/demo/sites/")
    links = {urljoin(f"{HOST}/demo/sites/", h) for h in hrefs(response.content)}
    assert {site_url(s) for s in STUDIO_IDS} <= links
    assert len(STUDIO_IDS) == 3


@pytest.mark.parametrize("studio_id", STUDIO_IDS)
def test_listing_links_workshops_faq_and_a_dead_link_among_other_links(client, studio_id):
    listing = site_url(studio_id)
    raw = hrefs(get(client, listing).content)
    resolved = [urldefrag(urljoin(listing, h))[0] for h in raw]
    pattern = re.compile(sites.link_pattern(studio_id))
    matching = {url for url in resolved if pattern.search(url)}

    studio = sites.get_studio(studio_id)
    slugs = [p["slug"] for p in studio["workshops"]]
    assert len(slugs) >= 5
    assert matching == {workshop_url(studio_id, s) for s in [*slugs, sites.FAQ_SLUG, sites.DEAD_SLUG]}

    # Crawling has to filter and normalise: the hrefs mix every form, and there is more than workshops.
    assert any(h.startswith("workshops/") for h in raw), "relative"
    assert any(h.startswith("./workshops/") for h in raw), "dot-relative"
    assert any(h.startswith(f"/demo/sites/{studio_id}/workshops/") for h in raw), "root-relative"
    assert any(h.startswith(f"{HOST}/demo/sites/{studio_id}/workshops/") for h in raw), "absolute"
    assert len([h for h in raw if "#" in h]) == 1, "exactly one link with a fragment"
    assert {site_url(studio_id) + "about/", site_url(studio_id) + "contact/"} <= set(resolved)
    assert any(urlsplit(u).scheme == "https" and urlsplit(u).netloc == "www.instagram.com" for u in resolved)
    assert not any(pattern.search(u) for u in resolved if urlsplit(u).netloc != "testserver")


@pytest.mark.parametrize("studio_id", STUDIO_IDS)
def test_linked_pages_answer_and_the_dead_link_is_404(client, studio_id):
    listing = site_url(studio_id)
    same_site = {
        urldefrag(urljoin(listing, h))[0]
        for h in hrefs(get(client, listing).content)
        if urlsplit(urljoin(listing, h)).netloc == "testserver"
    }
    dead = workshop_url(studio_id, sites.DEAD_SLUG)
    assert dead in same_site
    for url in same_site:
        get(client, url, 404 if url == dead else 200)


def test_unknown_studio_and_pages_are_404(client):
    get(client, "/demo/sites/no_such_studio/", 404)
    get(client, "/demo/sites/no_such_studio/workshops/faq/", 404)
    get(client, "/demo/sites/groove_theory/no-such-page/", 404)
    get(client, "/demo/sites/groove_theory/book/no-such-workshop/", 404)


@pytest.mark.parametrize("studio_id", STUDIO_IDS)
def test_faq_under_the_workshop_pattern_has_no_event_data(client, studio_id):
    url = workshop_url(studio_id, sites.FAQ_SLUG)
    assert re.search(sites.link_pattern(studio_id), url)
    response = get(client, url)
    assert b"Frequently asked questions" in response.content
    assert all_events(extract(response.content, url)) == {s: [] for s in SYNTAXES}


# --- structured data -------------------------------------------------------------------------------


def test_the_three_sites_use_the_three_syntaxes():
    assert sorted(s["syntax"] for s in sites.STUDIOS) == sorted(SYNTAXES)
    assert sites.get_studio("dance_n_addiction")["syntax"] == "json-ld"


@pytest.mark.parametrize(("studio_id", "slug"), PAGES)
def test_workshop_page_carries_its_events_in_the_studio_syntax(client, studio_id, slug):
    studio = sites.get_studio(studio_id)
    page = sites.get_page(studio, slug)
    response, found = page_events(client, studio_id, slug)
    syntax = studio["syntax"]
    for other in SYNTAXES:
        if other != syntax:
            assert found[other] == [], f"{other} events on a {syntax} page"

    expected = sites.page_events(page)
    got = found[syntax]
    assert [e["name"] for e in got] == [e["name"] for e in expected]
    text = lxml.html.fromstring(response.content).text_content()
    for event, item in zip(got, expected, strict=True):
        assert event["type"] in {"DanceEvent", "Event"}
        start, date_only = parse_start(event["startDate"])
        assert date_only == (item["sessions"][0][1] is None)
        if not date_only:
            parse_start(event["endDate"])
            assert event["endDate"] > event["startDate"]
        assert event["song"] == item["song"]
        assert event["song_type"] == ["CreativeWork"]

        # RDFa (a graph) does not keep the order of a property's values; the others do.
        in_order = sorted if syntax == "rdfa" else list
        performers = [(p["name"], p["sameAs"]) for p in event["performer"]]
        assert in_order(performers) == in_order(
            (p["name"], f"https://www.instagram.com/{p['handle']}/" if p["handle"] else None)
            for p in item["performers"]
        )
        assert all(p["type"] == ["Person"] for p in event["performer"])

        assert in_order((o["name"], o["price"], o["priceCurrency"]) for o in event["offers"]) == in_order(
            (name, str(price), "INR") for name, price in item["offers"]
        )
        assert len(event["offers"]) >= 2 and all(o["type"] == ["Offer"] for o in event["offers"])
        for offer in event["offers"]:
            if studio["booking"] == "whatsapp":
                assert offer["url"].startswith("https://wa.me/91")
            else:
                assert offer["url"].startswith(site_url(studio_id) + "book/")
                get(client, offer["url"])

        sessions = item["sessions"]
        if len(sessions) > 1:
            assert any(k in event["keywords"] for k in ("intensive", "regulars"))
            assert len(event["subEvent"]) == len(sessions)
            assert event["subEvent"][0]["startDate"] == event["startDate"]
            assert event["subEvent"][-1]["endDate"] == event["endDate"]
            assert all(s["type"] == ["Event"] for s in event["subEvent"])
        else:
            assert event["subEvent"] == []

        # What a visitor reads: the title, the artists, the dates and the prices.
        assert item["name"] in text
        for p in item["performers"]:
            assert p["name"] in text
        for name, price in item["offers"]:
            assert name in text and (f"₹{price:,}" in text or price == 0)
        first = start if date_only else start.date()
        assert f"{first.day} {first:%b %Y}" in text


@pytest.mark.parametrize("studio_id", STUDIO_IDS)
def test_each_site_covers_every_case(client, studio_id):
    studio = sites.get_studio(studio_id)
    per_page = {}
    for page in studio["workshops"]:
        _, found = page_events(client, studio_id, page["slug"])
        per_page[page["slug"]] = found[studio["syntax"]]
    every = [e for found in per_page.values() for e in found]

    past = [e for e in every if is_past(e["startDate"])]
    assert len(past) >= 1 and len(past) < len(every) / 2, "at least one past event, most in the future"
    assert len([e for e in every if parse_start(e["startDate"])[1]]) == 1, "exactly one date-only event"
    intensives = [e for e in every if "intensive" in e["keywords"]]
    assert len(intensives) == 1 and len(intensives[0]["subEvent"]) >= 2
    regulars = [e for e in every if "regulars" in e["keywords"]]
    assert len(regulars) == 1 and len(regulars[0]["subEvent"]) >= 2
    two = [slug for slug, found in per_page.items() if len(found) == 2]
    assert len(two) == 1
    routines = per_page[two[0]]
    assert routines[0]["song"] != routines[1]["song"]
    assert {e["type"] for e in every} <= {"DanceEvent", "Event"}
    assert any(p["sameAs"] for e in every for p in e["performer"])
    assert any(not p["sameAs"] for e in every for p in e["performer"])


def test_dates_are_computed_from_today_at_each_render(client, monkeypatch):
    url = workshop_url("groove_theory", "kpop-supernova-tanvi")  # sessions: today + 4, 17:00 to 19:00
    for today in (date(2031, 3, 10), date(2031, 12, 30)):
        monkeypatch.setattr(sites, "today", lambda today=today: today)
        response = get(client, url)
        (event,) = events(extract(response.content, url), "microdata")
        day = today + timedelta(days=4)
        assert event["startDate"] == f"{day.isoformat()}T17:00:00+05:30"
        assert event["endDate"] == f"{day.isoformat()}T19:00:00+05:30"


def test_jsonld_script_survives_hostile_text(client, monkeypatch):
    """A title with ``</script>`` must not break out of the JSON-LD block."""
    studio = sites.get_studio("dance_n_addiction")
    page = dict(studio["workshops"][0], name="Heels </script><script>alert(1)</script> & more")
    monkeypatch.setitem(studio, "workshops", [page, *studio["workshops"][1:]])
    url = workshop_url("dance_n_addiction", page["slug"])
    response = get(client, url)
    assert b"<script>alert(1)" not in response.content
    (event,) = events(extract(response.content, url), "json-ld")
    assert event["name"] == page["name"]


# --- artists and how the pipeline should match them ------------------------------------------------


def test_artists_are_realistic_and_unique():
    ids = [a["artist_id"] for a in sites.ARTISTS]
    assert 8 <= len(ids) <= 12 and len(set(ids)) == len(ids)
    for artist in sites.ARTISTS:
        assert re.fullmatch(r"[a-z0-9._]{3,30}", artist["artist_id"]), artist["artist_id"]


def test_every_matching_case_appears_on_the_pages():
    hows = {a["how"] for a in sites.performer_appearances()}
    assert hows == {"handle", "name", "alias", "fuzzy", "unmatched"}


@pytest.mark.parametrize("appearance", list(sites.performer_appearances()), ids=lambda a: f"{a['how']}:{a['name']}")
def test_performer_match_expectation_is_sound(appearance, settings):
    """Each performer resolves the documented way: by handle, exact name, alias, fuzzy, or not at all."""
    from rapidfuzz import fuzz, utils

    threshold = settings.ARTIST_MATCH_THRESHOLD
    artists = {a["artist_id"]: a for a in sites.ARTISTS}
    name, handle, how = appearance["name"], appearance["handle"], appearance["how"]
    expected = artists.get(appearance["artist_id"])
    names_of = {aid: [a["name"], *a["aliases"]] for aid, a in artists.items()}

    def score(a, b):
        return max(s(a, b, processor=utils.default_process) for s in (fuzz.ratio, fuzz.token_sort_ratio, fuzz.WRatio))

    def exact(aid):
        return name.casefold() in (n.casefold() for n in names_of[aid])

    if how == "handle":
        assert handle == expected["artist_id"]
        return
    assert handle is None, "only handle matches carry sameAs"
    if how == "name":
        assert name == expected["name"]
        assert [aid for aid in artists if exact(aid)] == [expected["artist_id"]]
    elif how == "alias":
        assert name in expected["aliases"]
        assert [aid for aid in artists if exact(aid)] == [expected["artist_id"]]
        assert score(name, expected["name"]) < threshold, "the alias, not the name, must be what matches"
    elif how == "fuzzy":
        assert not any(exact(aid) for aid in artists)
        scores = {
            aid: max(fuzz.token_sort_ratio(name, n, processor=utils.default_process) for n in ns)
            for aid, ns in names_of.items()
        }
        best = max(scores, key=scores.get)
        assert best == expected["artist_id"] and scores[best] >= threshold
        assert sorted(scores.values())[-2] < threshold, "only one artist is close"
    else:
        assert how == "unmatched" and expected is None
        assert not any(exact(aid) for aid in artists)
        assert max(score(name, n) for ns in names_of.values() for n in ns) < threshold
