"""AppTest role matrix: every role × every page — navigation lists only allowed pages, each page guards itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import auth
from core.config import REPO_ROOT
from tests.auth.conftest import SECRETS, claims
from ui.pages import PAGES as TABLE

PAGES = sorted(page.path for page in TABLE)
PAGE_ROLES = {page.path: page.roles for page in TABLE}
GUARD_TEXT = "may not open this page"


def team_app(script: str, user: dict) -> AppTest:
    at = AppTest.from_file(str(REPO_ROOT / script), default_timeout=120)
    at.secrets = SECRETS
    at.user = user
    return at


def navigation(at: AppTest) -> set[str]:
    """Pages the last run registered in st.navigation (AppTest keeps them for switch_page)."""
    registered = at._registered_pages.values()  # AppTest has no public list of them
    return {Path(info["script_path"]).relative_to(REPO_ROOT).as_posix() for info in registered
            if "url_pathname" in info and info.get("script_path")}


@pytest.mark.parametrize("role", auth.ROLES)
def test_navigation_shows_exactly_the_pages_of_the_role(role: str, module_home: Path, team_options: dict) -> None:
    at = team_app("app.py", claims(role)).run()
    assert not at.exception, at.exception
    assert navigation(at) == {p for p in PAGES if role in PAGE_ROLES[p]}
    assert f"Signed in as **{role.title()} Person** · {role}" in [c.value for c in at.sidebar.caption]


# Allowed pairs render whole pages (~1 s each on 2 shared cores): slow; the refusals stay in the quick run.
MATRIX = [pytest.param(page, role, marks=[pytest.mark.slow] if role in PAGE_ROLES[page] else [],
                       id=f"{page.removeprefix('pages/').removesuffix('.py')}-{role}")
          for page in PAGES for role in auth.ROLES]


@pytest.mark.parametrize(("page", "role"), MATRIX)
def test_each_page_guards_itself(page: str, role: str, module_home: Path, team_options: dict) -> None:
    """Opened directly (as if the navigation had a bug), a page refuses a role it does not allow."""
    at = team_app(page, claims(role)).run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    if role in PAGE_ROLES[page]:
        assert not any(GUARD_TEXT in e for e in errors), errors
        assert at.title or at.markdown  # the page rendered its screen
    else:
        assert any(GUARD_TEXT in e for e in errors), errors
        assert len(at.main.children) <= 2 and not at.button, "a denied page must render nothing but the message"


def test_signed_out_sees_only_the_sign_in_screen(module_home: Path, team_options: dict) -> None:
    at = team_app("app.py", {"is_logged_in": False}).run()
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.sidebar.selectbox and navigation(at) == set()  # pages/ is not listed either
    for page in ("pages/home.py", "pages/campaign_audience.py", "pages/admin.py"):  # opened by URL
        alone = team_app(page, {"is_logged_in": False}).run()
        assert [i.value for i in alone.info] == ["Sign in to use Atelier."] and not alone.title


def test_signed_in_without_a_role_is_told_to_ask_an_admin(module_home: Path, team_options: dict) -> None:
    at = team_app("app.py", claims(None, sub="sub-new")).run()
    assert "hold no role in Atelier yet" in at.warning[0].value
    assert navigation(at) == set()


def test_team_server_refuses_unsafe_settings(module_home: Path) -> None:
    """Default options (no allowedHosts, tracebacks shown): the app refuses to serve anyone."""
    at = team_app("app.py", claims("admin")).run()
    text = at.error[0].value
    assert "refuses to serve" in text and "server.allowedHosts" in text and "client.showErrorDetails" in text
    assert not at.button and navigation(at) == set()


def test_local_mode_is_one_local_user_with_every_page(module_home: Path) -> None:
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception and not at.error
    assert navigation(at) == set(PAGES) - {"pages/admin.py"}  # the navigation as before sign-in existed
    assert at.session_state["atelier_user"] == auth.LOCAL_KEY
    assert not any("Signed in" in c.value for c in at.sidebar.caption)


def test_a_sign_in_without_a_subject_is_refused_with_a_message(module_home: Path, team_options: dict) -> None:
    at = team_app("app.py", {**claims("admin"), "sub": ""}).run()
    assert "cannot record it" in at.error[0].value and "'iss'/'sub'" in at.error[0].value
    assert navigation(at) == set() and not at.exception
