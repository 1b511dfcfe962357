"""The demo studio websites: plain GET views over ``sites.py``, rendered from shared templates."""

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from . import render as r
from . import sites

INFO_PAGES = {"about": "About us", "contact": "Contact"}
# How the listing page writes its workshop links, in turn, so a crawler must resolve all of them.
HREF_STYLES = ["relative", "root", "absolute", "dot"]


def _studio_or_404(site):
    studio = sites.get_studio(site)
    if studio is None:
        raise Http404("No such demo studio.")
    return studio


def _context(request, studio, **extra):
    site = studio["studio_id"]
    return {
        "studio": studio,
        "nav": {
            "home": reverse("demo_sites:home", args=[site]),
            "about": reverse("demo_sites:page", args=[site, "about"]),
            "contact": reverse("demo_sites:page", args=[site, "contact"]),
            "faq": reverse("demo_sites:workshop", args=[site, sites.FAQ_SLUG]),
        },
        "instagram": sites.instagram_url(studio["instagram"]),
        **extra,
    }


def _href(request, site, slug, style):
    path = reverse("demo_sites:workshop", args=[site, slug])
    if style == "root":
        return path
    if style == "absolute":
        return request.build_absolute_uri(path)
    if style == "dot":
        return f"./workshops/{slug}/"
    return f"workshops/{slug}/"


def _offer_url(request, studio, page, event):
    if studio.get("booking") == "whatsapp":
        return r.whatsapp_url(studio, event)
    return request.build_absolute_uri(reverse("demo_sites:booking", args=[studio["studio_id"], page["slug"]]))


def _events(request, studio, page, today):
    return [
        r.build_event(studio, event, today=today, book_url=_offer_url(request, studio, page, event))
        for event in sites.page_events(page)
    ]


def _describe(studio):
    if studio["syntax"] == "text":
        return "no structured data, plain text only (read by the LLM extractor)"
    if studio.get("listing") == "script":
        return f"workshop links written by JavaScript (needs render_js), events marked up in {studio['syntax']}"
    return f"events marked up in {studio['syntax']}"


@require_GET
def index(request):
    studios = [
        {"studio": s, "url": reverse("demo_sites:home", args=[s["studio_id"]]), "about": _describe(s)}
        for s in sites.ALL_STUDIOS
    ]
    return render(request, "demo/index.html", {"studios": studios})


@require_GET
def home(request, site):
    studio = _studio_or_404(site)
    today = sites.today()
    cards = []
    for i, page in enumerate(studio["workshops"]):
        events = _events(request, studio, page, today)
        href = _href(request, site, page["slug"], HREF_STYLES[i % len(HREF_STYLES)])
        cards.append(
            {
                "title": sites.page_title(page),
                "href": href,
                # The second card's "details" link points at a fragment of the page.
                "details_href": href + "#details" if i == 1 else href,
                "when": events[0]["sessions"][0]["when"],
                "by": ", ".join(p["name"] for e in events for p in e["performers"]),
                "is_past": all(e["is_past"] for e in events),
            }
        )
    context = _context(
        request,
        studio,
        cards=cards,
        dead_href=f"workshops/{sites.DEAD_SLUG}/",
    )
    if studio.get("listing") == "script":
        # No workshop link in the HTML: an inline script writes them from this data once the page ran.
        context["cards_json"] = r.jsonld_script(
            [{k: card[k] for k in ("title", "href", "when", "by", "is_past")} for card in cards]
        )
        return render(request, "demo/script_home.html", context)
    return render(request, "demo/home.html", context)


@require_GET
def workshop(request, site, slug):
    studio = _studio_or_404(site)
    if slug == sites.FAQ_SLUG:
        # A page under the workshop pattern without any event: the JSON-LD site still marks it up,
        # as an FAQPage, which an event extractor must ignore.
        faq_jsonld = r.jsonld_script(r.faq_jsonld(sites.FAQ)) if studio["syntax"] == "json-ld" else ""
        return render(request, "demo/faq.html", _context(request, studio, faq=sites.FAQ, faq_jsonld=faq_jsonld))
    page = sites.get_page(studio, slug)
    if page is None:
        raise Http404("No such workshop.")
    events = _events(request, studio, page, sites.today())
    syntax = studio["syntax"]
    if syntax == "text":
        # What a person writes on a small studio's site: sentences, no markup a machine could read.
        context = _context(request, studio, title=sites.page_title(page), events=events, page=page)
        return render(request, "demo/text_workshop.html", context)
    for event in events:
        event["scope"] = r.scope(syntax, event["type"])
        event["jsonld"] = r.jsonld_script(r.to_jsonld(event)) if syntax == "json-ld" else ""
    context = _context(
        request,
        studio,
        title=sites.page_title(page),
        events=events,
        syntax=syntax,
        a=r.Attrs(syntax),
        scopes={
            "performer": r.scope(syntax, "Person", "performer"),
            "work": r.scope(syntax, "CreativeWork", "workPerformed"),
            "offer": r.scope(syntax, "Offer", "offers"),
            "sub_event": r.scope(syntax, "Event", "subEvent"),
            "location": r.scope(syntax, "Place", "location"),
        },
    )
    return render(request, "demo/workshop.html", context)


@require_GET
def booking(request, site, slug):
    studio = _studio_or_404(site)
    page = sites.get_page(studio, slug)
    if page is None:
        raise Http404("No such workshop.")
    events = _events(request, studio, page, sites.today())
    return render(
        request,
        "demo/booking.html",
        _context(
            request,
            studio,
            title=sites.page_title(page),
            events=events,
            workshop_url=reverse("demo_sites:workshop", args=[site, slug]),
        ),
    )


@require_GET
def info_page(request, site, page):
    studio = _studio_or_404(site)
    if page not in INFO_PAGES:
        raise Http404("No such page.")
    return render(request, f"demo/{page}.html", _context(request, studio, title=INFO_PAGES[page]))
