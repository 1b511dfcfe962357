"""Services some tests need (Chromium, PostgreSQL, Redis): skipped on a developer's machine without
them, required in CI."""

import os

import pytest

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def skip_or_fail(reason):
    """A missing service skips the test on a developer's machine and fails it where CI requires it."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def require_module(name):
    """Import a package a service's tests need; missing, it is a missing service (skip or fail)."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as exc:
        skip_or_fail(f"{name} is not installed: {exc}")
