"""Django admin for studios, artists and workshops, as a studio manager uses it (logged-in superuser)."""

import json
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import lxml.html
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from studios.demo.loader import load_demo
from studios.models import Artist, EventType, Session, Studio, Workshop

pytestmark = pytest.mark.django_db

STUDIOS = "/admin/studios/studio/"
ARTISTS = "/admin/studios/artist/"
WORKSHOPS = "/admin/studios/workshop/"


@pytest.fixture
def catalogue():
    load_demo("http://127.0.0.1:8008")
    studio = {s.studio_id: s for s in Studio.objects.all()}
    now = timezone.now()

    def workshop(studio_id, title, song, by, event_type=EventType.WORKSHOP, days=None, archived=False, sessions=()):
        w = Workshop.objects.create(
            studio=studio[studio_id],
            source_url=f"http://127.0.0.1:8008/demo/sites/{studio_id}/workshops/{title.lower().replace(' ', '-')}/",
            title=title,
            song=song,
            by=by,
            event_type=event_type,
            first_session_at=None if days is None else now + timedelta(days=days),
            is_archived=archived,
        )
        for day, start, end in sessions:
            Session.objects.create(workshop=w, date=day, start_time=start, end_time=end)
        return w

    ws = {
        "fusion": workshop(
            "dance_n_addiction",
            "Bollywood Fusion",
            "Jhoome Jo Pathaan",
            "Aadil Khan",
            days=6,
            sessions=[(date(2031, 1, 6), time(16), time(18))],
        ),
        "locking": workshop(
            "groove_theory",
            "Locking Intensive",
            "Super Freak",
            "Tanvi Grooves, Kabir Sethi",
            EventType.INTENSIVE,
            days=10,
            sessions=[(date(2031, 1, 10), time(10), time(13)), (date(2031, 1, 11), time(10), time(13))],
        ),
        "popping": workshop("the_movement_lab", "Popping Essentials", "Billie Jean", "Arjun D'Souza", days=-3),
        "old": workshop("dance_n_addiction", "Old Heels Class", "Levitating", "Meghna Kapoor", days=-40, archived=True),
        "freestyle": workshop("groove_theory", "Freestyle Regulars", "Cypher", "Kabir Sethi", EventType.REGULARS),
    }
    ws["fusion"].artists.add(Artist.objects.get(artist_id="aadil.khan.dance"))
    ws["locking"].artists.add(*Artist.objects.filter(artist_id__in=["tanvi_grooves", "kabir.sethi"]))
    return {"studios": studio, "workshops": ws}


def rows(client, url, params=None):
    response = client.get(url, params or {})
    assert response.status_code == 200, response.status_code
    return response, list(response.context["cl"].result_list)


# --- studios ---------------------------------------------------------------------------------------


def test_studio_changelist_shows_columns_and_current_workshop_counts(admin_client, catalogue):
    response, result = rows(admin_client, STUDIOS)
    assert [s.studio_id for s in result] == ["dance_n_addiction", "groove_theory", "the_movement_lab"]
    counts = {s.studio_id: s.current_workshops for s in result}
    assert counts == {"dance_n_addiction": 1, "groove_theory": 2, "the_movement_lab": 1}  # archived not counted
    html = response.content.decode()
    for header in ("Name (studio ID)", "Website", "Active", "Render js", "Workshops"):
        assert header in html
    assert "http://127.0.0.1:8008/demo/sites/groove_theory/" in html
    dna = catalogue["studios"]["dance_n_addiction"]
    assert f"{WORKSHOPS}?studio__id__exact={dna.pk}&amp;is_archived__exact=0" in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"active__exact": "1"}, {"dance_n_addiction", "the_movement_lab"}),
        ({"active__exact": "0"}, {"groove_theory"}),
        ({"render_js__exact": "1"}, {"the_movement_lab"}),
        ({"render_js__exact": "0"}, {"dance_n_addiction", "groove_theory"}),
        ({"q": "groove"}, {"groove_theory"}),
        ({"q": "the_movement"}, {"the_movement_lab"}),
        ({"q": "addiction"}, {"dance_n_addiction"}),
        ({"q": "nothing-like-this"}, set()),
    ],
)
def test_studio_filters_and_search(admin_client, catalogue, params, expected):
    Studio.objects.filter(studio_id="groove_theory").update(active=False)
    Studio.objects.filter(studio_id="the_movement_lab").update(render_js=True)
    _, result = rows(admin_client, STUDIOS, params)
    assert {s.studio_id for s in result} == expected


def test_studio_add_page_prepopulates_the_id_from_the_name(admin_client):
    response = admin_client.get(STUDIOS + "add/")
    assert response.status_code == 200
    script = lxml.html.fromstring(response.content).get_element_by_id("django-admin-prepopulated-fields-constants")
    fields = json.loads(script.get("data-prepopulated-fields"))
    assert [(f["id"], f["dependency_ids"]) for f in fields] == [("#id_studio_id", ["#id_name"])]


def test_studio_change_page_opens(admin_client, catalogue):
    studio = catalogue["studios"]["groove_theory"]
    response = admin_client.get(f"{STUDIOS}{studio.pk}/change/")
    assert response.status_code == 200
    assert b"/workshops/[^/]+/$" in response.content


# --- artists ---------------------------------------------------------------------------------------


def test_artist_changelist_shows_aliases(admin_client, catalogue):
    response, result = rows(admin_client, ARTISTS)
    assert len(result) == Artist.objects.count() >= 8
    assert "Vicky Moves, Vicky" in response.content.decode()


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("Vicky Moves", {"vivek.moves"}),  # an alias only
        ("vicky", {"vivek.moves"}),
        ("Nimmi", {"nimisha.rao"}),
        ("tanvi grooves", {"tanvi_grooves"}),  # alias words, case-insensitive
        ("Tanvi", {"tanvi_grooves"}),
        ("tanvi_grooves", {"tanvi_grooves"}),  # the handle
        ("Shivani Bhagwan", {"shivanibhagwan"}),  # the name
        ("Zoyā", {"zoya.k"}),  # a non-ASCII alias
        ("nobody-like-this", set()),
    ],
)
def test_artist_search_finds_names_handles_and_aliases(admin_client, catalogue, term, expected):
    Artist.objects.create(artist_id="zoya.k", name="Zoya Khan", aliases=["Zoyā Dance"])
    _, result = rows(admin_client, ARTISTS, {"q": term})
    assert {a.artist_id for a in result} == expected


def test_artist_form_edits_aliases_one_per_line(admin_client, catalogue):
    vivek = Artist.objects.get(artist_id="vivek.moves")
    url = f"{ARTISTS}{vivek.pk}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200
    textarea = lxml.html.fromstring(page.content).get_element_by_id("id_aliases")
    assert textarea.text_content().strip().splitlines() == ["Vicky Moves", "Vicky"]

    response = admin_client.post(
        url,
        {
            "artist_id": "vivek.moves",
            "name": "Vivek Rathore",
            "aliases": "Vicky Moves\r\n\r\n  Vee  \r\nVicky Moves",
            "instagram_link": vivek.instagram_link,
            "image_url": "",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    vivek.refresh_from_db()
    assert vivek.aliases == ["Vicky Moves", "Vee"]


def test_workshop_artist_autocomplete_finds_an_alias(admin_client, catalogue):
    response = admin_client.get(
        "/admin/autocomplete/",
        {
            "app_label": "studios",
            "model_name": "workshop",
            "field_name": "artists",
            "term": "Nimmi",
        },
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Nimisha Rao (@nimisha.rao)"]


# --- workshops -------------------------------------------------------------------------------------


def test_workshop_changelist_shows_columns(admin_client, catalogue):
    response, result = rows(admin_client, WORKSHOPS)
    assert len(result) == 5
    html = response.content.decode()
    for header in ("Title", "Studio", "Event type", "By", "First session", "Is archived"):
        assert header in html
    assert "Locking Intensive" in html and "Tanvi Grooves, Kabir Sethi" in html and "Groove Theory" in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"studio": "groove_theory"}, {"locking", "freestyle"}),
        ({"event_type__exact": "intensive"}, {"locking"}),
        ({"event_type__exact": "regulars"}, {"freestyle"}),
        ({"when": "upcoming"}, {"fusion", "locking"}),
        ({"when": "past"}, {"popping", "old"}),
        ({"when": "undated"}, {"freestyle"}),
        ({"is_archived__exact": "1"}, {"old"}),
        ({"is_archived__exact": "0"}, {"fusion", "locking", "popping", "freestyle"}),
        ({"when": "upcoming", "studio": "dance_n_addiction"}, {"fusion"}),
        ({"q": "Locking"}, {"locking"}),  # title
        ({"q": "pathaan"}, {"fusion"}),  # song
        ({"q": "Kabir"}, {"locking", "freestyle"}),  # by
        ({"q": "Movement Lab"}, {"popping"}),  # studio name
    ],
)
def test_workshop_filters_and_search(admin_client, catalogue, params, expected):
    params = dict(params)
    if "studio" in params:
        params["studio__id__exact"] = catalogue["studios"][params.pop("studio")].pk
    _, result = rows(admin_client, WORKSHOPS, params)
    names = {key for key, w in catalogue["workshops"].items() if w in result}
    assert names == expected and len(result) == len(expected)


def test_workshop_filter_choices_are_offered(admin_client, catalogue):
    html = admin_client.get(WORKSHOPS).content.decode()
    for choice in ("?when=upcoming", "?when=past", "?event_type__exact=intensive", "?is_archived__exact=1"):
        assert choice in html


def test_workshop_changelist_queries_do_not_grow_with_rows(admin_client, catalogue):
    def query_count():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(WORKSHOPS).status_code == 200
        return len(queries)

    few = query_count()
    studios = list(Studio.objects.all())
    for i in range(12):
        Workshop.objects.create(studio=studios[i % 3], source_url=f"http://x.test/{i}/", title=f"Extra {i}")
    assert query_count() == few


def test_workshop_change_page_has_sessions_inline_and_artist_autocomplete(admin_client, catalogue):
    locking = catalogue["workshops"]["locking"]
    response = admin_client.get(f"{WORKSHOPS}{locking.pk}/change/")
    assert response.status_code == 200
    (inline,) = response.context["inline_admin_formsets"]
    assert inline.formset.model is Session
    assert [f.instance.date for f in inline.formset.initial_forms] == [date(2031, 1, 10), date(2031, 1, 11)]
    doc = lxml.html.fromstring(response.content)
    assert doc.get_element_by_id("id_sessions-TOTAL_FORMS").get("value") == "2"
    assert doc.get_element_by_id("sessions-group").get("data-inline-type") == "tabular"
    artists = doc.get_element_by_id("id_artists")
    assert "admin-autocomplete" in artists.get("class")
    assert {o.text_content() for o in artists.iter("option") if o.get("selected") is not None} == {
        "Kabir Sethi (@kabir.sethi)",
        "Tanvi Mehra (@tanvi_grooves)",
    }


def test_workshop_change_form_adds_a_session(admin_client, catalogue):
    fusion = catalogue["workshops"]["fusion"]
    url = f"{WORKSHOPS}{fusion.pk}/change/"
    form = lxml.html.fromstring(admin_client.get(url).content).get_element_by_id("workshop_form")
    data = {}
    for name, value in form.form_values():
        data.setdefault(name, []).append(value)
    total = int(data["sessions-TOTAL_FORMS"][0])
    data["sessions-TOTAL_FORMS"] = [str(total + 1)]
    data[f"sessions-{total}-date"] = ["2031-01-13"]
    data[f"sessions-{total}-start_time"] = ["16:00"]
    data[f"sessions-{total}-end_time"] = ["18:00"]
    data[f"sessions-{total}-workshop"] = [str(fusion.pk)]
    response = admin_client.post(url, data)
    assert response.status_code == 302
    assert list(fusion.sessions.values_list("date", flat=True)) == [date(2031, 1, 6), date(2031, 1, 13)]


def test_workshop_add_page_opens(admin_client):
    assert admin_client.get(WORKSHOPS + "add/").status_code == 200


def test_a_studio_time_zone_must_be_a_real_zone():
    from django.core.exceptions import ValidationError

    studio = Studio(
        studio_id="somewhere", name="Somewhere", website="http://127.0.0.1:8008/", time_zone="Mars/Olympus_Mons"
    )
    with pytest.raises(ValidationError) as error:
        studio.full_clean()
    assert list(error.value.message_dict) == ["time_zone"]
    studio.time_zone = "Europe/Berlin"
    studio.full_clean()


def test_a_session_with_a_date_only_is_shown_all_day_not_midnight(admin_client, catalogue):
    workshop = catalogue["workshops"]["popping"]
    Session.objects.create(workshop=workshop, date=date(2031, 2, 1))
    fusion = catalogue["workshops"]["fusion"]
    page = admin_client.get(WORKSHOPS, {"is_archived__exact": "0"}).content.decode()
    assert "Sat 01 Feb 2031 (all day)" in page
    assert "Mon 06 Jan 2031, 16:00–18:00 Asia/Kolkata" in page
    assert str(workshop.sessions.get()) == "Sat 01 Feb 2031 (all day)"
    assert fusion.sessions.count() == 1


def test_the_change_page_shows_a_date_only_first_session_as_all_day(admin_client, catalogue):
    popping = catalogue["workshops"]["popping"]
    Session.objects.create(workshop=popping, date=date(2031, 2, 1))
    url = f"{WORKSHOPS}{popping.pk}/change/"
    doc = lxml.html.fromstring(admin_client.get(url).content)
    (field,) = doc.find_class("field-first_session")
    assert "Sat 01 Feb 2031 (all day)" in field.text_content()
    assert not doc.xpath("//input[starts-with(@name, 'first_session_at')]"), "no time to read as midnight"

    # Sessions edited here move first_session_at with them: the lists order and filter by it.
    form = doc.get_element_by_id("workshop_form")
    data = {}
    for name, value in form.form_values():
        data.setdefault(name, []).append(value)
    data["sessions-0-date"] = ["2031-01-25"]
    assert admin_client.post(url, data).status_code == 302
    popping.refresh_from_db()
    assert (
        timezone.localtime(popping.first_session_at, ZoneInfo("Asia/Kolkata")).isoformat()
        == "2031-01-25T00:00:00+05:30"
    )
    assert popping.first_session_all_day
    doc = lxml.html.fromstring(admin_client.get(url).content)
    assert "Sat 25 Jan 2031 (all day)" in doc.find_class("field-first_session")[0].text_content()
