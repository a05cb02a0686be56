"""Jobs on a team's Dask cluster: the same record, progress and cancel as a local worker process."""

# The task on a worker runs the same runner as the local worker process, with the worker's address as the job's
# host and the job's catalog entry sent along with the task (its function travels by module path). When a worker
# dies the scheduler retries the task elsewhere; the retry re-queues the orphaned record and runs it again from
# the start. When the scheduler gives up (KilledWorker), the submitting process records the failure; if that
# process is gone too, `records.get` fails the job once its heartbeat is stale.

from __future__ import annotations

import os
import signal
import uuid
from typing import TYPE_CHECKING

from core.data.workspace import Workspace
from core.errors import AtelierError
from core.jobs import records
from core.jobs.cluster import database_fingerprint, get_client
from core.jobs.runner import Catalog, execute

if TYPE_CHECKING:  # distributed is imported where it is used: the local runner never needs it
    from distributed import Future

REMOTE_HOSTS = ("tcp://", "tls://", "inproc://")  # how a Dask worker's address, recorded as a job's host, begins


class Dask:
    """Sends a queued job to the Dask cluster at `address`; it runs even after this process exits."""

    def __init__(self, address: str | None = None) -> None:
        self.address = address

    def start(self, ws: Workspace, job_id: int, catalog: Catalog) -> None:
        # distributed only on a Dask cluster: the local runner never needs it
        from distributed import fire_and_forget  # noqa: PLC0415

        try:
            client = get_client(self.address)
        except AtelierError as error:
            records.finish(ws, job_id, "failed", error=str(error))
            raise
        key = f"atelier-job-{job_id}-{uuid.uuid4().hex[:8]}"
        future = client.submit(run_job_task, str(ws.path), job_id, database_fingerprint(ws), dict(catalog),
                               key=key, pure=False)
        fire_and_forget(future)  # the scheduler keeps it when this (web or CLI) process goes away
        future.add_done_callback(lambda f: _record_lost(ws, job_id, f))


def run_job_task(workspace_path: str, job_id: int, fingerprint: str, catalog: Catalog) -> str:
    """The Dask task of a job: re-queue it if an earlier attempt's worker died, then run it like the local runner."""
    from distributed import get_worker  # noqa: PLC0415

    ws = Workspace.open(workspace_path)
    if database_fingerprint(ws) != fingerprint:
        raise AtelierError("this Dask worker writes to a different database than the app that submitted the job: "
                           "start the workers with the app's DATABASE_URL (and the workspace at the same path)")
    worker = get_worker()
    _requeue_orphan(ws, job_id, worker.address)
    return execute(ws, job_id, catalog, watchdog=True, host=worker.address, stop=_stop_worker).status


def _requeue_orphan(ws: Workspace, job_id: int, here: str) -> None:
    """A retry after a worker death finds the job 'running' on a worker the scheduler no longer has."""
    job = records.stored(ws, job_id)
    if job is None or job.status != "running" or not (job.host or "").startswith(REMOTE_HOSTS):
        return
    live = set(get_client().scheduler_info(n_workers=-1)["workers"])
    if job.host in live and job.host != here:
        return  # still running on a live worker: a duplicate attempt must not start it twice
    records.requeue(ws, job_id, job.host, f"restarted: Dask worker {job.host} was lost while running it", by="dask")


def _record_lost(ws: Workspace, job_id: int, future: Future) -> None:
    """Done-callback in the submitting process: the cluster gave up on the task (worker deaths, bad worker setup)."""
    if future.status != "error":
        return  # the task recorded its own outcome; "cancelled" here only means this client closed
    try:
        error = future.exception()
        text = (f"the Dask cluster gave up on it: {error}. Check the workers' memory and logs, then submit again"
                if type(error).__name__ == "KilledWorker" else f"the Dask worker could not run it: {error}")
        records.finish(ws, job_id, "failed", error=text)
    except Exception:  # noqa: BLE001 — a callback must not raise into the client's loop; get() settles it later
        pass


def _stop_worker() -> None:
    """After the cancel grace period: end this worker process (its nanny starts a fresh one); never the group,
    which on a LocalCluster is the submitting process's."""
    os.kill(os.getpid(), signal.SIGKILL)
