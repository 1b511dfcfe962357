"""Polite crawling: a site's robots.txt (read with Protego) and its sitemap, once per host and run."""

import logging
import threading
from urllib.parse import urlsplit, urlunsplit

import lxml.etree
from protego import Protego

from ..conf import conf
from .errors import FetchError, StopRequested
from .fetch import Fetcher

logger = logging.getLogger(__name__)

# Enough for any studio; a sitemap index is followed this many sitemaps deep, one level.
MAX_SITEMAP_URLS = 10_000
MAX_CHILD_SITEMAPS = 5
_XML_PARSER = lxml.etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.lower(), "", "", ""))


class SiteRules:
    """What robots.txt allows, host by host; thread-safe (worker threads ask it before each link).

    A robots.txt that is missing (4xx) allows everything, as RFC 9309 says; one that cannot be read
    (5xx, no connection) allows everything too, with a note for the run's log, so that a flaky
    robots.txt does not stop a studio's refresh. With `respect` off everything is allowed.
    """

    def __init__(self, fetcher: Fetcher, respect: bool = True) -> None:
        self.fetcher = fetcher
        self.respect = respect
        self.user_agent = conf.FETCH_USER_AGENT
        self._parsed: dict[str, Protego | None] = {}
        self._lock = threading.Lock()
        self.notes: list[tuple[str, str]] = []
        # Sites whose robots.txt could not be reached at all: their sitemap is not tried either.
        self.unreachable: set[str] = set()

    def _rules(self, url: str) -> Protego | None:
        origin = _origin(url)
        with self._lock:
            if origin in self._parsed:
                return self._parsed[origin]
        rules = None
        try:
            page = self.fetcher.get(f"{origin}/robots.txt", any_type=True)
            rules = Protego.parse(page.text)
        except StopRequested:
            raise
        except FetchError as exc:
            if "HTTP 4" not in str(exc):
                self.unreachable.add(origin)
                self.notes.append(
                    ("warning", f"{origin}/robots.txt could not be read ({exc}); crawling as if it allowed everything")
                )
        with self._lock:
            self._parsed.setdefault(origin, rules)
            return self._parsed[origin]

    def allowed(self, url: str) -> bool:
        if not self.respect:
            return True
        rules = self._rules(url)
        return rules is None or rules.can_fetch(url, self.user_agent)

    def sitemaps(self, url: str) -> list[str]:
        """The sitemaps robots.txt names for the URL's site, else its /sitemap.xml."""
        rules = self._rules(url)
        named = list(rules.sitemaps) if rules is not None else []
        return named or [f"{_origin(url)}/sitemap.xml"]


def _locations(text: str) -> tuple[bool, list[str]]:
    """(is a sitemap index, the <loc> URLs) of a sitemap document; (False, []) when it is not one."""
    try:
        root = lxml.etree.fromstring(text.encode("utf-8"), parser=_XML_PARSER)
    except (lxml.etree.XMLSyntaxError, ValueError):
        return False, []
    if root is None:
        return False, []
    is_index = lxml.etree.QName(root).localname == "sitemapindex"
    urls = [loc.text.strip() for loc in root.iter("{*}loc") if loc.text and loc.text.strip()]
    return is_index, urls[:MAX_SITEMAP_URLS]


def sitemap_urls(fetcher: Fetcher, rules: SiteRules, start_url: str) -> list[str]:
    """The page URLs a site's sitemap lists (a sitemap index followed one level); [] when it has none."""
    found: list[str] = []
    queue = rules.sitemaps(start_url)
    if _origin(start_url) in rules.unreachable:
        return []  # discovery says why the site cannot be read
    followed = 0
    while queue and followed <= MAX_CHILD_SITEMAPS and len(found) < MAX_SITEMAP_URLS:
        sitemap = queue.pop(0)
        followed += 1
        try:
            page = fetcher.get(sitemap, any_type=True)
        except StopRequested:
            raise
        except FetchError:
            continue  # most sites have none; that is no fault
        is_index, urls = _locations(page.text)
        if is_index:
            queue.extend(urls[:MAX_CHILD_SITEMAPS])
        else:
            found.extend(urls)
    return found[:MAX_SITEMAP_URLS]
