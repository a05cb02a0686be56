"""Browser: a merchandiser sees model quality, accepts, corrects and bulk-accepts; a stale second tab is told."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Iterator

import pytest

from tests.browser.conftest import streamlit_server, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Small and quick: the page is under test here, not the model (tests/attributes measures that).
ACCEPT = re.compile(r"^Accept( ?Shortcut A)?$")  # the first card's button carries its key, "Shortcut A"
QUICK = {"epochs": 2, "text_dim": 32, "hidden": 64, "categorical_dim": 8, "baseline": False, "refit": False}


@pytest.fixture(scope="module")
def review_home(demo_workspace, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the demo with an active attribute model (trained before the server starts)."""
    from core.data.workspace import Workspace
    from tests.attributes.conftest import run_training_job

    home = tmp_path_factory.mktemp("attr_browser_home")
    shutil.copytree(demo_workspace.path, home / "workspaces" / "demo", ignore=shutil.ignore_patterns("*-wal", "*-shm"))
    ws = Workspace.open(home / "workspaces" / "demo")
    info = run_training_job(ws, **QUICK)
    assert info.status == "done", info.error
    return home


@pytest.fixture(scope="module")
def review_url(review_home: Path) -> Iterator[str]:
    with streamlit_server(review_home) as url:
        yield url


def _shot(page, name: str) -> None:  # playwright Page
    """Keep a screenshot when ATELIER_SCREENSHOTS names a folder (for looking at the page, not for asserting)."""
    folder = os.environ.get("ATELIER_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"attribute_review_{name}.png"), full_page=True)


def _open(page, url: str) -> None:
    page.goto(f"{url}/attribute_review")
    wait_idle(page)
    page.get_by_text("Nothing to review").or_(page.get_by_role("button", name=ACCEPT).first).wait_for()


def _first_card_item(page) -> str:
    """The item id shown on the first queue card (the `code` span beside brand and type)."""
    return page.locator('[class*="st-key-card_pattern_"]').first.locator("code").first.inner_text().strip()


def _decided(home: Path) -> dict[tuple[str, str], tuple[str, str]]:
    from core.data.workspace import Workspace
    from core.services import attributes as svc

    frame = svc.decided_values(Workspace.open(home / "workspaces" / "demo"))
    return {(r.item_id, r.attribute): (r.value, r.source) for r in frame.itertuples()}


def test_review_accept_correct_bulk_and_a_stale_second_tab(page, browser, review_url: str, review_home: Path) -> None:
    _open(page, review_url)
    # model quality per attribute sits above the queue, in the Table 2 layout
    page.get_by_text(re.compile(r"attributes v\d+ · .* · held-out split")).wait_for()
    quality = page.locator('[data-testid="stDataFrame"]').first
    assert quality.is_visible()
    _shot(page, "queue")

    # a second merchandiser opens the same queue before the first one decides
    other = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    other.set_default_timeout(60_000)
    try:
        _open(other, review_url)
        item = _first_card_item(page)
        assert _first_card_item(other) == item

        page.locator(f".st-key-card_pattern_{item}").get_by_role("button", name=ACCEPT).click()
        page.get_by_text(re.compile(rf"{item}: pattern accepted = \S+")).wait_for()
        wait_idle(page)
        accepted = _decided(review_home)[(item, "pattern")]
        assert accepted[1] == "review"

        # the second tab still shows the item: its accept is refused with a message, the first value stands
        other.locator(f".st-key-card_pattern_{item}").get_by_role("button", name=ACCEPT).click()
        other.get_by_text(re.compile(rf"item {item} \(pattern\) was .*reload")).wait_for()
        assert _decided(review_home)[(item, "pattern")] == accepted
        _shot(other, "stale")
    finally:
        other.context.close()

    # correct the next item: pick a value other than the prediction, then Correct
    wait_idle(page)
    item = _first_card_item(page)
    card = page.locator(f".st-key-card_pattern_{item}")
    card.locator('[data-testid="stSelectbox"]').click()
    options = page.get_by_role("option")
    options.first.wait_for()
    chosen = next(t.strip() for t in options.all_inner_texts() if t.strip() and t.strip() != "solid")
    page.get_by_role("option", name=chosen, exact=True).click()
    wait_idle(page)
    card = page.locator(f".st-key-card_pattern_{item}")
    card.get_by_role("button", name=re.compile(r"^Correct")).click()
    page.get_by_text(f"{item}: pattern set = {chosen}").wait_for()
    assert _decided(review_home)[(item, "pattern")] == (chosen, "review")

    # bulk accept: the preview says how many and which values, the button writes exactly those
    wait_idle(page)
    page.get_by_role("tab", name="Bulk accept").click()
    page.get_by_role("slider").focus()
    page.keyboard.press("Home")  # lowest threshold (0.50): a preview with rows
    wait_idle(page)
    preview = page.get_by_text(re.compile(r"^\d+ items would get a value for pattern"))
    count = int(preview.inner_text().split()[0])
    assert count > 0
    before = len(_decided(review_home))
    page.get_by_role("button", name=f"Accept {count} predictions").click()
    page.get_by_text(f"Accepted {count} of {count} predictions for pattern.").wait_for()
    assert len(_decided(review_home)) == before + count
    _shot(page, "bulk")

    # the next training will use every one of them
    wait_idle(page)
    page.get_by_role("tab", name="Model").click()
    page.get_by_text(f"Reviewed values that will override the catalogue in training: {before + count}").wait_for()


def test_review_by_keyboard_accept_skip_and_undo_the_latest(page, review_url: str, review_home: Path) -> None:
    _open(page, review_url)
    page.get_by_role("button", name=ACCEPT).first.wait_for()
    first = _first_card_item(page)
    page.wait_for_timeout(500)  # shortcut listeners attach after the buttons mount
    page.keyboard.press("a")
    page.get_by_text(re.compile(rf"{first}: pattern accepted = \S+")).wait_for()
    wait_idle(page)
    second = _first_card_item(page)
    assert second != first
    page.keyboard.press("s")
    page.get_by_text(f"{second}: pattern skipped").wait_for()
    wait_idle(page)
    _shot(page, "keys")
    page.keyboard.press("z")  # the latest decision (the skip) comes back, the accept stands
    page.get_by_text(f"Undone: {second} (pattern)").wait_for()
    wait_idle(page)
    assert _first_card_item(page) == second
    assert (first, "pattern") in _decided(review_home)
