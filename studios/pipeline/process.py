"""Processing one studio end to end: discover, fetch and extract, validate, match, save."""

import logging
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from django.utils import timezone

from studios.models import Artist

from .discover import discover_links
from .extract import ExtractedEvent, extract_events
from .fetch import Fetcher, FetchError, NotHTML, PageFetcher
from .match import ArtistMatcher
from .reporting import Reporter, StopRequested
from .save import WorkshopData, save_workshops
from .validate import is_past, normalise_sessions, studio_zone

logger = logging.getLogger(__name__)


@dataclass
class LinkResult:
    """What a worker thread learnt about one link; the calling thread reports and saves it."""

    url: str
    extractor: str | None = None
    events: list[ExtractedEvent] = field(default_factory=list)
    error: str | None = None
    not_html: bool = False


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _read_link(fetcher: PageFetcher, url: str, studio) -> LinkResult:
    """Runs in a worker thread: no database access and no reporting here."""
    try:
        page = fetcher.get(url)
    except NotHTML as exc:
        return LinkResult(url, error=str(exc), not_html=True)
    except FetchError as exc:
        return LinkResult(url, error=str(exc))
    extractor, events = extract_events(page, studio)
    return LinkResult(url, extractor=extractor, events=events)


def _finished_links(links: list[str], fetcher: PageFetcher, studio, reporter: Reporter):
    """Each link's LinkResult as its worker finishes; raises StopRequested between links when asked."""
    pool = ThreadPoolExecutor(max_workers=max(1, studio.concurrency), thread_name_prefix=f"studio-{studio.studio_id}")
    futures: dict[Future, str] = {pool.submit(_read_link, fetcher, url, studio): url for url in links}
    pending = set(futures)
    try:
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    yield future.result()
                except Exception as exc:  # a library failing on one odd page must not end the run
                    logger.exception("Processing %s failed", futures[future])
                    yield LinkResult(futures[future], error=f"{type(exc).__name__}: {exc}")
                if reporter.should_stop():
                    raise StopRequested()
    finally:
        # Whatever ends the loop (a cancel, an error in the caller), links not yet started are dropped.
        pool.shutdown(wait=True, cancel_futures=True)


class _Collector:
    """Turns finished links into log lines, summary counts and workshops to save; calling thread only."""

    def __init__(self, studio, reporter: Reporter, summary: dict):
        self.reporter = reporter
        self.summary = summary
        self.zone = studio_zone(studio.time_zone)
        self.today = timezone.now().astimezone(self.zone).date()
        self.matcher = ArtistMatcher(Artist.objects.all())
        self.events_by_url: dict[str, list[WorkshopData]] = {}
        self.failed_urls: set[str] = set()
        self.missing_artists: set[str] = set()
        self.extractors: Counter[str] = Counter()

    def add(self, result: LinkResult) -> None:
        url, log = result.url, self.reporter.log
        if result.error is not None:
            self.summary["links_failed"] += 1
            self.failed_urls.add(url)
            if result.not_html:
                log("warning", f"{url}: skipped, {result.error}")
            else:
                log("error", f"{url}: failed: {result.error}")
            return
        self.summary["links_processed"] += 1
        if not result.events:
            self.summary["pages_without_events"] += 1
            self.events_by_url[url] = []
            log("warning", f"{url}: no workshop data found")
            return
        self.extractors[result.extractor] += 1
        self.summary["events_found"] += len(result.events)
        log("info", f"{url}: {_plural(len(result.events), 'workshop')} ({result.extractor})")
        self.events_by_url[url] = self._upcoming_workshops(url, result.events)

    def _upcoming_workshops(self, url: str, events: list[ExtractedEvent]) -> list[WorkshopData]:
        workshops, past, unmatched_here = [], 0, []
        for event in events:
            sessions = normalise_sessions(event.sessions, self.zone)
            if is_past(sessions, self.today):
                past += 1
                continue
            artists, unmatched = self.matcher.match_event(event)
            unmatched_here += [name for name in unmatched if name not in unmatched_here]
            workshops.append(WorkshopData.from_event(event, sessions, artists))
        if past:
            self.summary["events_past"] += past
            self.reporter.log("info", f"{url}: {_plural(past, 'past event')} dropped")
        for name in unmatched_here:
            self.missing_artists.add(name)
            self.reporter.log("warning", f"{url}: no artist matches '{name}'")
        return workshops


def process_studio(studio, reporter: Reporter, run=None) -> dict:
    """Refresh one studio's workshops from its website; returns the run's summary.

    Raises DiscoveryError when the site cannot be crawled and StopRequested when a cancel
    arrives; in both cases nothing is saved.
    """
    summary = {
        "studio_id": studio.studio_id,
        "links_found": 0,
        "links_processed": 0,
        "links_failed": 0,
        "workshops_created": 0,
        "workshops_updated": 0,
        "workshops_unchanged": 0,
        "workshops_archived": 0,
        "events_found": 0,
        "events_past": 0,
        "pages_without_events": 0,
        "missing_artists": [],
        "extractors": {},
    }
    depth = max(1, studio.max_depth)
    reporter.log("info", f"Discovering workshop links on {studio.website} (depth {depth})")
    if studio.render_js:
        reporter.log("warning", "JavaScript rendering is not available yet; reading pages without it")

    with Fetcher() as fetcher:
        links = discover_links(fetcher, studio.website, studio.link_pattern, depth, reporter)
        total = len(links)
        summary["links_found"] = total
        reporter.log("success", f"Found {_plural(total, 'workshop link')}")
        reporter.progress(0, total, f"Processing {_plural(total, 'link')}")
        if not links:
            # Usually the site changed its layout; archiving everything unseen would empty the catalogue.
            reporter.log("warning", "No workshop links matched the link pattern")
            return summary
        if reporter.should_stop():
            raise StopRequested()

        collector = _Collector(studio, reporter, summary)
        for done, result in enumerate(_finished_links(links, fetcher, studio, reporter), start=1):
            collector.add(result)
            reporter.progress(done, total, f"Processed link {done} of {total}")

    summary["missing_artists"] = sorted(collector.missing_artists)
    summary["extractors"] = dict(collector.extractors)
    counts = save_workshops(studio, collector.events_by_url, collector.failed_urls, run=run)
    for name, count in counts.items():
        summary[f"workshops_{name}"] = count
    reporter.log(
        "success",
        f"Saved: {counts['created']} created, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged, {counts['archived']} archived",
    )
    return summary
