"""Reading pages through headless Chromium, for studios whose sites build their pages with JavaScript.

``RenderingFetcher`` satisfies the same ``PageFetcher`` protocol as the HTTP ``Fetcher``, so discovery
and link processing use it unchanged. One browser serves a whole studio run:

* Playwright's API is bound to the thread (and event loop) that started it, while ``process_studio``
  calls ``get()`` from a pool of worker threads. So the fetcher owns one private thread running an
  asyncio loop with the *async* Playwright API, and ``get()`` hands it coroutines through
  ``asyncio.run_coroutine_threadsafe``. A semaphore keeps at most ``concurrency`` pages open.
  Nothing on that thread touches Django's ORM.
* A page is read once the network has settled (``networkidle``), waiting at most ``RENDER_TIMEOUT``;
  a page that never goes quiet (polling, analytics) is read as it stands when the time is up.
* The same targets are refused as by the HTTP fetcher: the URL is checked before navigating, and,
  unless ``FETCH_ALLOW_PRIVATE``, every request the page makes passes a route guard. Chromium follows
  redirects without asking the route again, so the guard fetches with redirects off and follows them
  itself, checking each hop; a redirect of the page itself becomes a new, checked navigation.
* Politeness is the HTTP fetcher's: a page takes one of its host's ``FETCH_PER_HOST_CONCURRENCY``
  slots (shared with plain fetches, across all runs of the process) while it renders, and a
  ``429``/``503`` with ``Retry-After`` is waited out up to ``FETCH_MAX_RETRY_AFTER``.
* ``close()`` (also on leaving the ``with`` block, whatever ended it) closes the browser and stops
  the Playwright driver, so no Chromium process outlives the run.
"""

import asyncio
import contextlib
import logging
import shutil
import threading
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Self, TypeVar
from urllib.parse import urljoin, urlsplit

from ..conf import conf
from .errors import FetchError, NotHTML, RenderingUnavailable, StopRequested, TransientFetchError
from .fetch import (
    HTML_TYPES,
    REDIRECT_STATUSES,
    USER_AGENT,
    Page,
    Validators,
    check_target,
    deadline_passed,
    host_slot,
    retry_after_seconds,
    target_refusal,
)
from .retry import asked_pause, call_with_retries

if TYPE_CHECKING:
    # Imported where used at run time: without the playwright package, render_js studios fail alone.
    from playwright.async_api import (
        Browser,
        BrowserContext,
        FloatRect,
        Playwright,
        Response,
        Route,
        ViewportSize,
        WebSocketRoute,
    )
    from playwright.async_api import Page as Tab

logger = logging.getLogger(__name__)

T = TypeVar("T")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT: "ViewportSize" = {"width": 1280, "height": 900}
# A full-page screenshot of an endless page would be huge; vision models scale images down anyway.
SCREENSHOT_MAX_HEIGHT = 8000
LAUNCH_TIMEOUT = 30.0
# How often a caller waiting for a page looks at the stop signal.
STOP_CHECK_INTERVAL = 0.1
CLOSE_TIMEOUT = 15.0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _ms(seconds: float) -> float:
    return max(seconds, 0.001) * 1000


class RenderingFetcher:
    """Thread-safe page reader through one headless Chromium; use as a context manager."""

    def __init__(self, concurrency: int = 5, *, screenshots: bool = False, stop: threading.Event | None = None):
        self.stop = stop or threading.Event()
        # Whether get() also captures a full-page PNG (for the LLM); process_studio turns it on for the
        # workshop links only, not for the pages discovery crawls.
        self.screenshots = screenshots
        self.concurrency = max(1, int(concurrency or 1))
        self.timeout = conf.RENDER_TIMEOUT
        self.allow_private = conf.FETCH_ALLOW_PRIVATE
        self.max_bytes = conf.FETCH_MAX_BYTES
        self.max_redirects = conf.FETCH_MAX_REDIRECTS
        self.retries = conf.FETCH_RETRIES
        self.backoff = conf.FETCH_RETRY_BACKOFF
        self.blocked: list[str] = []  # requests the route guard refused, for the record (and tests)
        self.peak_pages = 0  # the most pages open at once
        self._open_pages = 0
        self._verdicts: dict[Tab, str | FetchError] = {}  # a redirect target or a FetchError, set by the guard
        self._idle_pages: list[Tab] = []
        self._refusals: dict[str, str | None] = {}
        # Set by _start() on the loop; None until then, and where the launch failed half-way.
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._context: BrowserContext | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._closed = False

        executable = shutil.which(conf.CHROMIUM_PATH)
        if executable is None:
            raise RenderingUnavailable(
                f"JavaScript rendering needs Chromium, which was not found at {conf.CHROMIUM_PATH} "
                "(install it with apt-get install chromium, or set CHROMIUM_PATH)"
            )
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="chromium-renderer", daemon=True)
        self._thread.start()
        started = False
        try:
            self._call(self._start(executable), LAUNCH_TIMEOUT + 5)
            started = True
        except RenderingUnavailable:
            raise
        except Exception as exc:
            raise RenderingUnavailable(f"Chromium at {executable} did not start: {_first_line(exc)}") from None
        finally:
            # Whatever stopped the launch (Ctrl-C included), no half-started browser is left behind.
            if not started:
                self.close()

    # --- the calling threads' side ----------------------------------------------------------------

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def get(self, url: str, validators: Validators | None = None) -> Page:
        """The rendered page; `validators` are not used (a browser's load is not conditional: the content hash decides)."""
        check_target(url)
        deadline = time.monotonic() + conf.FETCH_DEADLINE
        return call_with_retries(
            lambda: self._get_once(url, deadline),
            retry_on=TransientFetchError,
            retries=self.retries,
            backoff=self.backoff,
            stop=self.stop,
            deadline=deadline,
            # As for plain fetches: 429/503 with Retry-After is waited out, up to FETCH_MAX_RETRY_AFTER.
            server_delay=asked_pause,
            max_server_delay=conf.FETCH_MAX_RETRY_AFTER,
        )

    def _get_once(self, url: str, deadline: float) -> Page:
        # The host's slot is shared with plain fetches (FETCH_PER_HOST_CONCURRENCY across all runs),
        # taken here on the calling thread so that a waiting page blocks no other host's on the loop.
        with host_slot(url, self.stop, deadline):
            return self._call(self._render(url), self.timeout * 3 + 10, deadline)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._thread.is_alive():
            try:
                asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(CLOSE_TIMEOUT)
            except Exception:
                logger.warning("Closing Chromium failed", exc_info=True)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(CLOSE_TIMEOUT)
        if not self._thread.is_alive():
            self._loop.close()

    def _call(self, coroutine: Coroutine[Any, Any, T], timeout: float, deadline: float | None = None) -> T:
        """The coroutine's result from the browser's loop, cancelling it when `timeout` seconds or the
        `deadline` (a time.monotonic() value) pass, or a stop is signalled."""
        if self._closed:
            coroutine.close()
            raise FetchError("the browser is already closed")
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        limit = time.monotonic() + timeout
        end = limit if deadline is None else min(limit, deadline)
        while True:
            try:
                return future.result(min(STOP_CHECK_INTERVAL, max(end - time.monotonic(), 0)))
            except TimeoutError:
                if self.stop.is_set():
                    future.cancel()
                    raise StopRequested() from None
                if time.monotonic() < end:
                    continue
                future.cancel()
                if deadline is not None and deadline <= limit:
                    raise deadline_passed() from None
                raise TransientFetchError(f"rendering did not finish within {timeout:g}s") from None

    # --- the event loop's side (no ORM here) ------------------------------------------------------

    async def _start(self, executable: str) -> None:
        try:
            from playwright.async_api import async_playwright
        except ImportError:
            raise RenderingUnavailable(
                "JavaScript rendering needs the playwright package (pip install -r requirements.txt)"
            ) from None
        self._semaphore = asyncio.Semaphore(self.concurrency)
        self._playwright = playwright = await async_playwright().start()
        self._browser = browser = await playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True, timeout=_ms(LAUNCH_TIMEOUT)
        )
        self._context = context = await browser.new_context(
            user_agent=conf.FETCH_USER_AGENT or USER_AGENT,
            viewport=VIEWPORT,
            accept_downloads=False,
            service_workers="block",
        )
        if not self.allow_private:
            await context.route("**/*", self._guard)
            if hasattr(context, "route_web_socket"):
                await context.route_web_socket("**/*", self._guard_web_socket)

    def _started(self) -> tuple[asyncio.Semaphore, "BrowserContext"]:
        """The page limit and the browser context; only a started fetcher has them (__init__ raises otherwise)."""
        if self._semaphore is None or self._context is None:
            raise FetchError("the browser is not running")
        return self._semaphore, self._context

    async def _stop(self) -> None:
        for closing in (
            lambda: self._context and self._context.close(),
            lambda: self._browser and self._browser.close(),
            lambda: self._playwright and self._playwright.stop(),
        ):
            try:
                awaitable = closing()
                if awaitable:
                    await awaitable
            except Exception:
                logger.warning("Error while closing Chromium", exc_info=True)

    async def _refusal(self, url: str) -> str | None:
        """target_refusal() with private addresses refused, resolved off the loop and cached per host."""
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        if key not in self._refusals:
            loop = asyncio.get_running_loop()
            self._refusals[key] = await loop.run_in_executor(None, target_refusal, url, False)
        return self._refusals[key]

    def _refuse(self, url: str, reason: str, page: "Tab | None" = None) -> None:
        self.blocked.append(url)
        if page is not None:
            self._verdicts[page] = FetchError(reason)

    async def _guard(self, route: "Route") -> None:
        """Every request of every page: refuse private targets, follow redirects hop by hop."""
        from playwright.async_api import Error as PlaywrightError

        request = route.request
        url = request.url
        if urlsplit(url).scheme not in ("http", "https"):
            await route.continue_()
            return
        frame = request.frame if request.is_navigation_request() else None
        page = frame.page if frame is not None and frame.parent_frame is None else None
        try:
            reason = await self._refusal(url)
            if reason:
                self._refuse(url, reason, page)
                await route.abort("blockedbyclient")
                return
            response = await route.fetch(max_redirects=0, timeout=_ms(self.timeout))
            current, hops = url, 0
            while response.status in REDIRECT_STATUSES and response.headers.get("location"):
                target = urljoin(current, response.headers["location"].strip())
                if page is not None:
                    # The page itself moves: navigate again (and check again) so its URL is the final one.
                    self._verdicts[page] = target
                    await route.abort("aborted")
                    return
                hops += 1
                reason = "too many redirects" if hops > self.max_redirects else await self._refusal(target)
                if reason:
                    self._refuse(target, reason)
                    await route.abort("blockedbyclient")
                    return
                response = await self._started()[1].request.get(target, max_redirects=0, timeout=_ms(self.timeout))
                current = target
            if page is not None:
                body = await response.body()
                if len(body) > self.max_bytes:
                    self._verdicts[page] = FetchError(f"response over {self.max_bytes} bytes")
                    await route.abort("failed")
                    return
            await route.fulfill(response=response)
        except PlaywrightError:
            with contextlib.suppress(PlaywrightError):  # the page went away meanwhile
                await route.abort("failed")

    async def _guard_web_socket(self, ws: "WebSocketRoute") -> None:
        reason = await self._refusal(ws.url.replace("ws", "http", 1))
        if reason:
            self.blocked.append(ws.url)
            await ws.close()
        else:
            ws.connect_to_server()

    async def _render(self, url: str) -> Page:
        from playwright.async_api import Error as PlaywrightError
        from playwright.async_api import TimeoutError as PlaywrightTimeoutError

        semaphore, context = self._started()
        async with semaphore:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.timeout
            # Opening a tab costs a renderer process; a finished page's tab serves the next one.
            page = self._idle_pages.pop() if self._idle_pages else await context.new_page()
            self._open_pages += 1
            self.peak_pages = max(self.peak_pages, self._open_pages)
            reusable = False
            try:
                response = await self._navigate(page, url, deadline, PlaywrightError, PlaywrightTimeoutError)
                status = response.status if response is not None else 200
                if status == 429 or status >= 500:
                    raise TransientFetchError(
                        f"HTTP {status}", retry_after_seconds(response.headers.get("retry-after") if response else None)
                    )
                if not 200 <= status < 300:
                    raise FetchError(f"HTTP {status}")
                mime = ((response.headers.get("content-type") if response else "") or "").split(";")[0].strip().lower()
                if mime and mime not in HTML_TYPES:
                    raise NotHTML(f"not HTML ({mime})")
                # The network may never go quiet within RENDER_TIMEOUT: then the page is read as it stands.
                with contextlib.suppress(PlaywrightTimeoutError):
                    await page.wait_for_load_state("networkidle", timeout=_ms(deadline - loop.time()))
                html = await self._content(page, PlaywrightError)
                if len(html.encode("utf-8")) > self.max_bytes:
                    raise FetchError(f"response over {self.max_bytes} bytes")
                screenshot = await self._screenshot(page) if self.screenshots else None
                reusable = True
                return Page(
                    url=url,
                    final_url=page.url,
                    status=status,
                    content_type=mime or "text/html",
                    text=html,
                    rendered=True,
                    screenshot=screenshot,
                )
            except TransientFetchError:
                raise  # a timeout or a broken connection may leave the tab mid-navigation: not reused
            except FetchError:
                reusable = True  # the page answered (an HTTP error, not HTML, too big): the tab is fine
                raise
            finally:
                self._open_pages -= 1
                self._verdicts.pop(page, None)
                if reusable and not page.is_closed():
                    self._idle_pages.append(page)
                else:
                    with contextlib.suppress(PlaywrightError):
                        await page.close()

    async def _navigate(
        self,
        page: "Tab",
        url: str,
        deadline: float,
        PlaywrightError: type[Exception],
        PlaywrightTimeoutError: type[Exception],
    ) -> "Response | None":
        """page.goto() up to DOMContentLoaded, following (and checking) redirects of the page itself."""
        loop = asyncio.get_running_loop()
        current, visited = url, {url}
        for _hop in range(self.max_redirects + 1):
            try:
                return await page.goto(current, wait_until="domcontentloaded", timeout=_ms(deadline - loop.time()))
            except PlaywrightTimeoutError:
                raise TransientFetchError(f"timed out after {self.timeout:g}s") from None
            except PlaywrightError as exc:
                verdict = self._verdicts.pop(page, None)
                if isinstance(verdict, FetchError):
                    raise verdict from None
                if not isinstance(verdict, str):
                    raise self._navigation_error(exc) from None
            if verdict in visited:
                raise FetchError(f"redirect loop at {verdict}")
            reason = await self._refusal(verdict)
            if reason:
                self.blocked.append(verdict)
                raise FetchError(reason)
            visited.add(verdict)
            current = verdict
        raise FetchError("too many redirects")

    @staticmethod
    def _navigation_error(exc: Exception) -> FetchError:
        message = _first_line(exc)
        if "Download is starting" in message:
            return NotHTML("not HTML (the browser would download it)")
        if "net::ERR_" in message:
            code = message[message.index("net::ERR_") :].split()[0]
            return TransientFetchError(f"connection failed ({code})")
        if "interrupted by another navigation" in message:
            return TransientFetchError("the page navigated away while loading")
        return FetchError(f"rendering failed: {message}")

    @staticmethod
    async def _content(page: "Tab", PlaywrightError: type[Exception]) -> str:
        try:
            return await page.content()
        except PlaywrightError:
            # A script navigated while we read; read the page it went to.
            await page.wait_for_load_state("domcontentloaded")
            return await page.content()

    async def _screenshot(self, page: "Tab") -> bytes | None:
        try:
            height = await page.evaluate(
                "() => Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0)"
            )
            clip: FloatRect | None = None
            if height and height > SCREENSHOT_MAX_HEIGHT:
                clip = {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": SCREENSHOT_MAX_HEIGHT}
            return await page.screenshot(full_page=True, type="png", timeout=_ms(self.timeout), clip=clip)
        except Exception:
            # The text still goes to the LLM; a missing picture must not fail the link.
            logger.warning("Screenshot of %s failed", page.url, exc_info=True)
            return None
