"""Live delivery costs: what idle streams hold on the server, and clients that stall."""

import asyncio
import json
import os
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token

from streaming.models import Run, RunEvent, RunStatus
from streaming.services import start_run
from tests.live.sse import OWN_FRAMES, decode_sse, open_streams, read_stream, run_apart

pytestmark = [pytest.mark.live]


def threads_of(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def database_files_open_by(pid):
    """How many descriptors the process holds on the SQLite database (its connections)."""
    database = Path(connection.settings_dict["NAME"]).resolve()
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if Path(os.readlink(fd)) == database:
                count += 1
        except OSError:
            continue
    return count


@pytest.fixture
def staff_token(transactional_db):
    admin = get_user_model().objects.create_superuser("watcher", "w@example.com", None)
    return Token.objects.create(user=admin).key


def test_idle_streams_hold_no_thread_and_no_database_connection(make_daphne, staff_token):
    if connection.vendor != "sqlite":
        pytest.skip("counts the SQLite file's descriptors; PostgreSQL runs cover delivery elsewhere")
    server = make_daphne(STREAM_MAX_PER_USER="500")
    run = Run.objects.create(
        job="process_studio", subject="quiet", status=RunStatus.RUNNING, heartbeat_at=timezone.now()
    )
    url = f"{server.url}/api/runs/{run.pk}/events/"
    pid = server.process.pid

    async def measure():
        few = await open_streams(url, staff_token, 20)
        await asyncio.sleep(0.5)
        at_few = threads_of(pid), database_files_open_by(pid)
        many = await open_streams(url, staff_token, 180)
        await asyncio.sleep(0.5)
        at_many = threads_of(pid), database_files_open_by(pid)
        for writer in few + many:
            writer.close()
        return at_few, at_many

    (threads_20, files_20), (threads_200, files_200) = run_apart(measure())
    assert threads_200 - threads_20 <= 2, f"{threads_20} threads with 20 streams, {threads_200} with 200"
    assert files_200 <= files_20 + 1, f"{files_20} database connections with 20 streams, {files_200} with 200"


def stored_events(run_id):
    return [(f"run-{run_id}:{e.seq}", e.type, e.data) for e in RunEvent.objects.filter(run_id=run_id).order_by("seq")]


def sse_events(body):
    """The run's own events in a raw SSE body, as (id, type, envelope)."""
    return [(e.id, e.event, json.loads(e.data)) for e in decode_sse(body) if e.event not in OWN_FRAMES]


def test_a_stalled_client_delays_no_one_and_still_gets_the_whole_run(demo, make_slow_studio):
    studio = make_slow_studio("stalled_studio", pages=6, delay=0.2)
    run, _created = start_run("process_studio", studio.studio_id)
    events_url = f"{demo['url']}/api/runs/{run.pk}/events/"
    parts = urlsplit(events_url)

    # A client that asks for the stream and then reads nothing, with the smallest receive buffer.
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    stalled.connect((parts.hostname, parts.port))
    stalled.sendall(
        f"GET {parts.path} HTTP/1.0\r\nHost: {parts.netloc}\r\n"
        f"Authorization: {demo['auth']['Authorization']}\r\n\r\n".encode()
    )
    with ThreadPoolExecutor(max_workers=3) as pool:
        others = list(pool.map(lambda _: read_stream("GET", events_url, headers=demo["auth"]), range(3)))

    expected = stored_events(run.pk)
    assert expected[-1][1] == "complete", "the others finished while the stalled client had read nothing"
    for other in others:
        assert other.events == expected

    stalled.settimeout(30)
    received = b""
    while chunk := stalled.recv(65536):
        received += chunk
    stalled.close()
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200") or head.startswith(b"HTTP/1.1 200"), head[:100]
    assert sse_events(body) == expected, "the stalled client gets every event once it reads"
