"""The offline demo: three fake studio websites and the artists they bill.

Everything the demo serves and loads is described here, as data:

* ``ARTISTS``: the catalogue's artists (Instagram handle, name, aliases).
* ``STUDIOS``: the studios, each with its website's workshop pages. A page carries one event, or
  several under ``events`` (separate routines on one page). Sessions are ``(day_offset, start,
  end)`` relative to today in ``TIME_ZONE``, so the pages always show mostly upcoming workshops;
  ``start``/``end`` of ``None`` make a date-only event. A negative offset is a past event.
* Each performer is ``performer(name, handle=None, expect=...)``: ``handle`` puts
  ``sameAs: https://www.instagram.com/<handle>/`` on the page; ``expect`` documents how the
  pipeline's artist matching should resolve it (``("handle" | "name" | "alias" | "fuzzy",
  artist_id)`` or ``("unmatched", None)``). tests/demo checks that these expectations are sound.

How a site marks its events up (``syntax``): ``json-ld``, ``microdata`` or ``rdfa``, all with the
schema.org vocabulary and the same conventions (see ``render.py``).

``EXTRA_STUDIOS`` are two more sites for the optional extraction paths, loaded with
``manage.py demo --extra-studios`` (``make run`` does):

* ``rhythm_republic``: its listing page writes the workshop links with an inline script, so they
  are only found when the page is rendered (``render_js``); its workshop pages carry JSON-LD.
* ``tarang_dance_house`` (``syntax: "text"``): no structured data at all, only prose a person
  writes; the LLM extractor reads it when one is configured (``studios.demo.llm`` serves a
  stand-in model that knows these pages).
"""

from datetime import datetime
from zoneinfo import ZoneInfo

TIME_ZONE = "Asia/Kolkata"
SCHEMA = "https://schema.org/"


def today():
    """Today's date in the studios' time zone; the pages' dates are computed from it."""
    return datetime.now(ZoneInfo(TIME_ZONE)).date()


def performer(name, handle=None, expect=None):
    return {"name": name, "handle": handle, "expect": expect}


def instagram_url(handle):
    return f"https://www.instagram.com/{handle}/"


# --- artists ---------------------------------------------------------------------------------------

ARTISTS = [
    {"artist_id": "aadil.khan.dance", "name": "Aadil Khan", "aliases": []},
    {"artist_id": "meghna.kapoor_", "name": "Meghna Kapoor", "aliases": ["Meg K"]},
    {"artist_id": "vivek.moves", "name": "Vivek Rathore", "aliases": ["Vicky Moves", "Vicky"]},
    {"artist_id": "shivanibhagwan", "name": "Shivani Bhagwan", "aliases": []},
    {"artist_id": "kabir.sethi", "name": "Kabir Sethi", "aliases": []},
    {"artist_id": "priya.nair.choreo", "name": "Priya Nair", "aliases": []},
    {"artist_id": "nimisha.rao", "name": "Nimisha Rao", "aliases": ["Nimmi"]},
    {"artist_id": "tanvi_grooves", "name": "Tanvi Mehra", "aliases": ["Tanvi Grooves"]},
    {"artist_id": "arjun.dsouza.dance", "name": "Arjun D'Souza", "aliases": []},
    {"artist_id": "the.ishaan.verma", "name": "Ishaan Verma", "aliases": []},
]

# --- studios ---------------------------------------------------------------------------------------

STUDIOS = [
    {
        "studio_id": "dance_n_addiction",
        "name": "Dance N Addiction",
        "syntax": "json-ld",
        "instagram": "dancenaddiction",
        "address": "2nd Floor, Link Square, Linking Road, Bandra West, Mumbai 400050",
        "city": "Mumbai",
        "booking": "site",  # offers link to a booking page on the demo site
        "tagline": "Bollywood, hip-hop and heels in the heart of Bandra.",
        "workshops": [
            {
                "slug": "bollywood-fusion-with-aadil",
                "type": "DanceEvent",
                "name": "Bollywood Fusion with Aadil Khan",
                "song": "Jhoome Jo Pathaan",
                "performers": [performer("Aadil Khan", "aadil.khan.dance", expect=("handle", "aadil.khan.dance"))],
                "sessions": [(6, "16:00", "18:00")],
                "offers": [("Early bird", 1200), ("Regular", 1500)],
            },
            {
                "slug": "heels-choreo-meghna-vicky",
                "type": "DanceEvent",
                "name": "Heels Choreo: Levitating",
                "song": "Levitating",
                "performers": [
                    performer("Meghna Kapoor", "meghna.kapoor_", expect=("handle", "meghna.kapoor_")),
                    performer("Vicky Moves", expect=("alias", "vivek.moves")),
                ],
                "sessions": [(9, "18:30", "20:30")],
                "offers": [("Early bird", 1400), ("Regular", 1800), ("Couple pass", 3200)],
            },
            {
                "slug": "commercial-hiphop-intensive",
                "type": "DanceEvent",
                "name": "Commercial Hip-Hop Intensive",
                "song": "Naatu Naatu",
                "keywords": "intensive, hip-hop, commercial",
                "performers": [performer("Shivanee Bhagwan", expect=("fuzzy", "shivanibhagwan"))],
                "sessions": [(14, "17:00", "20:00"), (15, "17:00", "20:00"), (16, "17:00", "20:00")],
                "offers": [("Early bird", 4500), ("Regular", 5500)],
            },
            {
                "slug": "sunday-double-bill",
                "title": "Sunday Double Bill",
                "events": [
                    {
                        "type": "DanceEvent",
                        "name": "Sunday Double Bill: Kala Chashma",
                        "song": "Kala Chashma",
                        "performers": [performer("Kabir Sethi", "kabir.sethi", expect=("handle", "kabir.sethi"))],
                        "sessions": [(20, "11:00", "13:00")],
                        "offers": [("Early bird", 1000), ("Regular", 1300)],
                    },
                    {
                        "type": "DanceEvent",
                        "name": "Sunday Double Bill: Nachde Ne Saare",
                        "song": "Nachde Ne Saare",
                        "performers": [performer("Rohan Pillai", expect=("unmatched", None))],
                        "sessions": [(20, "14:00", "16:00")],
                        "offers": [("Early bird", 1000), ("Regular", 1300)],
                    },
                ],
            },
            {
                "slug": "bollywood-regulars-tuesdays",
                "type": "Event",
                "name": "Bollywood Regulars (Tuesdays)",
                "song": "Tum Tum",
                "keywords": "regulars, bollywood, weekly class",
                "performers": [performer("Priya Nair", expect=("name", "priya.nair.choreo"))],
                "sessions": [
                    (5, "19:00", "20:30"),
                    (12, "19:00", "20:30"),
                    (19, "19:00", "20:30"),
                    (26, "19:00", "20:30"),
                ],
                "offers": [("Monthly pass", 3000), ("Drop-in", 900)],
            },
            {
                "slug": "contemporary-basics-nimisha",
                "type": "DanceEvent",
                "name": "Contemporary Basics with Nimisha",
                "song": "Agar Tum Saath Ho",
                "performers": [performer("Nimisha Rao", "nimisha.rao", expect=("handle", "nimisha.rao"))],
                "sessions": [(-12, "17:00", "19:00")],  # past
                "offers": [("Early bird", 1100), ("Regular", 1400)],
            },
            {
                "slug": "open-floor-jam",
                "type": "Event",
                "name": "Open Floor Jam with Nimmi",
                "song": "Kesariya",
                "performers": [performer("Nimmi", expect=("alias", "nimisha.rao"))],
                "sessions": [(25, None, None)],  # date only
                "offers": [("Early bird", 500), ("At the door", 700)],
            },
        ],
    },
    {
        "studio_id": "groove_theory",
        "name": "Groove Theory",
        "syntax": "microdata",
        "instagram": "groovetheory.blr",
        "address": "100 Feet Road, HAL 2nd Stage, Indiranagar, Bengaluru 560038",
        "city": "Bengaluru",
        "booking": "whatsapp",  # offers link to the studio's WhatsApp
        "whatsapp": "919845012345",
        "tagline": "K-pop, street styles and freestyle in Indiranagar.",
        "workshops": [
            {
                "slug": "kpop-supernova-tanvi",
                "type": "DanceEvent",
                "name": "K-Pop Choreo: Supernova",
                "song": "Supernova",
                "performers": [performer("Tanvi Mehra", "tanvi_grooves", expect=("handle", "tanvi_grooves"))],
                "sessions": [(4, "17:00", "19:00")],
                "offers": [("Early bird", 999), ("Regular", 1299)],
            },
            {
                "slug": "hiphop-foundations-arjun",
                "type": "DanceEvent",
                "name": "Hip-Hop Foundations",
                "song": "HUMBLE.",
                "performers": [
                    performer("Arjun D'Souza", "arjun.dsouza.dance", expect=("handle", "arjun.dsouza.dance"))
                ],
                "sessions": [(8, "18:00", "20:00")],
                "offers": [("Early bird", 1100), ("Regular", 1400)],
            },
            {
                "slug": "locking-intensive",
                "type": "DanceEvent",
                "name": "Locking Intensive",
                "song": "Super Freak",
                "keywords": "intensive, locking, funk styles",
                "performers": [
                    performer("Tanvi Grooves", expect=("alias", "tanvi_grooves")),
                    performer("Kabir Sethi", "kabir.sethi", expect=("handle", "kabir.sethi")),
                ],
                "sessions": [(10, "10:00", "13:00"), (11, "10:00", "13:00")],
                "offers": [("Early bird", 3200), ("Regular", 3900)],
            },
            {
                "slug": "twin-routines-saturday",
                "title": "Twin Routines Saturday",
                "events": [
                    {
                        "type": "DanceEvent",
                        "name": "Twin Routines: Kesariya",
                        "song": "Kesariya",
                        "performers": [
                            performer("Shivani Bhagwan", "shivanibhagwan", expect=("handle", "shivanibhagwan"))
                        ],
                        "sessions": [(13, "12:00", "14:00")],
                        "offers": [("Early bird", 1200), ("Regular", 1500)],
                    },
                    {
                        "type": "DanceEvent",
                        "name": "Twin Routines: Calm Down",
                        "song": "Calm Down",
                        # The page bills him by a short name; the handle decides.
                        "performers": [
                            performer("Ishaan V.", "the.ishaan.verma", expect=("handle", "the.ishaan.verma"))
                        ],
                        "sessions": [(13, "15:00", "17:00")],
                        "offers": [("Early bird", 1200), ("Regular", 1500)],
                    },
                ],
            },
            {
                "slug": "freestyle-regulars",
                "type": "Event",
                "name": "Freestyle Regulars (Wednesdays)",
                "song": "Mixed cypher sets",
                "keywords": "regulars, freestyle, weekly class",
                "performers": [performer("Kabir Sethi", expect=("name", "kabir.sethi"))],
                "sessions": [
                    (3, "20:00", "21:30"),
                    (10, "20:00", "21:30"),
                    (17, "20:00", "21:30"),
                    (24, "20:00", "21:30"),
                ],
                "offers": [("Monthly pass", 2800), ("Drop-in", 800)],
            },
            {
                "slug": "waacking-101-meghna",
                "type": "DanceEvent",
                "name": "Waacking 101",
                "song": "Love Is the Message",
                "performers": [performer("Meghna Kapoor", "meghna.kapoor_", expect=("handle", "meghna.kapoor_"))],
                "sessions": [(-5, "18:00", "20:00")],  # past
                "offers": [("Early bird", 900), ("Regular", 1200)],
            },
            {
                "slug": "summer-showcase-auditions",
                "type": "Event",
                "name": "Summer Showcase Auditions",
                "song": "Dynamite",
                "performers": [performer("Priya Nair", "priya.nair.choreo", expect=("handle", "priya.nair.choreo"))],
                "sessions": [(30, None, None)],  # date only
                "offers": [("Audition fee", 300), ("Audition + prep class", 900)],
            },
        ],
    },
    {
        "studio_id": "the_movement_lab",
        "name": "The Movement Lab",
        "syntax": "rdfa",
        "instagram": "themovementlab.del",
        "address": "Hauz Khas Village, New Delhi 110016",
        "city": "New Delhi",
        "booking": "site",
        "tagline": "Contemporary, afro and house in Hauz Khas.",
        "workshops": [
            {
                "slug": "contemporary-flow-nimisha",
                "type": "DanceEvent",
                "name": "Contemporary Flow with Nimisha Rao",
                "song": "Lovely",
                "performers": [performer("Nimisha Rao", "nimisha.rao", expect=("handle", "nimisha.rao"))],
                "sessions": [(7, "10:00", "12:00")],
                "offers": [("Early bird", 1300), ("Regular", 1600)],
            },
            {
                "slug": "afro-vibes-ishaan",
                "type": "DanceEvent",
                "name": "Afro Vibes with Ishaan",
                "song": "Love Nwantiti",
                "performers": [performer("Ishaan Verma", "the.ishaan.verma", expect=("handle", "the.ishaan.verma"))],
                "sessions": [(11, "18:00", "20:00")],
                "offers": [("Early bird", 1000), ("Regular", 1350)],
            },
            {
                "slug": "choreo-lab-intensive",
                "type": "DanceEvent",
                "name": "Choreo Lab Intensive",
                "song": "Chaiyya Chaiyya",
                "keywords": "intensive, choreography, bollywood",
                "performers": [
                    performer("Aadil Khan", "aadil.khan.dance", expect=("handle", "aadil.khan.dance")),
                    performer("Vicky Moves", expect=("alias", "vivek.moves")),
                ],
                "sessions": [(21, "16:00", "19:00"), (22, "16:00", "19:00"), (23, "11:00", "14:00")],
                "offers": [("Early bird", 5000), ("Regular", 6200)],
            },
            {
                "slug": "two-routines-friday",
                "title": "Two Routines Friday",
                "events": [
                    {
                        "type": "DanceEvent",
                        "name": "Friday Routines: Tere Vaaste",
                        "song": "Tere Vaaste",
                        "performers": [
                            performer("Priya Nair", "priya.nair.choreo", expect=("handle", "priya.nair.choreo"))
                        ],
                        "sessions": [(15, "18:00", "19:30")],
                        "offers": [("Early bird", 900), ("Regular", 1100)],
                    },
                    {
                        "type": "DanceEvent",
                        "name": "Friday Routines: Espresso",
                        "song": "Espresso",
                        "performers": [performer("Tanvi Mehra", "tanvi_grooves", expect=("handle", "tanvi_grooves"))],
                        "sessions": [(15, "20:00", "21:30")],
                        "offers": [("Early bird", 900), ("Regular", 1100)],
                    },
                ],
            },
            {
                "slug": "house-dance-regulars",
                "type": "Event",
                "name": "House Dance Regulars (Thursdays)",
                "song": "Music Sounds Better with You",
                "keywords": "regulars, house, weekly class",
                "performers": [performer("Kabir Sethi", "kabir.sethi", expect=("handle", "kabir.sethi"))],
                "sessions": [
                    (2, "19:30", "21:00"),
                    (9, "19:30", "21:00"),
                    (16, "19:30", "21:00"),
                    (23, "19:30", "21:00"),
                ],
                "offers": [("Monthly pass", 3200), ("Drop-in", 950)],
            },
            {
                "slug": "popping-essentials-arjun",
                "type": "DanceEvent",
                "name": "Popping Essentials",
                "song": "Billie Jean",
                "performers": [
                    performer("Arjun D'Souza", "arjun.dsouza.dance", expect=("handle", "arjun.dsouza.dance"))
                ],
                "sessions": [(-3, "17:00", "19:00")],  # past
                "offers": [("Early bird", 1000), ("Regular", 1250)],
            },
            {
                "slug": "open-studio-day",
                "type": "Event",
                "name": "Open Studio Day",
                "song": "Tum Hi Ho",
                "performers": [performer("Meg K", expect=("alias", "meghna.kapoor_"))],
                "sessions": [(18, None, None)],  # date only
                "offers": [("Member", 0), ("Guest", 400)],
            },
        ],
    },
]

# The sites for JavaScript rendering and LLM extraction; `manage.py demo --extra-studios` loads them.
EXTRA_STUDIOS = [
    {
        "studio_id": "rhythm_republic",
        "name": "Rhythm Republic",
        "syntax": "json-ld",
        "listing": "script",  # the listing page builds its workshop links with JavaScript
        "render_js": True,
        "instagram": "rhythmrepublic.hyd",
        "address": "Road No. 36, Jubilee Hills, Hyderabad 500033",
        "city": "Hyderabad",
        "booking": "site",
        "tagline": "Hip-hop, heels and Tollywood in Jubilee Hills.",
        "workshops": [
            {
                "slug": "tollywood-mass-aadil",
                "type": "DanceEvent",
                "name": "Tollywood Mass with Aadil Khan",
                "song": "Ra Ra Rakkamma",
                "performers": [performer("Aadil Khan", "aadil.khan.dance", expect=("handle", "aadil.khan.dance"))],
                "sessions": [(5, "17:00", "19:00")],
                "offers": [("Early bird", 1100), ("Regular", 1400)],
            },
            {
                "slug": "heels-basics-meg",
                "type": "DanceEvent",
                "name": "Heels Basics with Meg K",
                "song": "Kiss Me More",
                "performers": [performer("Meg K", expect=("alias", "meghna.kapoor_"))],
                "sessions": [(12, "18:00", "20:00")],
                "offers": [("Early bird", 1300), ("Regular", 1600)],
            },
            {
                "slug": "hiphop-grooves-intensive",
                "type": "DanceEvent",
                "name": "Hip-Hop Grooves Intensive",
                "song": "Jugnu",
                "keywords": "intensive, hip-hop",
                "performers": [
                    performer("Arjun D'Souza", "arjun.dsouza.dance", expect=("handle", "arjun.dsouza.dance"))
                ],
                "sessions": [(19, "10:00", "13:00"), (20, "10:00", "13:00")],
                "offers": [("Early bird", 3600), ("Regular", 4200)],
            },
            {
                "slug": "freestyle-night-kabir",
                "type": "Event",
                "name": "Freestyle Night with Kabir",
                "song": "Mixed cypher sets",
                "performers": [performer("Kabir Sethi", "kabir.sethi", expect=("handle", "kabir.sethi"))],
                "sessions": [(-4, "19:00", "21:00")],  # past
                "offers": [("Entry", 500)],
            },
        ],
    },
    {
        "studio_id": "tarang_dance_house",
        "name": "Tarang Dance House",
        "syntax": "text",  # no structured data: prose only, for the LLM extractor
        "render_js": False,
        "extraction_hints": "Prices are in rupees; 'EB' means early bird. Each routine on a page is its own workshop.",
        "instagram": "tarang.dancehouse",
        "address": "Lane 6, Koregaon Park, Pune 411001",
        "city": "Pune",
        "booking": "whatsapp",
        "whatsapp": "919822012345",
        "tagline": "Semi-classical, contemporary and Bollywood in Koregaon Park.",
        "workshops": [
            {
                "slug": "semi-classical-with-priya",
                "type": "DanceEvent",
                "name": "Semi-Classical with Priya Nair",
                "song": "Ghoomar",
                "performers": [performer("Priya Nair", "priya.nair.choreo", expect=("handle", "priya.nair.choreo"))],
                "sessions": [(3, "18:00", "20:00")],
                "offers": [("EB", 1100), ("Regular", 1400)],
            },
            {
                "slug": "double-routine-day",
                "title": "Double Routine Day",
                "events": [
                    {
                        "type": "DanceEvent",
                        "name": "Double Routine Day: Kesariya",
                        "song": "Kesariya",
                        "performers": [performer("Vicky Moves", expect=("alias", "vivek.moves"))],
                        "sessions": [(9, "11:00", "13:00")],
                        "offers": [("EB", 900), ("Regular", 1200)],
                    },
                    {
                        "type": "DanceEvent",
                        "name": "Double Routine Day: Apna Bana Le",
                        "song": "Apna Bana Le",
                        "performers": [performer("Tanvi Mehra", expect=("name", "tanvi_grooves"))],
                        "sessions": [(9, "14:00", "16:00")],
                        "offers": [("EB", 900), ("Regular", 1200)],
                    },
                ],
            },
            {
                "slug": "contemporary-intensive-nimisha",
                "type": "DanceEvent",
                "name": "Contemporary Intensive with Nimisha Rao",
                "song": "Agar Tum Saath Ho",
                "keywords": "intensive, contemporary",
                "performers": [performer("Nimisha Rao", "nimisha.rao", expect=("handle", "nimisha.rao"))],
                "sessions": [(16, "17:00", "20:00"), (17, "17:00", "20:00"), (18, "17:00", "20:00")],
                "offers": [("EB", 4200), ("Regular", 5000)],
            },
            {
                "slug": "kathak-fusion-rohan",
                "type": "DanceEvent",
                "name": "Kathak Fusion with Rohan Pillai",
                "song": "Mohe Rang Do Laal",
                "performers": [performer("Rohan Pillai", expect=("unmatched", None))],
                "sessions": [(-6, "17:00", "19:00")],  # past
                "offers": [("EB", 1000), ("Regular", 1300)],
            },
        ],
    },
]
ALL_STUDIOS = STUDIOS + EXTRA_STUDIOS

# A link on every listing page that matches the workshop pattern but answers 404.
DEAD_SLUG = "bollywood-bootcamp-2019"
# The page under the workshop pattern that carries no event data.
FAQ_SLUG = "faq"

FAQ = [
    ("Do I need prior experience?", "Most workshops are open level; intensives expect a year of training."),
    ("Can I get a refund?", "Fees are not refundable, but you may transfer your spot up to 24 hours before."),
    ("What should I wear?", "Comfortable clothes and clean indoor sneakers; heels classes need heels."),
]


def get_studio(studio_id):
    for studio in ALL_STUDIOS:
        if studio["studio_id"] == studio_id:
            return studio
    return None


def get_page(studio, slug):
    for page in studio["workshops"]:
        if page["slug"] == slug:
            return page
    return None


def page_events(page):
    """The events on a workshop page: one, or several separate routines."""
    return page.get("events") or [page]


def page_title(page):
    return page.get("title") or page["name"]


def link_pattern(studio_id):
    """The regex (searched in the full URL) that matches only this studio's workshop pages."""
    return rf"/demo/sites/{studio_id}/workshops/[^/]+/$"


def site_path(studio_id):
    return f"/demo/sites/{studio_id}/"


def performer_appearances():
    """Every performer on every demo page, with the match the pipeline should find for it.

    Yields dicts: studio_id, slug, event (name), name (as billed), handle, how, artist_id.
    """
    for studio in ALL_STUDIOS:
        for page in studio["workshops"]:
            for event in page_events(page):
                for p in event["performers"]:
                    how, artist_id = p["expect"]
                    yield {
                        "studio_id": studio["studio_id"],
                        "slug": page["slug"],
                        "event": event["name"],
                        "name": p["name"],
                        "handle": p["handle"],
                        "how": how,
                        "artist_id": artist_id,
                    }
