"""LLM tokens per studio and month, their estimated cost, and the monthly budget that stops the LLM."""

from datetime import date, timedelta

from django.db.models import F
from django.utils import timezone

from .conf import conf
from .metrics import count_llm_tokens
from .models import LLMUsage, Studio

# How far back the studio's admin page and REST detail show LLM use.
RECENT_MONTHS = 12


def this_month(now=None) -> date:
    """The first day of the current month (in the server's time zone): usage rows are kept by month."""
    return timezone.localdate(now).replace(day=1)


def llm_cost(prompt_tokens: int, completion_tokens: int) -> float | None:
    """Estimated US dollars from LLM_PRICE_INPUT_PER_MTOK / LLM_PRICE_OUTPUT_PER_MTOK; None when no price is set."""
    price_in, price_out = conf.LLM_PRICE_INPUT_PER_MTOK, conf.LLM_PRICE_OUTPUT_PER_MTOK
    if not (price_in or price_out):
        return None
    return (prompt_tokens * price_in + completion_tokens * price_out) / 1_000_000


def month_usage(studio: Studio, month: date | None = None) -> LLMUsage:
    """The studio's usage row for the month (unsaved and zero when it used nothing yet)."""
    month = month or this_month()
    return LLMUsage.objects.filter(studio=studio, month=month).first() or LLMUsage(studio=studio, month=month)


def recent_usage(studio: Studio, months: int = RECENT_MONTHS) -> list[LLMUsage]:
    """The studio's usage rows of this month and the `months` - 1 before it, newest first; a month
    without LLM use has no row."""
    first = this_month()
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    return list(LLMUsage.objects.filter(studio=studio, month__gte=first).order_by("-month"))


def tokens_left(studio: Studio) -> int | None:
    """Tokens the studio may still use this month; None when it has no budget."""
    if not studio.llm_monthly_token_budget:
        return None
    return max(0, studio.llm_monthly_token_budget - month_usage(studio).total_tokens)


def record_usage(studio: Studio, tokens: dict[str, int]) -> None:
    """Add a run's tokens to the studio's row for this month (atomic increments: runs may overlap),
    and to this process's token counters."""
    if not tokens.get("requests"):
        return
    count_llm_tokens(tokens)
    month = this_month()
    LLMUsage.objects.get_or_create(studio=studio, month=month)
    LLMUsage.objects.filter(studio=studio, month=month).update(
        requests=F("requests") + tokens.get("requests", 0),
        prompt_tokens=F("prompt_tokens") + tokens.get("prompt_tokens", 0),
        completion_tokens=F("completion_tokens") + tokens.get("completion_tokens", 0),
    )
