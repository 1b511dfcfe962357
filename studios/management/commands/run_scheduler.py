"""`manage.py run_scheduler`: the refresh scheduler apart from the server processes."""

import signal
import threading
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from streaming.models import ACTIVE_STATUSES, Run
from streaming.pruning import prune_if_due

from ...conf import conf
from ...schedules import start_due_runs


class Command(BaseCommand):
    help = (
        "Start the runs of studios whose refresh schedule is due, every SCHEDULER_INTERVAL seconds, until "
        "stopped (SIGTERM, Ctrl-C). Safe to run beside the servers' own schedulers and in several copies: "
        "each due time is claimed in the database and starts one run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Look once, wait for the runs started, and exit.")
        parser.add_argument(
            "--interval", type=float, default=None, help="Seconds between looks (default SCHEDULER_INTERVAL)."
        )

    def handle(self, *args, once=False, interval=None, **options):
        interval = conf.SCHEDULER_INTERVAL if interval is None else interval
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        while not stop.is_set():
            runs = start_due_runs()
            prune_if_due()  # RUN_RETENTION: old run history, once a day
            for run in runs:
                self.stdout.write(f"Started run {run.pk}: {run.job} {run.subject}")
            close_old_connections()
            if once:
                # With the in-process task backend this process executes the runs it started.
                ids = [run.pk for run in runs]
                while ids and Run.objects.filter(pk__in=ids, status__in=ACTIVE_STATUSES).exists() and not stop.is_set():
                    time.sleep(0.2)
                return
            stop.wait(interval)
