"""Load the demo studios and artists into the catalogue; running it again changes nothing."""

from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr

from ..models import Artist, LinkState, Studio, Workshop
from . import sites

DEFAULT_BASE_URL = "http://127.0.0.1:8008"


def normalise_base_url(base_url):
    """``http(s)://host[:port][/prefix]`` without a trailing slash; ValueError otherwise."""
    base_url = (base_url or "").strip().rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"Base URL must look like http://host:port, not {base_url!r}.")
    if parts.query or parts.fragment:
        raise ValueError(f"Base URL must not carry a query or fragment: {base_url!r}.")
    return base_url


def studio_values(studio, base_url):
    """The catalogue fields of a demo studio whose website this server hosts at ``base_url``."""
    return {
        "name": studio["name"],
        "website": base_url + sites.site_path(studio["studio_id"]),
        "link_pattern": sites.link_pattern(studio["studio_id"]),
        "instagram_link": sites.instagram_url(studio["instagram"]),
        "max_depth": 1,
        "concurrency": 5,
        "render_js": studio.get("render_js", False),
        "extraction": "auto",
        "extraction_hints": studio.get("extraction_hints", ""),
        "time_zone": sites.TIME_ZONE,
        "active": True,
    }


def artist_values(artist):
    return {
        "name": artist["name"],
        "aliases": list(artist["aliases"]),
        "instagram_link": sites.instagram_url(artist["artist_id"]),
    }


def _upsert(model, lookup, values):
    """Create the row, or update only the fields that differ; returns created/updated/unchanged."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        model.objects.create(**lookup, **values)
        return "created"
    changed = [field for field, value in values.items() if getattr(obj, field) != value]
    if not changed:
        return "unchanged"
    for field in changed:
        setattr(obj, field, values[field])
    obj.save(update_fields=[*changed, *(["updated_at"] if hasattr(obj, "updated_at") else [])])
    return "updated"


def _move_site(studio_id, base_url):
    """The demo now served from another host or port: its workshops and link states follow, so the
    next run finds them at their new URLs instead of creating duplicates and archiving the old ones."""
    current = Studio.objects.filter(studio_id=studio_id).values_list("website", flat=True).first()
    site_path = sites.site_path(studio_id)
    if not current or not current.endswith(site_path):
        return
    old_base = current[: -len(site_path)]
    if old_base == base_url:
        return
    old_prefix, new_prefix = old_base + "/", base_url + "/"
    start = len(old_prefix) + 1  # Substr counts from 1
    for model, field in ((Workshop, "source_url"), (LinkState, "url")):
        model.objects.filter(studio__studio_id=studio_id, **{f"{field}__startswith": old_prefix}).update(
            **{field: Concat(Value(new_prefix), Substr(F(field), start))}
        )


def demo_studios(extra_studios=False):
    """The demo studios to load: the three structured-data sites, and with ``extra_studios`` the
    JavaScript-rendered one and the plain-text (LLM) one."""
    return sites.ALL_STUDIOS if extra_studios else sites.STUDIOS


def load_demo(base_url=DEFAULT_BASE_URL, extra_studios=False):
    """Upsert the demo studios (websites under ``base_url``) and artists.

    ``extra_studios`` adds ``sites.EXTRA_STUDIOS``: one whose links only JavaScript rendering finds
    (it needs Chromium) and one without structured data (it needs an LLM to yield workshops).

    Returns ``{"base_url": …, "studios": {"created": n, "updated": n, "unchanged": n, "ids": […]},
    "artists": {…}}``.
    """
    base_url = normalise_base_url(base_url)
    summary = {
        "base_url": base_url,
        "studios": {"created": 0, "updated": 0, "unchanged": 0, "ids": []},
        "artists": {"created": 0, "updated": 0, "unchanged": 0, "ids": []},
    }
    with transaction.atomic():
        for studio in demo_studios(extra_studios):
            _move_site(studio["studio_id"], base_url)
            outcome = _upsert(Studio, {"studio_id": studio["studio_id"]}, studio_values(studio, base_url))
            summary["studios"][outcome] += 1
            summary["studios"]["ids"].append(studio["studio_id"])
        for artist in sites.ARTISTS:
            outcome = _upsert(Artist, {"artist_id": artist["artist_id"]}, artist_values(artist))
            summary["artists"][outcome] += 1
            summary["artists"]["ids"].append(artist["artist_id"])
    return summary
