from django.apps import AppConfig
from django.core import checks


class StreamingConfig(AppConfig):
    name = "streaming"
    verbose_name = "Runs"

    def ready(self) -> None:
        from .checks import check_settings

        checks.register(check_settings)
