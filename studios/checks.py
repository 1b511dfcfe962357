"""System checks for the settings studios' pipeline reads: values that cannot work stop `manage.py`
commands early instead of failing each run."""

from django.conf import settings
from django.core.checks import Error
from django.core.exceptions import ValidationError

from streaming.checks import number_errors

from .conf import conf
from .models import validate_time_zone

# Settings the pipeline divides by, waits for or sizes with: zero or less cannot work.
POSITIVE = (
    "FETCH_TIMEOUT",
    "FETCH_DEADLINE",
    "FETCH_MAX_BYTES",
    "DISCOVERY_MAX_PAGES",
    "MAX_LINKS_PER_RUN",
    "RENDER_TIMEOUT",
    "LLM_TIMEOUT",
    "LLM_TEXT_BUDGET",
    "FETCH_PER_HOST_CONCURRENCY",
    "SCHEDULER_INTERVAL",
)
# Counts and delays where zero means "none".
AT_LEAST_ZERO = (
    "FETCH_MAX_REDIRECTS",
    "FETCH_RETRIES",
    "FETCH_RETRY_BACKOFF",
    "LLM_MAX_RETRIES",
    "LLM_RETRY_BACKOFF",
    "FETCH_MAX_RETRY_AFTER",
    "REFRESH_DEFAULT_INTERVAL",
    "LLM_PRICE_INPUT_PER_MTOK",
    "LLM_PRICE_OUTPUT_PER_MTOK",
)


def _values(names):
    return {name: getattr(conf, name) for name in names}


def check_llm(app_configs=None, **kwargs):
    model = (conf.LLM_MODEL or "").strip()
    endpoint = [name for name in ("LLM_BASE_URL", "LLM_API_KEY") if (getattr(conf, name) or "").strip()]
    if model and not endpoint:
        return [
            Error(
                "LLM_MODEL is set but neither LLM_BASE_URL nor LLM_API_KEY is: the LLM would stay off.",
                hint="Set LLM_API_KEY for OpenAI, LLM_BASE_URL for another OpenAI-compatible server, or unset LLM_MODEL.",
                id="studios.E001",
            )
        ]
    if endpoint and not model:
        return [
            Error(
                f"{' and '.join(endpoint)} {'is' if len(endpoint) == 1 else 'are'} set but LLM_MODEL is not: "
                "the LLM would stay off.",
                hint="Set LLM_MODEL to the model's name (e.g. gpt-4o-mini), or unset the others.",
                id="studios.E001",
            )
        ]
    return []


def check_time_zone(app_configs=None, **kwargs):
    try:
        validate_time_zone(settings.TIME_ZONE)
    except ValidationError as error:
        return [
            Error(
                f"TIME_ZONE: {error.messages[0]} New studios take it as their time zone.",
                hint="Use an IANA name such as 'Asia/Kolkata' or 'UTC'.",
                id="studios.E002",
            )
        ]
    return []


def check_pipeline_numbers(app_configs=None, **kwargs):
    errors = number_errors(_values(POSITIVE), "studios.E003")
    errors += number_errors(_values(AT_LEAST_ZERO), "studios.E003", allow_zero=True)
    threshold = _values(["ARTIST_MATCH_THRESHOLD"])
    errors += number_errors(threshold, "studios.E004", allow_zero=True)
    if not errors and threshold["ARTIST_MATCH_THRESHOLD"] > 100:
        errors.append(
            Error(
                f"ARTIST_MATCH_THRESHOLD is {threshold['ARTIST_MATCH_THRESHOLD']}; match scores run from 0 to 100, "
                "so no name would ever match fuzzily.",
                hint="Leave it unset for 85, or pick a score from 0 to 100.",
                id="studios.E004",
            )
        )
    return errors
