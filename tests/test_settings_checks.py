"""`manage.py check` names each setting whose value cannot work, and stays quiet about the defaults."""

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from streaming import recovery
from streaming.conf import DEFAULTS, conf
from studios import conf as studios_conf
from studios import schedules
from studios.costs import llm_cost
from studios.models import Studio, Workshop
from studios.pipeline import fetch
from studios.pipeline.process import process_studio
from tests.pipeline.support import FakeReporter, fixture_html


@pytest.fixture(autouse=True)
def no_llm(settings):
    # A developer's own LLM settings must not decide these tests.
    settings.LLM_BASE_URL = settings.LLM_API_KEY = settings.LLM_MODEL = ""


def problems():
    return {(message.id, message.msg) for message in run_checks()}


def ids():
    return sorted(message.id for message in run_checks())


def test_the_projects_settings_pass():
    assert problems() == set()


def test_streaming_works_with_none_of_its_settings_set(settings, db, monkeypatch):
    for name in DEFAULTS:
        delattr(settings, name)
    assert {name: getattr(conf, name) for name in DEFAULTS} == DEFAULTS
    assert problems() == set()
    assert recovery.recover_stale_runs() == []
    watchdogs = []
    monkeypatch.setattr(recovery, "start_periodic", lambda name, interval, step: watchdogs.append((name, interval)))
    recovery.start_watchdog()
    assert watchdogs == [("run-watchdog", DEFAULTS["RUN_HEARTBEAT_INTERVAL"])]


def test_studios_works_with_none_of_its_settings_set(settings, db, site, monkeypatch):
    for name in studios_conf.DEFAULTS:
        delattr(settings, name)
    assert {name: getattr(studios_conf.conf, name) for name in studios_conf.DEFAULTS} == studios_conf.DEFAULTS
    assert problems() == set()
    # The local site stands in for a public one: private addresses stay refused, as by default.
    real_check = fetch.is_public_address
    monkeypatch.setattr(fetch, "is_public_address", lambda ip: ip.is_loopback or real_check(ip))
    site.add("/workshops/levitating", fixture_html("event_jsonld.html"))
    site.add("/", '<a href="/workshops/levitating">Levitating</a>')
    studio = Studio.objects.create(studio_id="plain", name="Plain", website=site.url("/"), link_pattern="/workshops/")
    assert studio.refresh_every_hours is None
    reporter = FakeReporter()
    summary = process_studio(studio, reporter)
    assert (summary["links_processed"], summary["workshops_created"]) == (1, 1), reporter.logs
    assert Workshop.objects.filter(studio=studio, song="Levitating").exists()
    assert llm_cost(1000, 1000) is None, "no price set"
    schedulers = []
    monkeypatch.setattr(schedules, "start_periodic", lambda name, interval, step, while_: schedulers.append(interval))
    schedules.start_scheduler()
    assert schedulers == [studios_conf.DEFAULTS["SCHEDULER_INTERVAL"]]


@override_settings(TASKS_BACKEND="celery")
def test_an_unknown_tasks_backend():
    assert problems() == {("streaming.E001", "TASKS_BACKEND is 'celery', which is not a run executor.")}


@pytest.mark.parametrize(
    "name",
    [
        "STREAM_TIMEOUT",
        "STREAM_MAX_PER_USER",
        "RUN_HEARTBEAT_INTERVAL",
        "RUN_HEARTBEAT_STALE_SECONDS",
        "TASKS_MAX_WORKERS",
    ],
)
@pytest.mark.parametrize("value", [0, -1, "10", None, float("nan")])
def test_streaming_numbers_must_be_above_zero(settings, name, value):
    setattr(settings, name, value)
    assert problems() == {("streaming.E002", f"{name} is {value!r}; it must be a number above 0.")}


@pytest.mark.parametrize("stale", [5, 2])
def test_the_stale_limit_must_outlast_a_heartbeat(settings, stale):
    settings.RUN_HEARTBEAT_INTERVAL, settings.RUN_HEARTBEAT_STALE_SECONDS = 5, stale
    assert ids() == ["streaming.E003"]


@pytest.mark.parametrize("retention", ["90d", "12h", "2w", "30", ""])
def test_a_run_retention_that_is_an_age_passes(settings, retention):
    settings.RUN_RETENTION = retention
    assert problems() == set()


@pytest.mark.parametrize("retention", ["90 days", "0d", "-1d", "3m", 90])
def test_a_run_retention_that_is_no_age(settings, retention):
    settings.RUN_RETENTION = retention
    assert problems() == {("streaming.E007", f"RUN_RETENTION is {retention!r}, which is not an age.")}


@pytest.mark.parametrize(
    "llm, message",
    [
        (
            {"LLM_MODEL": "gpt-4o-mini"},
            "LLM_MODEL is set but neither LLM_BASE_URL nor LLM_API_KEY is: the LLM would stay off.",
        ),
        (
            {"LLM_BASE_URL": "http://127.0.0.1:11434/v1"},
            "LLM_BASE_URL is set but LLM_MODEL is not: the LLM would stay off.",
        ),
        ({"LLM_API_KEY": "sk-test"}, "LLM_API_KEY is set but LLM_MODEL is not: the LLM would stay off."),
        (
            {"LLM_BASE_URL": "http://127.0.0.1:11434/v1", "LLM_API_KEY": "sk-test", "LLM_MODEL": "  "},
            "LLM_BASE_URL and LLM_API_KEY are set but LLM_MODEL is not: the LLM would stay off.",
        ),
    ],
)
def test_an_llm_half_configured(settings, llm, message):
    for name, value in llm.items():
        setattr(settings, name, value)
    assert problems() == {("studios.E001", message)}


@pytest.mark.parametrize(
    "llm",
    [
        {},
        {"LLM_API_KEY": "sk-test", "LLM_MODEL": "gpt-4o-mini"},
        {"LLM_BASE_URL": "http://127.0.0.1:11434/v1", "LLM_MODEL": "qwen2.5vl:7b"},
    ],
    ids=["off", "openai", "local-server"],
)
def test_an_llm_off_or_fully_configured_passes(settings, llm):
    for name, value in llm.items():
        setattr(settings, name, value)
    assert problems() == set()


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "asia/kolkata"])
def test_time_zone_must_be_a_real_zone(zone):
    # Django itself refuses an unknown zone only when the settings load, not when they change.
    with override_settings(TIME_ZONE=zone):
        assert ids() == ["studios.E002"]


@pytest.mark.parametrize(
    "name",
    [
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
    ],
)
@pytest.mark.parametrize("value", [0, -5])
def test_pipeline_limits_must_be_above_zero(settings, name, value):
    setattr(settings, name, value)
    assert problems() == {("studios.E003", f"{name} is {value!r}; it must be a number above 0.")}


@pytest.mark.parametrize(
    "name", ["FETCH_MAX_REDIRECTS", "FETCH_RETRIES", "FETCH_RETRY_BACKOFF", "LLM_MAX_RETRIES", "LLM_RETRY_BACKOFF"]
)
def test_pipeline_retries_and_redirects_may_be_zero_but_not_negative(settings, name):
    setattr(settings, name, 0)
    assert problems() == set()
    setattr(settings, name, -1)
    assert problems() == {("studios.E003", f"{name} is -1; it must be a number of at least 0.")}


@pytest.mark.parametrize("threshold, failing", [(0, False), (100, False), (-1, True), (101, True)])
def test_artist_match_threshold_is_a_score_from_0_to_100(settings, threshold, failing):
    settings.ARTIST_MATCH_THRESHOLD = threshold
    assert ids() == (["studios.E004"] if failing else [])
