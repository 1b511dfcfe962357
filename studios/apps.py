from django.apps import AppConfig
from django.core import checks


class StudiosConfig(AppConfig):
    name = "studios"
    verbose_name = "Studios and workshops"

    def ready(self):
        from streaming.signals import run_finished

        # Registers the studio jobs with the run executor.
        from . import jobs  # noqa: F401
        from .checks import check_llm, check_pipeline_numbers, check_time_zone
        from .jobs import count_run_links
        from .webhooks import on_run_finished

        for check in (check_llm, check_time_zone, check_pipeline_numbers):
            checks.register(check)
        # Webhooks hear of every finished run.
        run_finished.connect(on_run_finished, dispatch_uid="studios.webhooks")
        run_finished.connect(count_run_links, dispatch_uid="studios.metrics")
