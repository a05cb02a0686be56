"""An AppTest for every page app.py registers: each renders its screen on the demo workspace without an exception."""

from __future__ import annotations

import ast

import pytest

from core.config import REPO_ROOT
from ui.auth import TEAM_ONLY


def _navigation_pages() -> list[str]:
    """Every page file app.py lists in PAGES, read without running app.py (a new page is covered at once)."""
    tree = ast.parse((REPO_ROOT / "app.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "PAGES":
            return [path for pages in ast.literal_eval(node.value).values() for path, _, _ in pages]
    raise AssertionError("app.py declares no PAGES")


PAGES = _navigation_pages()


def test_navigation_lists_every_page_file() -> None:
    """A page file that app.py does not list would be unreachable (st.navigation replaces pages/ discovery)."""
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
