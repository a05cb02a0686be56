"""A real sign-in in Chromium against a loopback OIDC provider: success, access_denied, forged state, logout."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from core.config import REPO_ROOT
from tests.auth.oidc_provider import LoopbackProvider
from tests.browser.conftest import streamlit_server, wait_idle

pytestmark = pytest.mark.browser
SIGNED_IN = "text=Signed in as"


@pytest.fixture(scope="module")
def provider() -> Iterator[LoopbackProvider]:
    idp = LoopbackProvider().start()
    yield idp
    idp.stop()


@pytest.fixture(scope="module")
def team_home(tiny_demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("oidc_home")
    shutil.copytree(tiny_demo, home / "workspaces" / "demo", ignore=shutil.ignore_patterns("*-wal", "*-shm"))
    return home


@pytest.fixture(scope="module")
def team_url(team_home: Path, provider: LoopbackProvider) -> Iterator[str]:
    """`streamlit run app.py` in team mode: [auth] points at the loopback provider, team settings on."""
    secrets = team_home / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{"t" * 48}"\n'
        f'client_id = "{provider.client_id}"\n'
        f'client_secret = "{provider.client_secret}"\n'
        f'server_metadata_url = "{provider.metadata_url}"\n')
    env = {"STREAMLIT_SECRETS_FILES": str(secrets), "ATELIER_AUTH": "team", "ATELIER_DEMO_SIZE": "tiny",
           "STREAMLIT_SERVER_ALLOWED_HOSTS": "127.0.0.1", "STREAMLIT_CLIENT_SHOW_ERROR_DETAILS": "none"}
    with streamlit_server(team_home, env=env, script=REPO_ROOT / "serve.py") as url:  # the gated team server
        yield url


@pytest.fixture
def tab(browser):  # playwright objects; a fresh cookie jar per test
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        yield page
    finally:
        context.close()


def round_trip(tab, url: str, button: str) -> None:
    """Click `button` and wait until the redirects through the provider land back on the app, idle."""
    with tab.expect_navigation(url=f"{url}/", wait_until="load", timeout=90_000):
        tab.get_by_role("button", name=button).click()
    wait_idle(tab)


def sign_in(tab, url: str) -> None:
    tab.goto(url)
    wait_idle(tab)
    round_trip(tab, url, "Sign in")


def people(home: Path) -> list[tuple[str, str, str]]:
    engine = sa.create_engine(f"sqlite:///{home / 'atelier.db'}")
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text("SELECT iss, sub, name FROM person ORDER BY id"))]
    finally:
        engine.dispose()


def test_sign_in_shows_the_roles_pages_and_records_iss_sub(tab, team_url: str, team_home: Path,
                                                            provider: LoopbackProvider) -> None:
    provider.mode, provider.calls[:] = "success", []
    provider.claims = {"sub": "alice-0001", "name": "Alice Crm", "email": "shared@example.com",
                       "groups": ["atelier-crm"]}
    sign_in(tab, team_url)
    tab.wait_for_selector(SIGNED_IN)  # round_trip already waited for the run to finish
    nav = tab.locator('[data-testid="stSidebarNav"]').inner_text()
    assert "Campaign audience" in nav and "Customer" in nav
    assert "Outfit labelling" not in nav and "Admin" not in nav and "Attribute review" not in nav
    assert provider.calls == ["authorize", "token"]
    assert (provider.issuer, "alice-0001", "Alice Crm") in people(team_home)
    tab.goto(f"{team_url}/outfit_labelling")  # a stylist's page typed into the address bar
    wait_idle(tab)
    assert tab.locator("h1", has_text="Outfit labelling").count() == 0
    assert tab.locator(SIGNED_IN).count() == 1  # still Alice, on a page she may use


@pytest.mark.slow
def test_same_email_from_another_subject_is_another_person(tab, team_url: str, team_home: Path,
                                                           provider: LoopbackProvider) -> None:
    provider.mode = "success"
    provider.claims = {"sub": "bob-0002", "name": "Bob Stylist", "email": "shared@example.com",
                       "groups": ["atelier-stylist"]}
    sign_in(tab, team_url)
    tab.wait_for_selector(SIGNED_IN)  # round_trip already waited for the run to finish
    nav = tab.locator('[data-testid="stSidebarNav"]').inner_text()
    assert "Outfit labelling" in nav and "Campaign audience" not in nav  # not Alice's roles via her email
    assert (provider.issuer, "bob-0002", "Bob Stylist") in people(team_home)


def test_access_denied_leaves_the_person_signed_out(tab, team_url: str, provider: LoopbackProvider) -> None:
    provider.mode, provider.calls[:] = "access_denied", []
    sign_in(tab, team_url)
    tab.get_by_role("button", name="Sign in").wait_for()
    assert tab.locator(SIGNED_IN).count() == 0
    assert provider.calls == ["authorize"]  # no code was ever exchanged


def test_forged_state_is_refused_before_the_code_is_exchanged(tab, team_url: str,
                                                              provider: LoopbackProvider) -> None:
    provider.mode, provider.calls[:] = "forged_state", []
    provider.claims = {"sub": "mallory-0003", "name": "Mallory", "groups": ["atelier-admin"]}
    sign_in(tab, team_url)
    tab.get_by_role("button", name="Sign in").wait_for()
    assert tab.locator(SIGNED_IN).count() == 0
    assert provider.calls == ["authorize"]  # the callback never reached the token endpoint


@pytest.mark.slow
def test_logout_ends_the_session_at_the_provider_too(tab, team_url: str, provider: LoopbackProvider) -> None:
    provider.mode, provider.calls[:] = "success", []
    provider.claims = {"sub": "carol-0004", "name": "Carol Analyst", "groups": ["atelier-analyst"]}
    sign_in(tab, team_url)
    tab.wait_for_selector(SIGNED_IN)  # round_trip already waited for the run to finish
    round_trip(tab, team_url, "Sign out")
    tab.get_by_role("button", name="Sign in").wait_for()
    assert tab.locator(SIGNED_IN).count() == 0
    assert provider.calls == ["authorize", "token", "logout"]
    tab.goto(team_url)  # the identity cookie is gone: a reload does not sign Carol back in
    wait_idle(tab)
    assert tab.get_by_role("button", name="Sign in").count() == 1
