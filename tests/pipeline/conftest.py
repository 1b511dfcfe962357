"""Fixtures for the pipeline tests: a local site, a fake reporter, fast fetch settings."""

import pytest

from .support import FakeReporter


@pytest.fixture
def reporter():
    return FakeReporter()


@pytest.fixture(autouse=True)
def fast_fetch_settings(settings):
    # The local site lives on 127.0.0.1, which production refuses; retries must not slow the suite.
    settings.FETCH_ALLOW_PRIVATE = True
    settings.FETCH_TIMEOUT = 2
    settings.FETCH_RETRIES = 2
    settings.FETCH_RETRY_BACKOFF = 0.01
    settings.FETCH_MAX_REDIRECTS = 5
    settings.DISCOVERY_MAX_PAGES = 200
    settings.ARTIST_MATCH_THRESHOLD = 85
    # Whatever the developer's environment says, no pipeline test talks to a real LLM.
    settings.LLM_BASE_URL = settings.LLM_API_KEY = settings.LLM_MODEL = ""
    return settings
