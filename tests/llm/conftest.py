"""Fixtures for the LLM extractor tests: a fake OpenAI-compatible server and settings pointing at it."""

import pytest

from .fake_openai import API_KEY, MODEL, FakeOpenAI


@pytest.fixture
def llm_server():
    server = FakeOpenAI()
    yield server
    server.close()
    assert server.problems == [], "the fake LLM found these requests wrong"


@pytest.fixture(autouse=True)
def fast_settings(settings):
    """Local sites on 127.0.0.1, quick retries, and no real LLM whatever the environment says."""
    settings.FETCH_ALLOW_PRIVATE = True
    settings.FETCH_TIMEOUT = 2
    settings.FETCH_RETRIES = 1
    settings.FETCH_RETRY_BACKOFF = 0.01
    settings.LLM_BASE_URL = settings.LLM_API_KEY = settings.LLM_MODEL = ""
    settings.RENDER_TIMEOUT = 5
    return settings


@pytest.fixture
def llm_settings(settings, llm_server):
    settings.LLM_BASE_URL = f"{llm_server.url}/v1"
    settings.LLM_API_KEY = API_KEY
    settings.LLM_MODEL = MODEL
    settings.LLM_TIMEOUT = 0.5
    settings.LLM_MAX_RETRIES = 2
    settings.LLM_RETRY_BACKOFF = 0.01
    settings.LLM_TEXT_BUDGET = 4000
    settings.LLM_SCREENSHOTS = False
    return settings
