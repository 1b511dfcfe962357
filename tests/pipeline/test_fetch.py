import ipaddress
import socket
import threading
import time

import pytest

from studios.pipeline import fetch
from studios.pipeline.errors import FetchError, NotHTML
from studios.pipeline.fetch import Fetcher
from tests.sites import Response


def get(url):
    with Fetcher() as fetcher:
        return fetcher.get(url)


def test_reads_an_html_page(site):
    url = site.add("/class", "<html><body>Salsa tonight</body></html>")
    page = get(url)
    assert page.status == 200
    assert page.url == page.final_url == url
    assert page.content_type == "text/html"
    assert "Salsa tonight" in page.text


def test_404_fails_at_once_without_retrying(site):
    url = site.add("/gone", Response("gone", status=404))
    with pytest.raises(FetchError, match="^HTTP 404$"):
        get(url)
    assert site.hits["/gone"] == 1


def test_server_error_is_retried_until_it_succeeds(site):
    url = site.add("/flaky", Response("oops", status=500), Response("oops", status=503), "<p>finally</p>")
    assert "finally" in get(url).text
    assert site.hits["/flaky"] == 3


def test_retries_are_bounded_by_the_setting(site, settings):
    settings.FETCH_RETRIES = 1
    url = site.add("/down", Response("down", status=502))
    with pytest.raises(FetchError, match="HTTP 502"):
        get(url)
    assert site.hits["/down"] == 2


def test_too_many_requests_is_retried(site):
    url = site.add("/busy", Response("slow down", status=429), "<p>ok</p>")
    assert "ok" in get(url).text
    assert site.hits["/busy"] == 2


def test_timeout_is_retried_then_reported(site, settings):
    settings.FETCH_TIMEOUT = 0.2
    settings.FETCH_RETRIES = 1
    url = site.add("/slow", Response("<p>late</p>", delay=1.0))
    with pytest.raises(FetchError, match=r"^timed out after 0\.2s$"):
        get(url)
    assert site.hits["/slow"] == 2


def test_declared_oversized_response_is_refused(site, settings):
    settings.FETCH_MAX_BYTES = 1000
    url = site.add("/big", "x" * 5000)
    with pytest.raises(FetchError, match="^response over 1000 bytes$"):
        get(url)


def test_undeclared_oversized_response_is_cut_off_while_streaming(site, settings):
    settings.FETCH_MAX_BYTES = 1000
    url = site.add("/stream", Response("x" * 50_000, send_length=False))
    with pytest.raises(FetchError, match="^response over 1000 bytes$"):
        get(url)


def test_response_at_the_size_cap_is_accepted(site, settings):
    settings.FETCH_MAX_BYTES = 1000
    url = site.add("/exact", Response("x" * 1000, send_length=False))
    assert len(get(url).text) == 1000


def test_redirects_are_followed(site):
    final = site.add("/new", "<p>moved here</p>")
    start = site.redirect("/old", "/new", status=301)
    page = get(start)
    assert page.url == start
    assert page.final_url == final
    assert "moved here" in page.text


def test_redirect_loop_is_detected(site):
    site.redirect("/a", "/b")
    url = site.redirect("/b", "/a")
    with pytest.raises(FetchError, match="redirect loop"):
        get(url)
    assert site.hits["/a"] == 1


def test_redirect_chain_longer_than_the_limit_fails(site, settings):
    settings.FETCH_MAX_REDIRECTS = 2
    for n in range(4):
        site.redirect(f"/hop{n}", f"/hop{n + 1}")
    site.add("/hop4", "<p>end</p>")
    with pytest.raises(FetchError, match="^too many redirects$"):
        get(site.url("/hop0"))
    assert site.hits["/hop3"] == 0


def test_loopback_is_refused_unless_allowed(site, settings):
    settings.FETCH_ALLOW_PRIVATE = False
    url = site.add("/local", "<p>internal</p>")
    with pytest.raises(FetchError, match="^refused private address 127.0.0.1$"):
        get(url)
    assert site.hits["/local"] == 0


def test_redirect_to_a_private_address_is_refused(site, settings, monkeypatch):
    # Pretend the test site's loopback address is public, so the first hop passes the check.
    settings.FETCH_ALLOW_PRIVATE = False
    real_check = fetch.is_public_address
    monkeypatch.setattr(fetch, "is_public_address", lambda ip: ip.is_loopback or real_check(ip))
    url = site.redirect("/out", "http://10.0.0.1/admin")
    with pytest.raises(FetchError, match="^refused private address 10.0.0.1$"):
        get(url)
    assert site.hits["/out"] == 1


@pytest.mark.parametrize(
    "address, public",
    [
        ("93.184.216.34", True),
        ("10.0.0.1", False),
        ("192.168.1.10", False),
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("::ffff:10.0.0.1", False),
        ("2606:4700::1111", True),
    ],
)
def test_address_classification(address, public):
    assert fetch.is_public_address(ipaddress.ip_address(address)) is public


def test_non_http_urls_are_refused():
    with pytest.raises(FetchError, match="unsupported URL scheme 'ftp'"):
        get("ftp://example.com/file")


def test_non_html_is_skipped_as_not_html(site):
    url = site.add("/flyer.pdf", Response(b"%PDF-1.4", content_type="application/pdf"))
    with pytest.raises(NotHTML, match=r"^not HTML \(application/pdf\)$"):
        get(url)


def test_missing_content_type_is_read_as_html(site):
    url = site.add("/bare", Response("<p>plain server</p>", content_type=None))
    assert "plain server" in get(url).text


def test_declared_charset_is_used(site):
    url = site.add(
        "/latin", Response("<p>Café Olé</p>".encode("latin-1"), content_type="text/html; charset=ISO-8859-1")
    )
    assert "Café Olé" in get(url).text


def test_meta_charset_is_used_when_the_header_has_none(site):
    body = '<html><head><meta charset="windows-1252"></head><body>“Encore”</body></html>'.encode("cp1252")
    url = site.add("/meta", Response(body, content_type="text/html"))
    assert "“Encore”" in get(url).text


def test_bad_bytes_are_replaced_not_raised(site):
    url = site.add("/broken", Response(b"<p>ok \xff\xfe bytes</p>", content_type="text/html; charset=utf-8"))
    text = get(url).text
    assert "ok" in text and "bytes" in text and "\ufffd" in text


def test_unknown_charset_falls_back_to_utf8(site):
    url = site.add("/odd", Response("<p>naïve</p>".encode(), content_type="text/html; charset=x-klingon"))
    assert "naïve" in get(url).text


def test_one_fetcher_serves_many_threads(site):
    for n in range(8):
        site.add(f"/p{n}", f"<p>page {n}</p>")
    results = {}
    with Fetcher() as fetcher:
        threads = [
            threading.Thread(target=lambda n=n: results.__setitem__(n, fetcher.get(site.url(f"/p{n}")).text))
            for n in range(8)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert all(f"page {n}" in results[n] for n in range(8))


def test_connection_refused_is_retried_then_reported(settings):
    settings.FETCH_RETRIES = 1
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FetchError, match="^connection failed"):
        get(f"http://127.0.0.1:{port}/")


def test_a_page_dripping_one_byte_at_a_time_fails_at_the_fetch_deadline(site, settings):
    # Each byte comes well within FETCH_TIMEOUT, so only a deadline on the whole fetch ends it.
    settings.FETCH_DEADLINE = 1.5
    url = site.add("/drip", Response("<p>" + "x" * 60 + "</p>", drip=0.2))
    started = time.monotonic()
    with pytest.raises(FetchError, match="^did not finish within the 1.5s deadline"):
        get(url)
    assert time.monotonic() - started < 10  # the page alone would take 13s, every retry as long again


def test_a_host_resolving_elsewhere_the_second_time_cannot_reach_a_private_address(site, settings, monkeypatch):
    """DNS rebinding: the name passes the address check as public, then points at the private site."""
    settings.FETCH_ALLOW_PRIVATE = False
    site.add("/admin", "<p>internal</p>")
    real_getaddrinfo, real_create_connection = socket.getaddrinfo, socket.create_connection
    answers = iter(["8.8.8.8"])  # the first lookup is public, every later one the private site

    def rebinding_getaddrinfo(host, port, *args, **kwargs):
        if host == "rebinding.test":
            host = next(answers, "127.0.0.1")
        return real_getaddrinfo(host, port, *args, **kwargs)

    def create_connection(address, *args, **kwargs):
        try:
            public = not ipaddress.ip_address(address[0]).is_loopback
        except ValueError:  # a name, which the connection resolves itself
            public = False
        if public:
            raise ConnectionRefusedError("tests never reach the internet")
        return real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    with pytest.raises(FetchError):
        get(f"http://rebinding.test:{site.port}/admin")
    assert site.hits["/admin"] == 0
