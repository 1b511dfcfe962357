from typing import Protocol


class Reporter(Protocol):
    """What the pipeline needs from whoever runs it."""

    def log(self, level: str, message: str) -> None:
        """level is one of info, success, warning, error."""

    def progress(self, current: int, total: int, message: str = "") -> None: ...

    def should_stop(self) -> bool:
        """True once a cancel was requested; checked between links."""
