"""The LLM extractor against a local OpenAI-compatible server: the request, the answer, and every way it goes wrong."""

import time
from datetime import date, datetime
from datetime import time as clock

import pytest

from studios.pipeline.extract import ExtractionContext
from studios.pipeline.fetch import Page
from studios.pipeline.llm import (
    KnownArtist,
    LLMConfig,
    LLMError,
    LLMExtractor,
    parse_clock,
    trim,
    visible_text,
)

from .fake_openai import answer, completion, detail, error, when

TODAY = date(2031, 3, 10)
ARTISTS = (
    KnownArtist("aadil.khan.dance", "Aadil Khan"),
    KnownArtist("vivek.moves", "Vivek Rathore", ("Vicky Moves", "Vicky")),
    KnownArtist("meghna.kapoor_", "Meghna Kapoor", ("Meg K",)),
)
PAGE_HTML = """<html><head><title>Bollywood Fusion · Studio Pulse</title><style>.x{color:red}</style>
<script>var secret = "not for the model";</script></head>
<body><h1>Bollywood Fusion</h1><p>With <b>Aadil Khan</b> and Vicky Moves.</p>
<ul><li>Sat 15 March, 4 PM to 6 PM</li><li>Early bird ₹1,200</li></ul><!-- a comment --></body></html>"""


def page(html=PAGE_HTML, url="http://127.0.0.1:9/workshops/fusion/", **extra):
    return Page(url=url, final_url=url, status=200, content_type="text/html", text=html, **extra)


@pytest.fixture
def context():
    return ExtractionContext(
        studio_name="Studio Pulse",
        hints="Prices are in rupees.",
        time_zone="Asia/Kolkata",
        today=TODAY,
        artists=ARTISTS,
        mode="llm",
    )


@pytest.fixture
def extractor(llm_settings, llm_server):
    llm_server.expect_artist_ids = [a.artist_id for a in ARTISTS]
    config, why_off = LLMConfig.from_settings()
    assert config is not None, why_off
    extractor = LLMExtractor(config)
    yield extractor
    extractor.close()


FUSION = answer(
    detail(
        when(date(2031, 3, 15), "04:00 PM", "06:00 PM"),
        when(date(2031, 3, 16), "11:30 AM", None),
        by="Aadil Khan & Vicky Moves",
        song="Jhoome Jo Pathaan",
        pricing_info="Early bird: ₹1,200\nRegular: ₹1,500",
        artist_id_list=["aadil.khan.dance", "vivek.moves"],
    )
)


def test_the_request_carries_model_schema_date_studio_hints_artists_and_page_text(extractor, llm_server, context):
    llm_server.add(completion(FUSION))
    extractor.extract(page(), context)

    (request,) = llm_server.requests
    system, user = request["messages"]
    assert "is_valid" in system["content"] and "artist_id_list" in system["content"]
    prompt = user["content"]
    assert isinstance(prompt, str), "text only: the page was not rendered, so there is no screenshot"
    assert "Today is Monday 10 March 2031 in the studio's time zone (Asia/Kolkata)." in prompt
    assert "Studio: Studio Pulse" in prompt and "Prices are in rupees." in prompt
    assert '{"id": "vivek.moves", "name": "Vivek Rathore", "aliases": ["Vicky Moves", "Vicky"]}' in prompt
    assert "Page: http://127.0.0.1:9/workshops/fusion/" in prompt
    assert "Bollywood Fusion\nWith Aadil Khan and Vicky Moves.\nSat 15 March, 4 PM to 6 PM\nEarly bird ₹1,200" in prompt
    assert "not for the model" not in prompt and "color:red" not in prompt and "a comment" not in prompt


def test_the_answer_becomes_events_with_handles_sessions_and_prices(extractor, llm_server, context):
    llm_server.add(completion(FUSION, prompt_tokens=500, completion_tokens=80))
    (event,) = extractor.extract(page(), context)

    assert event.title == "Bollywood Fusion"
    assert (event.event_type, event.song, event.by) == ("workshop", "Jhoome Jo Pathaan", "Aadil Khan & Vicky Moves")
    # Listed ids become performers with that handle, so the matcher finds them by handle.
    assert event.performers == [("Aadil Khan", "aadil.khan.dance"), ("Vivek Rathore", "vivek.moves")]
    assert event.pricing_info == "Early bird: ₹1,200\nRegular: ₹1,500"
    assert event.sessions == [
        (datetime(2031, 3, 15, 16, 0), datetime(2031, 3, 15, 18, 0)),
        (datetime(2031, 3, 16, 11, 30), None),
    ]
    assert extractor.usage.as_dict() == {
        "prompt_tokens": 500,
        "completion_tokens": 80,
        "total_tokens": 580,
        "requests": 1,
    }


def test_separate_routines_unknown_artists_and_invented_ids(extractor, llm_server, context):
    llm_server.add(
        completion(
            answer(
                detail(when(date(2031, 4, 1)), by="Meg K", song="Levitating", artist_id_list=["MEGHNA.KAPOOR_"]),
                # An id that is not in the list is dropped; the billed name still goes to matching.
                detail(
                    when(date(2031, 4, 1), "10:00 PM", "01:00 AM"),
                    by="Rohan Pillai",
                    song=None,
                    artist_id_list=["rohan.invented"],
                ),
                event_type="intensive",
            )
        )
    )
    first, second = extractor.extract(page(), context)
    assert (first.title, second.title) == ("Bollywood Fusion: Levitating", "Bollywood Fusion: Rohan Pillai")
    assert first.event_type == second.event_type == "intensive"
    assert first.performers == [("Meghna Kapoor", "meghna.kapoor_")]
    assert first.sessions == [(date(2031, 4, 1), None)]
    assert second.performers == [("Rohan Pillai", None)]
    assert second.sessions == [(datetime(2031, 4, 1, 22, 0), datetime(2031, 4, 2, 1, 0))], "ends after midnight"


def test_is_valid_false_means_no_workshop_data(extractor, llm_server, context):
    llm_server.add(completion(answer(is_valid=False)))
    assert extractor.extract(page(), context) == []
    assert context.pop_notes(page().url) == [("info", "the LLM says the page announces no workshop")]


def test_rate_limit_then_success_waits_the_servers_small_retry_after(extractor, llm_server, context):
    llm_server.add(error(429, "slow down", headers={"Retry-After": "0.3"}), completion(FUSION))
    started = time.monotonic()
    assert len(extractor.extract(page(), context)) == 1
    assert time.monotonic() - started >= 0.3
    assert len(llm_server.requests) == 2
    assert context.pop_notes(page().url) == [("info", "LLM HTTP 429; retrying in 0.3s")]


def test_a_long_retry_after_is_not_waited_for(extractor, llm_server, context):
    llm_server.add(error(429, "quota", headers={"Retry-After": "600"}))
    with pytest.raises(LLMError, match=r"^HTTP 429, and the server asks to wait 600s$"):
        extractor.extract(page(), context)
    assert len(llm_server.requests) == 1


def test_server_error_then_success(extractor, llm_server, context):
    llm_server.add(error(500), error(503), completion(FUSION))
    assert len(extractor.extract(page(), context)) == 1
    assert len(llm_server.requests) == 3


def test_server_errors_until_the_retries_run_out_fail_the_page(extractor, llm_server, context):
    llm_server.add(*[error(500)] * 3)
    with pytest.raises(LLMError, match=r"^HTTP 500, gave up after 3 attempts$"):
        extractor.extract(page(), context)
    assert len(llm_server.requests) == 3, "LLM_MAX_RETRIES=2: one try and two retries"


def test_a_slow_server_times_out_and_is_retried(extractor, llm_server, context):
    # The server takes longer than LLM_TIMEOUT (0.5 s) once, then answers at once.
    slow = completion(FUSION)
    slow.delay = 1.5
    llm_server.add(slow, completion(FUSION))
    assert len(extractor.extract(page(), context)) == 1
    assert context.pop_notes(page().url)[0] == ("info", "LLM timed out after 0.5s; retrying in 0.01s")


def test_a_server_that_never_answers_in_time_fails_the_page(extractor, llm_server, context, settings):
    for _ in range(3):
        slow = completion(FUSION)
        slow.delay = 1.0
        llm_server.add(slow)
    with pytest.raises(LLMError, match=r"^timed out after 0.5s, gave up after 3 attempts$"):
        extractor.extract(page(), context)


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (completion("{'is_valid': true, oops"), "the answer is not valid JSON"),
        (completion("Sure! Here are the workshops: none."), "the answer is not valid JSON"),
        (completion(None, refusal="I can't help with that."), "the model refused: I can't help with that."),
        (completion(""), "the answer is empty"),
        (
            completion({"is_valid": True, "event_type": "party", "event_details": []}),
            r"the answer does not match the schema \(event_type: .*",
        ),
        (
            completion(answer(detail(when(date(2031, 2, 1)) | {"month": 13}, by="A"))),
            r"the answer does not match the schema \(event_details.0.time_details.0: .*",
        ),
        (
            completion(answer(detail(when(date(2031, 2, 1), "sevenish"), by="A"))),
            r"the answer does not match the schema \(event_details.0.time_details.0.start_time: .*sevenish.*",
        ),
        (
            completion({"is_valid": True, "event_type": "workshop"}),
            r"the answer does not match the schema \(event_details: Field required\)",
        ),
    ],
    ids=["broken-json", "prose", "refusal", "empty", "bad-enum", "month-13", "bad-time", "missing-field"],
)
def test_unusable_answers_fail_the_page_without_retrying(extractor, llm_server, context, reply, reason):
    llm_server.add(reply)
    with pytest.raises(LLMError, match=f"^{reason}$"):
        extractor.extract(page(), context)
    assert len(llm_server.requests) == 1
    assert extractor.usage.requests == 1, "tokens spent on a useless answer still count"


def test_json_in_a_code_fence_is_accepted(extractor, llm_server, context):
    import json

    llm_server.add(completion("```json\n" + json.dumps(FUSION) + "\n```"))
    assert len(extractor.extract(page(), context)) == 1


def test_a_wrong_key_fails_this_page_and_spares_the_others(extractor, llm_server, context):
    llm_server.add(error(401, "Incorrect API key provided"))
    with pytest.raises(LLMError, match=r"^the LLM answered HTTP 401: Incorrect API key provided$"):
        extractor.extract(page(), context)
    with pytest.raises(LLMError, match="HTTP 401"):
        extractor.extract(page(url="http://127.0.0.1:9/workshops/other/"), context)
    assert len(llm_server.requests) == 1, "no request after an answer no retry can fix"


def test_screenshot_of_a_rendered_page_goes_as_an_image_part(llm_settings, llm_server, context):
    llm_settings.LLM_SCREENSHOTS = True
    llm_server.expect_image = True
    llm_server.add(completion(FUSION))
    config, _ = LLMConfig.from_settings()
    extractor = LLMExtractor(config)
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
    extractor.extract(page(rendered=True, screenshot=png), context)
    extractor.close()
    parts = llm_server.requests[0]["messages"][1]["content"]
    assert [p["type"] for p in parts] == ["text", "image_url"]
    assert "and a screenshot of the whole page below" in parts[0]["text"]


@pytest.mark.parametrize(
    ("env", "why"),
    [
        ({}, "LLM_BASE_URL and LLM_API_KEY are not set"),
        ({"LLM_BASE_URL": "http://127.0.0.1:11434/v1"}, "LLM_MODEL is not set"),
        ({"LLM_API_KEY": "sk-x"}, "LLM_MODEL is not set"),
    ],
)
def test_the_llm_is_off_until_a_model_and_an_endpoint_or_key_are_set(settings, env, why):
    for name, value in env.items():
        setattr(settings, name, value)
    assert LLMConfig.from_settings() == (None, why)


def test_configurations_for_openai_and_local_servers(settings):
    settings.LLM_API_KEY, settings.LLM_MODEL = "sk-x", "gpt-4o-mini"
    config, _ = LLMConfig.from_settings()
    assert config.base_url == "https://api.openai.com/v1" and config.describe() == "gpt-4o-mini at api.openai.com"
    settings.LLM_API_KEY, settings.LLM_BASE_URL, settings.LLM_MODEL = "", "http://127.0.0.1:11434/v1", "qwen2.5vl"
    config, _ = LLMConfig.from_settings()
    assert (config.base_url, config.api_key) == ("http://127.0.0.1:11434/v1", "not-needed")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("06:30 PM", clock(18, 30)),
        ("6:30pm", clock(18, 30)),
        ("12:00 AM", clock(0, 0)),
        ("12:15 PM", clock(12, 15)),
        ("7 P.M.", clock(19, 0)),
        ("18:45", clock(18, 45)),
        (None, None),
        ("", None),
        ("TBA", None),
    ],
)
def test_clock_times(value, expected):
    assert parse_clock(value) == expected


@pytest.mark.parametrize("value", ["13:00 PM", "25:00", "evening", "6.75 PM"])
def test_clock_times_that_are_not(value):
    with pytest.raises(ValueError):
        parse_clock(value)


def test_visible_text_and_budget():
    text = visible_text(PAGE_HTML)
    assert text.splitlines()[:3] == [
        "Bollywood Fusion · Studio Pulse",
        "Bollywood Fusion",
        "With Aadil Khan and Vicky Moves.",
    ]
    long = "\n".join(f"line {n} " + "x" * 50 for n in range(100))
    cut = trim(long, 1000)
    assert len(cut) < 1100 and cut.endswith("[… the rest of the page was cut]")
    assert cut.splitlines()[-2].startswith("line ") and len(cut.splitlines()[-2]) == len("line 10 ") + 50
