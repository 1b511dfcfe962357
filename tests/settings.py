"""The test suite's settings: the project's, with the offline demo on (its sites are what the
tests crawl). The live daphne servers get the same through their environment (tests/live/server.py)."""

import os

os.environ["DEMO"] = "1"

from config.settings import *  # noqa: E402,F403

# The test process's own threads (runs executed in-process) must not keep connections past a test:
# the test database is dropped at the end of the session. The live servers keep theirs, as deployed.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
