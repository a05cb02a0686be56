"""Browser: box-select items on the ALS map, see them listed and outlined on both maps, open their neighbours."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from core.config import REPO_ROOT
from tests.browser.conftest import streamlit_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def server(trained_home: Path) -> Iterator[str]:
    """`streamlit run pages/long_tail.py` on the trained planted workspace."""
    with streamlit_server(trained_home, workspace="lt", script=REPO_ROOT / "pages" / "long_tail.py") as url:
        yield url


def test_select_on_the_map_then_open_neighbours(server: str, browser) -> None:
    select_on_the_first_map_then_check_neighbours(browser, server)


def select_on_the_first_map_then_check_neighbours(browser, url: str) -> None:  # playwright Browser
    """Box-select most of the ALS map; the selection is listed and outlined on both maps; neighbours show as cards."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    try:
        page = context.new_page()
        page.goto(url, wait_until="domcontentloaded")
        plots = page.locator(".js-plotly-plot")
        expect(plots.first).to_be_visible(timeout=240_000)  # the shared 2-core machine can be slow
        page.wait_for_timeout(3000)  # let plotly finish its first draw before dragging
        box = plots.first.locator(".nsewdrag").first.bounding_box()
        assert box is not None
        x0, y0 = box["x"] + box["width"] * 0.02, box["y"] + box["height"] * 0.02
        x1, y1 = box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.98
        page.mouse.move(x0, y0)
        page.mouse.down()
        for step in range(1, 11):
            page.mouse.move(x0 + (x1 - x0) * step / 10, y0 + (y1 - y0) * step / 10)
        page.mouse.up()
        heading = page.get_by_text("selected items", exact=False)
        expect(heading.first).to_be_visible(timeout=180_000)
        assert int(heading.first.inner_text().split()[0]) > 10
        # Both maps now draw the selection on top (a trace named "selected" in each legend).
        expect(page.locator(".js-plotly-plot .legendtext", has_text="selected")).to_have_count(2, timeout=120_000)
        # The picker now offers the selected items; neighbours in both spaces are shown as cards.
        expect(page.get_by_text("Nearest neighbours")).to_be_visible()
        expect(page.get_by_text("cosine", exact=False).first).to_be_visible(timeout=120_000)
        assert page.get_by_text("cosine", exact=False).count() >= 4
        page.get_by_text("Predicted from content").first.scroll_into_view_if_needed()
        expect(page.get_by_text("ALS (collaborative)").first).to_be_visible()
    finally:
        context.close()
