"""A local web site on 127.0.0.1 whose pages, delays and faults a test sets up."""

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Response:
    body: bytes | str = b""
    status: int = 200
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    # Without Content-Length the body simply runs until the connection closes (HTTP/1.0).
    send_length: bool = True
    # Seconds between the body's bytes, sent one at a time: a page that never times out but never ends.
    drip: float = 0.0
    # Sent as the ETag; a request whose If-None-Match names it is answered 304 without a body.
    etag: str | None = None


class LocalSite:
    """Serves Responses by path; a list of Responses is served one per request, the last repeating."""

    def __init__(self):
        self.routes: dict[str, list[Response]] = {}
        self.hits: Counter[str] = Counter()
        # Requests answered 304, and the most requests the site was answering at once.
        self.not_modified: Counter[str] = Counter()
        self.in_flight = self.max_in_flight = 0
        self.user_agents: set[str] = set()
        # While down, every request (also one already waiting out its delay) is dropped unanswered.
        self.down = False
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            wbufsize = 1 << 16  # headers and body in one write, sparing a Nagle delay per request

            def do_GET(self):
                with site._lock:
                    site.in_flight += 1
                    site.max_in_flight = max(site.max_in_flight, site.in_flight)
                try:
                    self._get()
                finally:
                    with site._lock:
                        site.in_flight -= 1

            def _get(self):
                with site._lock:
                    site.hits[self.path] += 1
                    site.user_agents.add(self.headers.get("User-Agent", ""))
                    responses = site.routes.get(self.path) or [Response("not found", status=404)]
                    response = responses[min(site.hits[self.path], len(responses)) - 1]
                if response.delay:
                    time.sleep(response.delay)
                if response.etag and self.headers.get("If-None-Match") == response.etag:
                    with site._lock:
                        site.not_modified[self.path] += 1
                    self.send_response(304)
                    self.send_header("ETag", response.etag)
                    self.end_headers()
                    return
                if site.down:
                    self.close_connection = True  # no answer at all, as from a server going away mid-request
                    return
                body = response.body.encode("utf-8") if isinstance(response.body, str) else response.body
                try:
                    self.send_response(response.status)
                    if response.content_type:
                        self.send_header("Content-Type", response.content_type)
                    if response.send_length:
                        self.send_header("Content-Length", str(len(body)))
                    for name, value in response.headers.items():
                        self.send_header(name, value)
                    if response.etag:
                        self.send_header("ETag", response.etag)
                    self.end_headers()
                    if not response.drip:
                        self.wfile.write(body)
                        return
                    self.wfile.flush()
                    # Past the buffer, so that a client giving up leaves nothing unsent for finish().
                    for index in range(len(body)):
                        self.connection.sendall(body[index : index + 1])
                        time.sleep(response.drip)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout or size cap under test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        # A short poll interval keeps shutdown, and so every test using the site, quick.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self.thread.start()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def add(self, path: str, *responses: Response | str) -> str:
        self.routes[path] = [Response(r) if isinstance(r, str) else r for r in responses]
        return self.url(path)

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        return self.add(path, Response(b"", status=status, headers={"Location": location}))

    def close(self):
        self.server.shutdown()
        self.server.server_close()
