"""Webhooks: signed deliveries after a real run, retries with backoff, the private-address rules, the REST API."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from streaming.services import start_run
from studios.jobs import PROCESS_STUDIO
from studios.models import DeliveryStatus, Studio, WebhookDelivery, WebhookEndpoint
from tests.conftest import SLOW_EVENT_PAGE
from tests.runs import wait_for_run
from tests.sites import Response

SECRET = "a-secret-of-enough-length"


class Receiver:
    """A webhook receiver on 127.0.0.1 that records each POST and answers with the statuses given, the last repeating."""

    def __init__(self, *statuses: int):
        self.statuses = list(statuses) or [200]
        self.requests: list[dict] = []
        self.times: list[float] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                receiver.times.append(time.monotonic())
                status = receiver.statuses[min(len(receiver.requests), len(receiver.statuses)) - 1]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()

    def events(self):
        return [json.loads(request["body"])["event"] for request in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(*statuses):
        made.append(Receiver(*statuses))
        return made[-1]

    yield make
    for one in made:
        one.close()


@pytest.fixture
def hook_settings(settings):
    settings.FETCH_ALLOW_PRIVATE = True
    settings.FETCH_RETRIES = 0
    settings.WEBHOOK_RETRY_BACKOFF = 0.05
    settings.WEBHOOK_MAX_ATTEMPTS = 5
    return settings


def studio_on(site, pages=2):
    links = []
    for number in range(1, pages + 1):
        site.add(f"/workshops/w-{number}/", Response(SLOW_EVENT_PAGE.format(number=number, studio_id="hooked")))
        links.append(f'<a href="/workshops/w-{number}/">{number}</a>')
    site.add("/", "<html><body>" + "".join(links) + "</body></html>")
    return Studio.objects.create(studio_id="hooked", name="Hooked", website=site.url("/"), link_pattern="/workshops/")


def wait_for_deliveries(count, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        done = WebhookDelivery.objects.exclude(status=DeliveryStatus.PENDING)
        if done.count() >= count:
            return list(WebhookDelivery.objects.order_by("id"))
        if time.monotonic() > deadline:
            states = list(WebhookDelivery.objects.values_list("event", "status", "attempts", "error"))
            raise AssertionError(f"deliveries not done after {timeout}s: {states}")
        time.sleep(0.02)


def test_a_real_run_sends_a_correctly_signed_run_finished_and_its_workshops_created(
    transactional_db, site, receiver, hook_settings
):
    hook = receiver(200)
    WebhookEndpoint.objects.create(
        name="ci", url=hook.url, secret=SECRET, events=["run.finished", "workshop.created", "workshop.archived"]
    )
    studio_on(site)
    run = wait_for_run(start_run(PROCESS_STUDIO, "hooked")[0])
    assert run.status == "succeeded"

    deliveries = wait_for_deliveries(3)
    assert [d.status for d in deliveries] == ["delivered"] * 3
    assert sorted(hook.events()) == ["run.finished", "workshop.created", "workshop.created"]
    for request in hook.requests:
        expected = "sha256=" + hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
        assert request["headers"]["X-Signature-256"] == expected
        assert request["headers"]["Content-Type"] == "application/json"
    finished = next(json.loads(r["body"]) for r in hook.requests if json.loads(r["body"])["event"] == "run.finished")
    assert finished["data"] == {
        **finished["data"],
        "run_id": run.pk,
        "job": "process_studio",
        "subject": "hooked",
        "status": "succeeded",
    }
    assert finished["data"]["summary"]["workshops_created"] == 2
    created = [json.loads(r["body"])["data"] for r in hook.requests if b"workshop.created" in r["body"]]
    assert {c["title"] for c in created} == {"hooked workshop 1", "hooked workshop 2"}
    assert all(c["studio"] == "hooked" and c["run_id"] == run.pk for c in created)


def test_a_failed_delivery_is_retried_with_backoff_until_it_is_taken(transactional_db, site, receiver, hook_settings):
    hook = receiver(500, 500, 200)
    WebhookEndpoint.objects.create(url=hook.url, secret=SECRET, events=["run.finished"])
    studio_on(site, pages=1)
    wait_for_run(start_run(PROCESS_STUDIO, "hooked")[0])

    [delivery] = wait_for_deliveries(1)
    assert delivery.status == "delivered" and delivery.attempts == 3 and delivery.response_code == 200
    assert len(hook.requests) == 3
    gaps = [later - earlier for earlier, later in zip(hook.times, hook.times[1:], strict=False)]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1, "exponential backoff between attempts"
    assert hook.requests[0]["body"] == hook.requests[2]["body"]


def test_a_delivery_that_keeps_failing_stops_after_the_attempts_allowed(
    transactional_db, site, receiver, hook_settings
):
    hook_settings.WEBHOOK_MAX_ATTEMPTS = 2
    hook = receiver(503)
    WebhookEndpoint.objects.create(url=hook.url, secret=SECRET, events=["run.finished"])
    studio_on(site, pages=1)
    wait_for_run(start_run(PROCESS_STUDIO, "hooked")[0])
    [delivery] = wait_for_deliveries(1)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("failed", 2, 503)
    assert delivery.error == "HTTP 503"


def test_deliveries_never_slow_a_run(transactional_db, site, receiver, hook_settings):
    hook_settings.WEBHOOK_RETRY_BACKOFF = 2
    hook = receiver(500)
    WebhookEndpoint.objects.create(url=hook.url, secret=SECRET, events=["run.finished"])
    studio_on(site, pages=1)
    started = time.monotonic()
    run = wait_for_run(start_run(PROCESS_STUDIO, "hooked")[0])
    assert run.status == "succeeded" and time.monotonic() - started < 2
    assert WebhookDelivery.objects.get().status == "pending"


def test_a_private_address_is_refused_at_registration_and_at_delivery(transactional_db, settings, receiver):
    settings.FETCH_ALLOW_PRIVATE = False
    admin = get_user_model().objects.create_superuser("root", "r@example.com", "p")
    client = APIClient()
    client.force_authenticate(admin)
    for url in ["http://127.0.0.1:9/hook", "http://10.0.0.1/hook", "http://localhost/hook"]:
        response = client.post(
            "/api/webhooks/", {"url": url, "secret": SECRET, "events": ["run.finished"]}, format="json"
        )
        assert response.status_code == 400 and "url" in response.json()["error"]["fields"], url
    assert not WebhookEndpoint.objects.exists()

    # An endpoint saved while private addresses were allowed is refused when it is sent to.
    from studios.webhooks import deliver

    hook = receiver(200)
    endpoint = WebhookEndpoint.objects.create(url=hook.url, secret=SECRET, events=["run.finished"])
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event="run.finished", payload={"event": "x"})
    deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempts == 1 and delivery.error.startswith("refused")
    assert hook.requests == []


def test_the_rest_api_creates_and_lists_endpoints_and_never_returns_the_secret(transactional_db, hook_settings):
    admin = get_user_model().objects.create_superuser("root", "r@example.com", "p")
    client = APIClient()
    client.force_authenticate(admin)
    body = {"name": "ci", "url": "http://127.0.0.1:9/hook", "secret": SECRET, "events": ["run.finished"] * 2}
    created = client.post("/api/webhooks/", body, format="json")
    assert created.status_code == 201, created.json()
    assert "secret" not in created.json() and created.json()["events"] == ["run.finished"]
    assert WebhookEndpoint.objects.get().secret == SECRET

    listed = client.get("/api/webhooks/").json()
    assert listed["count"] == 1 and "secret" not in listed["results"][0]
    one = client.get(f"/api/webhooks/{created.json()['id']}/").json()
    assert SECRET not in json.dumps(one) and SECRET not in json.dumps(listed)
    patched = client.patch(f"/api/webhooks/{one['id']}/", {"active": False}, format="json")
    assert patched.status_code == 200 and patched.json()["active"] is False
    assert client.get("/api/webhooks/999/").json()["error"]["code"] == "webhook_not_found"

    bad = client.post("/api/webhooks/", {**body, "events": ["run.started"], "secret": "short"}, format="json")
    assert bad.status_code == 400 and set(bad.json()["error"]["fields"]) == {"events", "secret"}

    viewer = get_user_model().objects.create_user("viewer", password="p")
    reader = APIClient()
    reader.force_authenticate(viewer)
    assert reader.post("/api/webhooks/", body, format="json").status_code == 403
    assert client.delete(f"/api/webhooks/{one['id']}/").status_code == 204
