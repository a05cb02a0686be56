"""Submit a job by kind to a backend (Dask when ATELIER_DASK_SCHEDULER is set, else a worker process), or run it
inline."""

from __future__ import annotations

from typing import Any

from core.data.workspace import Workspace
from core.jobs import records
from core.jobs.backends import Backend, InProcess, Subprocess
from core.jobs.cluster import scheduler_address
from core.jobs.dask_backend import Dask
from core.jobs.runner import Catalog, function_for


def default_backend() -> Backend:
    """A team's Dask cluster when one is configured, else a detached worker process on this machine."""
    address = scheduler_address()
    return Dask(address) if address else Subprocess()


def submit(ws: Workspace, kind: str, params: dict[str, Any], catalog: Catalog, submitted_by: str = "local",
           backend: Backend | None = None, request_key: str | None = None) -> int:
    """Queue a job of `kind` (a key of `catalog`) and start it on `backend` (default: `default_backend()`);
    returns the job id at once. A `request_key` already used returns that job, started once."""
    function = function_for(catalog, kind)  # an unknown kind is refused before anything is recorded
    job_id, created = records.create_once(ws, kind, params, submitted_by, request_key)
    if created:
        (backend or default_backend()).start(ws, job_id, {kind: function})
    return job_id


def run_inline(ws: Workspace, kind: str, params: dict[str, Any], catalog: Catalog, submitted_by: str = "local",
               echo: bool = False) -> int:
    """Run a job of `kind` in this process, tracked like a submitted one; returns the job id, re-raises its error."""
    return submit(ws, kind, params, catalog, submitted_by, backend=InProcess(echo=echo))
