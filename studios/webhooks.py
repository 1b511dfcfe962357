"""Webhooks: a signed JSON POST to each registered endpoint for the events it asked for.

When a run finishes (streaming.signals.run_finished), `run.finished` and, for a studio run, one
`workshop.created`/`updated`/`archived` per workshop it changed (from its WorkshopChange rows) are
recorded as WebhookDelivery rows, one per endpoint and event, and sent on this module's own
threads: the run's thread only writes those rows. Each POST is signed with the endpoint's secret
(`X-Signature-256: sha256=<hex HMAC-SHA256 of the body>`), and a failed one (a connection error,
a timeout, any status but 2xx) is tried again with exponential backoff (the pipeline's retry
policy), WEBHOOK_MAX_ATTEMPTS times in all. URLs follow the page fetches' private-address rules
(FETCH_ALLOW_PRIVATE), checked when an endpoint is saved and again before each attempt.
"""

import hashlib
import hmac
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from streaming.models import Run

from .conf import conf
from .jobs import PROCESS_STUDIO
from .models import ChangeKind, DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent, WorkshopChange
from .pipeline.fetch import target_refusal, vetting_transport
from .pipeline.retry import call_with_retries

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Signature-256"
WORKSHOP_EVENTS = {
    ChangeKind.CREATED: WebhookEvent.WORKSHOP_CREATED,
    ChangeKind.UPDATED: WebhookEvent.WORKSHOP_UPDATED,
    ChangeKind.ARCHIVED: WebhookEvent.WORKSHOP_ARCHIVED,
}


def sign(secret: str, body: bytes) -> str:
    """The X-Signature-256 value of a body: sha256= and the hex HMAC-SHA256 keyed by the secret."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def encode(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


# --- what a finished run sends ---


def run_finished_event(run: Run) -> dict:
    return {
        "event": WebhookEvent.RUN_FINISHED.value,
        "data": {
            "run_id": run.pk,
            "job": run.job,
            "subject": run.subject,
            "status": run.status,
            "summary": run.summary or {},
            "error": run.error,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        },
    }


def workshop_events(run: Run) -> list[dict]:
    """One event per workshop the run created, updated or archived, in the order it saved them."""
    changes = (
        WorkshopChange.objects.filter(run=run, kind__in=list(WORKSHOP_EVENTS)).select_related("studio").order_by("id")
    )
    return [
        {
            "event": WORKSHOP_EVENTS[ChangeKind(change.kind)].value,
            "data": {
                "run_id": run.pk,
                "studio": change.studio.studio_id,
                "workshop": change.workshop_id,
                "title": change.title,
                "source_url": change.source_url,
                **({"fields": change.fields} if change.kind == ChangeKind.UPDATED else {}),
            },
        }
        for change in changes
    ]


def on_run_finished(sender, run: Run, **kwargs) -> None:
    """run_finished's receiver: record the deliveries, then send them on the webhook threads."""
    endpoints = list(WebhookEndpoint.objects.filter(active=True))
    if not endpoints:
        return
    wanted = {event for endpoint in endpoints for event in endpoint.events}
    events = [run_finished_event(run)] if WebhookEvent.RUN_FINISHED in wanted else []
    if run.job == PROCESS_STUDIO and wanted & set(WORKSHOP_EVENTS.values()):
        events += workshop_events(run)
    rows = [
        WebhookDelivery(endpoint=endpoint, event=event["event"], run=run, payload=event)
        for event in events
        for endpoint in endpoints
        if event["event"] in endpoint.events
    ]
    if not rows:
        return
    created = WebhookDelivery.objects.bulk_create(rows)
    ids = [row.pk for row in created]
    transaction.on_commit(lambda: send_later(ids))


# --- sending ---

_executor_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=conf.WEBHOOK_WORKERS, thread_name_prefix="webhook")
        return _executor


def send_later(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        _pool().submit(deliver, delivery_id)


class AttemptFailed(Exception):
    """An attempt that may succeed when tried again: no connection, a timeout, a status but 2xx."""


class Refused(Exception):
    """A URL the private-address rules refuse: not tried again."""


def deliver(delivery_id: int) -> None:
    """Send one delivery, retrying with backoff; its row records every attempt and how it ended."""
    try:
        _deliver(delivery_id)
    except Exception:
        logger.exception("Webhook delivery %s could not be sent", delivery_id)
    finally:
        connection.close()  # this thread's connection, given back between deliveries


def _deliver(delivery_id: int) -> None:
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return
    endpoint = delivery.endpoint
    body = encode(delivery.payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": conf.FETCH_USER_AGENT,
        "X-Webhook-Event": delivery.event,
        "X-Webhook-Delivery": str(delivery.pk),
        SIGNATURE_HEADER: sign(endpoint.secret, body),
    }
    rows = WebhookDelivery.objects.filter(pk=delivery_id)

    def record(**fields) -> None:
        rows.update(attempts=F("attempts") + 1, last_attempt_at=timezone.now(), **fields)

    with httpx.Client(transport=vetting_transport(), timeout=conf.WEBHOOK_TIMEOUT) as client:

        def attempt() -> None:
            refusal = target_refusal(endpoint.url)
            if refusal:
                record(response_code=None, error=f"refused: {refusal}")
                raise Refused(refusal)
            try:
                response = client.post(endpoint.url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                record(response_code=None, error=f"{exc.__class__.__name__}: {exc}"[:1000])
                raise AttemptFailed(str(exc)) from exc
            if response.is_success:
                record(
                    response_code=response.status_code,
                    error="",
                    status=DeliveryStatus.DELIVERED,
                    delivered_at=timezone.now(),
                )
                return
            record(response_code=response.status_code, error=f"HTTP {response.status_code}")
            raise AttemptFailed(f"HTTP {response.status_code}")

        try:
            call_with_retries(
                attempt,
                retry_on=AttemptFailed,
                retries=max(0, conf.WEBHOOK_MAX_ATTEMPTS - 1),
                backoff=conf.WEBHOOK_RETRY_BACKOFF,
            )
        except (AttemptFailed, Refused) as exc:
            rows.update(status=DeliveryStatus.FAILED)
            logger.warning("Webhook delivery %s to %s failed: %s", delivery_id, endpoint.url, exc)
