"""Real-browser fixtures: `streamlit run app.py` on a copy of the demo, and a Playwright page on Debian Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from core.config import REPO_ROOT

START_TIMEOUT_S = 90
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(home: Path, workspace: str = "demo", script: Path = REPO_ROOT / "app.py",
                     env: dict[str, str] | None = None) -> Iterator[str]:
    """Serve `script` with ATELIER_HOME=home on a free port; yields its URL, stops the server after."""
    port = free_port()
    environment = {**os.environ, "ATELIER_HOME": str(home), "ATELIER_WORKSPACE": workspace,
                   "PYTHONPATH": str(REPO_ROOT), **(env or {})}
    environment.pop("DATABASE_URL", None)
    log = home / f"streamlit-{port}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=REPO_ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def app_url(demo_workspace, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`streamlit run app.py` on a private copy of the demo workspace (one server per test module)."""
    home = tmp_path_factory.mktemp("browser_home")
    shutil.copytree(demo_workspace.path, home / "workspaces" / "demo",
                    ignore=shutil.ignore_patterns("*-wal", "*-shm"))
    with streamlit_server(home) as url:
        yield url


@pytest.fixture
def page(browser):  # -> playwright.sync_api.Page
    """A fresh browser tab (1440×900) per test."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    try:
        yield tab
    finally:
        context.close()


def wait_idle(tab, timeout_ms: int = 120_000) -> None:
    """Wait until the app's script run has finished (Streamlit marks the app element)."""
    tab.wait_for_selector(IDLE, timeout=timeout_ms)
    tab.wait_for_timeout(300)  # let the last delta render
    tab.wait_for_selector(IDLE, timeout=timeout_ms)
    # Lazily loaded widgets show a skeleton first; give them a moment (not an error if one stays).
    try:
        tab.wait_for_function("!document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=10_000)
    except Exception:  # noqa: BLE001 — playwright's TimeoutError; a lingering skeleton is not a failure here
        pass
