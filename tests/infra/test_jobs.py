"""Jobs in worker processes: done with progress and metrics, failed with the error, cancelled, dead worker."""

from __future__ import annotations

import os
import signal
import time

import pytest
import sqlalchemy as sa

from core import jobs
from core.data.workspace import Workspace
from core.db.models import AuditLog
from core.db.session import read_session
from core.errors import AtelierError, UnknownIdError
from core.jobs.liveness import alive
from tests.infra.job_targets import JOB_KINDS


def _wait(ws: Workspace, job_id: int, until: tuple[str, ...] = jobs.FINISHED, timeout: float = 60.0,
          predicate=None) -> jobs.JobInfo:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = jobs.get(ws, job_id)
        if info.status in until and (predicate is None or predicate(info)):
            return info
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {info.status} after {timeout} s: {info}")


def test_submitted_job_reports_progress_and_finishes(ws: Workspace) -> None:
    job_id = jobs.submit(ws, "test_count", {"steps": 4}, JOB_KINDS, submitted_by="ana")
    assert jobs.get(ws, job_id).status in ("queued", "running")
    info = _wait(ws, job_id)
    assert info.status == "done", info.error
    assert info.result == {"steps": 4, "workspace": ws.name}
    assert info.progress == 1.0 and info.submitted_by == "ana" and info.pid != os.getpid()
    assert [p["loss"] for p in info.metrics] == [1.0, 0.5, pytest.approx(1 / 3), 0.25]
    assert [p["step"] for p in info.metrics] == [1, 2, 3, 4]
    frame = jobs.list_jobs(ws)
    assert list(frame["id"]) == [job_id] and frame.loc[0, "status"] == "done"


def test_failing_job_is_failed_with_its_message(ws: Workspace) -> None:
    info = _wait(ws, jobs.submit(ws, "test_boom", {}, JOB_KINDS))
    assert info.status == "failed"
    assert info.error.startswith("ValueError: planted failure 42") and "job_targets.py" in info.error
    assert info.message == "ValueError: planted failure 42"


def test_cancel_stops_a_running_job(ws: Workspace) -> None:
    job_id = jobs.submit(ws, "test_forever", {}, JOB_KINDS)
    _wait(ws, job_id, until=("running",), predicate=lambda i: i.progress > 0)
    assert jobs.cancel(ws, job_id, by="ana").cancel_requested
    info = _wait(ws, job_id, timeout=30)
    assert info.status == "cancelled" and info.finished_at is not None


def test_cancel_kills_a_job_that_ignores_it(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATELIER_JOB_CANCEL_GRACE_S", "1")  # read by the worker process
    job_id = jobs.submit(ws, "test_stubborn", {}, JOB_KINDS)
    running = _wait(ws, job_id, until=("running",), predicate=lambda i: i.progress > 0)
    jobs.cancel(ws, job_id)
    info = _wait(ws, job_id, timeout=30)
    assert info.status == "cancelled" and "grace period" in info.message
    time.sleep(0.5)
    assert not alive(running.pid, running.started_at)


def test_worker_killed_with_sigkill_shows_failed(ws: Workspace) -> None:
    job_id = jobs.submit(ws, "test_forever", {}, JOB_KINDS)
    running = _wait(ws, job_id, until=("running",), predicate=lambda i: i.progress > 0)
    os.kill(running.pid, signal.SIGKILL)
    info = _wait(ws, job_id, timeout=10)
    assert info.status == "failed" and info.error == jobs.DEAD_WORKER


def test_cancel_before_start_and_unknown_ids(ws: Workspace) -> None:
    job_id = jobs.create(ws, "test_count", {}, "ana")  # queued, no worker yet
    assert jobs.cancel(ws, job_id).status == "cancelled"
    assert jobs.run_job(ws, job_id, JOB_KINDS).status == "cancelled"  # a late worker does not run it
    with read_session(ws) as session:
        trail = session.execute(sa.select(AuditLog.who, AuditLog.action).order_by(AuditLog.id)).all()
    assert [tuple(row) for row in trail] == [("ana", "submit_job"), ("local", "cancel_job")]
    with pytest.raises(UnknownIdError):
        jobs.get(ws, 99999)
    with pytest.raises(AtelierError, match="no job kind 'no_such_kind': the known kinds are test_boom, test_count"):
        jobs.submit(ws, "no_such_kind", {}, JOB_KINDS)
    assert len(jobs.list_jobs(ws)) == 1  # refused before anything was recorded


def test_run_inline_records_the_job(ws: Workspace) -> None:
    job_id = jobs.run_inline(ws, "test_count", {"steps": 3}, JOB_KINDS)
    info = jobs.get(ws, job_id)
    assert info.status == "done" and info.pid == os.getpid() and len(info.metrics) == 3
    with pytest.raises(ValueError, match="planted failure 42"):
        jobs.run_inline(ws, "test_boom", {}, JOB_KINDS)
    failed = jobs.latest(ws, "test_boom")
    assert failed.status == "failed" and "planted failure 42" in failed.error
    assert jobs.latest(ws, "test_boom", active_only=True) is None


def test_cli_lists_shows_and_runs(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    from core.cli import main

    job_id = jobs.create(ws, "test_count", {"steps": 2}, "cli")
    assert main(["jobs", "run", str(job_id), "--workspace", str(ws.path)]) == 0
    assert main(["jobs", "show", str(job_id), "--workspace", str(ws.path), "--json"]) == 0
    assert '"status": "done"' in capsys.readouterr().out
    assert main(["jobs", "list", "--workspace", str(ws.path)]) == 0
    assert "done" in capsys.readouterr().out


def test_a_job_of_another_host_is_not_judged_by_local_pids(ws: Workspace) -> None:
    from core.db.models import Job
    from core.db.session import transaction

    job_id = jobs.create(ws, "test_count", {}, "ana")
    with transaction(ws) as session:  # a worker on another machine sharing the PostgreSQL
        session.execute(sa.update(Job).where(Job.id == job_id).values(status="running", pid=2**22 - 1,
                                                                      host="elsewhere"))
    assert jobs.get(ws, job_id).status == "running"
    with transaction(ws) as session:  # the same dead pid on this machine: the worker is gone
        session.execute(sa.update(Job).where(Job.id == job_id).values(host=None))
    assert jobs.get(ws, job_id).status == "failed"


def test_a_worker_without_the_kind_fails_the_job_and_names_the_known_kinds(ws: Workspace) -> None:
    job_id = jobs.create(ws, "retired_kind", {}, "ana")  # e.g. queued by an older release
    info = jobs.run_job(ws, job_id, JOB_KINDS)
    assert info.status == "failed" and info.error.startswith("no job kind 'retired_kind': the known kinds are")


def test_the_catalog_lists_every_service_job_kind() -> None:
    from core.services import (affinity_eval, affinity_table, affinity_training, attributes, catalog, long_tail,
                               outfits, starter_models)

    assert set(catalog.KINDS) == {affinity_training.KIND, attributes.KIND, long_tail.KIND, outfits.KIND,
                                  affinity_table.KIND, starter_models.KIND, affinity_eval.KIND}
    assert catalog.job_catalog()["test_count"] is JOB_KINDS["test_count"]  # tests/conftest.py names their module
    for kind, lazy in catalog.KINDS.items():  # each name resolves to its module's job function, of its own kind
        module = __import__(lazy.target.partition(":")[0], fromlist=["KIND"])
        assert callable(lazy.resolve()) and module.KIND == kind, lazy


def test_queuing_the_starter_training_imports_no_training_code() -> None:
    """Regression (issue 17, first launch): `make run` queued the starter training by importing torch and
    scikit-learn (6 s on 2 cores) before the server could start; the worker imports them itself."""
    import subprocess
    import sys

    from core.config import REPO_ROOT

    code = ("import sys; from core.services import catalog, starter_models; "
            "print(sorted(m for m in ('torch', 'sklearn', 'lightfm', 'umap', 'implicit') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    assert out.stdout.strip() == "[]"


def test_jobs_never_import_the_services_above_them() -> None:
    import subprocess
    import sys

    code = "import sys, core.jobs; print(sorted(m for m in sys.modules if m.startswith('core.services')))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"


def test_listing_jobs_loads_no_model_library() -> None:
    """The sidebar and the Jobs page only list and follow jobs: the facade must not pull in torch or scikit-learn
    (through the catalog of training services) on import — that once added ~5 s to the app's cold start."""
    import subprocess
    import sys

    code = "import sys, core.services.jobs; print(sorted(m for m in ('torch', 'sklearn') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"


def test_facade_runs_a_kind_inline_and_gives_chart_points(ws: Workspace) -> None:
    from core.services import jobs as job_service

    job_id = job_service.run_inline(ws, "test_count", {"steps": 3})
    assert [p["loss"] for p in job_service.metric_points(ws, job_id, "loss")] == [1.0, 0.5, pytest.approx(1 / 3)]
    assert job_service.metric_points(ws, job_id, "accuracy") == []
    assert job_service.latest(ws, "test_count").id == job_id
