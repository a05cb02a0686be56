"""Scale-out on Dask: run jobs on a team's cluster (ATELIER_DASK_SCHEDULER) and fan work out over its workers."""

# A job sent to Dask keeps the record, progress and cancel semantics of core.jobs: the task on a worker runs the
# same `jobs._execute` as the local process runner, with the worker's address as the job's host. When a worker
# dies the scheduler retries the task elsewhere; the retry re-queues the orphaned record and runs it again from
# the start. When the scheduler gives up (KilledWorker), the submitting process records the failure; if that
# process is gone too, `jobs.get` fails the job once its heartbeat is stale.

from __future__ import annotations

import hashlib
import os
import signal
import threading
import uuid
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

import sqlalchemy as sa

from core.config import get_settings
from core.data.workspace import Workspace
from core.errors import AtelierError

if TYPE_CHECKING:  # distributed is imported where it is used: the local runner never needs it
    from distributed import Client, Future

CONNECT_TIMEOUT_S = 15
_CLIENTS: dict[str, Any] = {}
_LOCK = threading.Lock()


def scheduler_address() -> str | None:
    """The configured Dask scheduler (ATELIER_DASK_SCHEDULER), or None: the local process runner is used."""
    return get_settings().dask_scheduler


def get_client(address: str | None = None) -> Client:
    """A Client for `address` (default: the configured one), one per process; inside a Dask task, the worker's."""
    from distributed import Client, get_client as worker_get_client

    if in_worker():
        return worker_get_client()
    address = address or scheduler_address()
    if not address:
        raise AtelierError("no Dask scheduler configured: set ATELIER_DASK_SCHEDULER=tcp://host:8786")
    with _LOCK:
        client = _CLIENTS.get(address)
        if client is None or client.status in ("closed", "closing"):
            try:
                client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
            except (OSError, TimeoutError) as error:
                raise AtelierError(f"cannot reach the Dask scheduler at {address} ({error}): start the cluster "
                                   "or unset ATELIER_DASK_SCHEDULER to run jobs locally") from error
            _CLIENTS[address] = client
        return client


def close_clients() -> None:
    """Close this process's cached clients (tests; before a scheduler is replaced)."""
    with _LOCK:
        for client in _CLIENTS.values():
            client.close()
        _CLIENTS.clear()


def in_worker() -> bool:
    """Whether this code runs inside a Dask worker's task."""
    try:
        from distributed import get_worker

        get_worker()
        return True
    except (ImportError, ValueError):
        return False


def database_fingerprint(ws: Workspace) -> str:
    """A hash of the database URL the workspace writes to (the URL itself may hold a password)."""
    from core.db.engine import database_url

    return hashlib.sha256(database_url(ws).encode()).hexdigest()[:16]


# --- jobs on the cluster ---------------------------------------------------------------------------------


def submit_job(ws: Workspace, job_id: int, address: str | None = None) -> str:
    """Send a queued job to the Dask cluster; it runs even after this process exits. Returns the task key."""
    from distributed import fire_and_forget

    from core import jobs

    try:
        client = get_client(address)
    except AtelierError as error:
        jobs._finish(ws, job_id, "failed", error=str(error))  # noqa: SLF001 — same record the local runner keeps
        raise
    key = f"atelier-job-{job_id}-{uuid.uuid4().hex[:8]}"
    future = client.submit(run_job_task, str(ws.path), job_id, database_fingerprint(ws), key=key, pure=False)
    fire_and_forget(future)  # the scheduler keeps it when this (web or CLI) process goes away
    future.add_done_callback(lambda f: _record_lost(ws, job_id, f))
    return key


def run_job_task(workspace_path: str, job_id: int, fingerprint: str) -> str:
    """The Dask task of a job: re-queue it if an earlier attempt's worker died, then run it like the local runner."""
    from distributed import get_worker

    from core import jobs

    ws = Workspace.open(workspace_path)
    if database_fingerprint(ws) != fingerprint:
        raise AtelierError("this Dask worker writes to a different database than the app that submitted the job: "
                           "start the workers with the app's DATABASE_URL (and the workspace at the same path)")
    worker = get_worker()
    _requeue_orphan(ws, job_id, worker.address)
    info = jobs._execute(ws, job_id, echo=False, raise_errors=False, watchdog=True,  # noqa: SLF001
                         host=worker.address, stop=_stop_worker)
    return info.status


def _requeue_orphan(ws: Workspace, job_id: int, here: str) -> None:
    """A retry after a worker death finds the job 'running' on a worker the scheduler no longer has."""
    from core.db import audit
    from core.db.models import Job
    from core.db.session import read_session, transaction

    with read_session(ws) as session:
        job = session.get(Job, job_id)
        if job is None or job.status != "running" or not (job.host or "").startswith(("tcp://", "tls://", "inproc://")):
            return
        lost_on = job.host
    live = set(get_client().scheduler_info(n_workers=-1)["workers"])
    if lost_on in live and lost_on != here:
        return  # still running on a live worker: a duplicate attempt must not start it twice
    with transaction(ws) as session:
        requeued = session.execute(sa.update(Job).where(
            Job.id == job_id, Job.status == "running", Job.host == lost_on, Job.cancel_requested.is_(False),
        ).values(status="queued", message=f"restarted: Dask worker {lost_on} was lost while running it")).rowcount
        if requeued:
            audit.record(session, "dask", "restart_job", ws.name, f"job {job_id}", {"lost_worker": lost_on})


def _record_lost(ws: Workspace, job_id: int, future: Future) -> None:
    """Done-callback in the submitting process: the cluster gave up on the task (worker deaths, bad worker setup)."""
    from core import jobs

    if future.status != "error":
        return  # the task recorded its own outcome; "cancelled" here only means this client closed
    try:
        error = future.exception()
        text = (f"the Dask cluster gave up on it: {error}. Check the workers' memory and logs, then submit again"
                if type(error).__name__ == "KilledWorker" else f"the Dask worker could not run it: {error}")
        jobs._finish(ws, job_id, "failed", error=text, only_if=jobs.ACTIVE)  # noqa: SLF001
    except Exception:  # noqa: BLE001 — a callback must not raise into the client's loop; get() settles it later
        pass


def _stop_worker() -> None:
    """After the cancel grace period: end this worker process (its nanny starts a fresh one); never the group,
    which on a LocalCluster is the submitting process's."""
    os.kill(os.getpid(), signal.SIGKILL)


# --- fanning work out ------------------------------------------------------------------------------------


def fan_out(fn: Callable[..., Any], args: Sequence[tuple], on_done: Callable[[int], None] | None = None,
            shared: dict[str, Any] | None = None, name: str = "part", local_threads: int = 1) -> Iterator[tuple[int, Any]]:
    """Run `fn(*args[i], **shared)` for every i and yield (i, result) as each finishes (any order).

    On a Dask cluster (inside a job task on it, or with ATELIER_DASK_SCHEDULER set) each call is a task and
    `shared` is broadcast once to every worker; otherwise the calls run here on `local_threads` threads (fn
    should release the GIL). A task whose worker dies is retried by the scheduler. `on_done(i)` runs in this
    thread and may raise (e.g. JobCancelled): the calls not yet finished are cancelled.
    """
    shared = dict(shared or {})
    if in_worker() or scheduler_address():
        yield from _fan_out_dask(fn, args, on_done, shared, name)
        return
    from concurrent.futures import ThreadPoolExecutor, as_completed

    with ThreadPoolExecutor(max(1, int(local_threads)), thread_name_prefix=f"atelier-{name}") as pool:
        futures = {pool.submit(fn, *item, **shared): i for i, item in enumerate(args)}
        try:
            for future in as_completed(futures):
                result = future.result()
                if on_done is not None:
                    on_done(futures[future])
                yield futures[future], result
        finally:
            for future in futures:
                future.cancel()


def _fan_out_dask(fn: Callable[..., Any], args: Sequence[tuple], on_done: Callable[[int], None] | None,
                  shared: dict[str, Any], name: str) -> Iterator[tuple[int, Any]]:
    from contextlib import nullcontext

    from distributed import as_completed, worker_client

    # Inside a task, worker_client secedes from the worker's thread pool, so the parts can use that slot.
    with (worker_client() if in_worker() else nullcontext(get_client())) as client:
        # A list around each value: scatter would otherwise split a list or dict value into several futures.
        scattered = {k: client.scatter([v], broadcast=True)[0] for k, v in shared.items()}
        token = uuid.uuid4().hex[:8]
        futures = [client.submit(fn, *item, **scattered, key=f"atelier-{name}-{token}-{i}", pure=False)
                   for i, item in enumerate(args)]
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for future in as_completed(futures, loop=client.loop):
                i = index[future.key]
                result = future.result()  # re-raises the part's error here
                if on_done is not None:
                    on_done(i)
                yield i, result
        finally:
            client.cancel([f for f in futures if not f.done()])


def cluster_info(address: str | None = None) -> dict[str, Any]:
    """Scheduler address and its workers (threads, memory limit) for `python -m core scaleout status`."""
    client = get_client(address)
    workers = client.scheduler_info(n_workers=-1)["workers"]
    return {"scheduler": client.scheduler.address, "n_workers": len(workers),
            "threads": sum(w.get("nthreads", 0) for w in workers.values()),
            "workers": [{"address": a, "threads": w.get("nthreads"), "memory_limit": w.get("memory_limit")}
                        for a, w in sorted(workers.items())]}
