"""Starting, joining and cancelling runs."""

from typing import Any

from django.db import connection
from django.utils import timezone

from .backends import ThreadPoolBackend
from .events import publish_log
from .execution import finish_run
from .heartbeats import hold
from .jobs import get_job
from .models import ACTIVE_STATUSES, Run, RunStatus
from .queues import executes_in_this_process
from .tasks import execute_run


class SubjectRefused(Exception):
    """A run of this job cannot start on this subject (the job's check_subject said why)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def active_run(job: str, subject: str) -> Run | None:
    # Asked by every client that starts or joins a run. There is at most one (the partial unique
    # index one_active_run_per_subject), found in one plain statement: building the same query
    # through the ORM took 0.5-0.8 ms, its SQL about 0.05 ms.
    table = connection.ops.quote_name(Run._meta.db_table)
    statuses = ", ".join(["%s"] * len(ACTIVE_STATUSES))
    found = Run.objects.raw(
        f"SELECT * FROM {table} WHERE job = %s AND subject = %s AND status IN ({statuses}) LIMIT 1",
        [job, subject, *ACTIVE_STATUSES],
    )
    return next(iter(found), None)


def start_run(
    job: str,
    subject: str,
    params: dict[str, Any] | None = None,
    user: Any = None,
    trigger: str = "",
    dispatch: bool = True,
) -> tuple[Run, bool]:
    """Start a run of `job` on `subject`, or join the one already active. Returns (run, created).

    `trigger` names what asked when no user did (e.g. "schedule"). With `dispatch=False` a created
    run is left queued, and the caller hands it to the executor with `dispatch_run` when it is
    ready (a request streaming the run it starts first reads the run's opening events).

    Raises SubjectRefused when the job's subject check refuses the subject, on every path alike.
    A subject with an active run passed that check when its run started: joining it asks no more
    (many clients starting one studio at once each save a query).
    """
    registered = get_job(job)
    if registered is None:
        raise LookupError(f"no job is registered as {job!r}")
    existing = active_run(job, subject)
    if existing:
        return existing, False
    problem = registered.check_subject(subject) if registered.check_subject else None
    if problem:
        raise SubjectRefused(*problem)
    # The partial unique index decides between simultaneous starts; the loser joins the winner.
    # A run may finish between the insert that lost and the lookup, hence the retry.
    for _ in range(3):
        run = _insert_unless_active(
            Run(
                job=job,
                subject=subject,
                params=params or {},
                requested_by=user if user and user.pk else None,
                trigger=trigger,
                heartbeat_at=timezone.now(),
            )
        )
        if run is None:
            existing = active_run(job, subject)
            if existing:
                return existing, False
            continue
        who = f" by {user.get_username()}" if user and user.pk else (f" by the {trigger}" if trigger else "")
        publish_log(run.pk, "info", f"Run {run.pk} queued: {job} {subject}{who}")
        if dispatch:
            dispatch_run(run)
        return run, True
    raise RuntimeError(f"could not start or join a run of {job} on {subject}")


def _insert_unless_active(run: Run) -> Run | None:
    """Save the new `run`, unless its subject has an active run already (None then).

    One plain statement, its values prepared by the model's fields as the ORM's own insert does:
    the ORM's create, in the transaction that catches the lost race, took 0.5-0.9 ms of the time
    before a starter sees its first event, and each lost race was an error in PostgreSQL's log.
    """
    fields = [field for field in Run._meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    values = [field.get_db_prep_save(field.pre_save(run, add=True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(Run._meta.db_table)} ({', '.join(quote(field.column) for field in fields)})"
            f" VALUES ({', '.join(['%s'] * len(fields))})"
            f" ON CONFLICT DO NOTHING RETURNING {quote(Run._meta.pk.column)}",
            values,
        )
        inserted = cursor.fetchone()
    if inserted is None:
        return None
    run.pk = inserted[0]
    run._state.adding, run._state.db = False, connection.alias
    return run


def dispatch_run(run: Run) -> None:
    """Hand a run start_run created to the executor: a worker thread here, or the RQ queue."""
    backend = execute_run.get_backend()
    if executes_in_this_process(backend):
        hold(run.pk)  # with RQ, the run waits in Redis until a worker claims and holds it
    result = execute_run.enqueue(run.pk)
    if isinstance(backend, ThreadPoolBackend) and backend.had_to_wait(result.id):
        publish_log(run.pk, "info", f"Waiting for a free worker: all {backend.max_workers} are busy")


def request_cancel(run: Run) -> bool:
    """Ask a run to stop; a queued run ends at once, a running one between two steps."""
    if not run.is_active:
        return False
    Run.objects.filter(pk=run.pk).update(cancel_requested=True)
    publish_log(run.pk, "warning", "Cancel requested")
    if Run.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(status=RunStatus.CANCELLED):
        finish_run(run.pk, RunStatus.CANCELLED)
    return True
