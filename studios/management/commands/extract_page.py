"""`manage.py extract_page <url-or-file>`: what a run would save from one page; changes nothing."""

import json
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.management.base import BaseCommand, CommandError, CommandParser

from studios.models import Studio
from studios.pipeline.fetch import Page
from studios.pipeline.preview import MODES, describe, preview_page


class Command(BaseCommand):
    help = (
        "Print what a run would save from one page (title, sessions, artists, price, extractor) "
        "and what it would drop and why. Reads a URL, or a file as the page's HTML. Saves nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="the page's URL, or a file holding its HTML")
        parser.add_argument("--url", help="the page's address when SOURCE is a file (links resolve against it)")
        parser.add_argument("--studio", help="use this studio's settings (studio_id): zone, extraction, rendering")
        parser.add_argument("--today", help="judge past events as of this day (YYYY-MM-DD)")
        parser.add_argument("--time-zone", help="read times in this zone (Area/City)")
        parser.add_argument("--mode", choices=MODES, help="extraction mode (default: the studio's, else auto)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        studio = None
        if options["studio"]:
            studio = Studio.objects.filter(studio_id=options["studio"]).first()
            if studio is None:
                raise CommandError(f"No studio {options['studio']!r}")
        today = None
        if options["today"]:
            try:
                today = date.fromisoformat(options["today"])
            except ValueError:
                raise CommandError(f"--today wants YYYY-MM-DD, not {options['today']!r}") from None
        if options["time_zone"]:
            try:
                ZoneInfo(options["time_zone"])
            except (ZoneInfoNotFoundError, ValueError):
                raise CommandError(f"Unknown time zone {options['time_zone']!r}") from None
        source: str | Page = options["source"]
        path = Path(options["source"])
        if "://" not in options["source"]:
            if not path.is_file():
                raise CommandError(f"{options['source']!r} is neither a URL nor a file")
            url = options["url"] or path.resolve().as_uri()
            html = path.read_bytes().decode("utf-8", errors="replace")
            source = Page(url=url, final_url=url, status=200, content_type="text/html", text=html)
        preview = preview_page(source, studio=studio, today=today, time_zone=options["time_zone"], mode=options["mode"])
        if options["json"]:
            self.stdout.write(json.dumps(preview.as_json(), ensure_ascii=False, indent=2))
        else:
            self.stdout.write(describe(preview))
        if preview.error:
            raise CommandError(preview.error)
