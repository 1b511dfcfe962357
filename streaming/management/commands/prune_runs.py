"""`manage.py prune_runs --older-than 90d`: delete old finished runs with their events and results."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...conf import conf
from ...pruning import parse_age, prune_runs


class Command(BaseCommand):
    help = (
        "Delete finished runs (succeeded, failed, cancelled) that ended longer ago than --older-than, with "
        "their events and per-run results, keeping each subject's latest run. Default age: RUN_RETENTION."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", default=None, help="An age: 90d, 12h or 2w (default RUN_RETENTION).")
        parser.add_argument("--dry-run", action="store_true", help="Count the runs that would go; delete nothing.")

    def handle(self, *args: Any, older_than: str | None = None, dry_run: bool = False, **options: Any) -> None:
        text = older_than or conf.RUN_RETENTION
        if not text:
            raise CommandError("Give --older-than (e.g. 90d), or set RUN_RETENTION.")
        try:
            age = parse_age(text)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        deleted = prune_runs(age, dry_run=dry_run)
        runs = deleted.get("streaming.Run", 0)
        if dry_run:
            self.stdout.write(f"Would delete {runs} run(s) that finished more than {text} ago.")
            return
        others = ", ".join(f"{count} {label}" for label, count in sorted(deleted.items()) if label != "streaming.Run")
        self.stdout.write(
            f"Deleted {runs} run(s) that finished more than {text} ago" + (f", with {others}." if others else ".")
        )
