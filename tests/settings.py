"""The test suite's settings: the project's, with the offline demo on (its sites are what the
tests crawl). The live daphne servers get the same through their environment (tests/live/server.py)."""

import os

os.environ["DEMO"] = "1"

from config.settings import *  # noqa: E402,F403
