"""`manage.py demo` and `load_demo`: idempotent demo catalogue, admin user, token and curl commands."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from studios.demo import sites
from studios.demo.loader import load_demo
from studios.models import Artist, Studio

pytestmark = pytest.mark.django_db

User = get_user_model()


def counts():
    return Studio.objects.count(), Artist.objects.count(), User.objects.count(), Token.objects.count()


def snapshot():
    return (
        list(Studio.objects.order_by("studio_id").values()),
        list(Artist.objects.order_by("artist_id").values()),
    )


def run_demo(*args):
    out = StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def test_load_demo_creates_the_studios_and_artists():
    summary = load_demo("http://127.0.0.1:8008")
    assert summary["studios"]["created"] == 3 and summary["artists"]["created"] == len(sites.ARTISTS)

    dna = Studio.objects.get(studio_id="dance_n_addiction")
    assert dna.name == "Dance N Addiction"
    assert dna.website == "http://127.0.0.1:8008/demo/sites/dance_n_addiction/"
    assert (dna.max_depth, dna.concurrency, dna.active, dna.render_js) == (1, 5, True, False)
    assert set(Studio.objects.values_list("studio_id", flat=True)) == {
        "dance_n_addiction",
        "groove_theory",
        "the_movement_lab",
    }
    vivek = Artist.objects.get(artist_id="vivek.moves")
    assert vivek.name == "Vivek Rathore" and "Vicky Moves" in vivek.aliases
    assert vivek.instagram_link == "https://www.instagram.com/vivek.moves/"


def test_load_demo_twice_changes_nothing():
    load_demo()
    before_counts, before_rows = counts(), snapshot()
    summary = load_demo()
    assert counts() == before_counts
    assert snapshot() == before_rows  # not even updated_at moves
    assert summary["studios"] == {"created": 0, "updated": 0, "unchanged": 3, "ids": summary["studios"]["ids"]}
    assert summary["artists"]["unchanged"] == len(sites.ARTISTS)


def test_load_demo_repairs_what_was_edited():
    load_demo()
    Artist.objects.filter(artist_id="nimisha.rao").update(aliases=[])
    Studio.objects.filter(studio_id="groove_theory").update(active=False, max_depth=3)
    summary = load_demo()
    assert summary["artists"]["updated"] == 1 and summary["studios"]["updated"] == 1
    assert Artist.objects.get(artist_id="nimisha.rao").aliases == ["Nimmi"]
    groove = Studio.objects.get(studio_id="groove_theory")
    assert groove.active and groove.max_depth == 1


@pytest.mark.parametrize(
    ("url", "matches"),
    [
        ("http://127.0.0.1:8008/demo/sites/groove_theory/workshops/locking-intensive/", True),
        ("http://127.0.0.1:8008/demo/sites/groove_theory/workshops/faq/", True),
        ("http://127.0.0.1:8008/demo/sites/groove_theory/", False),
        ("http://127.0.0.1:8008/demo/sites/groove_theory/about/", False),
        ("http://127.0.0.1:8008/demo/sites/groove_theory/book/locking-intensive/", False),
        ("http://127.0.0.1:8008/demo/sites/the_movement_lab/workshops/open-studio-day/", False),
        ("http://127.0.0.1:8008/demo/sites/groove_theory/workshops/locking-intensive/#details", False),
    ],
)
def test_link_pattern_matches_only_this_studios_workshop_pages(url, matches):
    load_demo()
    pattern = Studio.objects.get(studio_id="groove_theory").link_pattern
    assert bool(re.search(pattern, url)) is matches


def test_base_url_option_moves_the_websites():
    run_demo()
    output = run_demo("--base-url", "http://demo.example:9000/")
    websites = dict(Studio.objects.values_list("studio_id", "website"))
    assert websites == {s: f"http://demo.example:9000/demo/sites/{s}/" for s in websites}
    assert "http://demo.example:9000/demo/sites/the_movement_lab/" in output
    assert Studio.objects.count() == 3


def test_default_base_url_is_port_8008():
    output = run_demo()
    assert Studio.objects.get(studio_id="groove_theory").website == "http://127.0.0.1:8008/demo/sites/groove_theory/"
    assert "http://127.0.0.1:8008/demo/sites/dance_n_addiction/" in output
    assert not User.objects.exists() and "--admin" in output


@pytest.mark.parametrize("bad", ["ftp://example.com", "127.0.0.1:8008", "http://", "http://host:8008/?x=1"])
def test_bad_base_url_is_refused(bad):
    with pytest.raises(CommandError):
        run_demo("--base-url", bad)
    assert Studio.objects.count() == 0


def test_admin_option_creates_superuser_token_and_prints_curl_commands(monkeypatch, client):
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    output = run_demo("--admin", "--base-url", "http://127.0.0.1:8123")

    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.is_active
    token = Token.objects.get(user=admin)
    password = re.search(r"Password:\s+(\S+)\s+\(generated", output).group(1)
    assert admin.check_password(password)
    assert client.login(username="admin", password=password)
    assert client.get("/admin/").status_code == 200

    base = "http://127.0.0.1:8123"
    auth = f'-H "Authorization: Token {token.key}"'
    assert f"{base}/admin/" in output
    assert (
        f"curl -N -X POST {base}/api/streaming/refresh-workshops {auth} "
        '-H "Content-Type: application/json" -d \'{"studio_id": "dance_n_addiction"}\''
    ) in output
    assert f'curl -N "{base}/api/streaming/process-studio?studio_id=dance_n_addiction" {auth}' in output
    assert f'curl -N "{base}/api/streaming/refresh-workshops?studio_id=all" {auth}' in output


def test_admin_option_twice_keeps_password_and_token(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    run_demo("--admin")
    admin = User.objects.get(username="admin")
    admin.set_password("chosen-by-the-operator")
    admin.save()
    key = Token.objects.get(user=admin).key
    before = counts()

    output = run_demo("--admin")
    assert counts() == before
    admin.refresh_from_db()
    assert admin.check_password("chosen-by-the-operator")
    assert Token.objects.get(user=admin).key == key and key in output
    assert "unchanged" in output and "DJANGO_SUPERUSER_PASSWORD" in output


def test_admin_password_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "first-secret-123")
    output = run_demo("--admin")
    admin = User.objects.get(username="admin")
    assert admin.check_password("first-secret-123")
    assert "first-secret-123" not in output and "DJANGO_SUPERUSER_PASSWORD" in output

    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "second-secret-456")
    output = run_demo("--admin")
    admin.refresh_from_db()
    assert admin.check_password("second-secret-456") and "reset" in output
    assert User.objects.filter(username="admin").count() == 1


def test_admin_option_repairs_a_non_staff_admin(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    User.objects.create_user("admin", password="x-long-password")
    run_demo("--admin")
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password("x-long-password")


def test_the_banner_warns_when_chromium_is_missing(settings):
    settings.CHROMIUM_PATH = "/nonexistent/chromium"
    out = run_demo("--extra-studios")
    assert "Rhythm Republic needs Chromium" in out and "/nonexistent/chromium" in out
    assert "needs Chromium" not in run_demo()  # no JavaScript-rendered studio without --extra-studios


def test_moving_the_demo_to_another_port_keeps_the_workshops_identity():
    from studios.models import LinkState, Workshop

    load_demo("http://127.0.0.1:8008")
    studio = Studio.objects.get(studio_id="dance_n_addiction")
    old = f"http://127.0.0.1:8008{sites.site_path(studio.studio_id)}workshops/one"
    workshop = Workshop.objects.create(studio=studio, source_url=old, title="One")
    LinkState.objects.create(studio=studio, url=old, result=[])
    load_demo("http://localhost:9000")
    new = f"http://localhost:9000{sites.site_path(studio.studio_id)}workshops/one"
    workshop.refresh_from_db()
    assert workshop.source_url == new
    assert LinkState.objects.get(studio=studio).url == new
    studio.refresh_from_db()
    assert studio.website.startswith("http://localhost:9000/")


def test_a_run_after_the_demo_moved_port_creates_and_archives_nothing(settings):
    """What `make run PORT=…` does to a demo that was run before: the next run finds its workshops."""
    from streaming.models import Run
    from studios.models import ChangeKind, Workshop, WorkshopChange
    from studios.pipeline.process import process_studio
    from tests.pipeline.support import FakeReporter, serve_demo_site
    from tests.sites import LocalSite

    settings.FETCH_ALLOW_PRIVATE = True  # the demo's sites are on 127.0.0.1
    settings.FETCH_RETRY_BACKOFF = 0.01
    settings.LLM_BASE_URL = settings.LLM_API_KEY = settings.LLM_MODEL = ""

    def run(studio):
        run = Run.objects.create(job="process_studio", subject=studio.studio_id, status="succeeded")
        return run, process_studio(studio, FakeReporter(), run=run)

    old_port, new_port = LocalSite(), LocalSite()
    try:
        for port in (old_port, new_port):
            serve_demo_site(port, "dance_n_addiction")
        load_demo(old_port.url(""))
        studio = Studio.objects.get(studio_id="dance_n_addiction")
        _, first = run(studio)
        assert first["workshops_created"] > 0
        old_port.close()  # nothing answers at the old address any more

        load_demo(new_port.url(""))
        studio.refresh_from_db()
        second_run, second = run(studio)
    finally:
        old_port.close()
        new_port.close()

    assert (second["workshops_created"], second["workshops_archived"], second["links_failed"]) == (
        0,
        0,
        first["links_failed"],
    )
    kinds = set(WorkshopChange.objects.filter(run=second_run).values_list("kind", flat=True))
    assert kinds.isdisjoint({ChangeKind.CREATED, ChangeKind.ARCHIVED}), kinds
    current = Workshop.objects.filter(studio=studio, is_archived=False)
    assert current.count() == first["workshops_created"] == Workshop.objects.filter(studio=studio).count()
    assert all(workshop.source_url.startswith(new_port.url("/")) for workshop in current)
