"""Reading JSON-LD blocks as sites really write them.

Strict JSON first; when that fails, the block is repaired in one pass that knows whether it is
inside a string: PHP's ``\\'`` and other invalid escapes, raw control characters and unescaped
double quotes in strings, ``//`` and ``/* */`` comments, CDATA and HTML-comment wrappers, trailing
commas, no-break and other Unicode spaces between tokens, a stray or a missing closing brace.
Whatever still cannot be read is refused (None), never raised.
"""

import json
import re
from typing import Any

Json = Any

MAX_BLOCK_CHARS = 2_000_000
_WRAPPERS = re.compile(r"^\s*(?://\s*)?(?:<!\[CDATA\[|<!--)|(?://\s*)?(?:\]\]>|-->)\s*$")
_VALID_ESCAPES = set('"\\/bfnrt')
_HEX = set("0123456789abcdefABCDEF")
_CLOSER = {"{": "}", "[": "]"}
_CONTROL_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
# What may follow a string's closing quote; after a comma, what may start the next key or value.
_AFTER_STRING = set(":}]")
_AFTER_COMMA = set('"{[]}-0123456789')
_KEYWORDS = ("true", "false", "null")
_COMMENTS = ("//", "/*")


def _strip_wrappers(text: str) -> str:
    text = text.strip().lstrip("\ufeff").strip()  # the BOM of a pasted block may follow a newline
    previous = None
    while previous != text:
        previous = text
        text = _WRAPPERS.sub("", text).strip()
    return text


def _next_token(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _ends_string(text: str, i: int) -> bool:
    """Whether the double quote before text[i] closes its string: plugins that print a description
    into a JSON template leave its own quotes unescaped, and those are followed by more text."""
    i = _next_token(text, i)
    if i >= len(text) or text[i] in _AFTER_STRING or text.startswith(_COMMENTS, i):
        return True
    if text[i] != ",":
        return False
    i = _next_token(text, i + 1)
    return i >= len(text) or text[i] in _AFTER_COMMA or text.startswith(_KEYWORDS + _COMMENTS, i)


def _string(text: str, i: int, out: list[str]) -> int:
    """Copy the string that opens at text[i] (a double quote), repaired; returns the index after it."""
    n = len(text)
    out.append('"')
    i += 1
    while i < n:
        ch = text[i]
        if ch == '"':
            if _ends_string(text, i + 1):
                out.append('"')
                return i + 1
            out.append('\\"')
            i += 1
            continue
        if ch == "\\":
            nxt = text[i + 1] if i + 1 < n else ""
            if nxt in _VALID_ESCAPES and nxt:
                out.append(ch + nxt)
                i += 2
            elif nxt == "u" and len(text) >= i + 6 and all(c in _HEX for c in text[i + 2 : i + 6]):
                out.append(text[i : i + 6])
                i += 6
            elif nxt == "u":
                out.append("\\\\u")  # not an escape: keep the backslash as text
                i += 2
            elif nxt:
                # \' (PHP's addslashes), \- and the like: the character itself was meant.
                i += 1
            else:
                i += 1
            continue
        if ch < " ":
            out.append(_CONTROL_ESCAPES.get(ch, f"\\u{ord(ch):04x}"))
        else:
            out.append(ch)
        i += 1
    out.append('"')  # unterminated: close it
    return n


def _drop_trailing_comma(out: list[str]) -> None:
    j = len(out) - 1
    while j >= 0 and out[j].isspace():
        j -= 1
    if j >= 0 and out[j] == ",":
        del out[j]


def repair(text: str) -> str:
    """The block with the usual hand-written and generated mistakes fixed (see the module doc)."""
    text = _strip_wrappers(text)
    out: list[str] = []
    stack: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            i = _string(text, i, out)
            continue
        if ch == "/" and text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if ch == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if ch in "{[":
            stack.append(ch)
            out.append(ch)
        elif ch in "}]":
            if ch == _CLOSER.get(stack[-1] if stack else "", ""):
                _drop_trailing_comma(out)
                stack.pop()
                out.append(ch)
            elif any(_CLOSER[opener] == ch for opener in stack):
                # Closes something further out: close what was left open inside it first.
                while stack and _CLOSER[stack[-1]] != ch:
                    _drop_trailing_comma(out)
                    out.append(_CLOSER[stack.pop()])
                _drop_trailing_comma(out)
                stack.pop()
                out.append(ch)
            # else: a stray closer, dropped
        elif ch < " " and ch not in "\t\n\r":
            pass  # control characters between tokens
        elif ch.isspace():
            out.append(" ")  # a no-break space from a pasted block is not JSON whitespace
        else:
            out.append(ch)
        i += 1
    while stack:
        _drop_trailing_comma(out)
        out.append(_CLOSER[stack.pop()])
    return "".join(out)


def _values(text: str, partial: bool = False) -> list[Json]:
    """Every JSON value in the text, one after another (some blocks hold several objects).

    With `partial`, the values before an unreadable rest are kept; otherwise that raises ValueError.
    """
    decoder = json.JSONDecoder()
    values: list[Json] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and (text[i].isspace() or text[i] in ",;"):
            i += 1
        if i >= n:
            break
        try:
            value, i = decoder.raw_decode(text, i)
        except ValueError:
            if partial:
                return values
            raise
        values.append(value)
    return values


def read_block(text: object) -> list[Json]:
    """The JSON values of one JSON-LD block; [] when nothing can be recovered. Never raises."""
    if not isinstance(text, str) or len(text) > MAX_BLOCK_CHARS:
        return []
    try:
        return _values(text) if text.strip() else []
    except (ValueError, RecursionError):
        pass
    try:
        return _values(repair(text), partial=True)
    except RecursionError:
        return []


def lenient_loads(text: object) -> Json | None:
    """One JSON value read leniently, or None when it cannot be read (several values: the list)."""
    values = read_block(text)
    if not values:
        return None
    return values[0] if len(values) == 1 else values
