"""The scale path: PostgreSQL for the data and Redis pub/sub for live events, behind a real daphne."""

import json
import os

import pytest

from tests.services import require_module, skip_or_fail

from .server import DaphneServer, manage
from .sse import read_stream
from .test_streaming_endpoints import assert_complete_run_stream

pytestmark = [pytest.mark.live]

REDIS_URL = os.environ.get("REDIS_URL_TEST", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_url():
    redis = require_module("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        skip_or_fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
    return REDIS_URL


def test_a_run_on_postgresql_with_events_through_redis(postgres_database, redis_url, tmp_path):
    import psycopg

    server = DaphneServer({"DATABASE_URL": postgres_database, "REDIS_URL": redis_url}, tmp_path / "daphne.log")
    manage(server.env, "migrate", "--noinput")
    manage(server.env, "demo", "--base-url", server.url, "--admin")
    with psycopg.connect(postgres_database) as db:
        token = db.execute(
            "SELECT key FROM authtoken_token JOIN auth_user ON auth_user.id = user_id WHERE username = 'admin'"
        ).fetchone()[0]
    server.start()
    import redis

    published = redis.Redis.from_url(redis_url).pubsub()
    published.subscribe("events_channel")  # where django-eventstream publishes with EVENTSTREAM_REDIS
    try:
        stream = read_stream(
            "POST",
            f"{server.url}/api/streaming/refresh-workshops",
            json={"studio_id": "dance_n_addiction"},
            headers={"Authorization": f"Token {token}"},
        )
        summary = assert_complete_run_stream(stream)
    finally:
        server.stop()
    seen_on_redis = []
    while (message := published.get_message(timeout=1)) is not None:
        if message["type"] == "message":
            seen_on_redis.append(json.loads(message["data"])["pub_id"])
    published.close()
    assert seen_on_redis == [str(seq) for seq in range(1, len(stream.events) + 1)], "every event went through Redis"
    with psycopg.connect(postgres_database) as db:
        status, stored_events = db.execute(
            "SELECT status, (SELECT count(*) FROM streaming_runevent WHERE run_id = %s) FROM streaming_run WHERE id = %s",
            (stream.run_id, stream.run_id),
        ).fetchone()
        workshops = db.execute(
            "SELECT count(*) FROM studios_workshop w JOIN studios_studio s ON s.id = w.studio_id "
            "WHERE s.studio_id = 'dance_n_addiction' AND NOT w.is_archived"
        ).fetchone()[0]
    assert status == "succeeded"
    assert stored_events == len(stream.events)
    assert workshops == summary["workshops_created"] > 0
