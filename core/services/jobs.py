"""Jobs for pages and the CLI: submit or run a kind (with its role check), follow, list and cancel jobs."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pandas as pd

import pyarrow.parquet as pq

from core import auth, jobs
from core.columns import ATTRIBUTE_PREFIX
from core.data.workspace import Workspace
from core.errors import NotReadyError
from core.jobs import Backend, Catalog, JobInfo
from core.jsonable import to_plain

# Tables each kind trains on (any one of a tuple's alternatives will do): a job without them was accepted and
# then failed in its worker; now the page and the CLI say so before anything is queued.
NEEDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "affinity": (("interactions",),),
    "affinity_table": (("interactions",),),
    "affinity_compare": (("interactions",),),
    "long_tail": (("catalogue",), ("interactions", "outfits")),
    "attributes": (("catalogue",),),
    "complementary": (("catalogue",), ("outfits",)),
}
WHAT_FOR = {"affinity": "the affinity model", "affinity_table": "the affinity table",
            "affinity_compare": "the model comparison",
            "long_tail": "the long-tail model", "attributes": "the attribute model",
            "complementary": "the outfit-pair model"}


def not_ready(ws: Workspace, kind: str) -> str | None:
    """Why `kind` cannot be trained on this workspace yet (a missing table, no attr_* column), or None."""
    missing = [" or ".join(options) for options in NEEDS.get(kind, ()) if not any(ws.has(t) for t in options)]
    what = WHAT_FOR.get(kind, kind)
    if missing:
        return (f"workspace '{ws.name}' has no {' and no '.join(missing)} table, which {what} trains on: import it on "
                "the Data page (or `python -m core import`) first; nothing was queued")
    if kind == "attributes":
        names = pq.ParquetFile(ws.table_path("catalogue")).schema_arrow.names
        if not any(n.startswith(ATTRIBUTE_PREFIX) for n in names):
            return (f"the catalogue of '{ws.name}' has no attribute column ({ATTRIBUTE_PREFIX}<name>, e.g. "
                    f"{ATTRIBUTE_PREFIX}colour) for {what} to learn: import a catalogue with some; nothing was queued")
    return None


def require_ready(ws: Workspace, kind: str) -> None:
    """NotReadyError (what to import) when `kind` cannot be trained on this workspace."""
    reason = not_ready(ws, kind)
    if reason:
        raise NotReadyError(reason)


def submit(ws: Workspace, kind: str, params: dict[str, Any], submitted_by: str = "local",
           backend: Backend | None = None) -> int:
    """Queue a job of `kind` if `submitted_by` may train it; it starts on `backend` (default: a worker process,
    or the Dask cluster when ATELIER_DASK_SCHEDULER is set). Returns the job id at once.

    The same person submitting the same kind with the same params again before another job of that kind has
    finished gets the job already queued (a double click, Enter twice, a resubmitted form): see `request_key`."""
    auth.require_training(submitted_by, kind)
    require_ready(ws, kind)
    return jobs.submit(ws, kind, params, _catalog(), submitted_by=submitted_by, backend=backend,
                       request_key=request_key(ws, kind, params, submitted_by))


def request_key(ws: Workspace, kind: str, params: dict[str, Any], submitted_by: str) -> str:
    """The idempotency key of a submission: who, where, what, and the newest finished job of the kind (so the same
    form submitted again after a run has finished is a new run, not the old one)."""
    done = jobs.list_jobs(ws, kind=kind, limit=20)
    done = done[done["status"].isin(("done", "failed", "cancelled"))] if not done.empty else done
    newest = int(done["id"].max()) if not done.empty else 0
    body = json.dumps([ws.name, kind, submitted_by, newest, to_plain(params)], sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()[:64]


def run_inline(ws: Workspace, kind: str, params: dict[str, Any], submitted_by: str = "local",
               echo: bool = False) -> int:
    """Run a job of `kind` in this process (the CLI), tracked like a submitted one; returns the job id and
    re-raises its error. `echo` prints each progress update."""
    require_ready(ws, kind)
    return jobs.run_inline(ws, kind, params, _catalog(), submitted_by=submitted_by, echo=echo)


def get(ws: Workspace, job_id: int) -> JobInfo:
    """The job as stored; one whose worker died shows as failed."""
    return jobs.get(ws, job_id)


def latest(ws: Workspace, kind: str, active_only: bool = False) -> JobInfo | None:
    """The newest job of `kind` (only a queued or running one with `active_only`)."""
    return jobs.latest(ws, kind, active_only=active_only)


def list_jobs(ws: Workspace, kind: str | None = None, status: str | None = None, limit: int = 200) -> pd.DataFrame:
    """Jobs of the workspace, newest first: id, kind, status, progress, message, error, submitted_by, times."""
    return jobs.list_jobs(ws, kind=kind, status=status, limit=limit)


def cancel(ws: Workspace, job_id: int, by: str = "local") -> JobInfo:
    """Ask a job to stop if `by` may train its kind: a queued one at once, a running one at its next update."""
    auth.require_training(by, jobs.get(ws, job_id).kind)
    return jobs.cancel(ws, job_id, by=by)


def metric_points(ws: Workspace, job_id: int, metric: str) -> list[dict[str, Any]]:
    """The job's live metric points that carry `metric` (a chart's points, in step order)."""
    return [point for point in jobs.get(ws, job_id).metrics if metric in point]


__all__ = ["JobInfo", "not_ready", "require_ready", "submit", "run_inline", "get", "latest", "list_jobs", "cancel",
           "metric_points"]


def _catalog() -> Catalog:
    # The catalog imports every training service (torch, scikit-learn: ~5 s): read it only when a job is started,
    # so the sidebar and the Jobs page, which only list and follow jobs, stay light.
    from core.services.catalog import job_catalog  # noqa: PLC0415

    return job_catalog()
