"""``manage.py demo [--base-url URL] [--admin]``: load the offline demo and print how to try it."""

import os
import secrets
import shutil

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token

from studios.conf import conf
from studios.demo import sites
from studios.demo.loader import DEFAULT_BASE_URL, demo_studios, load_demo

ADMIN_USERNAME = "admin"
PASSWORD_ENV = "DJANGO_SUPERUSER_PASSWORD"


def ensure_admin(username=ADMIN_USERNAME):
    """Create or repair the demo superuser; returns (user, created, password, password_note).

    ``password`` is the generated one when this call made it up, else None.
    """
    User = get_user_model()
    env_password = os.environ.get(PASSWORD_ENV) or None
    user = User.objects.filter(username=username).first()
    created = user is None
    password = None
    if created:
        user = User(username=username, email=f"{username}@localhost")
        if env_password:
            note = f"as set in {PASSWORD_ENV}"
        else:
            password = secrets.token_urlsafe(12)
            note = f"generated; set {PASSWORD_ENV} to choose your own"
        user.set_password(env_password or password)
    elif env_password:
        user.set_password(env_password)
        note = f"reset to the value of {PASSWORD_ENV}"
    else:
        note = f"unchanged (kept the existing password; set {PASSWORD_ENV} to reset it)"
    user.is_staff = user.is_superuser = user.is_active = True
    user.save()
    return user, created, password, note


class Command(BaseCommand):
    help = (
        "Load the demo studios (whose websites this server hosts under /demo/sites/) and artists. "
        "Idempotent. With --admin, also ensure an 'admin' superuser and API token and print curl commands."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url",
            default=DEFAULT_BASE_URL,
            help=f"Where the server hosting the demo sites listens (default {DEFAULT_BASE_URL}).",
        )
        parser.add_argument(
            "--extra-studios",
            action="store_true",
            help="Also load the studio whose links JavaScript writes (rendered with Chromium) and the "
            "studio without structured data (read by the LLM when LLM_* is configured).",
        )
        parser.add_argument(
            "--admin",
            action="store_true",
            help=f"Ensure the superuser '{ADMIN_USERNAME}' (password from {PASSWORD_ENV}, or generated) and its API token.",
        )

    def handle(self, *args, base_url, admin, extra_studios=False, **options):
        try:
            summary = load_demo(base_url, extra_studios=extra_studios)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        base = summary["base_url"]
        out = self.stdout
        heading = self.style.MIGRATE_HEADING

        out.write(heading("Demo catalogue"))
        for kind in ("studios", "artists"):
            s = summary[kind]
            out.write(
                f"  {kind.capitalize() + ':':9} {len(s['ids'])} "
                f"(created {s['created']}, updated {s['updated']}, unchanged {s['unchanged']})"
            )
        out.write("")
        out.write(heading("Demo studio websites (served by this server)"))
        for studio in demo_studios(extra_studios):
            kind = "plain text, for the LLM" if studio["syntax"] == "text" else studio["syntax"]
            if studio.get("render_js"):
                kind += ", rendered with Chromium"
            out.write(f"  {studio['studio_id']:20} {base}{sites.site_path(studio['studio_id'])}  ({kind})")
        needs_chromium = [studio["name"] for studio in demo_studios(extra_studios) if studio.get("render_js")]
        if needs_chromium and not shutil.which(conf.CHROMIUM_PATH):
            out.write(
                self.style.WARNING(
                    f"  Warning: {', '.join(needs_chromium)} needs Chromium, which was not found at "
                    f"{conf.CHROMIUM_PATH}; its runs will fail. Install it (apt-get install chromium) "
                    "or set CHROMIUM_PATH."
                )
            )

        if not admin:
            out.write("")
            out.write("Run again with --admin for an admin login, an API token and curl commands.")
            return

        user, created, password, note = ensure_admin()
        token, _ = Token.objects.get_or_create(user=user)
        out.write("")
        out.write(heading("Admin"))
        out.write(f"  URL:       {base}/admin/")
        out.write(f"  Username:  {user.get_username()}" + ("  (created)" if created else "  (already existed)"))
        out.write(f"  Password:  {password}  ({note})" if password else f"  Password:  {note}")
        out.write("")
        out.write(heading("API token"))
        out.write(f"  Authorization: Token {token.key}")
        out.write("")
        out.write(heading("Try it (Server-Sent Events; -N shows them as they arrive)"))
        auth = f'-H "Authorization: Token {token.key}"'
        commands = [
            (
                "Process one studio (POST, JSON body):",
                f"curl -N -X POST {base}/api/streaming/refresh-workshops {auth} "
                '-H "Content-Type: application/json" -d \'{"studio_id": "dance_n_addiction"}\'',
            ),
            (
                "Process one studio (GET):",
                f'curl -N "{base}/api/streaming/process-studio?studio_id=dance_n_addiction" {auth}',
            ),
            (
                "Refresh every active studio (GET, as EventSource does):",
                f'curl -N "{base}/api/streaming/refresh-workshops?studio_id=all" {auth}',
            ),
        ]
        for title, command in commands:
            out.write(f"  # {title}")
            out.write(f"  {command}")
            out.write("")
