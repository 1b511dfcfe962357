from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The offline demo: studio websites under /demo/sites/, the data `manage.py demo` loads, and the
    LLM stand-in. Installed only when DEMO is on (`make run` and the tests), so a real deployment
    neither routes the fake sites nor offers the command."""

    name = "studios.demo"
    label = "demo"
    verbose_name = "Offline demo"
