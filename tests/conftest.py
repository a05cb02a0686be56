"""Shared fixtures: isolated ATELIER_HOME per test, the real data folder (skipped where absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("ATELIER_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SHARED_DATA = Path(os.environ.get("ATELIER_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture(autouse=True)
def nobody_bound_after_the_test():
    """An AppTest run binds its page's user in this thread: unbind it so it never acts in the next test."""
    yield
    from core import auth

    auth.bind(None)
    auth.forget()


@pytest.fixture(autouse=True)
def test_job_kinds(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests' job kinds join the catalog here and in every worker process a test starts."""
    monkeypatch.setenv("ATELIER_JOB_KIND_MODULES", "tests.infra.job_targets tests.scaleout.targets")


@pytest.fixture
def shared_data() -> Path:
    """../shared/data; tests that need the real public data skip cleanly where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent")
    return SHARED_DATA


@pytest.fixture
def atelier_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ATELIER_HOME so no test touches the developer's workspaces."""
    home = tmp_path / "atelier_home"
    (home / "workspaces").mkdir(parents=True)
    monkeypatch.setenv("ATELIER_HOME", str(home))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return home


# ------------------------------------------------------------------------------------ demo workspace (shell)
DEMO_NAME = "demo"


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ATELIER_HOME holding the small demo workspace (seed 42), generated once per test session. Read-only:
    tests that write (jobs, labels, models) use `demo_copy`."""
    from core.services.demo import create_demo

    home = tmp_path_factory.mktemp("demo_home")
    create_demo(home / "workspaces" / DEMO_NAME, size="small", seed=42)
    return home


@pytest.fixture(scope="session")
def demo_workspace(demo_home: Path):  # -> core.data.workspace.Workspace
    """The session's small demo workspace (read-only; see `demo_copy`)."""
    from core.data.workspace import Workspace

    return Workspace.open(demo_home / "workspaces" / DEMO_NAME)


@pytest.fixture
def demo_env(demo_home: Path, monkeypatch: pytest.MonkeyPatch):  # -> Workspace
    """ATELIER_HOME/ATELIER_WORKSPACE pointing at the shared demo (for tests that only read)."""
    from core.data.workspace import Workspace

    monkeypatch.setenv("ATELIER_HOME", str(demo_home))
    monkeypatch.setenv("ATELIER_WORKSPACE", DEMO_NAME)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return Workspace.open(DEMO_NAME)


@pytest.fixture
def demo_copy(demo_workspace, atelier_home: Path, monkeypatch: pytest.MonkeyPatch):  # -> Workspace
    """A private, writable copy of the demo in a fresh ATELIER_HOME, made the active workspace."""
    import shutil

    from core.data.workspace import Workspace

    target = atelier_home / "workspaces" / DEMO_NAME
    shutil.copytree(demo_workspace.path, target, ignore=shutil.ignore_patterns("*-wal", "*-shm", "*.lock"))
    monkeypatch.setenv("ATELIER_WORKSPACE", DEMO_NAME)
    return Workspace.open(target)


# ------------------------------------------------------------------------------------ real browser
# One Playwright session for the whole run: its sync API keeps an event loop open, so a second
# `sync_playwright()` anywhere in the same process fails. Every browser test uses this fixture.
@pytest.fixture(scope="session")
def browser():  # -> playwright.sync_api.Browser
    """Debian Chromium driven by Playwright; skips cleanly where either is missing."""
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is absent: apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


# Under CI=true a skipped PostgreSQL or browser test fails the run (tests/ci_gate.py says why).
pytest_plugins = ["ci_gate"]
