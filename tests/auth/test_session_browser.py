"""Real browser, team mode, loopback OIDC: exports need the session cookie; expired or regrouped people re-check."""

from __future__ import annotations

import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from core.config import REPO_ROOT
from tests.auth.oidc_provider import LoopbackProvider
from tests.auth.test_oidc_browser import SIGNED_IN, sign_in
from tests.browser.conftest import streamlit_server, wait_idle

pytestmark = pytest.mark.browser
REVALIDATE_S = 8  # the short server's [atelier] revalidate_seconds


@pytest.fixture(scope="module")
def provider() -> Iterator[LoopbackProvider]:
    idp = LoopbackProvider().start()
    yield idp
    idp.stop()


def team_server(home: Path, provider: LoopbackProvider, atelier: str = "") -> Iterator[str]:
    """`streamlit run serve.py` in team mode against the loopback provider, with extra [atelier] lines."""
    secrets = home / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{"t" * 48}"\n'
        f'client_id = "{provider.client_id}"\n'
        f'client_secret = "{provider.client_secret}"\n'
        f'server_metadata_url = "{provider.metadata_url}"\n'
        f"[atelier]\n{atelier}")
    env = {"STREAMLIT_SECRETS_FILES": str(secrets), "ATELIER_AUTH": "team", "ATELIER_DEMO_SIZE": "tiny",
           "STREAMLIT_SERVER_ALLOWED_HOSTS": "127.0.0.1", "STREAMLIT_CLIENT_SHOW_ERROR_DETAILS": "none"}
    with streamlit_server(home, env=env, script=REPO_ROOT / "serve.py") as url:
        yield url


@pytest.fixture(scope="module")
def export_app(tiny_demo: Path, tmp_path_factory: pytest.TempPathFactory,
               provider: LoopbackProvider) -> Iterator[tuple[str, str]]:
    """The gated team server on a demo copy with a quick affinity model (the audience page needs one)."""
    from core.data.workspace import Workspace
    from core.services.affinity_training import train_affinity
    from core.services.campaigns import load_model

    home = tmp_path_factory.mktemp("gate_home")
    target = home / "workspaces" / "demo"
    shutil.copytree(tiny_demo, target, ignore=shutil.ignore_patterns("*-wal", "*-shm", "*.lock"))
    ws = Workspace.open(target)
    train_affinity(ws, {"iterations": 2, "n_factors": 8, "test_fraction": 0, "activate": True, "by": "test"})
    model, _ = load_model(ws)
    brand = sorted(model.brand_ids.external.tolist(), key=str.lower)[0]
    yield from ((url, brand) for url in team_server(home, provider))


@pytest.fixture(scope="module")
def short_url(tiny_demo: Path, tmp_path_factory: pytest.TempPathFactory, provider: LoopbackProvider) -> Iterator[str]:
    home = tmp_path_factory.mktemp("short_home")
    shutil.copytree(tiny_demo, home / "workspaces" / "demo", ignore=shutil.ignore_patterns("*-wal", "*-shm"))
    yield from team_server(home, provider, f"revalidate_seconds = {REVALIDATE_S}\n")


@pytest.fixture
def tab(browser):  # playwright objects; a fresh cookie jar per test
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        yield page
    finally:
        context.close()


def fetch(url: str, cookie: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def nav(tab) -> str:
    return tab.locator('[data-testid="stSidebarNav"]').inner_text()


def test_an_export_url_is_refused_without_the_session_cookie_and_served_with_it(
        tab, export_app: tuple[str, str], provider: LoopbackProvider) -> None:
    """Regression: /media/<hash>.csv of a CRM export was served to anyone holding the URL."""
    url, brand = export_app
    provider.mode, provider.lifetime_s = "success", 300
    provider.claims = {"sub": "erin-0005", "name": "Erin Crm", "groups": ["atelier-crm"]}
    sign_in(tab, url)
    tab.wait_for_selector(SIGNED_IN)
    tab.goto(f"{url}/campaign_audience?value=50&control=20")
    wait_idle(tab)
    main = tab.locator('[data-testid="stMain"]')
    picker = main.get_by_role("combobox").first
    picker.click()
    picker.fill(brand[:3])
    tab.get_by_role("option", name=brand, exact=True).click()
    tab.keyboard.press("Escape")
    wait_idle(tab)
    tab.get_by_label("Campaign name").fill("Gate campaign")
    tab.get_by_role("button", name="Save campaign").click()
    main.get_by_text("Saved campaign “Gate campaign”").first.wait_for(timeout=30_000)
    wait_idle(tab)
    with tab.expect_download(timeout=60_000) as info:
        tab.get_by_role("button", name="Export CSV").click()
    media = info.value.url
    assert "/media/" in media and Path(info.value.path()).read_bytes().lstrip(b"\"").startswith(b"user_id")

    assert fetch(media)[0] == 403  # no cookie: refused
    assert fetch(media, "_streamlit_user=forged")[0] == 403
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in tab.context.cookies())
    status, body = fetch(media, cookie)
    assert status == 200 and body.lstrip(b"\"").startswith(b"user_id")


def test_an_expired_identity_must_sign_in_again(tab, short_url: str, provider: LoopbackProvider) -> None:
    """Regression: with a 20-second token, a reload minutes later still showed the CRM role and Export."""
    provider.mode, provider.lifetime_s = "success", 4
    provider.claims = {"sub": "frank-0006", "name": "Frank Crm", "groups": ["atelier-crm"]}
    sign_in(tab, short_url)
    tab.wait_for_selector(SIGNED_IN)
    assert "Campaign audience" in nav(tab)
    time.sleep(5)
    tab.reload()
    wait_idle(tab)
    tab.get_by_role("button", name="Sign in").wait_for()
    assert tab.get_by_text("Your sign-in has expired").count() == 1
    assert tab.locator(SIGNED_IN).count() == 0 and tab.get_by_text("Campaign audience").count() == 0


def test_a_groups_change_at_the_provider_changes_the_role_at_the_next_check(
        tab, short_url: str, provider: LoopbackProvider) -> None:
    provider.mode, provider.lifetime_s = "success", 300
    provider.claims = {"sub": "gina-0007", "name": "Gina Crm", "groups": ["atelier-crm"]}
    sign_in(tab, short_url)
    tab.wait_for_selector(SIGNED_IN)
    assert "Campaign audience" in nav(tab)
    provider.set_groups("gina-0007", ["atelier-stylist"])
    tab.reload()
    wait_idle(tab)
    assert "Campaign audience" in nav(tab)  # before the check the sign-in still stands
    time.sleep(REVALIDATE_S)
    provider.calls[:] = []
    tab.reload()  # past the interval: the app sends Gina through the provider, which issues today's groups
    tab.wait_for_url(f"{short_url}/**", timeout=60_000)
    tab.wait_for_function("() => document.body.innerText.includes('Outfit labelling')", timeout=90_000)
    wait_idle(tab)
    assert provider.calls[:2] == ["authorize", "token"]
    assert "Outfit labelling" in nav(tab) and "Campaign audience" not in nav(tab)
