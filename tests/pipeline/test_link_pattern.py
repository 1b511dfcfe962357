"""A studio's link pattern is matched with RE2, so what RE2 cannot run is refused where it is entered."""

import pytest
from rest_framework.test import APIClient

from studios.models import Studio

pytestmark = pytest.mark.django_db

LOOKAHEAD = "(?=x)/workshops/"
STUDIO = {"studio_id": "pulse", "name": "Studio Pulse", "website": "http://127.0.0.1:9/", "time_zone": "Asia/Kolkata"}


@pytest.fixture
def api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


def test_the_api_refuses_a_pattern_re2_cannot_run(api):
    response = api.post("/api/studios/", {**STUDIO, "link_pattern": LOOKAHEAD}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert list(error["fields"]) == ["link_pattern"]
    assert "not supported" in str(error["fields"]["link_pattern"])
    assert not Studio.objects.exists()


def test_the_api_accepts_an_ordinary_pattern(api):
    response = api.post("/api/studios/", {**STUDIO, "link_pattern": r"/workshops/\d+"}, format="json")
    assert response.status_code == 201, response.content
    assert Studio.objects.get().link_pattern == r"/workshops/\d+"


def test_the_admin_form_refuses_a_pattern_re2_cannot_run(admin_client):
    form = {**STUDIO, "link_pattern": LOOKAHEAD, "max_depth": 1, "concurrency": 5, "extraction": "auto", "active": "on"}
    response = admin_client.post("/admin/studios/studio/add/", form)
    assert response.status_code == 200  # the form again, not a redirect to the list
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["link_pattern"]
    assert "not supported" in errors["link_pattern"][0]
    assert not Studio.objects.exists()
