from django.apps import AppConfig


class StudiosConfig(AppConfig):
    name = "studios"
    verbose_name = "Studios and workshops"

    def ready(self):
        # Registers the studio jobs with the run executor.
        from . import jobs  # noqa: F401
