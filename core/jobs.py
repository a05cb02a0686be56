"""Jobs: long work in a separate process, tracked in the database (queued, running, done, failed, cancelled)."""

# A target is "module:function" with signature fn(ws: Workspace, params: dict, progress: Progress) -> dict.
# submit() starts `python -m core jobs run <id> --workspace <path>` in its own session; the worker claims the
# row, runs the target and records the result or the error. A watchdog thread in the worker writes a heartbeat
# and, when a cancel was asked and the target does not stop within the grace period, kills the process group.

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import sqlalchemy as sa

from core import auth
from core.config import REPO_ROOT, get_settings
from core.data.workspace import Workspace
from core.db import audit
from core.db.models import Job, utcnow
from core.db.session import read_session, transaction
from core.errors import AtelierError, JobCancelled, UnknownIdError
from core.jsonable import to_plain

ACTIVE = ("queued", "running")
FINISHED = ("done", "failed", "cancelled")
DEAD_WORKER = "worker exited without finishing"
CANCEL_GRACE_S = float(os.environ.get("ATELIER_JOB_CANCEL_GRACE_S", "10"))
# A job running on another machine (a Dask worker) cannot be checked by pid: it is lost when its heartbeat stops.
STALE_HEARTBEAT_S = float(os.environ.get("ATELIER_JOB_STALE_S", "120"))
MIN_WRITE_INTERVAL_S = 0.25  # progress calls in a tight loop are coalesced to this rate
MAX_METRIC_POINTS = 5000
_TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


@dataclass(frozen=True)
class JobInfo:
    """A job as stored: `metrics` is the list of live metric points [{"step", "fraction", "at", name: value}]."""

    id: int
    workspace: str
    kind: str
    target: str
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


class Progress:
    """Handed to a job target: `update` stores progress and live metrics, and raises JobCancelled on cancel."""

    def __init__(self, ws: Workspace, job_id: int) -> None:
        self.ws, self.job_id = ws, job_id
        self._last_write = 0.0
        self._step = 0

    def update(self, fraction: float, message: str = "", metrics: dict[str, Any] | None = None) -> None:
        """Record `fraction` (0..1) and an optional metrics point; raise JobCancelled if a cancel was asked."""
        now = time.monotonic()
        if metrics is None and now - self._last_write < MIN_WRITE_INTERVAL_S and fraction < 1.0:
            return
        self._last_write = now
        with transaction(self.ws) as session:
            job = session.get(Job, self.job_id)
            if job.cancel_requested:
                raise JobCancelled(f"job {self.job_id} was cancelled")
            job.progress = float(min(max(fraction, 0.0), 1.0))
            if message:
                job.message = str(message)[:2000]
            job.heartbeat_at = utcnow()
            if metrics:
                self._step += 1
                point = {"step": self._step, "fraction": job.progress, "at": utcnow().isoformat(), **to_plain(metrics)}
                job.metrics = [*job.metrics, point][-MAX_METRIC_POINTS:]

    @property
    def cancel_requested(self) -> bool:
        """For targets that want to stop at a clean point without an exception."""
        with read_session(self.ws) as session:
            return bool(session.scalar(sa.select(Job.cancel_requested).where(Job.id == self.job_id)))


def submit(ws: Workspace, kind: str, target: str, params: dict[str, Any], submitted_by: str = "local") -> int:
    """Queue `target` and start a worker process for it; returns the job id at once."""
    auth.require_training(submitted_by, kind)
    job_id = _create(ws, kind, target, params, submitted_by)
    address = get_settings().dask_scheduler
    if address:  # a team's Dask cluster runs it, with the same record, progress and cancel (core/scaleout.py)
        from core import scaleout

        scaleout.submit_job(ws, job_id, address)
        return job_id
    log_dir = ws.path / "jobs"
    log_dir.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    try:
        with open(log_dir / f"{job_id}.log", "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "core", "jobs", "run", str(job_id), "--workspace", str(ws.path)],
                cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # survives the web process's signals; cancel can kill its whole group
            )
    except OSError as error:
        _finish(ws, job_id, "failed", error=f"could not start the worker process: {error}")
        raise AtelierError(f"could not start job {job_id}: {error}") from error
    with transaction(ws) as session:
        session.execute(sa.update(Job).where(Job.id == job_id, Job.pid.is_(None))
                        .values(pid=process.pid, host=socket.gethostname()))
    # Reap the child when it exits, so a finished worker never lingers as a zombie that looks alive.
    threading.Thread(target=process.wait, name=f"job-{job_id}-reaper", daemon=True).start()
    return job_id


def run_inline(ws: Workspace, kind: str, target: str, params: dict[str, Any], submitted_by: str = "local",
               echo: bool = False) -> int:
    """Run `target` in this process, tracked like a submitted job; returns the job id, re-raises its error."""
    job_id = _create(ws, kind, target, params, submitted_by)
    info = _execute(ws, job_id, echo=echo, raise_errors=True)
    return info.id


def run_job(ws: Workspace, job_id: int) -> JobInfo:
    """The worker's side of submit(): claim the queued job, run it with a watchdog, record how it ended."""
    signal.signal(signal.SIGTERM, _terminated)  # record "terminated" instead of vanishing
    return _execute(ws, job_id, echo=False, raise_errors=False, watchdog=True)


def get(ws: Workspace, job_id: int) -> JobInfo:
    """The job as stored; a job whose worker died shows as failed ("worker exited without finishing")."""
    with read_session(ws) as session:
        job = session.get(Job, job_id)
        if job is None or job.workspace != ws.name:
            raise UnknownIdError(f"no job {job_id} in workspace '{ws.name}': see `python -m core jobs list`")
    here = job.host in (None, socket.gethostname())  # another machine's pid cannot be checked from here
    if job.status in ACTIVE and job.pid is not None and here and not _alive(job.pid, job.started_at or job.created_at):
        _finish(ws, job_id, "failed", error=DEAD_WORKER, only_if=ACTIVE)
        return get(ws, job_id)
    beat = job.heartbeat_at or job.started_at
    if job.status == "running" and not here and beat is not None and _age_s(beat) > STALE_HEARTBEAT_S:
        _finish(ws, job_id, "failed", only_if=("running",), error=f"no heartbeat from its worker {job.host} for "
                f"{_age_s(beat):.0f} s: the worker or its machine was lost; submit the job again")
        return get(ws, job_id)
    return _info(job)


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
    columns = ["id", "kind", "status", "progress", "message", "error", "submitted_by", "created_at",
               "started_at", "finished_at", "target"]
    return pd.DataFrame([{c: getattr(i, c) for c in columns} for i in infos], columns=columns)


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
    auth.require_training(by, info.kind)
    if info.finished:
        return info
    with transaction(ws) as session:
        session.execute(sa.update(Job).where(Job.id == job_id).values(cancel_requested=True))
        session.execute(sa.update(Job).where(Job.id == job_id, Job.status == "queued").values(
            status="cancelled", finished_at=utcnow(), message=f"cancelled by {by} before it started"))
        audit.record(session, by, "cancel_job", ws.name, f"job {job_id}", {"kind": info.kind, "status": info.status})
    return get(ws, job_id)


# --- internals -------------------------------------------------------------------------------------------


def _create(ws: Workspace, kind: str, target: str, params: dict[str, Any], submitted_by: str) -> int:
    if not _TARGET.match(target or ""):
        raise AtelierError(f"job target {target!r} must look like 'package.module:function'")
    if importlib.util.find_spec(target.split(":")[0]) is None:
        raise AtelierError(f"job target module {target.split(':')[0]!r} does not exist")
    with transaction(ws) as session:
        job = Job(workspace=ws.name, workspace_path=str(ws.path), kind=kind, target=target,
                  params=to_plain(params or {}), submitted_by=submitted_by, status="queued")
        session.add(job)
        session.flush()
        audit.record(session, submitted_by, "submit_job", ws.name, f"job {job.id}", {"kind": kind, "target": target})
        return job.id


def _execute(ws: Workspace, job_id: int, echo: bool, raise_errors: bool, watchdog: bool = False,
             host: str | None = None, stop: Callable[[], None] | None = None) -> JobInfo:
    """Claim and run a queued job; `host` names where it runs (a Dask worker's address), `stop` ends a target
    that ignores a cancel (default: kill this process group)."""
    with transaction(ws) as session:
        claimed = session.execute(
            sa.update(Job).where(Job.id == job_id, Job.status == "queued")
            .values(status="running", pid=os.getpid(), host=host or socket.gethostname(), started_at=utcnow(),
                    heartbeat_at=utcnow())
        ).rowcount
        job = session.get(Job, job_id)
        if job is None:
            raise UnknownIdError(f"no job {job_id} in workspace '{ws.name}'")
    if not claimed:
        return _info(job)  # already running elsewhere, finished, or cancelled before it started
    done = threading.Event()
    if watchdog:
        threading.Thread(target=_watch, args=(ws, job_id, done, stop), name=f"job-{job_id}-watchdog", daemon=True).start()
    progress = _EchoProgress(ws, job_id) if echo else Progress(ws, job_id)
    try:
        result = _resolve(job.target)(ws, dict(job.params), progress)
        result = result if isinstance(result, dict) else {"value": result}
        # a target may sum up its outcome in one line (e.g. "3 of 4 models trained; failed: ..."): the Jobs page shows it
        _finish(ws, job_id, "done", result=to_plain(result), message=result.get("summary"))
    except JobCancelled:
        _finish(ws, job_id, "cancelled", message="cancelled")
    except BaseException as error:  # noqa: BLE001 — any failure is recorded with its text
        _finish(ws, job_id, "failed", error=_error_text(error))
        if raise_errors or not isinstance(error, Exception):
            raise
    finally:
        done.set()
    return get(ws, job_id)


class _EchoProgress(Progress):
    """Progress that also prints each update (inline runs from the CLI)."""

    def update(self, fraction: float, message: str = "", metrics: dict[str, Any] | None = None) -> None:
        shown = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in (metrics or {}).items())
        print(f"[{fraction:6.1%}] {message} {shown}".rstrip(), file=sys.stderr, flush=True)
        super().update(fraction, message, metrics)


def _terminated(signum: int, frame: Any) -> None:
    raise SystemExit("the worker process was terminated (SIGTERM)")


def _watch(ws: Workspace, job_id: int, done: threading.Event, stop: Callable[[], None] | None = None) -> None:
    """Heartbeat; on cancel, give the target CANCEL_GRACE_S to stop by itself, then kill the worker's group."""
    asked_at = None
    while not done.wait(1.0):
        try:
            with transaction(ws) as session:
                job = session.get(Job, job_id)
                job.heartbeat_at = utcnow()
                cancel_requested = job.cancel_requested
        except Exception:  # noqa: BLE001 — a busy database must not kill the job; try again next second
            continue
        if cancel_requested and asked_at is None:
            asked_at = time.monotonic()
        if asked_at is not None and time.monotonic() - asked_at > CANCEL_GRACE_S:
            _finish(ws, job_id, "cancelled", message=f"cancelled: stopped after a {CANCEL_GRACE_S:.0f} s grace period",
                    only_if=ACTIVE)
            if stop is not None:
                stop()
            else:
                os.killpg(os.getpgid(0), signal.SIGKILL)


def _finish(ws: Workspace, job_id: int, status: str, result: dict[str, Any] | None = None, error: str | None = None,
            message: str | None = None, only_if: tuple[str, ...] = ("queued", "running")) -> None:
    values: dict[str, Any] = {"status": status, "finished_at": utcnow()}
    if status == "done":
        values.update(progress=1.0, result=result, message=message or "done")
    if error is not None:
        values.update(error=error, message=error.splitlines()[0][:2000])
    if message is not None and status != "done":
        values["message"] = message
    with transaction(ws) as session:
        session.execute(sa.update(Job).where(Job.id == job_id, Job.status.in_(only_if)).values(**values))


def _resolve(target: str) -> Callable[[Workspace, dict[str, Any], Progress], Any]:
    module_name, function = target.split(":")
    return getattr(importlib.import_module(module_name), function)


def _error_text(error: BaseException) -> str:
    if isinstance(error, AtelierError):
        return str(error)  # an expected failure: its message says what to do
    trace = "".join(traceback.format_exception(error)[-12:])
    return f"{type(error).__name__}: {error}\n\n{trace}"


def _alive(pid: int, since: datetime) -> bool:
    """Whether `pid` is a live (not zombie) process that started no later than the job (pid reuse)."""
    stat = Path(f"/proc/{pid}/stat")
    if not stat.parent.exists():
        if not Path("/proc/self/stat").exists():  # no procfs: ask the kernel
            try:
                os.kill(pid, 0)
                return True
            except ProcessLookupError:
                return False
            except PermissionError:
                return True
        return False
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    if fields[0] in ("Z", "X"):
        return False
    started = _boot_time() + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    return started <= since.astimezone(timezone.utc).timestamp() + 30.0


def _age_s(moment: datetime) -> float:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # SQLite returns naive UTC
    return (utcnow() - aware).total_seconds()


def _boot_time() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    return 0.0


def _info(job: Job) -> JobInfo:
    return JobInfo(job.id, job.workspace, job.kind, job.target, dict(job.params or {}), job.status,
                   float(job.progress), job.message or "", list(job.metrics or []), job.result, job.error,
                   job.submitted_by, job.created_at, job.started_at, job.finished_at, job.pid,
                   bool(job.cancel_requested), job.host)
