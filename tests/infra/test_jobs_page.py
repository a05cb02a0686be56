"""AppTest of the Jobs page: every job of the workspace listed, the newest one followed in the panel."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import jobs
from core.config import REPO_ROOT
from core.data.workspace import Workspace
from tests.infra.job_targets import JOB_KINDS


@pytest.fixture
def page(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("ATELIER_WORKSPACE", ws.name)
    return AppTest.from_file(str(Path(REPO_ROOT) / "pages" / "jobs.py"), default_timeout=30)


def test_empty_workspace_says_how_to_start_a_job(page: AppTest) -> None:
    page.run()
    assert not page.exception
    assert any("No jobs here yet" in i.value for i in page.info)


def test_lists_jobs_and_follows_the_newest(ws: Workspace, page: AppTest) -> None:
    done = jobs.run_inline(ws, "test_count", {"steps": 2}, JOB_KINDS)
    with pytest.raises(ValueError):
        jobs.run_inline(ws, "test_boom", {}, JOB_KINDS)
    queued = jobs.create(ws, "test_count", {}, "ana")
    page.run()
    assert not page.exception
    table = page.dataframe[0].value
    assert list(table["id"]) == [queued, done + 1, done]
    assert "planted failure 42" in table.loc[table["id"] == done + 1, "error"].iloc[0]
    assert any(f"Job #{queued}" in m.value for m in page.markdown)
    page.button(key=f"cancel_job_{queued}").click().run()
    assert jobs.get(ws, queued).status == "cancelled"
