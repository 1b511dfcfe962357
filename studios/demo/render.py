"""Turn the demo data into what the templates show and the schema.org items the pages carry.

Conventions (the structured extractor relies on them; all three syntaxes carry the same items):

* ``@type`` ``DanceEvent`` or ``Event``; ``name`` is the title; ``startDate``/``endDate`` are ISO 8601
  with the ``+05:30`` offset, or a bare date (then no ``endDate``) for a date-only event;
* ``workPerformed``: ``CreativeWork`` whose ``name`` is the song;
* ``performer``: one or more ``Person`` with ``name`` and, when the page links it,
  ``sameAs`` ``https://www.instagram.com/<handle>/``;
* ``offers``: ``Offer`` items with ``name``, ``price``, ``priceCurrency`` ``INR`` and ``url`` (a
  booking page on the demo site, or a ``https://wa.me/91…`` WhatsApp link);
* ``keywords`` contains ``intensive`` or ``regulars`` for those kinds; a multi-session event lists
  its sessions as ``subEvent`` (``Event`` items with their own ``startDate``/``endDate``);
* ``location``: a ``Place`` with the studio's name and address.

Microdata uses ``itemtype="https://schema.org/<Type>"``; RDFa uses ``vocab="https://schema.org/"``
on each top-level event, so its properties come out as ``https://schema.org/<prop>``.
"""

import json
from datetime import datetime, time, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from django.utils.safestring import mark_safe

from . import sites


class Attrs:
    """``{{ a.name }}`` in a template: the attribute that marks a property in this page's syntax."""

    def __init__(self, syntax):
        self.syntax = syntax

    def __getitem__(self, prop):
        if self.syntax == "microdata":
            return mark_safe(f' itemprop="{prop}"')
        if self.syntax == "rdfa":
            return mark_safe(f' property="{prop}"')
        return ""


def scope(syntax, type_, prop=None):
    """The attributes that open a typed item, as a property of its parent when ``prop`` is given."""
    if syntax == "microdata":
        attrs = f' itemscope itemtype="{sites.SCHEMA}{type_}"'
        return mark_safe((f' itemprop="{prop}"' if prop else "") + attrs)
    if syntax == "rdfa":
        attrs = f' typeof="{type_}"'
        return mark_safe((f' property="{prop}"' if prop else f' vocab="{sites.SCHEMA}"') + attrs)
    return ""


def _parse_time(value):
    return time.fromisoformat(value) if value else None


def _human_time(value):
    return value.strftime("%I:%M %p").lstrip("0")


def _session(day, start, end, today, tz):
    date = today + timedelta(days=day)
    start_t, end_t = _parse_time(start), _parse_time(end)
    human_date = f"{date:%a} {date.day} {date:%b %Y}"
    if start_t is None:
        return {
            "date": date,
            "start": date.isoformat(),
            "end": None,
            "when": human_date,
            "when_start": human_date,
            "when_end": "",
        }
    start_dt = datetime.combine(date, start_t, tzinfo=tz)
    end_dt = datetime.combine(date, end_t, tzinfo=tz) if end_t else None
    when = f"{human_date}, {_human_time(start_t)}" + (f" to {_human_time(end_t)}" if end_t else "")
    return {
        "date": date,
        "start": start_dt.isoformat(),
        "end": end_dt.isoformat() if end_dt else None,
        "when": when,
        "when_start": f"{human_date}, {_human_time(start_t)}",
        "when_end": f"{human_date}, {_human_time(end_t)}" if end_t else "",
    }


def whatsapp_url(studio, event):
    """A WhatsApp chat with the studio, the message prefilled with the event's name."""
    text = quote(f"Hi! I'd like to book {event['name']}")
    return f"https://wa.me/{studio['whatsapp']}?text={text}"


def build_event(studio, event, *, today, book_url):
    """The view-model of one event; ``to_jsonld`` and the templates read it."""
    tz = ZoneInfo(sites.TIME_ZONE)
    sessions = [_session(day, start, end, today, tz) for day, start, end in event["sessions"]]
    first, last = sessions[0], sessions[-1]
    keywords = event.get("keywords", "")
    return {
        "type": event.get("type", "DanceEvent"),
        "name": event["name"],
        "song": event["song"],
        "keywords": keywords,
        "kind": next((k for k in ("intensive", "regulars") if k in keywords), "workshop"),
        "start": first["start"],
        "end": last["end"],
        "date": first["date"],
        "is_past": first["date"] < today,
        "sessions": sessions,
        # Only an event with several sessions lists them as sub-events.
        "start_human": first["when_start"],
        "end_human": last["when_end"],
        "sub_events": [
            dict(s, name=f"{'Class' if 'regulars' in keywords else 'Day'} {i}") for i, s in enumerate(sessions, 1)
        ]
        if len(sessions) > 1
        else [],
        "performers": [
            {
                "name": p["name"],
                "same_as": sites.instagram_url(p["handle"]) if p["handle"] else None,
                "handle": p["handle"],
            }
            for p in event["performers"]
        ],
        "offers": [
            {
                "name": name,
                "price": str(price),
                "currency": "INR",
                "price_display": "Free" if price == 0 else f"₹{price:,}",
                "url": book_url,
            }
            for name, price in event["offers"]
        ],
        "location": {"name": studio["name"], "address": studio["address"]},
    }


def to_jsonld(vm):
    """The schema.org JSON-LD object of an event view-model."""

    def dates(item, source):
        item["startDate"] = source["start"]
        if source.get("end"):
            item["endDate"] = source["end"]
        return item

    data = {"@context": "https://schema.org", "@type": vm["type"], "name": vm["name"]}
    dates(data, vm)
    if vm["keywords"]:
        data["keywords"] = vm["keywords"]
    data["workPerformed"] = {"@type": "CreativeWork", "name": vm["song"]}
    data["performer"] = []
    for p in vm["performers"]:
        person = {"@type": "Person", "name": p["name"]}
        if p["same_as"]:
            person["sameAs"] = p["same_as"]
        data["performer"].append(person)
    data["offers"] = [
        {"@type": "Offer", "name": o["name"], "price": o["price"], "priceCurrency": o["currency"], "url": o["url"]}
        for o in vm["offers"]
    ]
    data["location"] = {"@type": "Place", **vm["location"]}
    if vm["sub_events"]:
        data["subEvent"] = [dates({"@type": "Event", "name": s["name"]}, s) for s in vm["sub_events"]]
    return data


def faq_jsonld(faq):
    return {
        "@context": "https://schema.org",
        "@type": "FAQPage",
        "mainEntity": [
            {"@type": "Question", "name": q, "acceptedAnswer": {"@type": "Answer", "text": a}} for q, a in faq
        ],
    }


def jsonld_script(data):
    """JSON for a ``<script type="application/ld+json">`` block, safe against ``</script>``."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return mark_safe(text)
