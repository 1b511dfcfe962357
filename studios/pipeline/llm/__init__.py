"""The LLM extractor: a page's visible text (and a screenshot of it) in, workshops out.

``schema`` is the strict JSON answer asked for and its validation, ``prompt`` what the model is
shown, ``config`` the configuration, ``client`` the calls, ``mapping`` the answer turned into events.
"""

from ..errors import LLMError
from .client import LLMExtractor
from .config import KnownArtist, LLMConfig
from .prompt import trim, visible_text
from .schema import parse_clock

__all__ = ["KnownArtist", "LLMConfig", "LLMError", "LLMExtractor", "parse_clock", "trim", "visible_text"]
