import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402  (needs Django set up first)

from streaming.recovery import start_watchdog  # noqa: E402

application = ProtocolTypeRouter({"http": django_asgi_app})
# The server process executes runs: keep their heartbeats fresh and resume runs whose process died.
start_watchdog()
