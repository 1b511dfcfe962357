"""django-eventstream storage over RunEvent: one table serves a run's history and Last-Event-ID resume."""

import json

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django_eventstream.event import Event
from django_eventstream.storage import StorageBase

from .models import RunEvent

CHANNEL_PREFIX = "run-"


def channel_for_run(run_id: int) -> str:
    return f"{CHANNEL_PREFIX}{run_id}"


def run_id_from_channel(channel: str) -> int | None:
    """The run id a channel name stands for, or None for a channel that is not a run's."""
    if not channel.startswith(CHANNEL_PREFIX):
        return None
    return parse_seq(channel[len(CHANNEL_PREFIX) :])


def parse_seq(text: str) -> int | None:
    """A run id or event seq written in ASCII digits, or None.

    str.isdigit() also takes '²' and '٣', and int() refuses strings of over 4300 digits.
    """
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


class RunEventStorage(StorageBase):
    def append_event(self, channel: str, event_type: str, data: str) -> Event:
        run_id = run_id_from_channel(channel)
        envelope = json.loads(data)
        if connection.vendor == "postgresql":
            # PostgreSQL runs concurrent inserts side by side: a run's publishers (its worker, a
            # cancel request, the watchdog) take turns on a lock held to the end of the
            # transaction, so each reads the seq the one before it wrote.
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [run_id])
                seq = _insert_next(run_id, event_type, envelope)
        else:
            # SQLite lets one writer in at a time: the statement reads and writes the next seq alone.
            seq = _insert_next(run_id, event_type, envelope)
        return Event(channel, event_type, data, id=seq)

    def get_events(self, channel: str, last_id: int, limit: int = 100) -> list[Event]:
        # The envelope as the database holds its JSON text: decoding it only to encode it again
        # took half the time of a replay. One plain statement: the same query through the ORM
        # took 0.8 ms to build for 0.04 ms of SQLite's work, on every start, catch-up and replay.
        table = connection.ops.quote_name(RunEvent._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT seq, type, CAST(data AS TEXT) FROM {table} WHERE run_id = %s AND seq > %s ORDER BY seq LIMIT %s",
                [run_id_from_channel(channel), last_id, limit],
            )
            return [Event(channel, event_type, text, id=seq) for seq, event_type, text in cursor.fetchall()]

    def get_current_id(self, channel: str) -> int:
        latest = RunEvent.objects.filter(run_id=run_id_from_channel(channel)).aggregate(latest=Max("seq"))["latest"]
        return latest or 0


def _insert_next(run_id: int | None, event_type: str, envelope: object) -> int:
    """Insert the run's next event in one statement (the next seq is read by the insert itself),
    and return its seq.

    A transaction with a MAX(seq) query and a model save cost about 1.5 ms per event once the
    connection had been idle between a run's events, the statement alone about 0.4 ms; every
    watcher waits that long for each event. SQLite (3.35+) and PostgreSQL both take it.
    """
    fields = RunEvent._meta
    table = connection.ops.quote_name(fields.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (run_id, seq, type, data, created_at) "
            f"SELECT %s, COALESCE(MAX(seq), 0) + 1, %s, %s, %s FROM {table} WHERE run_id = %s RETURNING seq",
            [
                run_id,
                event_type,
                fields.get_field("data").get_db_prep_save(envelope, connection),
                fields.get_field("created_at").get_db_prep_save(timezone.now(), connection),
                run_id,
            ],
        )
        return cursor.fetchone()[0]
