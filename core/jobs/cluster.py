"""A Dask cluster (ATELIER_DASK_SCHEDULER): one client per process, its workers, and fanning work out over them."""

from __future__ import annotations

import hashlib
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from core.config import get_settings
from core.data.workspace import Workspace
from core.db.engine import database_url
from core.errors import AtelierError

if TYPE_CHECKING:  # distributed is imported where it is used: the local runner never needs it
    from distributed import Client

CONNECT_TIMEOUT_S = 15
_CLIENTS: dict[str, Any] = {}
_LOCK = threading.Lock()


def scheduler_address() -> str | None:
    """The configured Dask scheduler (ATELIER_DASK_SCHEDULER), or None: the local process runner is used."""
    return get_settings().dask_scheduler


def get_client(address: str | None = None) -> Client:
    """A Client for `address` (default: the configured one), one per process; inside a Dask task, the worker's."""
    # distributed only on a Dask cluster: the local runner never needs it
    from distributed import Client, get_client as worker_get_client  # noqa: PLC0415

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
        from distributed import get_worker  # noqa: PLC0415

        get_worker()
        return True
    except (ImportError, ValueError):
        return False


def database_fingerprint(ws: Workspace) -> str:
    """A hash of the database URL the workspace writes to (the URL itself may hold a password)."""
    return hashlib.sha256(database_url(ws).encode()).hexdigest()[:16]


def cluster_info(address: str | None = None) -> dict[str, Any]:
    """Scheduler address and its workers (threads, memory limit) for `python -m core scaleout status`."""
    client = get_client(address)
    workers = client.scheduler_info(n_workers=-1)["workers"]
    return {"scheduler": client.scheduler.address, "n_workers": len(workers),
            "threads": sum(w.get("nthreads", 0) for w in workers.values()),
            "workers": [{"address": a, "threads": w.get("nthreads"), "memory_limit": w.get("memory_limit")}
                        for a, w in sorted(workers.items())]}


def fan_out(fn: Callable[..., Any], args: Sequence[tuple], on_done: Callable[[int], None] | None = None,
            shared: dict[str, Any] | None = None, name: str = "part",
            local_threads: int = 1) -> Iterator[tuple[int, Any]]:
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
    from distributed import as_completed as dask_completed, worker_client  # noqa: PLC0415

    # Inside a task, worker_client secedes from the worker's thread pool, so the parts can use that slot.
    with (worker_client() if in_worker() else nullcontext(get_client())) as client:
        # A list around each value: scatter would otherwise split a list or dict value into several futures.
        scattered = {k: client.scatter([v], broadcast=True)[0] for k, v in shared.items()}
        token = uuid.uuid4().hex[:8]
        futures = [client.submit(fn, *item, **scattered, key=f"atelier-{name}-{token}-{i}", pure=False)
                   for i, item in enumerate(args)]
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for future in dask_completed(futures, loop=client.loop):
                i = index[future.key]
                result = future.result()  # re-raises the part's error here
                if on_done is not None:
                    on_done(i)
                yield i, result
        finally:
            client.cancel([f for f in futures if not f.done()])
