"""Job records in the database: create, read, list, ask to cancel, claim and finish (queued, running, done, failed,
cancelled)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from core.data.workspace import Workspace
from core.db import audit
from core.db.models import Job, utcnow
from core.db.session import read_session, transaction
from core.errors import UnknownIdError
from core.jobs.liveness import age_s, alive
from core.jsonable import to_plain

ACTIVE = ("queued", "running")
FINISHED = ("done", "failed", "cancelled")
DEAD_WORKER = "worker exited without finishing"
# A job running on another machine (a Dask worker) cannot be checked by pid: it is lost when its heartbeat stops.
STALE_HEARTBEAT_S = float(os.environ.get("ATELIER_JOB_STALE_S", "120"))
LIST_COLUMNS = ["id", "kind", "status", "progress", "message", "error", "submitted_by", "created_at", "started_at",
                "finished_at"]


@dataclass(frozen=True)
class JobInfo:
    """A job as stored: `metrics` is the list of live metric points [{"step", "fraction", "at", name: value}]."""

    id: int
    workspace: str
    kind: str
    params: dict[str, Any]
    status: str
    progress: float
    message: str
    metrics: list[dict[str, Any]]
    result: dict[str, Any] | None
    error: str | None
    submitted_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    pid: int | None
    cancel_requested: bool
    host: str | None = None  # the machine (hostname) or Dask worker (tcp://...) that runs it

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def elapsed_s(self) -> float:
        """Seconds from start to finish, or to now while it runs (0 before it started)."""
        if self.started_at is None:
            return 0.0
        return ((self.finished_at or utcnow()) - self.started_at).total_seconds()


def create(ws: Workspace, kind: str, params: dict[str, Any], submitted_by: str) -> int:
    """Queue a job of `kind` (nothing runs it yet); returns its id."""
    return create_once(ws, kind, params, submitted_by)[0]


def create_once(ws: Workspace, kind: str, params: dict[str, Any], submitted_by: str,
                request_key: str | None = None) -> tuple[int, bool]:
    """(job id, created): queue a job, or return the one already queued under `request_key` (a double click or a
    resubmitted form makes one job; the unique key settles two requests that arrive at once)."""
    if request_key is not None:
        existing = _job_for_key(ws, request_key)
        if existing is not None:
            return existing, False
    try:
        with transaction(ws) as session:
            # `target` is a column of the old string-resolved jobs; kinds replaced it, so it stays empty.
            job = Job(workspace=ws.name, workspace_path=str(ws.path), kind=kind, target="",
                      params=to_plain(params or {}), submitted_by=submitted_by, status="queued",
                      request_key=request_key)
            session.add(job)
            session.flush()
            audit.record(session, submitted_by, "submit_job", ws.name, f"job {job.id}", {"kind": kind})
            return job.id, True
    except IntegrityError:
        existing = _job_for_key(ws, request_key) if request_key is not None else None
        if existing is None:
            raise
        return existing, False


def _job_for_key(ws: Workspace, request_key: str) -> int | None:
    with read_session(ws) as session:
        return session.scalar(sa.select(Job.id).where(Job.request_key == request_key))


def get(ws: Workspace, job_id: int) -> JobInfo:
    """The job as stored; a job whose worker died shows as failed ("worker exited without finishing")."""
    with read_session(ws) as session:
        job = session.get(Job, job_id)
        if job is None or job.workspace != ws.name:
            raise UnknownIdError(f"no job {job_id} in workspace '{ws.name}': see `python -m core jobs list`")
    here = job.host in (None, socket.gethostname())  # another machine's pid cannot be checked from here
    if job.status in ACTIVE and job.pid is not None and here and not alive(job.pid, job.started_at or job.created_at):
        finish(ws, job_id, "failed", error=DEAD_WORKER, only_if=ACTIVE)
        return get(ws, job_id)
    beat = job.heartbeat_at or job.started_at
    if job.status == "running" and not here and beat is not None and age_s(beat) > STALE_HEARTBEAT_S:
        finish(ws, job_id, "failed", only_if=("running",), error=f"no heartbeat from its worker {job.host} for "
               f"{age_s(beat):.0f} s: the worker or its machine was lost; submit the job again")
        return get(ws, job_id)
    return _info(job)


def stored(ws: Workspace, job_id: int) -> JobInfo | None:
    """The job exactly as stored (a dead worker not settled), or None."""
    with read_session(ws) as session:
        job = session.get(Job, job_id)
        return None if job is None else _info(job)


def list_jobs(ws: Workspace, kind: str | None = None, status: str | None = None, limit: int = 200) -> pd.DataFrame:
    """Jobs of the workspace, newest first: id, kind, status, progress, message, error, submitted_by, times."""
    query = sa.select(Job.id).where(Job.workspace == ws.name).order_by(Job.id.desc()).limit(limit)
    if kind:
        query = query.where(Job.kind == kind)
    if status:
        query = query.where(Job.status == status)
    with read_session(ws) as session:
        ids = session.scalars(query).all()
    infos = [get(ws, job_id) for job_id in ids]  # get() settles jobs whose worker died
    return pd.DataFrame([{c: getattr(i, c) for c in LIST_COLUMNS} for i in infos], columns=LIST_COLUMNS)


def latest(ws: Workspace, kind: str, active_only: bool = False) -> JobInfo | None:
    """The newest job of `kind` (running or queued ones only with active_only): how a page finds it after a refresh."""
    query = sa.select(Job.id).where(Job.workspace == ws.name, Job.kind == kind).order_by(Job.id.desc()).limit(1)
    if active_only:
        query = query.where(Job.status.in_(ACTIVE))
    with read_session(ws) as session:
        job_id = session.scalar(query)
    return None if job_id is None else get(ws, job_id)


def cancel(ws: Workspace, job_id: int, by: str = "local") -> JobInfo:
    """Ask a job to stop: a queued one is cancelled at once, a running one at its next progress update
    (or killed by its worker's watchdog after the grace period)."""
    info = get(ws, job_id)
    if info.finished:
        return info
    with transaction(ws) as session:
        session.execute(sa.update(Job).where(Job.id == job_id).values(cancel_requested=True))
        session.execute(sa.update(Job).where(Job.id == job_id, Job.status == "queued").values(
            status="cancelled", finished_at=utcnow(), message=f"cancelled by {by} before it started"))
        audit.record(session, by, "cancel_job", ws.name, f"job {job_id}", {"kind": info.kind, "status": info.status})
    return get(ws, job_id)


def claim(ws: Workspace, job_id: int, host: str) -> tuple[bool, JobInfo]:
    """Mark a queued job running in this process on `host`; (False, the job) when it is not queued any more."""
    with transaction(ws) as session:
        claimed = session.execute(
            sa.update(Job).where(Job.id == job_id, Job.status == "queued")
            .values(status="running", pid=os.getpid(), host=host, started_at=utcnow(), heartbeat_at=utcnow())
        ).rowcount
        job = session.get(Job, job_id)
        if job is None:
            raise UnknownIdError(f"no job {job_id} in workspace '{ws.name}'")
        return bool(claimed), _info(job)


def record_worker(ws: Workspace, job_id: int, pid: int, host: str) -> None:
    """The worker process started for a job, unless the worker already claimed it (its own pid is the same)."""
    with transaction(ws) as session:
        session.execute(sa.update(Job).where(Job.id == job_id, Job.pid.is_(None)).values(pid=pid, host=host))


def beat(ws: Workspace, job_id: int) -> bool:
    """Write the job's heartbeat; returns whether a cancel was asked."""
    with transaction(ws) as session:
        job = session.get(Job, job_id)
        job.heartbeat_at = utcnow()
        return bool(job.cancel_requested)


def requeue(ws: Workspace, job_id: int, lost_on: str, message: str, by: str) -> bool:
    """Put a job that was running on `lost_on` back in the queue (not a cancelled one); whether it was."""
    with transaction(ws) as session:
        requeued = session.execute(sa.update(Job).where(
            Job.id == job_id, Job.status == "running", Job.host == lost_on, Job.cancel_requested.is_(False),
        ).values(status="queued", message=message)).rowcount
        if requeued:
            audit.record(session, by, "restart_job", ws.name, f"job {job_id}", {"lost_worker": lost_on})
        return bool(requeued)


def finish(ws: Workspace, job_id: int, status: str, result: dict[str, Any] | None = None, error: str | None = None,
           message: str | None = None, only_if: tuple[str, ...] = ACTIVE) -> None:
    """Record how the job ended, unless it already left the `only_if` states."""
    values: dict[str, Any] = {"status": status, "finished_at": utcnow()}
    if status == "done":
        values.update(progress=1.0, result=result, message=message or "done")
    if error is not None:
        values.update(error=error, message=error.splitlines()[0][:2000])
    if message is not None and status != "done":
        values["message"] = message
    with transaction(ws) as session:
        session.execute(sa.update(Job).where(Job.id == job_id, Job.status.in_(only_if)).values(**values))


def _info(job: Job) -> JobInfo:
    return JobInfo(job.id, job.workspace, job.kind, dict(job.params or {}), job.status, float(job.progress),
                   job.message or "", list(job.metrics or []), job.result, job.error, job.submitted_by,
                   job.created_at, job.started_at, job.finished_at, job.pid, bool(job.cancel_requested), job.host)
