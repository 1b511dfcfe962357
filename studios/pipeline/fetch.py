"""Reading one web page safely: timeouts, a size cap, bounded redirects, retries, no private targets."""

import codecs
import contextlib
import functools
import ipaddress
import re
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from types import ModuleType
from typing import Any, Protocol, Self
from urllib.parse import urljoin, urlsplit

import httpcore
import httpcore2
import httpx
import httpx2

from ..conf import DEFAULTS, conf
from .errors import FetchError, NotHTML, StopRequested, TransientFetchError
from .retry import asked_pause, call_with_retries

HTML_TYPES = {"text/html", "application/xhtml+xml"}
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
USER_AGENT = DEFAULTS["FETCH_USER_AGENT"]

_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
# Browsers look for <meta charset> / http-equiv in the first kilobytes when the header names none.
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_META_SCAN_BYTES = 4096


@dataclass(frozen=True)
class Page:
    url: str
    final_url: str
    status: int
    content_type: str
    text: str
    # Set by the rendering fetcher: the HTML is the DOM after scripts ran; a full-page PNG when asked.
    rendered: bool = False
    screenshot: bytes | None = field(default=None, repr=False)
    # The validators the server sent, for the next run's conditional request.
    etag: str = ""
    last_modified: str = ""
    # A 304 to a conditional request: the page is as it was (`text` is empty).
    not_modified: bool = False


@dataclass(frozen=True)
class Validators:
    """What a conditional request sends: the ETag and Last-Modified of the copy read before."""

    etag: str = ""
    last_modified: str = ""

    def headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


class PageFetcher(Protocol):
    """What discovery and extraction need; a JavaScript-rendering fetcher can satisfy it too.

    Setting `stop` (from the thread that watches for a cancel) aborts the fetches in flight with
    StopRequested.
    """

    stop: threading.Event

    def get(self, url: str, validators: Validators | None = None) -> Page: ...

    def close(self) -> None: ...

    def __enter__(self) -> "PageFetcher": ...

    def __exit__(self, *exc_info: object) -> None: ...


def is_public_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    # is_global is False for private, loopback, link-local, reserved, shared (CGNAT) and unspecified
    # ranges; multicast needs its own test because some multicast ranges count as global.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve_host(host: str, port: int) -> list[str]:
    """The addresses a host name resolves to (scope ids stripped); socket.gaierror when it does not."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # IPv6 link-local results carry a scope ("fe80::1%eth0") that ip_address() rejects.
    return [str(info[4][0]).split("%")[0] for info in infos]


def vetted_addresses(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, all public; FetchError when it does not resolve or any is not."""
    try:
        addresses = resolve_host(host, port)
    except (socket.gaierror, UnicodeError):
        raise FetchError(f"cannot resolve {host}") from None
    for address in addresses:
        ip = ipaddress.ip_address(address)
        if not is_public_address(ip):
            raise FetchError(f"refused private address {ip}")
    return addresses


def url_refusal(url: str) -> str | None:
    """Why this URL cannot be requested at all (scheme, host), or None; no name is resolved."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"unsupported URL scheme {parts.scheme!r}" if parts.scheme else "not an absolute URL"
    try:
        host, _port = parts.hostname, parts.port  # .port raises ValueError when not a number in range
    except ValueError:
        return "invalid URL"
    if not host:
        return "URL has no host"
    return None


def target_refusal(url: str, allow_private: bool | None = None) -> str | None:
    """Why this URL must not be requested (a short reason fit for a log line), or None when it may be.

    For the rendering fetcher, whose browser connects by itself; the HTTP fetcher checks the
    address it connects to instead (VettingBackend).
    """
    reason = url_refusal(url)
    if reason or (conf.FETCH_ALLOW_PRIVATE if allow_private is None else allow_private):
        return reason
    parts = urlsplit(url)
    if not parts.hostname:  # url_refusal() has said so already
        return "URL has no host"
    try:
        vetted_addresses(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except FetchError as exc:
        return str(exc)
    return None


def check_target(url: str) -> None:
    reason = target_refusal(url)
    if reason:
        raise FetchError(reason)


def deadline_passed() -> FetchError:
    return FetchError(f"did not finish within the {conf.FETCH_DEADLINE:g}s deadline (FETCH_DEADLINE)")


# How often a read waiting on a silent server looks at the stop signal.
READ_POLL_INTERVAL = 0.2


class StoppableStream(httpcore.NetworkStream, httpcore2.NetworkStream):
    """A connection (of httpcore, under httpx, or httpcore2, under the LLM client's httpx2) whose
    reads give up soon after the stop signal is set.

    A server that sends its headers and then nothing (or does not answer at all) would otherwise
    hold a cancel, and the worker thread with it, for the whole read timeout.
    """

    def __init__(self, stream: Any, stop: threading.Event, core: ModuleType) -> None:
        self._stream, self._stop, self._core = stream, stop, core

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        give_up = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._stop.is_set():
                raise self._core.ReadError("stopped")
            left = READ_POLL_INTERVAL if give_up is None else min(READ_POLL_INTERVAL, give_up - time.monotonic())
            if left <= 0:
                raise self._core.ReadTimeout("timed out")
            try:
                return self._stream.read(max_bytes, left)
            except self._core.ReadTimeout:
                continue  # nothing was consumed: the next read goes on where this one left off

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, timeout)

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> "StoppableStream":
        return StoppableStream(self._stream.start_tls(ssl_context, server_hostname, timeout), self._stop, self._core)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _ReadsStop:
    """Mixed into a network backend (httpcore's or httpcore2's, named by `core`, under `http`): its
    connections' reads end soon after `stop` is set (StoppableStream)."""

    core: ModuleType
    http: ModuleType

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop

    def connect_tcp(self, *args: Any, **kwargs: Any) -> StoppableStream:
        return StoppableStream(super().connect_tcp(*args, **kwargs), self.stop, self.core)  # type: ignore[misc]


class StoppableBackend(_ReadsStop, httpcore.SyncBackend):
    core, http = httpcore, httpx


class StoppableLLMBackend(_ReadsStop, httpcore2.SyncBackend):
    """For the LLM client, whose httpx2 runs on httpcore2."""

    core, http = httpcore2, httpx2


class VettingBackend(StoppableBackend):
    """Connects to the very addresses that passed the check, so a name that resolves to a public
    address for the check and to a private one a moment later (DNS rebinding) reaches nothing.

    httpcore keeps the name for the Host header and for TLS (SNI, certificate check).
    """

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> StoppableStream:
        if conf.FETCH_ALLOW_PRIVATE:
            return super().connect_tcp(host, port, timeout, local_address, socket_options)
        error: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in vetted_addresses(host, port):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        # vetted_addresses() returns at least one address or raises; should a resolver ever answer
        # with none, this is a connection error, not `raise None` (a TypeError).
        raise error if error is not None else httpcore.ConnectError(f"no address for {host}")


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context for every fetcher of the process: building one reads the whole CA bundle,
    about 20 ms of CPU that, once per fetcher, stalled the server's streams at every run's start."""
    return httpx.create_ssl_context()


def transport_through(backend: _ReadsStop) -> Any:
    """The HTTP transport (httpx's, or httpx2's) whose connections `backend` makes, with the
    process's TLS context and httpx's default limits."""
    transport = backend.http.HTTPTransport(verify=shared_ssl_context())
    # httpx offers no way to choose the network backend, so its connection pool is built again with one.
    transport._pool = backend.core.ConnectionPool(
        ssl_context=shared_ssl_context(),
        network_backend=backend,
        max_connections=100,
        max_keepalive_connections=20,
        keepalive_expiry=5.0,
    )
    return transport


def vetting_transport(stop: threading.Event | None = None) -> httpx.HTTPTransport:
    """httpx's transport, its connections made by VettingBackend; `stop`, once set, aborts the reads in flight."""
    transport: httpx.HTTPTransport = transport_through(VettingBackend(stop or threading.Event()))
    return transport


def _charset(content_type_header: str, body: bytes) -> str:
    match = _HEADER_CHARSET.search(content_type_header) or _META_CHARSET.search(body[:_META_SCAN_BYTES])
    if match:
        name = match.group(1)
        name = name.decode("ascii", "replace") if isinstance(name, bytes) else name
        try:
            return codecs.lookup(name).name
        except LookupError:
            pass
    return "utf-8"


_slots_lock = threading.Lock()
_host_slots: dict[str, threading.BoundedSemaphore] = {}


def _slots(host: str) -> threading.BoundedSemaphore:
    """The process-wide semaphore of a host: FETCH_PER_HOST_CONCURRENCY requests at once, all runs together."""
    with _slots_lock:
        slots = _host_slots.get(host)
        if slots is None:
            slots = _host_slots[host] = threading.BoundedSemaphore(max(1, conf.FETCH_PER_HOST_CONCURRENCY))
        return slots


@contextlib.contextmanager
def host_slot(url: str, stop: threading.Event, deadline: float) -> Iterator[None]:
    """Wait for a free request slot on the URL's host, watching the stop signal and the deadline."""
    slots = _slots((urlsplit(url).netloc or "").lower())
    while not slots.acquire(timeout=0.05):
        if stop.is_set():
            raise StopRequested()
        if time.monotonic() >= deadline:
            raise deadline_passed()
    try:
        yield
    finally:
        slots.release()


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds a Retry-After header asks for (a number of seconds or an HTTP date); None when unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # isdigit() alone takes '²', which float() refuses
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    return max(0.0, moment.timestamp() - time.time())


class Fetcher:
    """Thread-safe HTTP page reader sharing one connection pool; use as a context manager.

    `stats` counts what it did (requests, bytes read, 304 answers), for the run's summary.
    """

    def __init__(self, stop: threading.Event | None = None):
        self.stop = stop or threading.Event()
        self.stats: Counter[str] = Counter()
        self._stats_lock = threading.Lock()
        self._client = httpx.Client(
            transport=vetting_transport(self.stop),
            # Redirects are followed by hand, so that each hop's URL is checked and counted.
            follow_redirects=False,
            # A proxy from the environment would resolve the names itself, past the address check.
            trust_env=False,
            headers={
                "User-Agent": conf.FETCH_USER_AGENT or USER_AGENT,
                "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
            },
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def count(self, **amounts: int) -> None:
        with self._stats_lock:
            self.stats.update(amounts)

    def get(self, url: str, validators: Validators | None = None, any_type: bool = False) -> Page:
        """The page at `url` (after redirects). With `validators`, a conditional request: a 304 answers
        a Page with `not_modified`. `any_type` reads what is not HTML too (robots.txt, sitemaps)."""
        deadline = time.monotonic() + conf.FETCH_DEADLINE
        max_redirects = conf.FETCH_MAX_REDIRECTS
        visited = {url}
        current = url
        for _hop in range(max_redirects + 1):
            reason = url_refusal(current)
            if reason:
                raise FetchError(reason)
            result = call_with_retries(
                functools.partial(self._get_once, current, deadline, validators, any_type),
                retry_on=TransientFetchError,
                retries=conf.FETCH_RETRIES,
                backoff=conf.FETCH_RETRY_BACKOFF,
                stop=self.stop,
                deadline=deadline,
                # 429/503 with Retry-After: the server's pause is waited out, up to FETCH_MAX_RETRY_AFTER.
                server_delay=asked_pause,
                max_server_delay=conf.FETCH_MAX_RETRY_AFTER,
            )
            if isinstance(result, Page):
                return replace(result, url=url)
            if result in visited:
                raise FetchError(f"redirect loop at {result}")
            visited.add(result)
            current = result
        raise FetchError("too many redirects")

    def _get_once(
        self, url: str, deadline: float, validators: Validators | None = None, any_type: bool = False
    ) -> Page | str:
        """One request: a Page, or the absolute URL a redirect points to."""
        timeout = conf.FETCH_TIMEOUT
        max_bytes = conf.FETCH_MAX_BYTES
        headers = validators.headers() if validators else {}
        try:
            with host_slot(url, self.stop, deadline):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise deadline_passed()
                with self._client.stream("GET", url, timeout=min(timeout, left), headers=headers) as response:
                    self.count(requests=1)
                    status = response.status_code
                    if status in REDIRECT_STATUSES:
                        location = response.headers.get("location")
                        if not location:
                            raise FetchError(f"HTTP {status} without a Location header")
                        return urljoin(url, location.strip())
                    if status == 304 and headers:
                        self.count(not_modified=1)
                        return Page(
                            url=url,
                            final_url=url,
                            status=304,
                            content_type="text/html",
                            text="",
                            not_modified=True,
                            etag=validators.etag if validators else "",
                            last_modified=validators.last_modified if validators else "",
                        )
                    if status == 429 or status >= 500:
                        raise TransientFetchError(
                            f"HTTP {status}", retry_after_seconds(response.headers.get("retry-after"))
                        )
                    if not 200 <= status < 300:
                        raise FetchError(f"HTTP {status}")
                    content_type_header = response.headers.get("content-type", "")
                    mime = content_type_header.split(";")[0].strip().lower()
                    # Many small sites send no Content-Type at all; their pages are still HTML.
                    if mime and mime not in HTML_TYPES and not any_type:
                        raise NotHTML(f"not HTML ({mime})")
                    body = self._read_capped(response, max_bytes, deadline)
                    self.count(bytes=len(body))
                    etag = response.headers.get("etag", "")
                    last_modified = response.headers.get("last-modified", "")
        except httpx.TimeoutException:
            if time.monotonic() >= deadline:
                raise deadline_passed() from None
            raise TransientFetchError(f"timed out after {timeout:g}s") from None
        except httpx.TransportError as exc:
            if self.stop.is_set():
                raise StopRequested() from None
            raise TransientFetchError(f"connection failed ({exc or type(exc).__name__})") from None
        except httpx.HTTPError as exc:  # e.g. a body that does not decompress
            raise FetchError(f"unreadable response ({exc or type(exc).__name__})") from None
        except httpx.InvalidURL:
            raise FetchError("invalid URL") from None
        text = body.decode(_charset(content_type_header, body), errors="replace")
        return Page(
            url=url,
            final_url=url,
            status=status,
            content_type=mime or "text/html",
            text=text,
            etag=etag[:500],
            last_modified=last_modified[:100],
        )

    def _read_capped(self, response: httpx.Response, max_bytes: int, deadline: float) -> bytes:
        too_big = FetchError(f"response over {max_bytes} bytes")
        declared = response.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
            raise too_big
        chunks: list[bytes] = []
        size = 0
        # iter_bytes() yields decompressed data, so a small gzip bomb is caught too.
        for chunk in response.iter_bytes():
            # A page may trickle in within every read timeout and still never end.
            if self.stop.is_set():
                raise StopRequested()
            if time.monotonic() >= deadline:
                raise deadline_passed()
            size += len(chunk)
            if size > max_bytes:
                raise too_big
            chunks.append(chunk)
        return b"".join(chunks)
