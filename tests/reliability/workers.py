"""Worker processes of the reliability suite: people writing at once, and writers killed mid-transaction."""

# Workers are forked from one fork server that imported the services once (as in
# tests/complementary/test_concurrent_labelling.py): 16 cold interpreters would cost ~20 CPU-seconds on the
# shared 2 cores and prove nothing more — each worker still opens its own engine and connections.

from __future__ import annotations

import multiprocessing
import os
import queue
import time
import traceback
from typing import Any, Callable

CTX = multiprocessing.get_context("forkserver")
CTX.set_forkserver_preload(["core.services.outfits", "core.services.attributes", "core.services.imports", __name__])


def _use_database(database_url: str | None) -> None:
    # The fork server keeps the environment it started with: point this worker at this run's database.
    os.environ.pop("DATABASE_URL", None)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    # Each worker is one person's own process (like the CLI): nobody else's sign-in may be bound in it.
    from core import auth

    auth.bind(None)


def run_all(target: Callable[..., None], args: list[tuple], timeout: float = 540.0) -> list[dict[str, Any]]:
    """Start one process per args tuple (target(*args, results)) at once; their reports, or AssertionError."""
    from core.db.engine import dispose_engines

    dispose_engines()  # no pooled connection crosses into a worker
    results = CTX.Queue()
    procs = [CTX.Process(target=target, args=(*a, results)) for a in args]
    for proc in procs:
        proc.start()
    try:
        out = [results.get(timeout=timeout) for _ in procs]
    except queue.Empty:
        raise AssertionError(f"workers did not finish: exit codes {[p.exitcode for p in procs]}") from None
    finally:
        for proc in procs:
            proc.join(timeout=30)
    errors = [r["error"] for r in out if "error" in r]
    assert not errors, errors[0]
    assert all(p.exitcode == 0 for p in procs), [p.exitcode for p in procs]
    return out


def double_submitter(ws_path: str, database_url: str | None, me: str, pair_ids: list[int],
                     results: "multiprocessing.Queue[dict]") -> None:
    """One stylist labelling every pair, each label submitted twice with its request id (a double click)."""
    try:
        _use_database(database_url)
        from core.data.workspace import Workspace
        from core.services import outfits

        ws, first, second = Workspace.open(ws_path), 0, 0
        for pair_id in pair_ids:
            rid = f"{me}-{pair_id}"  # made once when the form rendered, sent with both submits
            label = ("yes", "no", "unsure")[pair_id % 3]
            first += outfits.label_pair(ws, pair_id, me, label, rid)
            second += outfits.label_pair(ws, pair_id, me, label, rid)
        results.put({"me": me, "first": first, "second": second})
    except BaseException:  # noqa: BLE001 — hand the traceback to the test instead of dying silently
        results.put({"me": me, "error": traceback.format_exc()})


def stylist(ws_path: str, me: str, database_url: str | None, results: "multiprocessing.Queue[dict]") -> None:
    """The complementary suite's stylist loop (claim, label, every 4th submit twice), in a clean worker."""
    try:
        _use_database(database_url)
    except BaseException:  # noqa: BLE001
        results.put({"me": me, "error": traceback.format_exc()})
        return
    from tests.complementary.test_concurrent_labelling import _labeller

    _labeller(ws_path, me, database_url, results)


def decision_writer(ws_path: str, database_url: str | None, run: int, pause_at: int | None, items: int,
                    conn: Any) -> None:
    """A merchandiser saving decisions in a loop until killed; sends each request id once its commit returned.

    pause_at: on that decision, stop right after the first rows were flushed inside the open transaction and
    send "mid", so the parent's SIGKILL lands with rows written but not committed.
    """
    _use_database(database_url)
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from core.data.workspace import Workspace
    from core.db.models import CatalogueValue
    from core.db.session import read_session
    from core.services import attributes

    ws = Workspace.open(ws_path)
    with read_session(ws) as session:
        versions = {row.item_id: row.version_id for row in session.scalars(sa.select(CatalogueValue))}
    k = 0

    def _stall(session: Any, flush_context: Any) -> None:
        if k == pause_at:
            conn.send(("mid", f"r{run}-{k}"))
            time.sleep(600)

    sa.event.listen(Session, "after_flush", _stall)
    while True:
        item = f"item{(run * 7 + k) % items:03d}"
        rid = f"r{run}-{k}"
        decision = attributes.decide(ws, item, "colour", "correct", f"v{run}-{k}", reviewer=f"m{run}",
                                     request_id=rid, seen_version=versions.get(item, 0))
        versions[item] = decision.version
        conn.send(("committed", rid))  # a pipe write: it is in the pipe before the next transaction begins
        k += 1


def importer(home: str, database_url: str | None, ws_path: str, kill_at: str, files: dict[str, bytes],
             results: Any = None) -> None:
    """Import `files` into the workspace at `ws_path`; the publish SIGKILLs this process at step `kill_at`."""
    _use_database(database_url)
    os.environ["ATELIER_HOME"] = home
    os.environ["ATELIER_IMPORT_KILL_AT"] = kill_at
    from pathlib import Path

    from core.services.imports import ImportFile, import_files

    import_files(Path(ws_path), [ImportFile(kind, data, f"{kind}.csv") for kind, data in files.items()])
