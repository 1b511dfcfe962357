"""Every fault a studio's pages can throw at a run: a log line naming the link, and the run goes on."""

import json
import socket
import time

import pytest

from studios.models import Studio, Workshop
from studios.pipeline import fetch
from studios.pipeline.errors import DiscoveryError
from studios.pipeline.process import process_studio
from tests.pipeline.support import FakeReporter
from tests.sites import LocalSite, Response

pytestmark = pytest.mark.django_db

GOOD_EVENT = """<html><head><script type="application/ld+json">{event}</script></head><body>ok</body></html>"""


def event_json(name, day=1, ensure_ascii=True):
    return json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "DanceEvent",
            "name": name,
            "startDate": f"2099-02-{day:02d}T18:00:00+05:30",
            "workPerformed": {"@type": "CreativeWork", "name": f"{name} song"},
        },
        ensure_ascii=ensure_ascii,
    )


@pytest.fixture
def unaccepting_port():
    """A port whose listen queue is full: connecting to it times out instead of being refused."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(listener.getsockname())
        fillers.append(filler)
    time.sleep(0.1)
    yield listener.getsockname()[1]
    for sock in [*fillers, listener]:
        sock.close()


@pytest.fixture
def closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.fixture
def fault_site(settings, monkeypatch, unaccepting_port, closed_port):
    settings.FETCH_TIMEOUT = 1
    settings.FETCH_RETRIES = 1
    settings.FETCH_RETRY_BACKOFF = 0.01
    settings.FETCH_MAX_BYTES = 200_000
    # Private targets are refused, but this machine's loopback (where the site lives) counts as public,
    # so a redirect to a real private range is what gets refused.
    settings.FETCH_ALLOW_PRIVATE = False
    real_check = fetch.is_public_address
    monkeypatch.setattr(fetch, "is_public_address", lambda ip: ip.is_loopback or real_check(ip))

    site = LocalSite()
    faults = {
        "connect timeout": f"http://127.0.0.1:{unaccepting_port}/workshops/connect-timeout/",
        "connection refused": f"http://127.0.0.1:{closed_port}/workshops/refused/",
        "read timeout": site.add(
            "/workshops/read-timeout/", Response(GOOD_EVENT.format(event=event_json("Late")), delay=3)
        ),
        "404": site.add("/workshops/gone/", Response("gone", status=404)),
        "body over the cap": site.add("/workshops/huge/", "<p>" + "x" * 300_000 + "</p>"),
        "redirect loop": site.redirect("/workshops/loop-a/", "/workshops/loop-b/"),
        "redirect to a private address": site.redirect("/workshops/sneaky/", "http://10.0.0.1/admin"),
        "non-HTML type": site.add("/workshops/flyer.pdf", Response(b"%PDF-1.4", content_type="application/pdf")),
        "malformed JSON-LD": site.add(
            "/workshops/broken-jsonld/", GOOD_EVENT.format(event='{"@type": "DanceEvent", "name": ')
        ),
    }
    site.redirect("/workshops/loop-b/", "/workshops/loop-a/")
    recovering = site.add(
        "/workshops/flaky/", Response("busy", status=500), GOOD_EVENT.format(event=event_json("Flaky but fine", 2))
    )
    invalid_encoding = site.add(
        "/workshops/latin/",
        Response(
            GOOD_EVENT.format(event=event_json("Caf\xe9 Night", 3, ensure_ascii=False)).encode("latin-1"),
            content_type="text/html; charset=utf-8",
        ),
    )
    crowded = site.add(
        "/workshops/crowded/",
        "<html><head>"
        + "".join(
            f'<script type="application/ld+json">{event_json(f"Crowd {n}", 1 + n % 28)}</script>' for n in range(300)
        )
        + "</head></html>",
    )
    good = site.add("/workshops/good/", GOOD_EVENT.format(event=event_json("Good one", 4)))
    links = [*faults.values(), recovering, invalid_encoding, crowded, good]
    site.add("/", "".join(f'<a href="{url}">x</a>' for url in links))
    studio = Studio.objects.create(
        studio_id="faulty", name="Faulty", website=site.url("/"), link_pattern="/workshops/", concurrency=4
    )
    yield studio, faults, {"flaky": recovering, "latin": invalid_encoding, "crowded": crowded, "good": good}
    site.close()


def test_each_fault_is_a_log_line_naming_its_link_and_the_run_completes(fault_site):
    studio, faults, fine = fault_site
    reporter = FakeReporter()
    summary = process_studio(studio, reporter)

    for fault, url in faults.items():
        lines = [(level, message) for level, message in reporter.logs if url in message]
        assert lines, f"{fault}: no log line names {url}"
        assert {level for level, _message in lines} & {"warning", "error"}, f"{fault}: {lines}"
    assert summary["links_found"] == len(faults) + len(fine)
    # Malformed JSON-LD is a page without events, not a failed link; every other fault is a failure.
    assert summary["links_failed"] == len(faults) - 1
    assert summary["pages_without_events"] == 1

    titles = set(Workshop.objects.filter(studio=studio).values_list("title", flat=True))
    assert {"Good one", "Flaky but fine", "Caf\ufffd Night"} <= titles, "other links' workshops are saved"
    assert len([title for title in titles if title.startswith("Crowd ")]) == 300
    assert reporter.progress_calls[-1][:2] == (summary["links_found"], summary["links_found"])


def test_a_failed_discovery_leaves_existing_workshops_untouched(fault_site, closed_port):
    studio, _faults, _fine = fault_site
    process_studio(studio, FakeReporter())
    before = sorted(Workshop.objects.filter(studio=studio).values_list("id", "updated_at", "is_archived"))
    assert before

    studio.website = f"http://127.0.0.1:{closed_port}/"
    studio.save()
    with pytest.raises(DiscoveryError):
        process_studio(studio, FakeReporter())
    assert sorted(Workshop.objects.filter(studio=studio).values_list("id", "updated_at", "is_archived")) == before
