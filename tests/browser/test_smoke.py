"""Browser smoke test: every page of the navigation opens in Chromium without an exception or error shown."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.browser.conftest import streamlit_server, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SCREENSHOTS = os.environ.get("ATELIER_SCREENSHOTS")  # a folder: save one screenshot per page there


def navigation_titles() -> list[str]:
    """Titles app.py puts in the navigation (the page table's pages whose files exist), without running app.py."""
    from ui.pages import PAGES

    # Team-only pages are listed only when people sign in; this test runs the local, signed-out app.
    return [page.title for page in PAGES if page.file.is_file() and not page.team_only]


def test_every_page_renders_without_an_exception(page, app_url: str) -> None:
    page.goto(app_url)
    wait_idle(page)
    links = page.locator('[data-testid="stSidebarNav"] a')
    titles = [t.strip().splitlines()[-1].strip() for t in links.all_inner_texts()]  # after the icon name
    # Only app.py's navigation: nothing from the old pages/ auto-discovery (file names as titles) shows.
    assert titles == navigation_titles()
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    for title, href in zip(titles, hrefs):
        page.goto(href if href.startswith("http") else app_url.rstrip("/") + "/" + href.lstrip("/"))
        wait_idle(page)
        if SCREENSHOTS:
            Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(SCREENSHOTS) / f"{title.lower().replace(' ', '_')}.png"), full_page=True)
        exceptions = page.locator('[data-testid="stException"]')
        assert exceptions.count() == 0, f"{title}: {exceptions.first.inner_text()[:2000]}"
        # A fresh demo has no trained model: pages guide (st.info), they do not greet a newcomer with an error.
        errors = page.locator('[data-testid="stAlertContentError"]')
        assert errors.count() == 0, f"{title}: {errors.first.inner_text()[:500]}"
        assert page.locator('[data-testid="stMain"]').inner_text().strip(), f"{title} rendered nothing"


def test_home_shows_the_workspace_at_a_glance(page, app_url: str) -> None:
    page.goto(app_url)
    wait_idle(page)
    main = page.locator('[data-testid="stMain"]')
    text = main.inner_text()
    assert "Workspace · demo" in text
    metrics = [m.inner_text().split() for m in page.locator('[data-testid="stMetric"]').all()]
    assert ["Users", "4,000"] in metrics and ["Items", "2,500"] in metrics, metrics  # the small demo
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 3
    assert page.locator('[data-testid="stAlertContentError"], [data-testid="stException"]').count() == 0


def test_a_bookmarked_page_opened_first_after_a_restart_runs_inside_the_app(browser, demo_workspace, tmp_path) -> None:
    # Until app.py has run once, Streamlit runs a deep link's page file alone (its pages/ folder mode): no
    # sidebar, no workspace switcher, and every file in pages/ listed. The first request here is the deep link.
    home = tmp_path / "home"
    shutil.copytree(demo_workspace.path, home / "workspaces" / "demo", ignore=shutil.ignore_patterns("*-wal", "*-shm"))
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        with streamlit_server(home) as url:
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.goto(f"{url}/customer")
            wait_idle(page)
            page.get_by_role("heading", name="Customer").wait_for()
            page.locator('[data-testid="stSidebar"]').get_by_text("Workspace", exact=True).wait_for()
            titles = [t.strip().splitlines()[-1].strip()
                      for t in page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()]
            assert titles == navigation_titles()
            assert "/customer" in page.url
    finally:
        context.close()
