"""Under CI=true the database and browser tests must run: their skips become failures."""

from __future__ import annotations

import os

import pytest

# A clean checkout in CI has PostgreSQL on 127.0.0.1:5432 and Debian's Chromium: a skip there means a broken
# setup that would otherwise pass in silence. On a developer's machine without them the skips stay skips.
MUST_RUN_MARKERS = ("postgres", "browser")
MUST_RUN_WORDS = ("PostgreSQL", "chromium", "playwright")


def must_run(item: pytest.Item, reason: str) -> bool:
    """True when `item` is a database or browser test (by marker or by its skip reason)."""
    if any(item.get_closest_marker(name) for name in MUST_RUN_MARKERS):
        return True
    lowered = reason.lower()
    return any(word.lower() in lowered for word in MUST_RUN_WORDS)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") != "true" or not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if must_run(item, reason):
        report.outcome = "failed"
        report.longrepr = f"CI=true: this database/browser test must run, not skip ({reason})"
