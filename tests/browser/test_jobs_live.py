"""Browser: the Jobs page follows a running job live (no reload), survives a refresh, and cancels it."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from core import jobs
from core.data.workspace import Workspace
from core.db.engine import dispose_engines
from tests.infra.job_targets import JOB_KINDS
from tests.browser.conftest import streamlit_server, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _step(main) -> int:  # a Playwright locator
    found = re.findall(r"step (\d+)", main.locator('[data-testid="stProgress"]').first.inner_text())
    return int(found[0]) if found else 0


def test_running_job_updates_live_survives_refresh_and_cancels(browser, demo_workspace, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(demo_workspace.path, home / "workspaces" / "demo", ignore=shutil.ignore_patterns("*-wal", "*-shm"))
    ws = Workspace.open(home / "workspaces" / "demo")
    job_id = jobs.submit(ws, "test_forever", {}, JOB_KINDS, submitted_by="ana")
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    try:
        with streamlit_server(home) as url:
            tab.goto(f"{url}/jobs?job={job_id}")
            wait_idle(tab)
            main = tab.locator('[data-testid="stMain"]')
            main.get_by_text(f"Job #{job_id} · test_forever").first.wait_for()
            main.locator('[data-testid="stProgress"]').get_by_text(re.compile(r"step \d+")).first.wait_for()
            first = _step(main)
            time.sleep(4)  # no reload: the fragment polls the database
            assert _step(main) > first, "the job panel did not update by itself"
            tab.reload()  # a browser refresh keeps following the same job (its id is in the URL)
            main = tab.locator('[data-testid="stMain"]')
            main.get_by_text(f"Job #{job_id} · test_forever").first.wait_for()
            main.get_by_role("button", name="Cancel").click()
            deadline = time.monotonic() + 30
            while jobs.get(ws, job_id).status != "cancelled" and time.monotonic() < deadline:
                time.sleep(0.3)
            assert jobs.get(ws, job_id).status == "cancelled"
            main.get_by_text("cancelled").first.wait_for(timeout=30_000)
            assert tab.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()
        jobs.cancel(ws, job_id)
        dispose_engines()
