"""Every REST error is the streaming endpoints' JSON shape; who may read and who may write."""

import pytest

from studios.models import Studio

from .conftest import assert_error

NEW_STUDIO = {"studio_id": "new_studio", "name": "New Studio", "website": "http://127.0.0.1:9/new/"}
LISTS = ["/api/studios/", "/api/artists/", "/api/workshops/", "/api/runs/", "/api/studios/dance_n_addiction/workshops/"]


@pytest.mark.parametrize("url", LISTS)
def test_anonymous_is_401_with_a_token_challenge(anon_api, catalogue, url):
    response = anon_api.get(url)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_anonymous_write_is_401_too(anon_api, catalogue):
    assert_error(anon_api.post("/api/studios/", NEW_STUDIO, format="json"), 401, "not_authenticated")
    assert_error(anon_api.delete("/api/studios/dance_n_addiction/"), 401, "not_authenticated")
    assert Studio.objects.count() == 2


@pytest.mark.parametrize("header", ["Token wrong", "Token", "Token a b"])
def test_wrong_token_is_401_invalid_token(client, catalogue, header):
    assert_error(client.get("/api/studios/", HTTP_AUTHORIZATION=header), 401, "invalid_token")


def test_user_without_view_permission_is_403(make_client, catalogue):
    nobody = make_client("nobody")
    for url in LISTS:
        assert_error(nobody.get(url), 403, "permission_denied")
    studios_only = make_client("studios_only", ["studios.view_studio"])
    assert studios_only.get("/api/studios/").status_code == 200
    # A studio's workshops need the workshop view permission too.
    assert_error(studios_only.get("/api/studios/dance_n_addiction/workshops/"), 403, "permission_denied")


def test_non_staff_reader_can_read_but_not_write(reader_api, catalogue):
    for url in LISTS:
        assert reader_api.get(url).status_code == 200, url
    # It holds add/change permissions, but is not staff.
    assert_error(reader_api.post("/api/studios/", NEW_STUDIO, format="json"), 403, "permission_denied")
    assert_error(reader_api.patch("/api/studios/vibe/", {"name": "X"}, format="json"), 403, "permission_denied")
    assert_error(
        reader_api.post("/api/artists/", {"artist_id": "x", "name": "X"}, format="json"), 403, "permission_denied"
    )
    assert_error(
        reader_api.post("/api/runs/", {"job": "process_studio", "subject": "vibe"}, format="json"),
        403,
        "permission_denied",
    )
    assert not Studio.objects.filter(studio_id="new_studio").exists()
    assert Studio.objects.get(studio_id="vibe").name == "Vibe Studio"


def test_staff_needs_the_model_permission_to_write(make_client, catalogue):
    staff = make_client("staff", ["studios.view_studio", "studios.add_studio"], staff=True)
    assert staff.post("/api/studios/", NEW_STUDIO, format="json").status_code == 201
    assert_error(staff.patch("/api/studios/vibe/", {"name": "X"}, format="json"), 403, "permission_denied")
    assert_error(staff.delete("/api/studios/vibe/"), 403, "permission_denied")
    assert Studio.objects.filter(studio_id="vibe").exists()


def test_session_writes_need_the_csrf_token(client, admin_api, catalogue):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_api.user)
    assert browser.get("/api/studios/").status_code == 200, "a staff session reads"
    response = browser.post("/api/studios/", NEW_STUDIO, content_type="application/json")
    assert_error(response, 403, "csrf_failed")


def test_validation_error_lists_the_fields(admin_api, catalogue):
    response = admin_api.post(
        "/api/studios/",
        {"studio_id": "all", "name": "", "website": "not a url", "link_pattern": "(", "max_depth": 99},
        format="json",
    )
    error = assert_error(response, 400, "invalid")
    assert set(error["fields"]) == {"studio_id", "name", "website", "link_pattern", "max_depth"}
    assert all(isinstance(messages, list) and messages for messages in error["fields"].values())


def test_body_that_is_not_an_object(admin_api, catalogue):
    error = assert_error(admin_api.post("/api/studios/", [1, 2], format="json"), 400, "invalid")
    assert "non_field_errors" in error["fields"]


def test_malformed_json_is_400_invalid_json(admin_api, catalogue):
    response = admin_api.generic("POST", "/api/studios/", '{"studio_id": ', content_type="application/json")
    assert_error(response, 400, "invalid_json")


def test_wrong_content_type_is_415(admin_api, catalogue):
    response = admin_api.generic(
        "POST", "/api/studios/", "studio_id=x", content_type="application/x-www-form-urlencoded"
    )
    assert_error(response, 415, "unsupported_media_type")


def test_body_too_large_is_413(admin_api, catalogue):
    body = '{"studio_id": "big", "name": "%s"}' % ("x" * 70_000)
    assert_error(
        admin_api.generic("POST", "/api/studios/", body, content_type="application/json"), 413, "body_too_large"
    )
    assert not Studio.objects.filter(studio_id="big").exists()


def test_method_not_allowed_is_405_with_allow(admin_api, catalogue):
    response = admin_api.delete("/api/workshops/")
    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET, HEAD, OPTIONS"
    assert_error(admin_api.post("/api/runs/1/"), 405, "method_not_allowed")


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("/api/studios/nope/", "studio_not_found"),
        ("/api/studios/nope/workshops/", "studio_not_found"),
        ("/api/artists/nope/", "artist_not_found"),
        ("/api/workshops/999999/", "workshop_not_found"),
        ("/api/workshops/not-a-number/", "workshop_not_found"),
        ("/api/runs/999999/", "run_not_found"),
        ("/api/runs/99999999999999999999999/", "run_not_found"),
    ],
)
def test_unknown_objects_are_404_with_their_code(admin_api, catalogue, url, code):
    assert_error(admin_api.get(url), 404, code)


def test_unknown_api_urls_answer_json_404(admin_api, anon_api):
    assert_error(admin_api.get("/api/nothing-here/"), 404, "not_found")
    assert_error(anon_api.get("/api/studios/a/b/c/"), 404, "not_found")
    html = anon_api.get("/no-such-page/")
    assert html.status_code == 404 and html["Content-Type"].startswith("text/html")


def test_pagination(admin_api, catalogue):
    for number in range(5):
        Studio.objects.create(studio_id=f"s{number}", name=f"Studio {number}", website="http://127.0.0.1:9/")
    first = admin_api.get("/api/studios/", {"page_size": 3}).json()
    assert first["count"] == 7 and len(first["results"]) == 3
    assert first["previous"] is None and "page=2" in first["next"] and "page_size=3" in first["next"]
    last = admin_api.get("/api/studios/", {"page_size": 3, "page": 3}).json()
    assert len(last["results"]) == 1 and last["next"] is None
    names = [
        s["name"]
        for page in (1, 2, 3)
        for s in admin_api.get("/api/studios/", {"page_size": 3, "page": page}).json()["results"]
    ]
    assert names == sorted(names) and len(set(names)) == 7
    assert len(admin_api.get("/api/studios/").json()["results"]) == 7, "default page size 50"
    assert len(admin_api.get("/api/studios/", {"page_size": 200}).json()["results"]) == 7


@pytest.mark.parametrize("page_size", ["0", "201", "-1", "abc", "1.5"])
def test_page_size_out_of_range_is_400(admin_api, catalogue, page_size):
    assert_error(admin_api.get("/api/workshops/", {"page_size": page_size}), 400, "invalid_page_size")


@pytest.mark.parametrize("page", ["0", "9", "abc", ""])
def test_page_that_does_not_exist_is_404(admin_api, catalogue, page):
    assert_error(admin_api.get("/api/artists/", {"page": page}), 404, "page_not_found")
