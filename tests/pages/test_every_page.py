"""An AppTest for every page app.py registers: each renders its screen on the demo workspace without an exception."""

from __future__ import annotations

import pytest

from core.config import REPO_ROOT
from ui.pages import PAGES as TABLE

PAGES = [page.path for page in TABLE]  # every page of the page table app.py navigates (a new page is covered at once)
TEAM_ONLY = {page.path for page in TABLE if page.team_only}


def test_navigation_lists_every_page_file() -> None:
    """A page file missing from the page table would be unreachable (st.navigation replaces pages/ discovery)."""
    on_disk = {f"pages/{p.name}" for p in (REPO_ROOT / "pages").glob("*.py") if not p.name.startswith("_")}
    assert on_disk == set(PAGES), on_disk ^ set(PAGES)


# Pages train nothing on open, but some read models and tables: ~2–10 s each on 2 shared cores.
@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=[p.removeprefix("pages/").removesuffix(".py") for p in PAGES])
def test_page_renders_on_the_demo(page: str, app) -> None:
    if page in TEAM_ONLY:
        pytest.skip(f"{page} is listed only when people sign in (team mode): tests/auth opens it")
    at = app(page)
    assert not at.exception, f"{page}: {[e.message for e in at.exception]}"
    assert at.title or at.header or at.subheader, f"{page} rendered no heading"
    # Errors on a fresh demo (no model trained yet) would greet every newcomer: pages must say what to do instead.
    assert not at.error, f"{page}: {[e.value for e in at.error]}"
