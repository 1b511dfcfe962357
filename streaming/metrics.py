"""Prometheus metrics of runs and streams: `GET /metrics` on every server, a port of its own on workers.

Read from the database at each scrape, so the same on every process: runs by job and status.
Counted by the process where it happens (a server with the thread pool, an RQ worker at scale),
so scrape every process and sum: run durations and events published (streaming.counters), and
whatever the jobs' apps count in the same registry. Counted per server: open streams and run feeds.

`GET /metrics` answers scrapers from METRICS_ALLOWED_IPS (addresses or networks, matched against
the connecting address), and otherwise a token or session of a user who may view runs.
"""

import ipaddress
import logging
import threading
from collections.abc import Iterator

from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .conf import conf
from .fanout import open_feeds
from .http import ApiError, api_endpoint, authenticate, require
from .models import Run
from .permissions import can_watch_runs
from .sse import open_streams

logger = logging.getLogger(__name__)


class RunsCollector(Collector):
    """Runs by job and status, and this process's open streams, read at each scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        runs = GaugeMetricFamily("studios_runs", "Runs in the database, by job and status.", labels=["job", "status"])
        try:
            for row in Run.objects.values("job", "status").annotate(n=Count("id")).order_by("job", "status"):
                runs.add_metric([row["job"], row["status"]], row["n"])
        except Exception:
            logger.exception("Could not count runs for /metrics")
        yield runs
        yield GaugeMetricFamily(
            "studios_streams_open",
            "Run streams (SSE and WebSocket) this process serves now.",
            value=open_streams.total(),
        )
        yield GaugeMetricFamily(
            "studios_run_feeds_open", "Runs this process holds an event feed of now.", value=open_feeds()
        )


_registered = threading.Lock()
_collector: RunsCollector | None = None


def register() -> None:
    """Add the database-backed collector to the default registry, once per process."""
    global _collector
    with _registered:
        if _collector is None:
            _collector = RunsCollector()
            REGISTRY.register(_collector)


def allowed_address(address: str) -> bool:
    """Whether `address` is in METRICS_ALLOWED_IPS (addresses or networks)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(entry, strict=False) for entry in conf.METRICS_ALLOWED_IPS)


@api_endpoint(methods=["GET"])
def metrics_view(request: HttpRequest) -> HttpResponseBase:
    """The Prometheus text format, for allowed addresses or a user who may view runs."""
    if not allowed_address(request.META.get("REMOTE_ADDR", "")):
        try:
            user = authenticate(request)
        except ApiError as exc:
            raise ApiError(
                exc.status, exc.code, exc.message + " (or scrape from an address in METRICS_ALLOWED_IPS)"
            ) from exc
        require(can_watch_runs(user), "You may not view runs, so not their metrics.")
    register()
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)


def serve_worker_metrics(port: int, address: str = "127.0.0.1") -> None:
    """Serve this worker's metrics at http://address:port/ (no credentials: bind it where only scrapers reach)."""
    register()
    start_http_server(port, addr=address, registry=REGISTRY)
    logger.info("Worker metrics at http://%s:%s/metrics", address, port)
