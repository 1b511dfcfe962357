"""The LLM extractor: a page's visible text (and a screenshot of it) in, workshops out.

It talks to any OpenAI-compatible chat-completions endpoint through the ``openai`` client (OpenAI,
Gemini's compatible endpoint, vLLM, Ollama) and asks for a strict JSON schema in the original
system's shape, so prompts written for it carry over:

    {"is_valid": bool, "event_type": "workshop" | "intensive" | "regulars",
     "event_details": [{"time_details": [{"day", "month", "year", "start_time", "end_time"}],
                        "by", "song", "pricing_info", "artist_id_list"}]}

The answer is validated with pydantic and mapped to the pipeline's ``ExtractedEvent``. Rate limits,
server errors and timeouts are retried with exponential backoff; an answer that cannot be used
raises ``LLMError``, which fails that link only. Runs in the pipeline's worker threads: no ORM here,
everything it needs comes in the ``ExtractionContext`` built by the calling thread.
"""

import base64
import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, time as clock, timedelta
from typing import Literal
from urllib.parse import urlsplit

import lxml.etree
from django.conf import settings
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from .discover import parse_html
from .errors import LLMError
from .fetch import Page
from .match import ArtistMatcher, normalise_handle, split_artists

logger = logging.getLogger(__name__)

EVENT_TYPES = ("workshop", "intensive", "regulars")
OPENAI_BASE_URL = "https://api.openai.com/v1"
# A server asking for a longer pause than this is not retried: the link fails and the run goes on.
MAX_RETRY_AFTER = 30.0
SCHEMA_NAME = "studio_workshops"

_CLOCK_HINT = 'A 12-hour clock time "HH:MM AM" or "HH:MM PM" (e.g. "06:30 PM"), or null when the page gives none.'
RESPONSE_SCHEMA = {
    "type": "object",
    "properties": {
        "is_valid": {
            "type": "boolean",
            "description": "True when the page announces at least one dance workshop, intensive or regular class.",
        },
        "event_type": {"type": "string", "enum": list(EVENT_TYPES)},
        "event_details": {
            "type": "array",
            "description": "One entry per routine (song) taught; empty when is_valid is false.",
            "items": {
                "type": "object",
                "properties": {
                    "time_details": {
                        "type": "array",
                        "description": "One entry per session (day).",
                        "items": {
                            "type": "object",
                            "properties": {
                                "day": {"type": "integer"},
                                "month": {"type": "integer"},
                                "year": {"type": "integer"},
                                "start_time": {"type": ["string", "null"], "description": _CLOCK_HINT},
                                "end_time": {"type": ["string", "null"], "description": _CLOCK_HINT},
                            },
                            "required": ["day", "month", "year", "start_time", "end_time"],
                            "additionalProperties": False,
                        },
                    },
                    "by": {"type": "string", "description": "The instructors as the page bills them."},
                    "song": {"type": ["string", "null"], "description": "The song or routine taught, or null."},
                    "pricing_info": {
                        "type": ["string", "null"],
                        "description": "One price tier per line, e.g. 'Early bird: ₹1,200', or null.",
                    },
                    "artist_id_list": {
                        "type": "array",
                        "items": {"type": "string"},
                        "description": "Ids from the known-artists list of the instructors found there.",
                    },
                },
                "required": ["time_details", "by", "song", "pricing_info", "artist_id_list"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["is_valid", "event_type", "event_details"],
    "additionalProperties": False,
}
RESPONSE_FORMAT = {"type": "json_schema", "json_schema": {"name": SCHEMA_NAME, "strict": True, "schema": RESPONSE_SCHEMA}}

SYSTEM_PROMPT = """\
You read one web page of a dance studio and report the dance workshops it announces, as JSON that \
follows the given schema exactly.

- is_valid: true only when the page announces at least one specific dance workshop, intensive or \
regular class with a date. A page about the studio, a list of links, an FAQ or a contact page is \
not valid: answer is_valid false, event_type "workshop" and an empty event_details.
- event_type: "intensive" for a multi-day intensive programme, "regulars" for a recurring weekly \
class, otherwise "workshop".
- event_details: one entry per routine or song taught. Two routines on one page are two entries, \
even when the same artist teaches both.
- time_details: one entry per session day, with the calendar day, month (1-12) and full year. When \
the page omits the year, use the first such date on or after today. start_time and end_time use a \
12-hour clock, "HH:MM AM" or "HH:MM PM"; null when the page gives no time. Report past dates as \
they are; do not leave them out.
- by: the instructors as the page bills them, several joined with " & ".
- song: the song or routine name; null when the page names none.
- pricing_info: every price tier on its own line, such as "Early bird: ₹1,200"; null when there is \
no price.
- artist_id_list: for each instructor who is in the known-artists list (by name, alias or Instagram \
handle), that artist's id. Use only ids from the list; never invent one. Leave out instructors who \
are not in the list (they stay in "by").
- Use only what the page says. Do not guess missing details.
"""

_TIME_12H = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*([AaPp])\.?\s*[Mm]\.?$")
_TIME_24H = re.compile(r"^(\d{1,2})[:.](\d{2})(?::\d{2})?$")
_BLOCK_TAGS = (
    "p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "li", "ul", "ol",
    "dl", "dt", "dd", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "br", "hr", "blockquote",
    "pre", "figure", "figcaption", "form", "address",
)
_HIDDEN_TAGS = ("script", "style", "noscript", "template", "svg", "head", "iframe", "object", "canvas")


# --- configuration -----------------------------------------------------------------------------------


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
        base_url = (settings.LLM_BASE_URL or "").strip()
        api_key = (settings.LLM_API_KEY or "").strip()
        model = (settings.LLM_MODEL or "").strip()
        if not (base_url or api_key):
            return None, "LLM_BASE_URL and LLM_API_KEY are not set"
        if not model:
            return None, "LLM_MODEL is not set"
        return cls(
            base_url=base_url or OPENAI_BASE_URL,
            # Local servers (Ollama, vLLM) take any key; the client insists on one.
            api_key=api_key or "not-needed",
            model=model,
            timeout=float(settings.LLM_TIMEOUT),
            max_retries=max(0, int(settings.LLM_MAX_RETRIES)),
            backoff=float(settings.LLM_RETRY_BACKOFF),
            text_budget=max(500, int(settings.LLM_TEXT_BUDGET)),
            screenshots=bool(settings.LLM_SCREENSHOTS),
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


class TokenUsage:
    """Token counts over a run, added to from several worker threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self.requests = self.prompt_tokens = self.completion_tokens = self.total_tokens = 0

    def add(self, usage) -> None:
        with self._lock:
            self.requests += 1
            if usage is None:
                return
            prompt = getattr(usage, "prompt_tokens", 0) or 0
            completion = getattr(usage, "completion_tokens", 0) or 0
            self.prompt_tokens += prompt
            self.completion_tokens += completion
            self.total_tokens += getattr(usage, "total_tokens", 0) or prompt + completion

    def as_dict(self) -> dict:
        with self._lock:
            return {
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "total_tokens": self.total_tokens,
                "requests": self.requests,
            }


# --- the answer --------------------------------------------------------------------------------------


def parse_clock(value) -> clock | None:
    """'06:30 PM', '6:30pm', '6 PM', '18:30' -> a time; None for null/empty; ValueError otherwise."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("a time must be a string like '06:30 PM'")
    text = value.strip()
    if not text or text.lower() in {"null", "none", "tba", "tbd"}:
        return None
    match = _TIME_12H.match(text)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if not 1 <= hour <= 12 or minute > 59:
            raise ValueError(f"{value!r} is not a 12-hour clock time")
        hour = hour % 12 + (12 if match.group(3).lower() == "p" else 0)
        return clock(hour, minute)
    match = _TIME_24H.match(text)
    if match and int(match.group(1)) < 24 and int(match.group(2)) < 60:
        return clock(int(match.group(1)), int(match.group(2)))
    raise ValueError(f"{value!r} is not a time like '06:30 PM'")


class TimeDetail(BaseModel):
    model_config = ConfigDict(extra="ignore")

    day: int
    month: int
    year: int
    start_time: clock | None = None
    end_time: clock | None = None

    @field_validator("start_time", "end_time", mode="before")
    @classmethod
    def _clock(cls, value):
        return parse_clock(value)

    @model_validator(mode="after")
    def _real_date(self):
        if not 2000 <= self.year <= 2100:
            raise ValueError(f"year {self.year} is out of range")
        self.date  # raises ValueError for 31 February and the like
        return self

    @property
    def date(self) -> date:
        return date(self.year, self.month, self.day)


class EventDetail(BaseModel):
    model_config = ConfigDict(extra="ignore")

    time_details: list[TimeDetail]
    by: str
    song: str | None = None
    pricing_info: str | None = None
    artist_id_list: list[str]


class Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    is_valid: bool
    event_type: Literal["workshop", "intensive", "regulars"]
    event_details: list[EventDetail]


def _strip_fences(content: str) -> str:
    """Some compatible servers wrap JSON in a Markdown code fence despite the schema."""
    text = content.strip()
    match = re.match(r"^```(?:json)?\s*(.*?)\s*```$", text, re.DOTALL | re.IGNORECASE)
    return match.group(1) if match else text


def _schema_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error.get("loc", ())) or "answer"
    return f"{where}: {error.get('msg', 'invalid')}"


def parse_answer(completion) -> Answer:
    """The validated Answer of a chat completion; LLMError when there is none to use."""
    choices = getattr(completion, "choices", None) or []
    if not choices:
        raise LLMError("the answer has no choices")
    choice = choices[0]
    message = choice.message
    refusal = getattr(message, "refusal", None)
    if refusal:
        raise LLMError(f"the model refused: {' '.join(str(refusal).split())[:200]}")
    if choice.finish_reason == "length":
        raise LLMError("the answer was cut off (finish_reason length)")
    if choice.finish_reason == "content_filter":
        raise LLMError("the answer was withheld by a content filter")
    content = message.content
    if not content or not content.strip():
        raise LLMError("the answer is empty")
    try:
        data = json.loads(_strip_fences(content))
    except ValueError:
        raise LLMError("the answer is not valid JSON") from None
    try:
        return Answer.model_validate(data)
    except ValidationError as exc:
        raise LLMError(f"the answer does not match the schema ({_schema_error(exc)})") from None


# --- the page ----------------------------------------------------------------------------------------


def visible_text(html: str) -> str:
    """What a reader sees of the page: its title and body text, one block per line."""
    tree = parse_html(html)
    if tree is None:
        return ""
    title = " ".join((tree.findtext(".//title") or "").split())
    for element in list(tree.iter(lxml.etree.Comment, *_HIDDEN_TAGS)):
        if element.getparent() is not None:
            element.drop_tree()
    for element in tree.iter(*_BLOCK_TAGS):
        element.tail = "\n" + (element.tail or "")
        if element.tag not in ("br", "hr"):
            element.text = "\n" + (element.text or "")
    lines = [" ".join(line.split()) for line in tree.text_content().splitlines()]
    body = "\n".join(line for line in lines if line)
    return f"{title}\n{body}" if title and not body.startswith(title) else body


def trim(text: str, budget: int) -> str:
    if len(text) <= budget:
        return text
    cut = text[:budget]
    # Cut at a line end when one is near, so the model does not read half a sentence as a fact.
    newline = cut.rfind("\n")
    if newline > budget * 0.8:
        cut = cut[:newline]
    return cut + "\n[… the rest of the page was cut]"


def page_heading(page: Page) -> str:
    tree = parse_html(page.text)
    if tree is None:
        return ""
    for path in (".//h1", ".//title"):
        element = tree.find(path)
        if element is not None:
            text = " ".join(element.text_content().split())
            if text:
                return text
    return ""


def build_messages(page: Page, context, config: LLMConfig) -> list[dict]:
    """The chat messages for one page: the instructions, then the facts and the page."""
    artists = "\n".join(
        json.dumps({"id": a.artist_id, "name": a.name, "aliases": list(a.aliases)}, ensure_ascii=False)
        for a in context.artists
    )
    today = context.today
    screenshot = page.screenshot if (config.screenshots and page.rendered and page.screenshot) else None
    text = trim(visible_text(page.text), config.text_budget)
    prompt = (
        f"Today is {today:%A} {today.day} {today:%B %Y} in the studio's time zone ({context.time_zone}).\n"
        f"Studio: {context.studio_name}\n"
        f"Page: {page.final_url}\n"
        f"Notes from the studio's admin: {context.hints.strip() or 'none'}\n\n"
        f"Known artists, one JSON object per line (artist_id_list takes their ids):\n{artists or '(none)'}\n\n"
        f"The page's visible text{', and a screenshot of the whole page below' if screenshot else ''}:\n"
        f"<<<\n{text}\n>>>"
    )
    user: str | list = prompt
    if screenshot:
        data_url = "data:image/png;base64," + base64.b64encode(screenshot).decode("ascii")
        user = [{"type": "text", "text": prompt}, {"type": "image_url", "image_url": {"url": data_url}}]
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


# --- from the answer to events -----------------------------------------------------------------------


def _sessions(detail: EventDetail) -> list[tuple]:
    sessions = []
    for td in detail.time_details:
        day = td.date
        if td.start_time is None:
            sessions.append((day, None))
            continue
        start = datetime.combine(day, td.start_time)
        end = None
        if td.end_time is not None:
            end = datetime.combine(day, td.end_time)
            if end <= start:
                end += timedelta(days=1)  # ends after midnight
        sessions.append((start, end))
    return sessions


def _pricing(value: str | None) -> str:
    lines = [" ".join(line.split()) for line in (value or "").splitlines()]
    return "\n".join(line for line in lines if line)


def to_events(answer: Answer, page: Page, artists) -> list:
    """ExtractedEvents of a valid answer: listed artist ids become performers with that handle."""
    from .extract import ExtractedEvent

    if not answer.is_valid:
        return []
    known = {normalise_handle(a.artist_id): a for a in artists}
    matcher = ArtistMatcher(artists)
    heading = page_heading(page)
    several = len(answer.event_details) > 1
    events = []
    for detail in answer.event_details:
        listed = []
        for artist_id in detail.artist_id_list:
            artist = known.get(normalise_handle(artist_id))
            if artist is not None and artist not in listed:
                listed.append(artist)
        performers = [(artist.name, artist.artist_id) for artist in listed]
        # Billed names the model did not tie to a listed id still go to matching (and get reported).
        for name in split_artists(detail.by):
            if matcher.match(name) not in listed:
                performers.append((name, None))
        by = " ".join(detail.by.split()) or " & ".join(artist.name for artist in listed)
        song = " ".join((detail.song or "").split()) or None
        label = song or by or answer.event_type.capitalize()
        if heading:
            title = f"{heading}: {label}" if several else heading
        else:
            title = f"{song} with {by}" if song and by else label
        events.append(
            ExtractedEvent(
                title=title,
                event_type=answer.event_type,
                song=song,
                by=by,
                performers=performers,
                pricing_info=_pricing(detail.pricing_info),
                sessions=_sessions(detail),
            )
        )
    return events


# --- the client --------------------------------------------------------------------------------------


def _retry_after(response) -> float | None:
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

    def __init__(self, config: LLMConfig, client=None):
        import openai

        self.config = config
        self.usage = TokenUsage()
        self._openai = openai
        self._client = client or openai.OpenAI(
            base_url=config.base_url, api_key=config.api_key, timeout=config.timeout, max_retries=0
        )
        # Set by an answer no retry can fix (a wrong key, an unknown model): later pages fail at once.
        self._broken: str | None = None

    def close(self) -> None:
        try:
            self._client.close()
        except Exception:
            logger.warning("Closing the LLM client failed", exc_info=True)

    def extract(self, page: Page, context) -> list:
        """The page's events; [] when the model says it announces none. LLMError when unusable."""
        if self._broken:
            raise LLMError(self._broken)
        messages = build_messages(page, context, self.config)
        completion = self._complete(messages, page.url, context)
        answer = parse_answer(completion)
        if not answer.is_valid:
            context.note(page.url, "info", "the LLM says the page announces no workshop")
            return []
        return to_events(answer, page, context.artists)

    def _complete(self, messages: list[dict], url: str, context):
        openai, config = self._openai, self.config
        attempt = 0
        while True:
            retry_after = None
            try:
                completion = self._client.chat.completions.create(
                    model=config.model, messages=messages, response_format=RESPONSE_FORMAT
                )
                self.usage.add(getattr(completion, "usage", None))
                return completion
            except openai.APITimeoutError:
                reason = f"timed out after {config.timeout:g}s"
            except openai.APIConnectionError as exc:
                reason = f"connection failed ({exc.__cause__ or exc})"
            except openai.APIStatusError as exc:
                status = exc.status_code
                if status != 429 and status < 500:
                    reason = f"the LLM answered HTTP {status}: {self._error_message(exc)}"
                    if status in (401, 403, 404):
                        self._broken = reason
                    raise LLMError(reason) from None
                reason = f"HTTP {status}"
                retry_after = _retry_after(exc.response)
            if attempt >= config.max_retries:
                attempts = attempt + 1
                raise LLMError(f"{reason}, gave up after {attempts} attempt{'s' if attempts > 1 else ''}")
            delay = config.backoff * 2**attempt
            if retry_after is not None:
                if retry_after > MAX_RETRY_AFTER:
                    raise LLMError(f"{reason}, and the server asks to wait {retry_after:g}s")
                delay = retry_after
            context.note(url, "info", f"LLM {reason}; retrying in {delay:.2g}s")
            time.sleep(delay)
            attempt += 1

    @staticmethod
    def _error_message(exc) -> str:
        body = getattr(exc, "body", None)
        if isinstance(body, dict):
            error = body["error"] if isinstance(body.get("error"), dict) else body
            message = error.get("message")
            if message:
                return " ".join(str(message).split())[:200]
        return " ".join(str(getattr(exc, "message", "") or exc).split())[:200]
