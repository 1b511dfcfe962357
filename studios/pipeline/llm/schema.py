"""The answer the LLM is asked for: its strict JSON schema, and the pydantic models that check it.

The schema keeps the original system's shape, so prompts written for it carry over:

    {"is_valid": bool, "event_type": "workshop" | "intensive" | "regulars",
     "event_details": [{"time_details": [{"day", "month", "year", "start_time", "end_time"}],
                        "by", "song", "pricing_info", "artist_id_list"}]}
"""

import json
import re
from datetime import date
from datetime import time as clock
from typing import TYPE_CHECKING, Literal, Self

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from ..errors import LLMError

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletion
    from openai.types.shared_params import ResponseFormatJSONSchema

EVENT_TYPES = ("workshop", "intensive", "regulars")
SCHEMA_NAME = "studio_workshops"

_CLOCK_HINT = 'A 12-hour clock time "HH:MM AM" or "HH:MM PM" (e.g. "06:30 PM"), or null when the page gives none.'
RESPONSE_SCHEMA: dict[str, object] = {
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
RESPONSE_FORMAT: "ResponseFormatJSONSchema" = {
    "type": "json_schema",
    "json_schema": {"name": SCHEMA_NAME, "strict": True, "schema": RESPONSE_SCHEMA},
}

_TIME_12H = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*([AaPp])\.?\s*[Mm]\.?$")
_TIME_24H = re.compile(r"^(\d{1,2})[:.](\d{2})(?::\d{2})?$")


def parse_clock(value: object) -> clock | None:
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
    def _clock(cls, value: object) -> clock | None:
        return parse_clock(value)

    @model_validator(mode="after")
    def _real_date(self) -> Self:
        if not 2000 <= self.year <= 2100:
            raise ValueError(f"year {self.year} is out of range")
        _ = self.date  # raises ValueError for 31 February and the like
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


class AnswerCutOff(LLMError):
    """The model hit its output limit: the JSON is incomplete. The page is asked again in parts."""


def parse_answer(completion: "ChatCompletion") -> Answer:
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
        raise AnswerCutOff("the answer was cut off (finish_reason length)")
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
