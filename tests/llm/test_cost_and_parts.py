"""An answer cut off by the model's output limit is asked again in parts; a spent budget stops the LLM."""

from datetime import date

import pytest

from studios.costs import month_usage, record_usage
from studios.models import Studio, Workshop
from studios.pipeline.errors import LLMError
from studios.pipeline.process import process_studio
from tests.pipeline.support import FakeReporter

from .fake_openai import answer, completion, detail, prompt_text, when
from .test_extractor import ARTISTS, context, extractor, page  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

TWO_ROUTINES = """<html><head><title>Weekend</title></head><body><h1>Weekend workshops</h1>
<p>Saturday 15 March 2031, 4 PM: Bollywood Fusion with Aadil Khan.</p>
<p>Sunday 16 March 2031, 11 AM: Heels with Meg K.</p></body></html>"""


def test_a_cut_off_answer_is_asked_again_in_parts_and_nothing_half_is_kept(extractor, llm_server, context):  # noqa: F811
    llm_server.add(
        completion('{"is_valid": true, "event_type": "workshop", "event_details": [{"time', finish_reason="length")
    )
    llm_server.add(
        completion(
            answer(
                detail(
                    when(date(2031, 3, 15), "04:00 PM"),
                    by="Aadil Khan",
                    song="Fusion",
                    artist_id_list=["aadil.khan.dance"],
                )
            )
        )
    )
    llm_server.add(
        completion(
            answer(
                detail(when(date(2031, 3, 16), "11:00 AM"), by="Meg K", song="Heels", artist_id_list=["meghna.kapoor_"])
            )
        )
    )
    events = extractor.extract(page(TWO_ROUTINES), context)

    assert [e.song for e in events] == ["Fusion", "Heels"]
    assert len(llm_server.requests) == 3
    first, second = prompt_text(llm_server.requests[1]), prompt_text(llm_server.requests[2])
    assert "part 1 of 2" in first and "part 2 of 2" in second
    assert "Bollywood Fusion" in first and "Heels with Meg K" not in first
    assert "Heels with Meg K" in second
    assert context.pop_notes(page().url) == [
        ("info", "the LLM's answer was cut off by its output limit: asking again in 2 parts")
    ]


def test_answers_cut_off_however_finely_split_fail_the_link(extractor, llm_server, context):  # noqa: F811
    llm_server.responder = lambda body: completion('{"is_valid": tr', finish_reason="length")
    with pytest.raises(LLMError, match="cut off .* even with the page in 4 parts"):
        extractor.extract(page(TWO_ROUTINES), context)


@pytest.fixture
def llm_studio(site, llm_settings):
    site.add("/w/a", TWO_ROUTINES)
    site.add("/w/b", TWO_ROUTINES.replace("Weekend", "Other weekend"))
    site.add("/", '<a href="/w/a">a</a> <a href="/w/b">b</a>')
    return Studio.objects.create(studio_id="s", name="S", website=site.url("/"), link_pattern="/w/", extraction="llm")


def test_a_spent_monthly_budget_stops_llm_calls(llm_studio, llm_server):
    llm_server.responder = lambda body: completion(answer(is_valid=False), prompt_tokens=900, completion_tokens=100)
    llm_studio.llm_monthly_token_budget = 1500
    llm_studio.save()
    record_usage(llm_studio, {"requests": 1, "prompt_tokens": 1400, "completion_tokens": 100})

    reporter = FakeReporter()
    with pytest.raises(Exception, match="All 2 workshop links failed"):
        process_studio(llm_studio, reporter)

    assert llm_server.requests == [], "the budget was spent before the run: no call"
    assert any("LLM token budget of 1,500 for this month is spent" in m for m in reporter.messages("warning"))
    assert any("budget is spent; not asked" in m for m in reporter.messages("warning"))
    assert Workshop.objects.count() == 0


def test_the_budget_stops_calls_once_spent_mid_run_and_usage_is_kept_by_month(llm_studio, llm_server):
    llm_server.responder = lambda body: completion(answer(is_valid=False), prompt_tokens=900, completion_tokens=100)
    llm_studio.llm_monthly_token_budget = 1000
    llm_studio.concurrency = 1
    llm_studio.save()

    summary = process_studio(llm_studio, FakeReporter())
    assert len(llm_server.requests) == 1, "the first call spent the budget; the second page was not asked"
    assert summary["llm_tokens"]["total_tokens"] == 1000
    usage = month_usage(llm_studio)
    assert (usage.requests, usage.total_tokens) == (1, 1000)


def test_a_run_summary_carries_its_estimated_llm_cost(llm_studio, llm_server, settings):
    settings.LLM_PRICE_INPUT_PER_MTOK, settings.LLM_PRICE_OUTPUT_PER_MTOK = 0.15, 0.60
    llm_server.responder = lambda body: completion(answer(is_valid=False), prompt_tokens=900, completion_tokens=100)
    summary = process_studio(llm_studio, FakeReporter())
    tokens = summary["llm_tokens"]
    expected = (tokens["prompt_tokens"] * 0.15 + tokens["completion_tokens"] * 0.60) / 1_000_000
    assert tokens["prompt_tokens"] > 0
    assert summary["llm_cost_usd"] == pytest.approx(expected)
    settings.LLM_PRICE_INPUT_PER_MTOK = settings.LLM_PRICE_OUTPUT_PER_MTOK = 0
    assert "llm_cost_usd" not in process_studio(llm_studio, FakeReporter()), "no price, no estimate"
