"""Where a submitted job runs: one small interface, in-process (tests) and a detached worker process (default)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from typing import Protocol

from core.config import REPO_ROOT
from core.data.workspace import Workspace
from core.errors import AtelierError
from core.jobs import records
from core.jobs.runner import Catalog, execute


class Backend(Protocol):
    """Starts a queued job somewhere; the job's record carries its progress, outcome and cancel from then on."""

    def start(self, ws: Workspace, job_id: int, catalog: Catalog) -> None:
        """Start job `job_id`; `catalog` holds at least its kind. Raise AtelierError (the job failed) if it cannot."""
        ...


class InProcess:
    """Runs the job here and now, before `start` returns; its error is re-raised (tests, `run_inline`)."""

    def __init__(self, echo: bool = False) -> None:
        self.echo = echo

    def start(self, ws: Workspace, job_id: int, catalog: Catalog) -> None:
        execute(ws, job_id, catalog, echo=self.echo, raise_errors=True)


class Subprocess:
    """Starts `python -m core jobs run <id>` in its own session; that worker reads the kind from its own catalog."""

    def start(self, ws: Workspace, job_id: int, catalog: Catalog) -> None:
        log_dir = ws.path / "jobs"
        log_dir.mkdir(exist_ok=True)
        env = {**os.environ,
               "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
        try:
            with open(log_dir / f"{job_id}.log", "ab") as log:
                process = subprocess.Popen(
                    [sys.executable, "-m", "core", "jobs", "run", str(job_id), "--workspace", str(ws.path)],
                    cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True,  # survives the web process's signals; cancel can kill its whole group
                )
        except OSError as error:
            records.finish(ws, job_id, "failed", error=f"could not start the worker process: {error}")
            raise AtelierError(f"could not start job {job_id}: {error}") from error
        records.record_worker(ws, job_id, process.pid, socket.gethostname())
        # Reap the child when it exits, so a finished worker never lingers as a zombie that looks alive.
        threading.Thread(target=process.wait, name=f"job-{job_id}-reaper", daemon=True).start()
