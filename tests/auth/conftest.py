"""Auth fixtures: a tiny demo per test, team-mode secrets and settings, people with one role each."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest

from core import auth

ISSUER = "https://idp.test"
SECRETS: dict[str, Any] = {
    "auth": {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "c" * 48,
             "client_id": "atelier", "client_secret": "s3cret",
             "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"},
}
TEAM_OPTIONS = {"server.allowedHosts": ["127.0.0.1"], "client.showErrorDetails": "none"}


def claims(role: str | None, sub: str | None = None, **extra: Any) -> dict[str, Any]:
    """st.user of a signed-in person holding `role` through the groups claim (None: no role)."""
    name = f"{(role or 'nobody').title()} Person"
    return {"is_logged_in": True, "iss": ISSUER, "sub": sub or f"sub-{role}", "name": name,
            "email": f"{role}@example.com", "groups": [f"atelier-{role}"] if role else [], **extra}


@pytest.fixture(scope="session")
def tiny_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from core.data.demo import generate_demo

    home = tmp_path_factory.mktemp("auth_demo")
    generate_demo(home / "workspaces" / "demo", size="tiny", seed=42)
    return home / "workspaces" / "demo"


def _use_home(home: Path, tiny_demo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(tiny_demo, home / "workspaces" / "demo", ignore=shutil.ignore_patterns("*-wal", "*-shm"))
    monkeypatch.setenv("ATELIER_HOME", str(home))
    monkeypatch.setenv("ATELIER_WORKSPACE", "demo")
    monkeypatch.setenv("ATELIER_DEMO_SIZE", "tiny")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv(auth.AUTH_ENV, raising=False)
    return home


@pytest.fixture
def home(tiny_demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ATELIER_HOME holding a private copy of the tiny demo (people live in <home>/atelier.db)."""
    return _use_home(tmp_path / "home", tiny_demo, monkeypatch)


@pytest.fixture(scope="module")
def module_home(tiny_demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`home` shared by a module whose tests only read (the role matrix): one copy and one migration."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield _use_home(tmp_path_factory.mktemp("module_home"), tiny_demo, monkeypatch)


@pytest.fixture(autouse=True)
def clean_auth_state() -> Iterator[None]:
    """Team mode marks the process as serving people; undo it so other tests' local calls stay allowed."""
    yield
    auth._SERVING_TEAM.clear()  # process state this package owns
    auth.forget()


@pytest.fixture
def team_options() -> Iterator[dict[str, Any]]:
    """Streamlit options a team server needs (AppTest runs in this process, so set them here and restore)."""
    from streamlit import config

    from ui import server

    before = {name: config.get_option(name) for name in TEAM_OPTIONS}
    for name, value in TEAM_OPTIONS.items():
        config.set_option(name, value)
    server._GATED.set()  # AppTest has no HTTP server: stand in for serve.py's gate, which team mode demands
    yield TEAM_OPTIONS
    server._GATED.clear()
    for name, value in before.items():
        config.set_option(name, value)
