"""What the LLM is shown: the instructions, the studio's facts, and the page's visible text (trimmed)."""

import base64
import json
from typing import TYPE_CHECKING

import lxml.etree

from ..discover import parse_html
from ..extract import ExtractionContext
from ..fetch import Page
from .config import LLMConfig

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionContentPartParam, ChatCompletionMessageParam

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

_BLOCK_TAGS = (
    "p",
    "div",
    "section",
    "article",
    "header",
    "footer",
    "main",
    "aside",
    "nav",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "tr",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "br",
    "hr",
    "blockquote",
    "pre",
    "figure",
    "figcaption",
    "form",
    "address",
)
_HIDDEN_TAGS = ("script", "style", "noscript", "template", "svg", "head", "iframe", "object", "canvas")


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


def split_text(text: str, parts: int) -> list[str]:
    """The text in `parts` pieces of about equal length, cut at line ends."""
    lines = text.splitlines()
    if len(lines) < parts:
        size = max(1, -(-len(text) // parts))
        return [text[i : i + size] for i in range(0, len(text), size)]
    pieces: list[str] = []
    target = len(text) / parts
    current: list[str] = []
    length = 0
    for line in lines:
        current.append(line)
        length += len(line) + 1
        if length >= target and len(pieces) < parts - 1:
            pieces.append("\n".join(current))
            current, length = [], 0
    if current:
        pieces.append("\n".join(current))
    return pieces


def build_messages(
    page: Page, context: ExtractionContext, config: LLMConfig, part: tuple[str, int, int] | None = None
) -> list["ChatCompletionMessageParam"]:
    """The chat messages for one page: the instructions, then the facts and the page.

    `part` (text, number, of how many) sends one part of the page's text instead of all of it, when
    an answer about the whole page was longer than the model may write.
    """
    artists = "\n".join(
        json.dumps({"id": a.artist_id, "name": a.name, "aliases": list(a.aliases)}, ensure_ascii=False)
        for a in context.artists
    )
    today = context.run_day()
    screenshot = page.screenshot if (config.screenshots and page.rendered and page.screenshot) else None
    text = trim(visible_text(page.text), config.text_budget) if part is None else part[0]
    if part is not None:
        screenshot = None  # the screenshot shows the whole page; each part is text only
    which = f", part {part[1]} of {part[2]} (report only the workshops in this part)" if part else ""
    prompt = (
        f"Today is {today:%A} {today.day} {today:%B %Y} in the studio's time zone ({context.time_zone}).\n"
        f"Studio: {context.studio_name}\n"
        f"Page: {page.final_url}\n"
        f"Notes from the studio's admin: {context.hints.strip() or 'none'}\n\n"
        f"Known artists, one JSON object per line (artist_id_list takes their ids):\n{artists or '(none)'}\n\n"
        f"The page's visible text{which}{', and a screenshot of the whole page below' if screenshot else ''}:\n"
        f"<<<\n{text}\n>>>"
    )
    user: str | list[ChatCompletionContentPartParam] = prompt
    if screenshot:
        data_url = "data:image/png;base64," + base64.b64encode(screenshot).decode("ascii")
        user = [{"type": "text", "text": prompt}, {"type": "image_url", "image_url": {"url": data_url}}]
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]
