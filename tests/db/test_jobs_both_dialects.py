"""A job submitted to a worker process runs to the end on SQLite and on PostgreSQL (DATABASE_URL)."""

from __future__ import annotations

import time

from core import jobs
from core.data.workspace import Workspace
from tests.infra.job_targets import JOB_KINDS


def test_submitted_job_finishes(ws: Workspace) -> None:
    job_id = jobs.submit(ws, "test_count", {"steps": 3}, JOB_KINDS)
    deadline = time.monotonic() + 60
    while not (info := jobs.get(ws, job_id)).finished and time.monotonic() < deadline:
        time.sleep(0.2)
    assert info.status == "done", info.error
    assert info.result["steps"] == 3 and len(info.metrics) == 3
