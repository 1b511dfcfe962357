"""Finding a studio's workshop links: a breadth-first crawl of its own site."""

from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin, urlsplit, urlunsplit

import lxml.etree
import lxml.html

from ..conf import conf
from .errors import DiscoveryError, FetchError, StopRequested
from .fetch import Page, PageFetcher
from .patterns import InvalidLinkPattern, compile_link_pattern
from .reporting import Reporter, result_unless_stopped

# The catalogue stores source URLs in a 1000-character column; longer links cannot be saved.
MAX_URL_LENGTH = 1000


def normalise_url(url: str, base: str = "") -> str | None:
    """Absolute http(s) URL without fragment, lower-case scheme and host; None for anything else."""
    try:
        parts = urlsplit(urljoin(base, url.strip()))
        port_ok = parts.port != 0  # .port raises ValueError when the port is not a number in range
    except ValueError:  # also "http://[broken"
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or not port_ok:
        return None
    normalised = urlunsplit((scheme, parts.netloc.lower(), parts.path or "/", parts.query, ""))
    return normalised if len(normalised) <= MAX_URL_LENGTH else None


def parse_html(text: str) -> lxml.html.HtmlElement | None:
    """An lxml tree of the page, or None when there is nothing to parse."""
    try:
        return lxml.html.document_fromstring(text)
    except ValueError:
        # lxml refuses str input that carries an XML encoding declaration; bytes are fine.
        try:
            return lxml.html.document_fromstring(text.encode("utf-8"), parser=lxml.html.HTMLParser(encoding="utf-8"))
        except (ValueError, lxml.etree.ParserError):
            return None
    except lxml.etree.ParserError:
        return None


def page_links(page: Page) -> list[str]:
    """Every http(s) link on the page, absolute, in document order (duplicates kept)."""
    tree = parse_html(page.text)
    if tree is None:
        return []
    base = page.final_url
    base_element = tree.find(".//base[@href]")
    if base_element is not None:
        base = normalise_url(base_element.get("href"), page.final_url) or base
    links = []
    for element in tree.iter("a", "area"):
        href = element.get("href")
        if href is None:
            continue
        link = normalise_url(href, base)
        if link:
            links.append(link)
    return links


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def discover_links(
    fetcher: PageFetcher,
    start_url: str,
    link_pattern: str,
    max_depth: int,
    reporter: Reporter,
    allowed: Callable[[str], bool] | None = None,
    seeds: Iterable[str] = (),
) -> list[str]:
    """Workshop links found from start_url, first-seen order, without duplicates or the start page.

    Only same-site pages are crawled. A link is a result when the pattern matches its absolute URL;
    with a pattern, links to other sites qualify too (studios often link out to a booking platform),
    while an empty pattern keeps every same-site link. `allowed` (robots.txt) says which pages may be
    read while crawling; `seeds` (a sitemap's URLs) count as links found on the start page.
    """
    try:
        pattern = compile_link_pattern(link_pattern or "")
    except InvalidLinkPattern as exc:
        raise DiscoveryError(f"The link pattern {link_pattern!r} is not a valid regular expression: {exc}") from None
    # Pages are read in a helper thread so that this one can watch for a cancel meanwhile.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="discovery") as reader:

        def read(url: str) -> Page:
            return result_unless_stopped(reader.submit(fetcher.get, url), reporter, fetcher.stop)

        if allowed is not None and not allowed(start_url):
            raise DiscoveryError(f"The site's robots.txt disallows the start page {start_url}")
        try:
            start = read(start_url)
        except FetchError as exc:
            raise DiscoveryError(f"Could not read the start page {start_url}: {exc}") from None

        # Depth 0 would crawl nothing and find nothing; the start page's own links are the least useful depth.
        max_depth = max(1, max_depth)
        max_pages = conf.DISCOVERY_MAX_PAGES
        start_pages = {normalise_url(start_url), normalise_url(start.final_url)}
        site_hosts = {_host(start_url), _host(start.final_url)}
        found: dict[str, None] = {}  # an ordered set
        queued = set(start_pages)
        queue: deque[tuple[str, int]] = deque()

        def collect(page: Page, depth: int) -> None:
            for link in page_links(page):
                same_site = _host(link) in site_hosts
                if link not in start_pages and (pattern.search(link) if link_pattern else same_site):
                    found.setdefault(link)
                if same_site and depth < max_depth and link not in queued:
                    queued.add(link)
                    queue.append((link, depth + 1))

        collect(start, 1)
        seeded = 0
        for seed in seeds:
            link = normalise_url(seed)
            if (
                link
                and link not in start_pages
                and (pattern.search(link) if link_pattern else _host(link) in site_hosts)
            ):
                seeded += link not in found
                found.setdefault(link)
        if seeded:
            reporter.log("info", f"The sitemap lists {seeded} more workshop link{'s' if seeded != 1 else ''}")
        pages_fetched = 1
        while queue:
            if pages_fetched >= max_pages:
                reporter.log("warning", f"Stopped crawling after {max_pages} pages (DISCOVERY_MAX_PAGES)")
                break
            if reporter.should_stop():
                raise StopRequested()
            url, depth = queue.popleft()
            if allowed is not None and not allowed(url):
                continue  # robots.txt: not read, so its links are not followed either
            pages_fetched += 1
            try:
                page = read(url)
            except FetchError as exc:
                reporter.log("warning", f"{url}: could not be read while looking for links: {exc}")
                continue
            collect(page, depth)
        return list(found)
