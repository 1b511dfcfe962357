"""Studios and artists: create, read, update, delete by their public ids; workshops: filters and shape."""

import datetime

import pytest

from studios.models import Artist, Session, Studio, Workshop

from .conftest import assert_error

NEW_STUDIO = {
    "studio_id": "new_studio",
    "name": "New Studio",
    "website": "http://127.0.0.1:9/new/",
    "link_pattern": r"/workshops/\d+",
    "max_depth": 2,
    "concurrency": 3,
    "time_zone": "Europe/Berlin",
}


def titles(response):
    assert response.status_code == 200, response.content
    return [workshop["title"] for workshop in response.json()["results"]]


def test_studio_crud(admin_api, catalogue):
    created = admin_api.post("/api/studios/", NEW_STUDIO, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert {key: body[key] for key in NEW_STUDIO} == NEW_STUDIO
    assert body["active"] is True and body["render_js"] is False
    assert body["workshops_url"] == "http://testserver/api/studios/new_studio/workshops/"

    assert admin_api.get("/api/studios/new_studio/").json() == {**body, "llm_usage": []}, "the detail adds LLM use"
    listed = admin_api.get("/api/studios/").json()["results"]
    assert [s["studio_id"] for s in listed] == ["dance_n_addiction", "new_studio", "vibe"], "by name"

    patched = admin_api.patch("/api/studios/new_studio/", {"name": "Renamed", "active": False}, format="json")
    assert patched.status_code == 200 and patched.json()["name"] == "Renamed"
    assert Studio.objects.get(studio_id="new_studio").active is False

    replaced = admin_api.put(
        "/api/studios/new_studio/",
        {"studio_id": "changed_id", "name": "Replaced", "website": "http://127.0.0.1:9/r/"},
        format="json",
    )
    assert replaced.status_code == 200, replaced.content
    assert replaced.json()["studio_id"] == "new_studio", "studio_id is the public key: it does not change"
    studio = Studio.objects.get(studio_id="new_studio")
    assert studio.name == "Replaced" and studio.max_depth == 2, "PUT leaves fields with defaults it was not given"
    assert not Studio.objects.filter(studio_id="changed_id").exists()

    assert admin_api.delete("/api/studios/new_studio/").status_code == 204
    assert not Studio.objects.filter(studio_id="new_studio").exists()
    assert_error(admin_api.get("/api/studios/new_studio/"), 404, "studio_not_found")


def test_deleting_a_studio_deletes_its_workshops(admin_api, catalogue):
    assert admin_api.delete("/api/studios/vibe/").status_code == 204
    assert not Workshop.objects.filter(studio__studio_id="vibe").exists()
    assert Workshop.objects.filter(studio__studio_id="dance_n_addiction").exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"studio_id": "all"}, "studio_id"),
        ({"studio_id": "has space"}, "studio_id"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"link_pattern": "[unclosed"}, "link_pattern"),
        ({"concurrency": 0}, "concurrency"),
        ({"website": ""}, "website"),
    ],
)
def test_studio_validation(admin_api, catalogue, change, field):
    error = assert_error(admin_api.post("/api/studios/", {**NEW_STUDIO, **change}, format="json"), 400, "invalid")
    assert list(error["fields"]) == [field]
    assert Studio.objects.count() == 2


def test_taken_ids_are_409(admin_api, catalogue):
    response = admin_api.post("/api/studios/", {**NEW_STUDIO, "studio_id": "dance_n_addiction"}, format="json")
    assert_error(response, 409, "studio_exists")
    assert Studio.objects.get(studio_id="dance_n_addiction").name == "Dance N Addiction"
    assert_error(
        admin_api.post("/api/artists/", {"artist_id": "vivek.moves", "name": "X"}, format="json"), 409, "artist_exists"
    )
    assert Artist.objects.get(artist_id="vivek.moves").name == "Vivek Rathore"


def test_studio_filter_active(admin_api, catalogue):
    assert [s["studio_id"] for s in admin_api.get("/api/studios/", {"active": "false"}).json()["results"]] == ["vibe"]
    assert_error(admin_api.get("/api/studios/", {"active": "maybe"}), 400, "invalid")


def test_artist_crud(admin_api, catalogue):
    created = admin_api.post(
        "/api/artists/", {"artist_id": "new.artist_1", "name": "New Artist", "aliases": ["Newbie"]}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json() == {
        "artist_id": "new.artist_1",
        "name": "New Artist",
        "aliases": ["Newbie"],
        "image_url": "",
        "instagram_link": "",
    }
    assert admin_api.get("/api/artists/new.artist_1/").json()["name"] == "New Artist", "handles may hold dots"
    patched = admin_api.patch(
        "/api/artists/new.artist_1/", {"aliases": ["A", "B"], "artist_id": "other"}, format="json"
    )
    assert patched.json()["aliases"] == ["A", "B"] and patched.json()["artist_id"] == "new.artist_1"
    assert admin_api.delete("/api/artists/new.artist_1/").status_code == 204
    assert not Artist.objects.filter(artist_id="new.artist_1").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"artist_id": "@handle", "name": "X"}, "artist_id"),
        ({"artist_id": "ok", "name": "X", "aliases": "not a list"}, "aliases"),
        ({"artist_id": "ok", "name": "X", "aliases": [["nested"]]}, "aliases"),
        ({"artist_id": "ok"}, "name"),
    ],
)
def test_artist_validation(admin_api, catalogue, body, field):
    error = assert_error(admin_api.post("/api/artists/", body, format="json"), 400, "invalid")
    assert list(error["fields"]) == [field]


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("vivek", ["vivek.moves"]),  # artist_id and name
        ("KAPOOR", ["meghna.kapoor_"]),  # name, any case
        ("meg k", ["meghna.kapoor_"]),  # an alias
        ("vicky", ["vivek.moves"]),  # an alias, any case
        ("Mégha", ["meghna.kapoor_"]),  # a non-ASCII alias (stored escaped on SQLite)
        ('k", "m', []),  # text across two aliases is no match
        ("Meg K, Mégha", []),
        ("k", ["aadil.khan.dance", "meghna.kapoor_", "vivek.moves"]),
        ("zzz", []),
    ],
)
def test_artist_search(admin_api, catalogue, term, expected):
    results = admin_api.get("/api/artists/", {"search": term}).json()["results"]
    assert sorted(a["artist_id"] for a in results) == expected


def test_workshops_by_first_session_with_sessions_and_artists(admin_api, catalogue):
    response = admin_api.get("/api/workshops/")
    assert titles(response) == ["past", "spans", "today", "next_week", "vibe_later", "undated"], "archived left out"
    today = response.json()["results"][2]
    assert today["studio"] == "dance_n_addiction" and today["studio_name"] == "Dance N Addiction"
    assert [a["artist_id"] for a in today["artists"]] == ["meghna.kapoor_", "vivek.moves"]
    assert set(today["artists"][0]) == {"artist_id", "name", "image_url", "instagram_link"}
    assert today["sessions"] == [
        {"date": catalogue["today"].isoformat(), "start_time": "18:00:00", "end_time": "20:00:00", "all_day": False}
    ]
    assert today["first_session_all_day"] is False
    next_week = admin_api.get(f"/api/workshops/{catalogue['workshops']['next_week'].pk}/").json()
    assert [s["date"] for s in next_week["sessions"]] == sorted(s["date"] for s in next_week["sessions"])
    assert next_week["event_type"] == "intensive"


def test_a_first_session_with_a_date_only_reads_as_all_day_not_midnight(admin_api, catalogue):
    studio = Studio.objects.create(
        studio_id="kolkata", name="Kolkata", website="http://127.0.0.1:9/k/", time_zone="Asia/Kolkata"
    )
    workshop = Workshop.objects.create(studio=studio, source_url="http://127.0.0.1:9/k/1", title="all_day")
    Session.objects.create(workshop=workshop, date=datetime.date(2031, 2, 1))
    Session.objects.create(workshop=workshop, date=datetime.date(2031, 2, 2), start_time=datetime.time(10))
    workshop.first_session_at = workshop.first_session_start()
    workshop.save()

    body = admin_api.get(f"/api/workshops/{workshop.pk}/").json()
    assert body["first_session_at"] == "2031-02-01T00:00:00+05:30"
    assert body["first_session_all_day"] is True
    assert body["sessions"] == [
        {"date": "2031-02-01", "start_time": None, "end_time": None, "all_day": True},
        {"date": "2031-02-02", "start_time": "10:00:00", "end_time": None, "all_day": False},
    ]
    schema = admin_api.get("/api/schema/", HTTP_ACCEPT="application/json").json()["components"]["schemas"]
    assert schema["Workshop"]["properties"]["first_session_all_day"]["type"] == "boolean"
    assert schema["Session"]["properties"]["all_day"]["type"] == "boolean"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"upcoming": "true"}, ["spans", "today", "next_week", "vibe_later"]),
        ({"upcoming": "false"}, ["past", "undated"]),
        ({"studio": "vibe"}, ["spans", "vibe_later"]),
        ({"studio": "nope"}, []),
        ({"artist": "meghna.kapoor_"}, ["today", "next_week"]),
        ({"artist": "aadil.khan.dance", "upcoming": "true"}, ["spans"]),
        ({"event_type": "regulars"}, ["vibe_later"]),
        ({"archived": "true"}, ["archived"]),
        ({"archived": "false", "studio": "dance_n_addiction"}, ["past", "today", "next_week", "undated"]),
        ({"date_from": "+1", "date_to": "+8"}, ["spans", "next_week"]),
        ({"date_from": "+9"}, ["vibe_later"]),
        ({"date_to": "-1"}, ["past", "spans"]),
        # One and the same session must fall in the range: "spans" has one before and one after.
        ({"date_from": "-1", "date_to": "+1"}, ["today"]),
        ({"date_to": "-1", "upcoming": "true"}, []),
    ],
)
def test_workshop_filters(admin_api, catalogue, query, expected):
    for key in ("date_from", "date_to"):
        if key in query:
            query[key] = (catalogue["today"] + int(query[key]) * catalogue["day"]).isoformat()
    assert titles(admin_api.get("/api/workshops/", query)) == expected


@pytest.mark.parametrize(
    "query",
    [{"upcoming": "soon"}, {"archived": "yes please"}, {"date_from": "yesterday"}, {"event_type": "party"}],
)
def test_workshop_filter_values_that_do_not_parse_are_400(admin_api, catalogue, query):
    error = assert_error(admin_api.get("/api/workshops/", query), 400, "invalid")
    assert list(error["fields"]) == list(query)


def test_studio_workshops_takes_the_same_filters(admin_api, catalogue):
    assert titles(admin_api.get("/api/studios/vibe/workshops/")) == ["spans", "vibe_later"]
    assert titles(admin_api.get("/api/studios/vibe/workshops/", {"upcoming": "true", "event_type": "regulars"})) == [
        "vibe_later"
    ]
    assert titles(admin_api.get("/api/studios/dance_n_addiction/workshops/", {"page_size": 2})) == ["past", "today"]


def test_workshop_list_queries_do_not_grow_with_its_length(admin_api, catalogue, django_assert_max_num_queries):
    # Token lookup, count, page, sessions, artists: the same for 6 workshops or 60.
    studio = catalogue["studios"][0]
    for number in range(60):
        workshop = Workshop.objects.create(studio=studio, source_url=f"http://127.0.0.1:9/{number}", title=f"w{number}")
        workshop.sessions.create(date=catalogue["today"])
        workshop.artists.set(catalogue["artists"])
    with django_assert_max_num_queries(6):
        response = admin_api.get("/api/workshops/", {"page_size": 100})
    assert len(response.json()["results"]) == 66
    with django_assert_max_num_queries(7):
        response = admin_api.get("/api/studios/dance_n_addiction/workshops/", {"page_size": 100})
    assert len(response.json()["results"]) == 64
