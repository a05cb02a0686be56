"""Browser: a stylist queues pairs, labels them with the keyboard, undoes one, retrains and sees the new version."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _labels_today(page) -> str:  # playwright Page
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Your labels today")
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


def _press(page, key: str, expect_today: str) -> None:
    page.keyboard.press(key)
    page.wait_for_function(
        """([want]) => [...document.querySelectorAll('[data-testid="stMetric"]')]
             .some(m => m.innerText.includes('Your labels today') && m.innerText.trim().endsWith(want))""",
        arg=[expect_today], timeout=60_000)
    wait_idle(page)


def test_label_with_keyboard_retrain_and_see_a_new_version(page, app_url: str) -> None:
    # Through the app's own navigation: a direct /outfit_labelling URL is served without app.py (Streamlit's
    # pages/ folder fallback), which would skip the shell this page runs in for real stylists.
    page.goto(app_url)
    wait_idle(page)
    page.get_by_role("link", name="Outfit labelling").click()
    wait_idle(page)
    page.get_by_role("button", name="Queue pairs").click()
    page.get_by_text(re.compile(r"\d+ new pairs queued")).wait_for()
    wait_idle(page)
    page.get_by_role("button", name="Goes together").wait_for()
    first = page.get_by_text(re.compile(r"^Pair \d+ ·")).first.inner_text()
    page.wait_for_timeout(500)  # shortcut listeners attach after the buttons mount

    _press(page, "y", "1")
    assert page.get_by_text(re.compile(r"^Pair \d+ ·")).first.inner_text().split(" ·")[0] != first.split(" ·")[0]
    _press(page, "n", "2")
    _press(page, "y", "3")
    _press(page, "z", "2")  # undo brings the last pair back
    page.get_by_text("Undone: the pair is back").wait_for()
    _press(page, "n", "3")
    _press(page, "u", "4")

    page.get_by_role("tab", name="Model").click()
    page.get_by_text("Labelled pairs ready for training: 3").wait_for()  # "not sure" does not train
    page.keyboard.press("y")  # off the labelling tab the shortcut must not label a pair nobody sees
    wait_idle(page)
    assert page.get_by_text("Labelled pairs ready for training: 3").is_visible()
    epochs = page.get_by_label("Epochs")
    epochs.fill("3")
    epochs.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Retrain with labels").click()
    done = page.get_by_text(re.compile(r"New version .+: pair AUC [\d.]+, FITB [\d.]+ \(labels used: 3\)"))
    done.wait_for(timeout=300_000)
    version = re.search(r"New version (.+?): pair AUC", done.inner_text()).group(1)  # its name, "outfit pairs v2 · …"
    wait_idle(page)
    # the versions panel shows it as the one serving (the select box's value) and in the comparison
    serving = page.locator('[data-testid="stSelectbox"]').filter(has_text="Version to serve")
    shown = serving.evaluate("e => e.innerText + ' ' + [...e.querySelectorAll('input')].map(i => i.value).join(' ')"
                             " + ' ' + (e.querySelector('[value]')?.getAttribute('value') || '')")
    compare = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Compare two versions").text_content()
    assert version in shown or version in compare, (shown, compare)
