"""Jobs: long work run by kind out of the web process, tracked in the database, on a backend of the caller's choice."""

from core.jobs.records import (ACTIVE, DEAD_WORKER, FINISHED, STALE_HEARTBEAT_S, JobInfo, cancel, create, get,
                               latest, list_jobs)
from core.jobs.progress import Progress
from core.jobs.runner import CANCEL_GRACE_S, Catalog, JobFunction, run_job
from core.jobs.backends import Backend, InProcess, Subprocess
from core.jobs.dask_backend import Dask
from core.jobs.launch import default_backend, run_inline, submit

__all__ = ["ACTIVE", "DEAD_WORKER", "FINISHED", "STALE_HEARTBEAT_S", "CANCEL_GRACE_S", "JobInfo", "Progress",
           "JobFunction", "Catalog", "Backend", "InProcess", "Subprocess", "Dask", "create", "get", "latest",
           "list_jobs", "cancel", "submit", "run_inline", "run_job", "default_backend"]
