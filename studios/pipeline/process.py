"""Processing one studio end to end: discover, fetch and extract, validate, match, save."""

import hashlib
import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model
from django.utils import timezone

from studios.costs import llm_cost, record_usage, tokens_left
from studios.models import Artist, LinkState, ProcessedLink, Studio

from ..conf import conf
from .discover import discover_links
from .errors import AllLinksFailed, FetchError, LLMError, LLMNotConfigured, NotHTML
from .extract import EXTRACTOR_VERSION, ExtractedEvent, ExtractionContext, extract_events
from .fetch import Fetcher, PageFetcher, Validators
from .llm.client import LLMExtractor
from .llm.config import KnownArtist, LLMConfig
from .match import ArtistMatcher
from .reporting import STOP_POLL_INTERVAL, Reporter, stop_if_asked
from .review import DUPLICATE, PAST, UNDATED, plural, report_review, review_events
from .robots import SiteRules, sitemap_urls
from .save import WorkshopData, save_workshops
from .validate import studio_zone

logger = logging.getLogger(__name__)


@dataclass
class LinkResult:
    """What a worker thread learnt about one link; the calling thread reports and saves it."""

    url: str
    extractor: str | None = None
    events: list[ExtractedEvent] = field(default_factory=list)
    error: str | None = None
    not_html: bool = False
    # An unusable LLM answer fails the link with a warning, not an error: the page itself was fine.
    error_level: str = "error"
    notes: list[tuple[str, str]] = field(default_factory=list)
    # What the next run's conditional request and change check need.
    etag: str = ""
    last_modified: str = ""
    content_hash: str = ""
    # Why the previous extraction was reused: "not modified" (a 304) or "same content" (hash); "" when read afresh.
    unchanged: str = ""

    def as_json(self) -> dict[str, Any]:
        # Dates and times become ISO strings, which validate.parse_moment reads back the same.
        return json.loads(json.dumps(asdict(self), cls=DjangoJSONEncoder))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "LinkResult":
        events = [
            ExtractedEvent(
                **{
                    **event,
                    "performers": [tuple(performer) for performer in event["performers"]],
                    "sessions": [tuple(session) for session in event["sessions"]],
                }
            )
            for event in data["events"]
        ]
        return cls(**{**data, "events": events, "notes": [tuple(note) for note in data["notes"]]})


def _checkpoint(run: Model | None, result: LinkResult) -> None:
    """Keep the link's outcome, so that a resumed run does not fetch it again."""
    if run is not None:
        ProcessedLink.objects.get_or_create(run=run, url=result.url, defaults={"result": result.as_json()})


def _done_before(run: Model | None, links: list[str]) -> dict[str, LinkResult]:
    """The links this run already processed before its process died."""
    if run is None:
        return {}
    stored = ProcessedLink.objects.filter(run=run, url__in=links)
    return {row.url: LinkResult.from_json(row.result) for row in stored}


def _silent(level: str, message: str) -> None:
    pass


@dataclass(frozen=True)
class KnownLink:
    """What an earlier run learnt about a link (LinkState), read in the calling thread."""

    etag: str
    last_modified: str
    content_hash: str
    result: dict[str, Any]

    def validators(self) -> Validators | None:
        return Validators(self.etag, self.last_modified) if (self.etag or self.last_modified) else None


def content_hash(page_text: str, extraction_key: str) -> str:
    """SHA-256 of what extraction reads (the page's HTML) and of how it reads it (extraction_key)."""
    digest = hashlib.sha256(extraction_key.encode("utf-8"))
    digest.update(b"\0")
    digest.update(page_text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _reused(url: str, known: KnownLink, why: str, page_etag: str = "", page_last_modified: str = "") -> LinkResult:
    previous = LinkResult.from_json({**known.result, "url": url, "notes": []})
    return replace_result(
        previous,
        etag=page_etag or known.etag,
        last_modified=page_last_modified or known.last_modified,
        content_hash=known.content_hash,
        unchanged=why,
    )


def replace_result(result: LinkResult, **changes: Any) -> LinkResult:
    for name, value in changes.items():
        setattr(result, name, value)
    return result


def read_link(
    fetcher: PageFetcher,
    url: str,
    studio: Studio,
    context: ExtractionContext | None = None,
    known: KnownLink | None = None,
    extraction_key: str = "",
) -> LinkResult:
    """Runs in a worker thread: no database access and no reporting here.

    With `known` (what the last run learnt), the request is conditional; a 304, or a page whose
    content hashes the same, reuses the last extraction without extracting (or calling the LLM) again.
    """
    try:
        page = fetcher.get(url, known.validators()) if known is not None else fetcher.get(url)
    except NotHTML as exc:
        return LinkResult(url, error=str(exc), not_html=True)
    except FetchError as exc:
        return LinkResult(url, error=str(exc))
    if page.not_modified and known is not None:
        return _reused(url, known, "not modified")
    digest = content_hash(page.text, extraction_key)
    if known is not None and known.content_hash == digest:
        return _reused(url, known, "same content", page.etag, page.last_modified)
    try:
        extractor, events = extract_events(page, studio, context)
    except LLMError as exc:
        notes = context.pop_notes(url) if context is not None else []
        return LinkResult(url, error=f"LLM: {exc}", error_level="warning", notes=notes)
    notes = context.pop_notes(url) if context is not None else []
    return LinkResult(
        url,
        extractor=extractor,
        events=events,
        notes=notes,
        etag=page.etag,
        last_modified=page.last_modified,
        content_hash=digest,
    )


def _finished_links(
    links: list[str],
    fetcher: PageFetcher,
    studio: Studio,
    reporter: Reporter,
    context: ExtractionContext | None = None,
    done_before: dict[str, LinkResult] | None = None,
    known: dict[str, KnownLink] | None = None,
    extraction_key: str = "",
) -> Iterator[LinkResult]:
    """Each link's LinkResult as its worker finishes; raises StopRequested when asked, between links
    and every STOP_POLL_INTERVAL while they run, aborting the fetches in flight.

    Links in `done_before` (a resumed run) come first, from what was kept, without fetching.
    """
    done_before = done_before or {}
    yield from (done_before[url] for url in links if url in done_before)
    pool = ThreadPoolExecutor(max_workers=max(1, studio.concurrency), thread_name_prefix=f"studio-{studio.studio_id}")
    futures: dict[Future[LinkResult], str] = {
        pool.submit(read_link, fetcher, url, studio, context, (known or {}).get(url), extraction_key): url
        for url in links
        if url not in done_before
    }
    pending = set(futures)
    try:
        while pending:
            done, pending = wait(pending, timeout=STOP_POLL_INTERVAL, return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    yield future.result()
                except Exception as exc:  # a library failing on one odd page must not end the run
                    logger.exception("Processing %s failed", futures[future])
                    yield LinkResult(futures[future], error=f"{type(exc).__name__}: {exc}")
                stop_if_asked(reporter, fetcher.stop)
            if not done:
                stop_if_asked(reporter, fetcher.stop)
    finally:
        # Whatever ends the loop (a cancel, an error in the caller), links not yet started are dropped.
        pool.shutdown(wait=True, cancel_futures=True)


class _Collector:
    """Turns finished links into log lines, summary counts and workshops to save; calling thread only."""

    def __init__(self, studio: Studio, reporter: Reporter, summary: dict[str, Any]) -> None:
        self.reporter = reporter
        self.summary = summary
        self.zone = studio_zone(studio.time_zone)
        self.today = timezone.now().astimezone(self.zone).date()
        self.matcher = ArtistMatcher(Artist.objects.all())
        self.events_by_url: dict[str, list[WorkshopData]] = {}
        self.failed_urls: set[str] = set()
        self.missing_artists: set[str] = set()
        self.extractors: Counter[str] = Counter()
        # The links read successfully, for the next run's change detection (LinkState).
        self.read: dict[str, LinkResult] = {}

    def add(self, result: LinkResult, quiet: bool = False) -> None:
        """Count the link; `quiet` for a link of a resumed run, whose lines were sent before."""
        url, log = result.url, (_silent if quiet else self.reporter.log)
        for level, message in result.notes:
            log(level, f"{url}: {message}")
        if result.error is not None:
            self.summary["links_failed"] += 1
            self.failed_urls.add(url)
            if result.not_html:
                log("warning", f"{url}: skipped, {result.error}")
            else:
                log(result.error_level, f"{url}: failed: {result.error}")
            return
        self.summary["links_processed"] += 1
        self.read[url] = result
        if not result.events:
            self.summary["pages_without_events"] += 1
            self.events_by_url[url] = []
            if result.unchanged:
                self.summary["links_unchanged"] += 1
                log("info", f"{url}: unchanged ({result.unchanged}), no workshop data as before")
            else:
                log("warning", f"{url}: no workshop data found")
            return
        self.extractors[result.extractor or "unknown"] += 1  # always named when there are events
        self.summary["events_found"] += len(result.events)
        if result.unchanged:
            self.summary["links_unchanged"] += 1
            log("info", f"{url}: unchanged ({result.unchanged}), {plural(len(result.events), 'workshop')} as before")
        else:
            log("info", f"{url}: {plural(len(result.events), 'workshop')} ({result.extractor})")
        self.events_by_url[url] = self._upcoming_workshops(url, result.events, log)

    def _upcoming_workshops(
        self, url: str, events: list[ExtractedEvent], log: Callable[[str, str], None]
    ) -> list[WorkshopData]:
        review = review_events(events, self.zone, self.today, self.matcher)
        report_review(log, url, review)
        self.summary["events_past"] += review.count(PAST)
        self.summary["events_undated"] += review.count(UNDATED)
        self.summary["events_merged"] += review.count(DUPLICATE)
        self.missing_artists.update(review.unmatched)
        return [kept.workshop() for kept in review.kept]


def _fetcher(studio: Studio, stop: threading.Event) -> PageFetcher:
    """Chromium for studios with render_js (RenderingUnavailable when it cannot start), else httpx."""
    if studio.render_js:
        from .render import RenderingFetcher

        return RenderingFetcher(studio.concurrency, stop=stop)
    return Fetcher(stop)


def _known_links(studio: Studio, links: list[str], key: str) -> dict[str, KnownLink]:
    """What earlier runs learnt about these links, when they read them the way this run would."""
    states = LinkState.objects.filter(studio=studio, url__in=links)
    known = {}
    for state in states:
        result = dict(state.result)
        if result.pop("extraction_key", None) != key:
            continue  # read another way (extractor version, mode, hints, model): read afresh, unconditionally
        known[state.url] = KnownLink(state.etag, state.last_modified, state.content_hash, result)
    return known


def _keep_link_states(studio: Studio, read: dict[str, LinkResult], key: str) -> None:
    """Remember each link's validators and extraction for the next run (one row per studio and link)."""
    for url, result in read.items():
        if not result.content_hash:
            continue
        kept = result.as_json()
        kept.update(notes=[], unchanged="", etag="", last_modified="", content_hash="", extraction_key=key)
        LinkState.objects.update_or_create(
            studio=studio,
            url=url,
            defaults={
                "etag": result.etag,
                "last_modified": result.last_modified,
                "content_hash": result.content_hash,
                "result": kept,
            },
        )


def extraction_key(studio: Studio, context: ExtractionContext) -> str:
    """What besides the page decides an extraction (the extractor's version, mode, hints, model,
    zone): a change to it makes every page new again."""
    model = context.llm.config.model if context.llm is not None else ""
    return json.dumps(
        [EXTRACTOR_VERSION, studio.extraction or "auto", studio.extraction_hints or "", model, studio.time_zone]
    )


def extraction_context(studio: Studio, reporter: Reporter, stop: threading.Event | None = None) -> ExtractionContext:
    """The run's extraction plan, from the studio's `extraction` and the LLM settings (calling thread).

    Raises LLMNotConfigured for an 'llm' studio without LLM settings; says once that the LLM is off
    for an 'auto' studio.
    """
    stop = stop or threading.Event()
    mode = studio.extraction or "auto"
    config, why_off = LLMConfig.from_settings()
    if mode == "llm" and config is None:
        raise LLMNotConfigured(
            f"{studio.name} is set to LLM extraction, but no LLM is configured ({why_off}); "
            "set LLM_MODEL and LLM_BASE_URL or LLM_API_KEY, or change the studio's extraction"
        )
    llm = None
    if mode == "auto" and config is None:
        reporter.log("info", f"LLM extraction is off ({why_off}): reading structured data only")
    elif mode != "structured" and config is not None:  # 'llm' without a config raised above
        left = tokens_left(studio)
        llm = LLMExtractor(config, token_limit=left, stop=stop)
        reporter.log("info", f"Extraction: {mode}, LLM {config.describe()}")
        if left == 0:
            reporter.log(
                "warning",
                f"The LLM token budget of {studio.llm_monthly_token_budget:,} for this month is spent: the LLM is not "
                "called for this studio until the month turns or staff raise the budget",
            )
    zone = studio_zone(studio.time_zone)
    return ExtractionContext(
        studio_name=studio.name,
        hints=studio.extraction_hints or "",
        time_zone=str(zone.key),
        today=timezone.now().astimezone(zone).date(),
        # Loaded here, once: the LLM extractor runs in worker threads, which must not use the ORM.
        artists=tuple(KnownArtist(a.artist_id, a.name, tuple(a.aliases or ())) for a in Artist.objects.all())
        if llm is not None
        else (),
        mode=mode,
        llm=llm,
        stop=stop,
    )


def process_studio(
    studio: Studio, reporter: Reporter, run: Model | None = None, full_refresh: bool = False
) -> dict[str, Any]:
    """Refresh one studio's workshops from its website; returns the run's summary.

    Links unchanged since the last run (a 304 to a conditional request, or the same content hash)
    reuse their last extraction; `full_refresh` reads and extracts every page again.

    Raises StudioCannotBeProcessed when the site cannot be crawled (DiscoveryError), Chromium cannot
    start (RenderingUnavailable) or the studio needs an LLM that is not configured (LLMNotConfigured),
    and StopRequested when a cancel arrives; in all these cases nothing is saved.
    """
    summary = {
        "studio_id": studio.studio_id,
        "links_found": 0,
        "links_processed": 0,
        "links_failed": 0,
        "links_unchanged": 0,
        "links_disallowed": 0,
        "workshops_created": 0,
        "workshops_updated": 0,
        "workshops_unchanged": 0,
        "workshops_archived": 0,
        "events_found": 0,
        "events_past": 0,
        "events_undated": 0,
        "events_merged": 0,
        "pages_without_events": 0,
        "missing_artists": [],
        "extractors": {},
    }
    depth = max(1, studio.max_depth)
    # Set by the calling thread on a cancel; the fetchers and the LLM's retries watch it.
    stop = threading.Event()
    context = extraction_context(studio, reporter, stop)
    fetchers: list[PageFetcher] = []
    try:
        if context.llm is not None:
            summary["llm_tokens"] = context.llm.usage.as_dict()
        reporter.log("info", f"Discovering workshop links on {studio.website} (depth {depth})")
        if studio.render_js:
            reporter.log("info", "Reading pages through headless Chromium (render_js)")
        if full_refresh:
            reporter.log("info", "Full refresh: every page is read and extracted again")
        with _fetcher(studio, stop) as fetcher, Fetcher(stop) as plain:
            fetchers.extend([fetcher, plain])
            # robots.txt and the sitemap are read over plain HTTP, also for rendered studios.
            rules = SiteRules(plain, respect=studio.respect_robots_txt)
            seeds = sitemap_urls(plain, rules, studio.website)
            found = discover_links(
                fetcher, studio.website, studio.link_pattern, depth, reporter, allowed=rules.allowed, seeds=seeds
            )
            for level, message in rules.notes:
                reporter.log(level, message)
            summary["links_found"] = len(found)
            reporter.log("success", f"Found {plural(len(found), 'workshop link')}")
            disallowed = [url for url in found if not rules.allowed(url)]
            if disallowed:
                summary["links_disallowed"] = len(disallowed)
                for url in disallowed:
                    reporter.log("warning", f"{url}: not fetched, robots.txt disallows it")
                refused = set(disallowed)
                found = [url for url in found if url not in refused]
            limit = max(0, conf.MAX_LINKS_PER_RUN)
            links, over_limit = found[:limit], found[limit:]
            if over_limit:
                reporter.log(
                    "warning",
                    f"Processing the first {len(links)} of {len(found)} workshop links (MAX_LINKS_PER_RUN); "
                    f"{len(over_limit)} left out",
                )
            left_out = over_limit + disallowed
            total = len(links)
            done_before = _done_before(run, links)
            # A resumed run's bar carries on from the links it already did.
            reporter.progress(len(done_before), total, f"Processing {plural(total, 'link')}")
            if not links:
                # Usually the site changed its layout; archiving everything unseen would empty the catalogue.
                reporter.log("warning", "No workshop links matched the link pattern")
                return summary
            stop_if_asked(reporter, stop)
            if hasattr(fetcher, "screenshots"):
                # Only the LLM looks at screenshots, and only at those of the workshop pages.
                fetcher.screenshots = context.llm is not None and context.llm.config.screenshots

            if done_before:
                reporter.log(
                    "info",
                    f"Resuming: {plural(len(done_before), 'link')} done before the interruption, not fetched again",
                )
            collector = _Collector(studio, reporter, summary)
            key = extraction_key(studio, context)
            known = {} if full_refresh else _known_links(studio, links, key)
            finished = _finished_links(links, fetcher, studio, reporter, context, done_before, known, key)
            for done, result in enumerate(finished, start=1):
                if result.url in done_before:
                    # Counted in the summary, but logged and shown on the bar before the interruption.
                    collector.add(result, quiet=True)
                    continue
                # Not counted when the server is stopping: a link that failed because of it is no
                # fault of the page, and is read again when the run resumes.
                stop_if_asked(reporter, stop)
                collector.add(result)
                _checkpoint(run, result)
                reporter.progress(done, total, f"Processed link {done} of {total}")
            if summary["links_failed"] == total:
                raise AllLinksFailed(f"All {plural(total, 'workshop link')} failed; nothing was saved", summary)
    finally:
        stats: Counter[str] = Counter()
        for used in fetchers:
            stats.update(getattr(used, "stats", {}))
        summary["fetch"] = {name: stats.get(name, 0) for name in ("requests", "bytes", "not_modified")}
        if context.llm is not None:
            tokens = summary["llm_tokens"] = context.llm.usage.as_dict()
            cost = llm_cost(tokens["prompt_tokens"], tokens["completion_tokens"])
            if cost is not None:
                summary["llm_cost_usd"] = round(cost, 6)  # in the run's detail and its `complete` event
            record_usage(studio, tokens)
            context.llm.close()

    summary["missing_artists"] = sorted(collector.missing_artists)
    summary["extractors"] = dict(collector.extractors)
    # Like a failed link, a link left out says nothing about its workshops: they are not archived.
    counts = save_workshops(studio, collector.events_by_url, collector.failed_urls | set(left_out), run=run)
    _keep_link_states(studio, collector.read, key)
    for name, count in counts.items():
        summary[f"workshops_{name}"] = count
    reporter.log(
        "success",
        f"Saved: {counts['created']} created, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged, {counts['archived']} archived",
    )
    return summary
