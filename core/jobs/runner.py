"""Run one queued job by its kind: look the kind up in the catalog it is handed, record the outcome, obey cancel."""

# A watchdog thread beside the job writes a heartbeat and, when a cancel was asked and the job function does not
# stop within the grace period, ends the process (its whole group, or what `stop` says).

from __future__ import annotations

import os
import signal
import socket
import threading
import time
import traceback
from typing import Any, Callable, Mapping, Protocol

from core.data.workspace import Workspace
from core.errors import AtelierError, JobCancelled
from core.jobs import records
from core.jobs.progress import EchoProgress, Progress
from core.jsonable import to_plain

CANCEL_GRACE_S = float(os.environ.get("ATELIER_JOB_CANCEL_GRACE_S", "10"))
# Workers yield the CPU to the web server: on 2 cores a first launch's starter training (numba's JIT, BLAS on both
# cores) once kept the home page from drawing for 240 s. 0 keeps the server's priority.
JOB_NICE = int(os.environ.get("ATELIER_JOB_NICE", "10"))


class JobFunction(Protocol):
    """What a job kind runs: returns its result (a dict, shown on the Jobs page; "summary" is its one line)."""

    def __call__(self, ws: Workspace, params: dict[str, Any], progress: Progress) -> dict[str, Any]: ...


Catalog = Mapping[str, JobFunction]  # job kind -> the function that runs it


def function_for(catalog: Catalog, kind: str) -> JobFunction:
    """The function of `kind`; an AtelierError naming the known kinds when there is none."""
    try:
        return catalog[kind]
    except KeyError:
        raise AtelierError(f"no job kind {kind!r}: the known kinds are "
                           f"{', '.join(sorted(catalog)) or 'none'}") from None


def execute(ws: Workspace, job_id: int, catalog: Catalog, echo: bool = False, raise_errors: bool = False,
            watchdog: bool = False, host: str | None = None, stop: Callable[[], None] | None = None) -> records.JobInfo:
    """Claim and run a queued job; `host` names where it runs (a Dask worker's address), `stop` ends a job
    function that ignores a cancel (default: kill this process group)."""
    claimed, job = records.claim(ws, job_id, host or socket.gethostname())
    if not claimed:
        return job  # already running elsewhere, finished, or cancelled before it started
    done = threading.Event()
    if watchdog:
        threading.Thread(target=_watch, args=(ws, job_id, done, stop), name=f"job-{job_id}-watchdog",
                         daemon=True).start()
    progress = EchoProgress(ws, job_id) if echo else Progress(ws, job_id)
    try:
        result = function_for(catalog, job.kind)(ws, dict(job.params), progress)
        result = result if isinstance(result, dict) else {"value": result}
        # a job may sum up its outcome in one line (e.g. "3 of 4 models trained; failed: ..."): the Jobs page shows it
        records.finish(ws, job_id, "done", result=to_plain(result), message=result.get("summary"))
    except JobCancelled:
        records.finish(ws, job_id, "cancelled", message="cancelled")
    except BaseException as error:  # any failure is recorded with its text
        records.finish(ws, job_id, "failed", error=_error_text(error))
        if raise_errors or not isinstance(error, Exception):
            raise
    finally:
        done.set()
    return records.get(ws, job_id)


def run_job(ws: Workspace, job_id: int, catalog: Catalog) -> records.JobInfo:
    """The worker process's side of a submitted job: claim it, run it with a watchdog, record how it ended."""
    signal.signal(signal.SIGTERM, _terminated)  # record "terminated" instead of vanishing
    if JOB_NICE > 0:
        try:
            os.nice(JOB_NICE)  # before any thread starts: BLAS, numba and torch threads inherit it
        except OSError:
            pass  # a platform without nice: run at the normal priority
    return execute(ws, job_id, catalog, watchdog=True)


def _terminated(signum: int, frame: Any) -> None:
    raise SystemExit("the worker process was terminated (SIGTERM)")


def _watch(ws: Workspace, job_id: int, done: threading.Event, stop: Callable[[], None] | None) -> None:
    """Heartbeat; on cancel, give the job CANCEL_GRACE_S to stop by itself, then end it."""
    asked_at = None
    while not done.wait(1.0):
        try:
            cancel_requested = records.beat(ws, job_id)
        except Exception:  # noqa: BLE001 — a busy database must not kill the job; try again next second
            continue
        if cancel_requested and asked_at is None:
            asked_at = time.monotonic()
        if asked_at is not None and time.monotonic() - asked_at > CANCEL_GRACE_S:
            records.finish(ws, job_id, "cancelled",
                           message=f"cancelled: stopped after a {CANCEL_GRACE_S:.0f} s grace period")
            if stop is not None:
                stop()
            else:
                os.killpg(os.getpgid(0), signal.SIGKILL)


def _error_text(error: BaseException) -> str:
    if isinstance(error, AtelierError):
        return str(error)  # an expected failure: its message says what to do
    trace = "".join(traceback.format_exception(error)[-12:])
    return f"{type(error).__name__}: {error}\n\n{trace}"
