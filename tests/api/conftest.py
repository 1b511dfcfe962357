"""Users with and without permissions, each with a token client, and a small catalogue."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from studios.models import Artist, Session, Studio, Workshop

VIEW_ALL = ["studios.view_studio", "studios.view_artist", "studios.view_workshop", "streaming.view_run"]


def token_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    client.user = user
    return client


@pytest.fixture
def make_client(db):
    def make(username, perms=(), staff=False, superuser=False):
        user = get_user_model().objects.create_user(username, f"{username}@example.com", None)
        user.is_staff, user.is_superuser = staff or superuser, superuser
        user.save()
        for perm in perms:
            app_label, codename = perm.split(".")
            user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        return token_client(user)

    return make


@pytest.fixture
def admin_api(make_client):
    return make_client("admin", superuser=True)


@pytest.fixture
def reader_api(make_client):
    """Authenticated, not staff, may view everything (and holds add/change perms it may not use)."""
    return make_client("reader", [*VIEW_ALL, "studios.add_studio", "studios.change_studio", "studios.add_artist"])


@pytest.fixture
def anon_api():
    return APIClient()


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body["error"]


@pytest.fixture
def catalogue(db):
    """Two studios, three artists, and workshops in the past, today, the future, undated and archived."""
    today = timezone.localdate()
    day = datetime.timedelta(days=1)
    dna = Studio.objects.create(
        studio_id="dance_n_addiction", name="Dance N Addiction", website="http://127.0.0.1:9/dna/"
    )
    vibe = Studio.objects.create(studio_id="vibe", name="Vibe Studio", website="http://127.0.0.1:9/vibe/", active=False)
    aadil = Artist.objects.create(artist_id="aadil.khan.dance", name="Aadil Khan")
    meghna = Artist.objects.create(artist_id="meghna.kapoor_", name="Meghna Kapoor", aliases=["Meg K", "Mégha"])
    vivek = Artist.objects.create(artist_id="vivek.moves", name="Vivek Rathore", aliases=["Vicky Moves", "Vicky"])

    def workshop(studio, title, dates, artists=(), **fields):
        first = timezone.make_aware(datetime.datetime.combine(min(dates), datetime.time(18, 0))) if dates else None
        item = Workshop.objects.create(
            studio=studio, source_url=f"http://127.0.0.1:9/{title}", title=title, first_session_at=first, **fields
        )
        for date in dates:
            Session.objects.create(
                workshop=item, date=date, start_time=datetime.time(18, 0), end_time=datetime.time(20, 0)
            )
        item.artists.set(artists)
        return item

    items = {
        "past": workshop(dna, "past", [today - 10 * day], [aadil]),
        "today": workshop(dna, "today", [today], [meghna, vivek]),
        "next_week": workshop(dna, "next_week", [today + 7 * day, today + 8 * day], [meghna], event_type="intensive"),
        "vibe_later": workshop(vibe, "vibe_later", [today + 30 * day], [vivek], event_type="regulars"),
        "undated": workshop(dna, "undated", []),
        "archived": workshop(dna, "archived", [today + 3 * day], [aadil], is_archived=True),
        "spans": workshop(vibe, "spans", [today - 2 * day, today + 2 * day], [aadil]),
    }
    return {"today": today, "day": day, "studios": (dna, vibe), "artists": (aadil, meghna, vivek), "workshops": items}
