"""Talking to the model: the client a run shares, token counts, and the calls (configured by ``config``).

Any OpenAI-compatible chat-completions endpoint works through the ``openai`` client (OpenAI,
Gemini's compatible endpoint, vLLM, Ollama). Rate limits, server errors and timeouts are retried
with exponential backoff; an answer that cannot be used raises ``LLMError``, which fails that link
only. Runs in the pipeline's worker threads: no ORM here, everything it needs comes in the
``ExtractionContext`` built by the calling thread.
"""

import logging
import threading
from typing import TYPE_CHECKING

from ..errors import LLMError, TransientLLMError
from ..extract import ExtractedEvent, ExtractionContext
from ..fetch import Page, StoppableLLMBackend, transport_through
from ..retry import asked_pause, call_with_retries
from .config import KnownArtist, LLMConfig
from .mapping import to_events
from .prompt import build_messages, split_text, trim, visible_text
from .schema import RESPONSE_FORMAT, Answer, AnswerCutOff, parse_answer

if TYPE_CHECKING:
    import openai
    from openai.types import CompletionUsage
    from openai.types.chat import ChatCompletion, ChatCompletionMessageParam

# KnownArtist and LLMConfig live in .config; they stay importable from here.
__all__ = ["KnownArtist", "LLMConfig", "LLMExtractor", "TokenUsage"]

logger = logging.getLogger(__name__)

# A server asking for a longer pause than this is not retried: the link fails and the run goes on.
MAX_RETRY_AFTER = 30.0
# An answer cut off by the output limit: the page is asked again in 2 parts, then 4, never more.
MAX_PARTS = 4


class BudgetSpent(LLMError):
    """The studio's monthly LLM token budget is spent: the LLM is not called."""


class TokenUsage:
    """Token counts over a run, added to from several worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = self.prompt_tokens = self.completion_tokens = self.total_tokens = 0

    def add(self, usage: "CompletionUsage | None") -> None:
        with self._lock:
            self.requests += 1
            if usage is None:
                return
            prompt = getattr(usage, "prompt_tokens", 0) or 0
            completion = getattr(usage, "completion_tokens", 0) or 0
            self.prompt_tokens += prompt
            self.completion_tokens += completion
            self.total_tokens += getattr(usage, "total_tokens", 0) or prompt + completion

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return {
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "total_tokens": self.total_tokens,
                "requests": self.requests,
            }


def _retry_after(response: object) -> float | None:
    """Seconds from a Retry-After (or retry-after-ms) header, when there is a readable one."""
    headers = getattr(response, "headers", None) or {}
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / divisor
        except ValueError:
            continue
        if seconds >= 0:
            return seconds
    return None


class LLMExtractor:
    """One client for a run; extract() is called from the pipeline's worker threads."""

    def __init__(
        self,
        config: LLMConfig,
        client: "openai.OpenAI | None" = None,
        token_limit: int | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        """`stop`, once set, aborts the calls in flight (the run's stop signal: a cancel)."""
        import openai

        self.config = config
        self.usage = TokenUsage()
        # Tokens this run may use (what is left of the studio's monthly budget); None: no limit.
        self.token_limit = token_limit
        self._openai = openai
        self._client = client or openai.OpenAI(
            base_url=config.base_url,
            api_key=config.api_key,
            timeout=config.timeout,
            max_retries=0,
            # Its reads end soon after `stop` is set: a cancel does not wait for an answer for up to LLM_TIMEOUT.
            http_client=openai.DefaultHttpxClient(
                transport=transport_through(StoppableLLMBackend(stop or threading.Event()))
            ),
        )
        # Set by an answer no retry can fix (a wrong key, an unknown model): later pages fail at once.
        self._broken: str | None = None

    def close(self) -> None:
        try:
            self._client.close()
        except Exception:
            logger.warning("Closing the LLM client failed", exc_info=True)

    def extract(self, page: Page, context: ExtractionContext) -> list[ExtractedEvent]:
        """The page's events; [] when the model says it announces none. LLMError when unusable."""
        try:
            answer = self._ask(page, context, build_messages(page, context, self.config))
        except AnswerCutOff:
            return self._extract_in_parts(page, context, 2)
        if not answer.is_valid:
            context.note(page.url, "info", "the LLM says the page announces no workshop")
            return []
        return to_events(answer, page, context.artists)

    def _ask(self, page: Page, context: ExtractionContext, messages: list["ChatCompletionMessageParam"]) -> "Answer":
        if self._broken:
            raise LLMError(self._broken)
        if self.token_limit is not None and self.usage.as_dict()["total_tokens"] >= self.token_limit:
            raise BudgetSpent("the studio's monthly LLM token budget is spent; not asked")
        return parse_answer(self._complete(messages, page.url, context))

    def _extract_in_parts(self, page: Page, context: ExtractionContext, parts: int) -> list[ExtractedEvent]:
        """The page's events asked part by part, after an answer cut off by the model's output limit.

        Nothing of the cut answer is kept; a part whose answer is cut off too splits the page finer,
        up to MAX_PARTS; past that the link fails (LLMError), so that nothing half-read is saved.
        """
        if parts > MAX_PARTS:
            raise LLMError(f"the answer was cut off (finish_reason length) even with the page in {MAX_PARTS} parts")
        context.note(
            page.url, "info", f"the LLM's answer was cut off by its output limit: asking again in {parts} parts"
        )
        pieces = split_text(trim(visible_text(page.text), self.config.text_budget), parts)
        events: list[ExtractedEvent] = []
        for number, piece in enumerate(pieces, start=1):
            try:
                answer = self._ask(
                    page, context, build_messages(page, context, self.config, (piece, number, len(pieces)))
                )
            except AnswerCutOff:
                return self._extract_in_parts(page, context, parts * 2)
            if answer.is_valid:
                events.extend(to_events(answer, page, context.artists))
        if not events:
            context.note(page.url, "info", "the LLM says the page announces no workshop")
        return events

    def _complete(
        self, messages: list["ChatCompletionMessageParam"], url: str, context: ExtractionContext
    ) -> "ChatCompletion":
        config = self.config
        try:
            return call_with_retries(
                lambda: self._complete_once(messages),
                retry_on=TransientLLMError,
                retries=config.max_retries,
                backoff=config.backoff,
                server_delay=asked_pause,
                max_server_delay=MAX_RETRY_AFTER,
                stop=context.stop,
                before_retry=lambda exc, delay: context.note(url, "info", f"LLM {exc}; retrying in {delay:.2g}s"),
            )
        except TransientLLMError as exc:
            if exc.retry_after is not None and exc.retry_after > MAX_RETRY_AFTER:
                raise LLMError(f"{exc}, and the server asks to wait {exc.retry_after:g}s") from None
            attempts = config.max_retries + 1
            raise LLMError(f"{exc}, gave up after {attempts} attempt{'s' if attempts > 1 else ''}") from None

    def _complete_once(self, messages: list["ChatCompletionMessageParam"]) -> "ChatCompletion":
        openai, config = self._openai, self.config
        try:
            completion = self._client.chat.completions.create(
                model=config.model, messages=messages, response_format=RESPONSE_FORMAT
            )
        except openai.APITimeoutError:
            raise TransientLLMError(f"timed out after {config.timeout:g}s") from None
        except openai.APIConnectionError as exc:
            raise TransientLLMError(f"connection failed ({exc.__cause__ or exc})") from None
        except openai.APIStatusError as exc:
            status = exc.status_code
            if status == 429 or status >= 500:
                raise TransientLLMError(f"HTTP {status}", _retry_after(exc.response)) from None
            reason = f"the LLM answered HTTP {status}: {self._error_message(exc)}"
            if status in (401, 403, 404):
                self._broken = reason
            raise LLMError(reason) from None
        self.usage.add(getattr(completion, "usage", None))
        return completion

    @staticmethod
    def _error_message(exc: Exception) -> str:
        body = getattr(exc, "body", None)
        if isinstance(body, dict):
            error = body["error"] if isinstance(body.get("error"), dict) else body
            message = error.get("message")
            if message:
                return " ".join(str(message).split())[:200]
        return " ".join(str(getattr(exc, "message", "") or exc).split())[:200]
