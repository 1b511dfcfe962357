"""The LLM's configuration, and the plain facts about artists the prompt and the answer mapping share.

Kept apart from ``client`` so that ``prompt`` can read the configuration without importing the calls
that use the prompt.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from ...conf import conf

OPENAI_BASE_URL = "https://api.openai.com/v1"


@dataclass(frozen=True)
class LLMConfig:
    base_url: str
    api_key: str
    model: str
    timeout: float
    max_retries: int
    backoff: float
    text_budget: int
    screenshots: bool

    @classmethod
    def from_settings(cls) -> tuple["LLMConfig | None", str]:
        """(the configuration, "") when the LLM is configured, else (None, why it is off)."""
        base_url = (conf.LLM_BASE_URL or "").strip()
        api_key = (conf.LLM_API_KEY or "").strip()
        model = (conf.LLM_MODEL or "").strip()
        if not (base_url or api_key):
            return None, "LLM_BASE_URL and LLM_API_KEY are not set"
        if not model:
            return None, "LLM_MODEL is not set"
        return cls(
            base_url=base_url or OPENAI_BASE_URL,
            # Local servers (Ollama, vLLM) take any key; the client insists on one.
            api_key=api_key or "not-needed",
            model=model,
            timeout=float(conf.LLM_TIMEOUT),
            max_retries=max(0, int(conf.LLM_MAX_RETRIES)),
            backoff=float(conf.LLM_RETRY_BACKOFF),
            text_budget=max(500, int(conf.LLM_TEXT_BUDGET)),
            screenshots=bool(conf.LLM_SCREENSHOTS),
        ), ""

    def describe(self) -> str:
        """The model and where it is served, for the run log (never the key)."""
        return f"{self.model} at {urlsplit(self.base_url).netloc or self.base_url}"


@dataclass(frozen=True)
class KnownArtist:
    """An artist as the prompt and the answer mapping see it (a plain copy: no ORM in worker threads)."""

    artist_id: str
    name: str
    aliases: tuple[str, ...] = ()
