"""Browser: a data scientist trains the affinity model on the demo and sees the new version, active, on the page."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
VERSION = re.compile(r"\d{8}T\d{12}Z-[0-9a-f]{16}")


def _wait_for_match(page, locator, pattern: re.Pattern, timeout_s: float = 30) -> str:
    """The first match of `pattern` in the locator's text, polling while the app renders."""
    for _ in range(int(timeout_s * 2)):
        found = pattern.search(locator.inner_text())
        if found:
            return found.group(0)
        page.wait_for_timeout(500)
    raise AssertionError(f"{pattern.pattern} never appeared in: {locator.inner_text()[-1500:]}")


def test_train_on_the_demo_and_see_the_new_version(page, app_url: str) -> None:
    page.goto(app_url.rstrip("/") + "/affinity_training")
    wait_idle(page)
    main = page.locator('[data-testid="stMain"]')
    page.get_by_role("spinbutton", name="Iterations").fill("2")
    page.get_by_role("spinbutton", name="Iterations").press("Enter")  # regression: Enter submitted the form
    page.wait_for_timeout(1500)
    wait_idle(page)
    assert page.get_by_text("Training job #").count() == 0
    assert main.get_by_text(re.compile(r"affinity\s+—\s+(queued|running|done)")).count() == 0
    page.get_by_role("spinbutton", name="Factors").fill("16")
    page.get_by_role("button", name="Train").click()
    # The job panel polls until the worker is done; its result names the saved version.
    main.get_by_text(re.compile(r"affinity\s+—\s+done")).wait_for(timeout=180_000)
    main.get_by_text("Result", exact=True).click()
    version = _wait_for_match(page, main, VERSION)
    # Both learning curves (one per direction) are drawn from the job's live metrics.
    # The curves re-render while the fragment polls: a replaced chart can linger hidden, so wait for a visible one.
    for title in ("Brands for a user (user side)", "Users for a brand (brand side)"):
        page.get_by_text(title).filter(visible=True).first.wait_for(timeout=30_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.get_by_role("tab", name="Versions").click()
    wait_idle(page)
    # The first version of a workspace goes live: the serving selector names it (v1 of the kind) as live.
    assert version and _wait_for_match(page, main, re.compile(r"affinity v1 · [^\n]*\(live\)"))
