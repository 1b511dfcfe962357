import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402  (needs Django set up first)

from streaming.recovery import start_watchdog  # noqa: E402
from streaming.shutdown import stop_runs_when_the_server_stops  # noqa: E402

application = ProtocolTypeRouter({"http": django_asgi_app})
# The server process executes runs: keep their heartbeats fresh and resume runs whose process died.
start_watchdog()
# SIGTERM or Ctrl-C leaves its runs interrupted between two links, for the next start to resume.
stop_runs_when_the_server_stops()
