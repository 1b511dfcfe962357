"""Turning a fetched page into workshop events.

Extractors are tried in order and the first that yields events wins, so a cheap, exact one
(schema.org structured data) runs before any costly or fuzzy one (an LLM) is needed.
"""

import html
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import extruct
from extruct.utils import parse_xmldom_html

from .discover import parse_html
from .errors import LLMError
from .fetch import Page
from .jsonld import read_block
from .recurrence import read_schedules, schedules_give_times
from .validate import read_date, studio_zone

if TYPE_CHECKING:
    import lxml.etree

    from studios.models import Studio

    from .llm.config import KnownArtist, LLMConfig

# Structured data as the page gave it, after JSON parsing: any JSON value.
Json = Any
# A JSON object: a schema.org node, an offer, a person.
JsonDict = dict[str, Any]

SYNTAXES = ["json-ld", "microdata", "rdfa"]
# extruct reads these; JSON-LD is read block by block by .jsonld, which repairs what it can.
EXTRUCT_SYNTAXES = ["microdata", "rdfa"]
# schema.org's Event and every one of its subtypes (https://schema.org/Event, "More specific Types").
EVENT_TYPES = frozenset(
    {
        "Event", "BusinessEvent", "ChildrensEvent", "ComedyEvent", "CourseInstance", "DanceEvent",
        "DeliveryEvent", "EducationEvent", "EventSeries", "ExhibitionEvent", "Festival", "FoodEvent",
        "Hackathon", "LiteraryEvent", "MusicEvent", "PublicationEvent", "BroadcastEvent", "OnDemandEvent",
        "SaleEvent", "ScreeningEvent", "SocialEvent", "SportsEvent", "TheaterEvent", "VisualArtsEvent",
        "UserInteraction", "UserBlocks", "UserCheckins", "UserComments", "UserDownloads", "UserLikes",
        "UserPageVisits", "UserPlays", "UserPlusOnes", "UserTweets",
    }
)  # fmt: skip
# Events that hold other events: their named sub-events are events of their own, not sessions.
CONTAINER_TYPES = frozenset({"EventSeries", "Festival"})
# Performer "names" that only say what kind of thing the performer is.
NOT_ARTIST_NAMES = frozenset(
    {
        "organization", "organisation", "person", "performinggroup", "musicgroup", "dancegroup",
        "theatergroup", "thing", "performer", "artist", "name", "null", "none", "undefined", "n/a",
        "tba", "tbc", "tbd",
    }
)  # fmt: skip
CURRENCY_SYMBOLS = {
    "USD": "$", "EUR": "€", "GBP": "£", "INR": "₹", "JPY": "¥", "AUD": "A$", "CAD": "CA$", "NZD": "NZ$",
    "SGD": "S$", "HKD": "HK$", "KRW": "₩", "BRL": "R$", "ILS": "₪", "PHP": "₱", "THB": "฿", "NGN": "₦",
}  # fmt: skip
_CURRENCY_CODE = re.compile(r"^[A-Za-z]{3}$")
_PLAIN_AMOUNT = re.compile(r"^\d+(?:\.\d+)?$|^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
# A clock time printed on a page: 7pm, 7:30 PM, 19:00, 19h30.
_PRINTED_TIME = re.compile(
    r"\b(?:(?:1[0-2]|0?[1-9])(?::[0-5]\d)?\s*[ap]\.?\s?m\b\.?|(?:[01]?\d|2[0-3])(?::|h)[0-5]\d\b)", re.IGNORECASE
)
SCHEMA_PREFIXES = ("http://schema.org/", "https://schema.org/")
# eventStatus values that mean the event will not take place on the dates it gives.
CALLED_OFF_STATUSES = {"EventCancelled": "cancelled", "EventPostponed": "postponed"}
# What site builders put between an event's name and the site's (Squarespace: "Event — Site").
TITLE_SEPARATORS = (" — ", " – ", " - ", " | ", " · ")
WHATSAPP_HOSTS = {"wa.me", "api.whatsapp.com", "whatsapp.com"}
# Instagram paths that are not profiles.
INSTAGRAM_NON_PROFILES = {"p", "reel", "reels", "explore", "stories", "tv", "accounts", "direct"}
_INSTAGRAM = re.compile(r"^https?://(?:www\.|m\.)?instagram\.com/([A-Za-z0-9._]+)/?(?:[?#].*)?$", re.IGNORECASE)
# What review (recurrence.py) reads of a schema.org Schedule.
SCHEDULE_PROPERTIES = (
    "repeatFrequency", "byDay", "byMonth", "byMonthDay", "byMonthWeek", "repeatCount",
    "startDate", "endDate", "startTime", "endTime", "scheduleTimezone", "exceptDate",
)  # fmt: skip
# What extraction makes of a page, as a number. An unchanged page reuses its stored extraction
# (process.extraction_key), so bump it whenever the same page would now give other events (a
# property newly read, a fix): every page is then read once more, LLM pages with an LLM call each.
# 2: an event keeps its eventSchedule.
EXTRACTOR_VERSION = 2
# Workshop data is a few references deep (event -> performer); the cap bounds the copying a
# densely cross-referenced graph would otherwise cause.
MAX_REFERENCE_HOPS = 4


@dataclass
class ExtractedEvent:
    """One workshop (one routine) as a page describes it, before validation and artist matching."""

    title: str
    event_type: str = "workshop"
    song: str | None = None
    by: str = ""
    performers: list[tuple[str, str | None]] = field(default_factory=list)
    pricing_info: str = ""
    payment_link: str = ""
    payment_link_type: str = "url"
    # Raw (start, end) values as the page gave them; validate.normalise_sessions reads them.
    sessions: list[tuple[Json, Json]] = field(default_factory=list)
    # Raw eventSchedule values: a recurring event's sessions depend on the day, so the review reads
    # them (recurrence.scheduled_sessions) with the run's day.
    schedules: list[Json] = field(default_factory=list)
    # "cancelled" or "postponed" when the page says the event will not take place on its dates.
    called_off: str = ""


class Extractor(NamedTuple):
    name: str
    extract: Callable[[Page, "Studio"], list[ExtractedEvent]]


class TokenCounts(Protocol):
    def as_dict(self) -> dict[str, int]: ...


class PageLLM(Protocol):
    """What the pipeline uses of an llm.LLMExtractor (named by its shape: the llm package imports this module)."""

    @property
    def config(self) -> "LLMConfig": ...

    @property
    def usage(self) -> TokenCounts: ...

    def extract(self, page: Page, context: "ExtractionContext") -> list[ExtractedEvent]: ...

    def close(self) -> None: ...


@dataclass
class ExtractionContext:
    """What extractors need beyond the page, prepared once per run in the calling thread.

    Worker threads read it (and the LLM extractor adds notes to it); nothing in it touches the ORM.
    ``mode`` is the studio's ``extraction``: ``structured`` runs EXTRACTORS; ``auto`` runs them and
    then the LLM, when there is one; ``llm`` runs the LLM only.
    """

    studio_name: str = ""
    hints: str = ""
    time_zone: str = "UTC"
    today: date | None = None
    artists: tuple["KnownArtist", ...] = ()
    mode: str = "structured"
    llm: PageLLM | None = None  # an llm.LLMExtractor, or None when the LLM is off for this run
    # Set on a cancel: the LLM's pause before a retry ends at once.
    stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _notes: dict[str, list[tuple[str, str]]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def extractors(self) -> list[Extractor]:
        llm = self.llm
        by_llm = [Extractor("llm", lambda page, _studio: llm.extract(page, self))] if llm else []
        if self.mode == "llm":
            return by_llm
        if self.mode == "auto":
            return [*EXTRACTORS, *by_llm]
        return list(EXTRACTORS)

    def asks_llm_for_times(self, page: Page, extractor: str, events: list[ExtractedEvent]) -> bool:
        """In `auto`, with an LLM: structured data that dates an event without a time, on a page whose
        text prints a time, is worth an LLM call for that page."""
        zone, today = studio_zone(self.time_zone), self.run_day()
        return (
            self.mode == "auto"
            and self.llm is not None
            and extractor == "structured"
            and any(_lacks_times(event, zone, today) for event in events)
            and page_prints_time(page)
        )

    def run_day(self) -> date:
        """The run's day in the studio's zone. The pipeline always sets `today`; a context built
        without it means the clock's day there."""
        return self.today or datetime.now(studio_zone(self.time_zone)).date()

    def note(self, url: str, level: str, message: str) -> None:
        """A log line about a link, from a worker thread; the calling thread logs it with the link."""
        with self._lock:
            self._notes.setdefault(url, []).append((level, message))

    def pop_notes(self, url: str) -> list[tuple[str, str]]:
        with self._lock:
            return self._notes.pop(url, [])


def extract_events(
    page: Page, studio: "Studio", context: ExtractionContext | None = None
) -> tuple[str | None, list[ExtractedEvent]]:
    """(name of the extractor that found events, the events), or (None, []) when none did.

    Without a context, only the structured extractors (EXTRACTORS) run. In `auto` with an LLM,
    structured events dated without a time on a page that prints times go to the LLM too; its
    events replace them when it finds any, and they stay when it finds none or fails.
    """
    for extractor in context.extractors() if context is not None else EXTRACTORS:
        events = extractor.extract(page, studio)
        if not events:
            continue
        if context is not None and context.llm is not None and context.asks_llm_for_times(page, extractor.name, events):
            context.note(
                page.url,
                "info",
                "the structured data has dates without times and the page prints times: asking the LLM",
            )
            try:
                by_llm = context.llm.extract(page, context)
            except LLMError as exc:
                context.note(page.url, "warning", f"LLM: {exc}; keeping the structured data")
                by_llm = []
            if by_llm:
                return "llm", by_llm
        return extractor.name, events
    return None, []


def _lacks_times(event: ExtractedEvent, zone: ZoneInfo, today: date) -> bool:
    """Some session of the event has a readable date and no time. A recurring event whose schedules
    give times is listed at those times, whatever its own dates say."""
    if schedules_give_times(read_schedules(event.schedules, zone, today)):
        return False
    starts = [read_date(start) if isinstance(start, str) else start for start, _end in event.sessions]
    return any(isinstance(start, date) and not isinstance(start, datetime) for start in starts)


def page_prints_time(page: Page) -> bool:
    """The page's visible text shows a clock time."""
    tree = parse_html(page.text)
    if tree is None:
        return False
    for element in list(tree.iter("script", "style", "noscript", "template")):
        if element.getparent() is not None:
            element.drop_tree()
    return bool(_PRINTED_TIME.search(tree.text_content()))


# --- reading the structured data -------------------------------------------------------------


def _json_ld_block_by_block(tree: "lxml.etree._Element") -> list[Json]:
    """Every JSON-LD block read on its own and repaired where it can be: one broken block never
    costs the page's other blocks."""
    items: list[Json] = []
    for script in tree.iter("script"):
        kind = (script.get("type") or "").split(";")[0].strip().lower()
        if kind != "application/ld+json":
            continue
        for value in read_block(script.text or ""):
            items.extend(value if isinstance(value, list) else [value])
    return items


def _structured_data(page: Page) -> dict[str, list[Json]]:
    try:
        # Bytes, because lxml rejects str input that carries an XML encoding declaration.
        tree = parse_xmldom_html(page.text.encode("utf-8"), encoding="UTF-8")
    except Exception:  # nothing parseable, e.g. an empty body
        return {}
    # pyRdfa reads an HTML5 <time datetime> by its text only; RDFa core honours @content.
    for element in tree.xpath("//time[@property and @datetime and not(@content)]"):
        element.set("content", element.get("datetime"))
    data: dict[str, list[Json]] = {
        "json-ld": _json_ld_block_by_block(tree),
        "og:site_name": tree.xpath("//meta[@property='og:site_name']/@content"),
    }
    # Each syntax on its own: an RDFa oddity must not cost the page its microdata.
    for syntax in EXTRUCT_SYNTAXES:
        try:
            data.update(extruct.extract(tree, base_url=page.final_url, syntaxes=[syntax], uniform=True))
        except Exception:
            data[syntax] = []
    return data


def _local_name(iri: object) -> str:
    """'https://schema.org/DanceEvent' and 'schema:DanceEvent' -> 'DanceEvent'."""
    return re.split(r"[/#:]", iri)[-1] if isinstance(iri, str) else ""


def _compact_rdfa(items: list[JsonDict]) -> list[JsonDict]:
    """extruct's RDFa output is expanded JSON-LD; give it the compact shape the other syntaxes have."""

    def value(v: Json) -> Json:
        if isinstance(v, dict) and "@value" in v:
            return v["@value"]
        return v  # {"@id": ...}: resolved later with the other syntaxes' references

    nodes: list[JsonDict] = []
    for item in items:
        node: JsonDict = {"@id": item.get("@id"), "@type": [_local_name(t) for t in item.get("@type", [])]}
        for key, values in item.items():
            if not key.startswith(SCHEMA_PREFIXES):
                continue
            values = [value(v) for v in values] if isinstance(values, list) else [value(values)]
            node[key.removeprefix("http://schema.org/").removeprefix("https://schema.org/")] = (
                values[0] if len(values) == 1 else values
            )
        nodes.append(node)
    return nodes


def _stable_order(value: Json) -> Json:
    """RDF graphs are unordered and extruct's blank-node ids are random, so order multi-valued
    properties by content; otherwise an unchanged page would read differently on every run."""
    if isinstance(value, list):
        items = [_stable_order(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(_without_blank_ids(v), sort_keys=True, default=str))
    if isinstance(value, dict):
        return {k: _stable_order(v) for k, v in value.items()}
    return value


def _without_blank_ids(value: Json) -> Json:
    if isinstance(value, list):
        return [_without_blank_ids(v) for v in value]
    if isinstance(value, dict):
        return {
            k: _without_blank_ids(v)
            for k, v in value.items()
            if not (k == "@id" and isinstance(v, str) and v.startswith("_:"))
        }
    return value


def _nodes(items: list[Json]) -> list[JsonDict]:
    """Top-level nodes, with @graph contents lifted to the top."""
    nodes: list[JsonDict] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        graph = item.get("@graph")
        if graph is not None:
            nodes.extend(n for n in (graph if isinstance(graph, list) else [graph]) if isinstance(n, dict))
        if set(item) - {"@graph", "@context"}:
            nodes.append(item)
    return nodes


def _resolve_references(nodes: list[JsonDict]) -> list[JsonDict]:
    """Replace {"@id": x} references with the node that has that @id."""
    index = {n["@id"]: n for n in nodes if isinstance(n.get("@id"), str) and set(n) - {"@id"}}

    def resolve(value: Json, seen: frozenset[str], hops: int) -> Json:
        if isinstance(value, list):
            return [resolve(v, seen, hops) for v in value]
        if not isinstance(value, dict):
            return value
        ref = value.get("@id")
        # A non-string @id (a list, a number) is no reference: a list in `index` would raise TypeError.
        if (
            isinstance(ref, str)
            and set(value) == {"@id"}
            and ref in index
            and ref not in seen
            and hops < MAX_REFERENCE_HOPS
        ):
            return resolve(index[ref], seen | {ref}, hops + 1)
        inner_seen = seen | {ref} if isinstance(ref, str) else seen
        return {k: resolve(v, inner_seen, hops) for k, v in value.items()}

    return [resolve(n, frozenset(), 0) for n in nodes]


def _types(node: JsonDict) -> set[str]:
    types = node.get("@type")
    return {_local_name(t) for t in (types if isinstance(types, list) else [types])}


def _is_event(node: Json) -> bool:
    """Any schema.org Event type (a type name ending in Event is taken as one too: an extension's)."""
    if not isinstance(node, dict):
        return False
    return any(t in EVENT_TYPES or t.endswith("Event") for t in _types(node))


def _named_sub_events(event: JsonDict) -> list[JsonDict]:
    """A series' or festival's sub-events that are events of their own: named, and not just
    by the series' own name (those are its sessions)."""
    if not (_types(event) & CONTAINER_TYPES):
        return []
    subs = [s for s in _as_list(event.get("subEvent")) if isinstance(s, dict)]
    own_name = _text(event.get("name")).casefold()
    return subs if any(_text(s.get("name")) and _text(s.get("name")).casefold() != own_name for s in subs) else []


def _container_ids(found: list[JsonDict]) -> set[str]:
    """Ids of events that other events name as their superEvent: a festival whose programme
    points up to it rather than down from it."""
    return {
        sup["@id"]
        for event in found
        for sup in _as_list(event.get("superEvent"))
        if isinstance(sup, dict) and isinstance(sup.get("@id"), str) and sup["@id"]
    }


def _expand_containers(found: list[JsonDict]) -> list[JsonDict]:
    """A series' named sub-events in its place; other events' sub-events are their sessions, so
    a flat graph's sub-event nodes are dropped, and so are the events others name as their
    superEvent. Events listed twice (by reference) count once."""
    events: list[JsonDict] = []
    session_ids: set[str] = _container_ids(found)

    def add(event: JsonDict, depth: int) -> None:
        children = _named_sub_events(event) if depth < MAX_REFERENCE_HOPS else []
        if children:
            for child in children:
                add(child, depth + 1)
            return
        # Only string ids: a list would not hash, and one odd node would fail the whole page.
        session_ids.update(
            sub["@id"]
            for sub in _as_list(event.get("subEvent"))
            if isinstance(sub, dict) and isinstance(sub.get("@id"), str) and sub["@id"]
        )
        events.append(event)

    for event in found:
        add(event, 0)
    kept: list[JsonDict] = []
    seen_ids: set[str] = set()
    for event in events:
        event_id = event.get("@id")
        if isinstance(event_id, str) and event_id:
            if event_id in session_ids or event_id in seen_ids:
                continue
            seen_ids.add(event_id)
        kept.append(event)
    return kept


def _find_events(value: Json, found: list[JsonDict], holder_name: str = "") -> None:
    """Events anywhere in the data (an ItemList of events, a Place's or a performer's events, a
    Course's instances, an action's object), but not inside other events: those are sub-events,
    i.e. sessions. An event without a name takes the name of what holds it (a Course)."""
    if isinstance(value, list):
        for v in value:
            _find_events(v, found, holder_name)
    elif _is_event(value):
        if not _text(value.get("name")) and holder_name:
            value = {**value, "name": holder_name}
        found.append(value)
    elif isinstance(value, dict):
        name = (_text(value.get("name")) or holder_name) if "Course" in _types(value) else holder_name
        for v in value.values():
            _find_events(v, found, name)


def _site_names(data: dict[str, list[Json]]) -> list[str]:
    """The site's own name, as Open Graph and the JSON-LD WebSite and Organization give it."""
    nodes = _nodes(data.get("json-ld") or [])
    names = [_text(n.get("name")) for n in nodes if _types(n) & {"WebSite", "Organization"}]
    return [name for name in [*map(_text, data.get("og:site_name") or []), *names] if name]


def _occurrences(event: JsonDict) -> list[JsonDict]:
    """An event with several startDate values (schema.org lets the property repeat) as one event
    per start, each with the endDate at the same place when there is one end per start."""
    starts = _as_list(event.get("startDate"))
    if len(starts) < 2:
        return [event]
    ends = _as_list(event.get("endDate"))
    paired = len(ends) == len(starts)
    return [{**event, "startDate": start, "endDate": ends[i] if paired else None} for i, start in enumerate(starts)]


def _event_nodes(data: dict[str, list[Json]]) -> list[JsonDict]:
    events: list[JsonDict] = []
    for syntax in SYNTAXES:
        items = data.get(syntax) or []
        if syntax == "rdfa":
            nodes = [_stable_order(n) for n in _resolve_references(_compact_rdfa(items))]
        else:
            nodes = _resolve_references(_nodes(items))
        found: list[JsonDict] = []
        _find_events(nodes, found)
        # Flat data (RDFa, a JSON-LD @graph) lists sub-events as nodes of their own.
        events.extend(_expand_containers(found))
    return events


# --- mapping schema.org properties ------------------------------------------------------------


def _as_list(value: Json) -> list[Json]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _text(value: Json) -> str:
    """A property as one line of text: the first value, names of things, whitespace collapsed."""
    for v in _as_list(value):
        if isinstance(v, dict):
            v = v.get("name") or v.get("@value")
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            v = f"{v:g}" if isinstance(v, float) else str(v)
        if isinstance(v, str) and v.strip():
            return " ".join(html.unescape(v).split())
    return ""


def _title(event: JsonDict, site_names: list[str]) -> str:
    """The event's name (data-vocabulary.org's Event calls it `summary`), without the site's name
    that site builders append to it."""
    title = _text(event.get("name")) or _text(event.get("summary"))
    for site in site_names:
        for separator in TITLE_SEPARATORS:
            suffix = f"{separator}{site}".casefold()
            if title.casefold().endswith(suffix) and len(title) > len(suffix):
                return title[: -len(suffix)].strip()
    return title


def _called_off(event: JsonDict) -> str:
    """The status word, cancelled or postponed, when the event's status says so; else empty."""
    for status in _as_list(event.get("eventStatus")):
        if isinstance(status, dict):
            status = status.get("@id") or status.get("name")
        if word := CALLED_OFF_STATUSES.get(_local_name(status)):
            return word
    return ""


def _urls(value: Json) -> list[str]:
    urls: list[str] = []
    for v in _as_list(value):
        if isinstance(v, dict):
            v = v.get("@id") or v.get("url") or v.get("value")
        if isinstance(v, str) and v.strip():
            urls.append(v.strip())
    return urls


def _instagram_handle(person: JsonDict) -> str | None:
    for url in _urls(person.get("sameAs")) + _urls(person.get("url")) + _urls(person.get("identifier")):
        match = _INSTAGRAM.match(url)
        if match and match.group(1).lower() not in INSTAGRAM_NON_PROFILES:
            return match.group(1)
    return None


def _performers(event: JsonDict) -> list[tuple[str, str | None]]:
    performers: list[tuple[str, str | None]] = []
    for person in _as_list(event.get("performer")):
        name = _text(person)
        if not name or name.casefold() in NOT_ARTIST_NAMES:
            continue
        handle = _instagram_handle(person) if isinstance(person, dict) else None
        if (name, handle) not in performers:
            performers.append((name, handle))
    return performers


def _event_type(event: JsonDict) -> str:
    words = " ".join([_text(event.get("name"))] + [_text(k) for k in _as_list(event.get("keywords"))])
    if re.search(r"\bintensive", words, re.IGNORECASE):
        return "intensive"
    if re.search(r"\bregular", words, re.IGNORECASE):
        return "regulars"
    return "workshop"


def _amount(value: Json, currency: str) -> str:
    """A price as people read it: "₹1,200", "$35.50", "1,500 SEK", "Free"; "" for no price."""
    text = _text(value)
    if not text or _CURRENCY_CODE.match(text):
        return ""  # nothing, or only a currency code
    currency = currency.strip().upper()
    if not _PLAIN_AMOUNT.match(text):
        return text if re.search(r"\d", text) or text.casefold() == "free" else ""
    number = float(text.replace(",", ""))
    if number == 0:
        return "Free"
    shown = f"{number:,.2f}".removesuffix(".00")
    if currency in CURRENCY_SYMBOLS:
        return f"{CURRENCY_SYMBOLS[currency]}{shown}"
    return f"{shown} {currency}" if _CURRENCY_CODE.match(currency) else shown


def _offer_lines(offer: JsonDict, depth: int = 0) -> list[str]:
    """One offer as tier lines; an AggregateOffer as its range, or as the offers it lists."""
    inner = [o for o in _as_list(offer.get("offers")) if isinstance(o, dict)]
    if inner and depth < 2:
        return [line for o in inner for line in _offer_lines(o, depth + 1)]
    spec = next((s for s in _as_list(offer.get("priceSpecification")) if isinstance(s, dict)), {})
    currency = _text(offer.get("priceCurrency")) or _text(spec.get("priceCurrency"))
    price = _amount(offer.get("price"), currency) or _amount(spec.get("price"), currency)
    if not price:
        low = _amount(offer.get("lowPrice") or spec.get("minPrice"), currency)
        high = _amount(offer.get("highPrice") or spec.get("maxPrice"), currency)
        if low and high and low != high:
            price = f"{low} – {high}"
        elif low:
            price = f"From {low}" if "AggregateOffer" in _types(offer) and not high else low
        elif high:
            price = f"Up to {high}"
    name = _text(offer.get("name"))
    line = f"{name}: {price}" if name and price else name or price
    return [line] if line else []


def _pricing(event: JsonDict, page_url: str) -> tuple[str, str, str]:
    """(pricing_info, payment_link, payment_link_type) from the event's offers."""
    lines: list[str] = []
    payment_link = ""
    for offer in _as_list(event.get("offers")):
        if not isinstance(offer, dict):
            continue
        for line in _offer_lines(offer):
            if line not in lines:
                lines.append(line)
        if not payment_link:
            inner = [o for o in _as_list(offer.get("offers")) if isinstance(o, dict)]
            payment_link = next(iter(_urls(offer.get("url")) + [u for o in inner for u in _urls(o.get("url"))]), "")
    if payment_link:
        payment_link = urljoin(page_url, payment_link)
    host = (urlsplit(payment_link).hostname or "").removeprefix("www.")
    return "\n".join(lines), payment_link, "whatsapp" if host in WHATSAPP_HOSTS else "url"


def _first(value: Json) -> Json:
    values = _as_list(value)
    value = values[0] if values else None
    return value.get("@value") if isinstance(value, dict) else value


def _sessions(event: JsonDict) -> list[tuple[Json, Json]]:
    sessions = [
        (_first(sub.get("startDate")), _first(sub.get("endDate")))
        for sub in _as_list(event.get("subEvent"))
        if isinstance(sub, dict) and sub.get("startDate")
    ]
    if not sessions and event.get("startDate"):
        sessions = [(_first(event.get("startDate")), _first(event.get("endDate")))]
    return sessions


def _schedules(event: JsonDict) -> list[Json]:
    """The event's eventSchedule values, each with the event's start and end where it leaves out its
    period or its times: schema.org puts them on the schedule, pages often on the event. A value
    that is no Schedule object is kept as it is: unreadable, it still says the event recurs."""
    start, end = _first(event.get("startDate")), _first(event.get("endDate"))
    from_event = {"startDate": start, "endDate": end, "startTime": start, "endTime": end}
    schedules: list[Json] = []
    for schedule in _as_list(event.get("eventSchedule")):
        if isinstance(schedule, dict):
            given = {key: schedule[key] for key in SCHEDULE_PROPERTIES if schedule.get(key) not in (None, "")}
            schedule = {key: value for key, value in from_event.items() if value not in (None, "")} | given
        if schedule is not None:
            schedules.append(schedule)
    return schedules


def _to_extracted(event: JsonDict, page_url: str, site_names: list[str]) -> ExtractedEvent:
    performers = _performers(event)
    pricing_info, payment_link, payment_link_type = _pricing(event, page_url)
    return ExtractedEvent(
        title=_title(event, site_names),
        event_type=_event_type(event),
        song=_text(event.get("workPerformed")) or None,
        by=" & ".join(name for name, _handle in performers),
        performers=performers,
        pricing_info=pricing_info,
        payment_link=payment_link,
        payment_link_type=payment_link_type,
        sessions=_sessions(event),
        schedules=_schedules(event),
        called_off=_called_off(event),
    )


def extract_structured(page: Page, studio: "Studio") -> list[ExtractedEvent]:
    """schema.org Event (and subtypes) items from JSON-LD, microdata and RDFa."""
    events: list[ExtractedEvent] = []
    data = _structured_data(page)
    site_names = _site_names(data)
    for node in _event_nodes(data):
        for occurrence in _occurrences(node):
            event = _to_extracted(occurrence, page.final_url, site_names)
            # Pages often carry the same event in two syntaxes (a plugin's JSON-LD beside microdata).
            if event not in events:
                events.append(event)
    return events


EXTRACTORS: list[Extractor] = [Extractor("structured", extract_structured)]
