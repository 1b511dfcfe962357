"""The studios app's settings, each with a default, so a project that sets none of them still works.

Read them as ``conf.FETCH_TIMEOUT``: the project's value when its settings define one, else the
default below (streaming.conf.AppSettings, looked up on every access).
"""

from typing import Any

from streaming.conf import AppSettings

DEFAULTS: dict[str, Any] = {
    # Reading pages: private addresses (127.0.0.1, 10.x, ...) are refused unless allowed; seconds one
    # request may take; the largest body read; redirects followed; retries of a failed fetch and the
    # seconds before the first (doubling after each).
    "FETCH_ALLOW_PRIVATE": False,
    "FETCH_TIMEOUT": 10.0,
    "FETCH_MAX_BYTES": 5 * 1024 * 1024,
    "FETCH_MAX_REDIRECTS": 5,
    "FETCH_RETRIES": 2,
    "FETCH_RETRY_BACKOFF": 0.5,
    # Seconds one link may take in all: retries, redirects and the body (or the rendering) included.
    "FETCH_DEADLINE": 30.0,
    # Polite crawling: the User-Agent pages and robots.txt see, requests at once per host (all runs of
    # a process), and the longest Retry-After (429/503) a fetch waits out before the link fails.
    "FETCH_USER_AGENT": "Mozilla/5.0 (compatible; studio-workshops/1.0)",
    "FETCH_PER_HOST_CONCURRENCY": 4,
    "FETCH_MAX_RETRY_AFTER": 30.0,
    # Pages of a studio's site discovery reads, and links one run processes at most.
    "DISCOVERY_MAX_PAGES": 200,
    "MAX_LINKS_PER_RUN": 500,
    # The fuzzy-match score (0-100) at which an artist's name is taken for a known artist.
    "ARTIST_MATCH_THRESHOLD": 85.0,
    # JavaScript rendering (studios with render_js): headless Chromium through Playwright.
    "CHROMIUM_PATH": "/usr/bin/chromium",
    "RENDER_TIMEOUT": 15.0,
    # LLM extraction through any OpenAI-compatible chat-completions endpoint; off until LLM_MODEL and
    # LLM_BASE_URL or LLM_API_KEY are set.
    "LLM_BASE_URL": "",
    "LLM_API_KEY": "",
    "LLM_MODEL": "",
    "LLM_TIMEOUT": 60.0,
    "LLM_MAX_RETRIES": 3,
    "LLM_RETRY_BACKOFF": 1.0,
    "LLM_TEXT_BUDGET": 12000,
    "LLM_SCREENSHOTS": True,
    # Estimated cost: US dollars per million input (prompt) and output (completion) tokens; 0 shows none.
    "LLM_PRICE_INPUT_PER_MTOK": 0.0,
    "LLM_PRICE_OUTPUT_PER_MTOK": 0.0,
    # Webhooks: attempts per delivery in all, seconds before the first retry (doubling after each),
    # seconds one attempt may take, and the threads that send them (apart from the runs').
    "WEBHOOK_MAX_ATTEMPTS": 5,
    "WEBHOOK_RETRY_BACKOFF": 30.0,
    "WEBHOOK_TIMEOUT": 10.0,
    "WEBHOOK_WORKERS": 4,
    # Refresh schedules: hours between refreshes for new studios (0: off); the scheduler that starts
    # due studios runs inside each server process unless SCHEDULER_IN_PROCESS is off, every
    # SCHEDULER_INTERVAL seconds.
    "REFRESH_DEFAULT_INTERVAL": 0,
    "SCHEDULER_IN_PROCESS": True,
    "SCHEDULER_INTERVAL": 30.0,
}

conf = AppSettings(DEFAULTS)
