"""Crashes: writers killed mid-transaction lose no committed decision and leave no partial rows; a killed
training job shows failed or cancelled and the active model keeps serving."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.data.workspace import Workspace
from core.db.engine import dispose_engines
from core.db.models import AttributeReview, AuditLog, CatalogueValue
from core.db.session import ensure_schema, read_session
from core.jobs import DEAD_WORKER
from core.services import affinity_training, jobs
from core.services import models as versions
from tests.crm.conftest import planted_model, save_model
from tests.reliability import workers
from tests.reliability.conftest import make_workspace

KILLS, ITEMS = 20, 12


def _receive(conn, timeout: float = 60.0):
    if not conn.poll(timeout):
        raise AssertionError(f"the writer sent nothing for {timeout} s")
    return conn.recv()


@pytest.mark.slow  # 20 writer processes started and killed one after another
def test_writer_killed_mid_transaction_twenty_times(dialect: str, tmp_path: Path, report) -> None:
    ws = make_workspace(tmp_path)
    ensure_schema(ws)
    rng = random.Random(7)
    committed: list[str] = []  # request ids whose commit returned before the kill
    in_flight: list[str] = []  # request ids killed with their first rows flushed, not committed
    for run in range(KILLS):
        dispose_engines()  # no pooled connection crosses into the writer
        reader, writer = workers.CTX.Pipe(duplex=False)
        # Even runs stall inside a transaction after its first flush (the kill is surely mid-transaction);
        # odd runs are killed at a random moment of a busy write loop.
        pause_at = rng.randint(0, 3) if run % 2 == 0 else None
        proc = workers.CTX.Process(target=workers.decision_writer,
                                   args=(str(ws.path), os.environ.get("DATABASE_URL"), run, pause_at, ITEMS, writer))
        proc.start()
        writer.close()
        wanted = rng.randint(1, 6)
        done_here = 0
        while True:
            kind, rid = _receive(reader)
            if kind == "mid":
                in_flight.append(rid)
                break
            committed.append(rid)
            done_here += 1
            if pause_at is None and done_here >= wanted:
                time.sleep(rng.uniform(0.0, 0.01))
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(timeout=30)
        assert proc.exitcode == -signal.SIGKILL
        while reader.poll():  # commits that landed between the last read and the kill
            try:
                kind, rid = reader.recv()
            except EOFError:  # poll() is also true once the writer's end is gone
                break
            if kind == "committed":
                committed.append(rid)
        reader.close()

    integrity = "n/a"
    if dialect == "sqlite":
        with sqlite3.connect(ws.database_path) as conn:
            integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    with read_session(ws) as session:
        stored = {r.request_id: r for r in session.scalars(sa.select(AttributeReview))}
        audited = Counter(a.details.get("request_id") for a in session.scalars(
            sa.select(AuditLog).where(AuditLog.action == "attribute.correct")))
        values = {v.item_id: v for v in session.scalars(sa.select(CatalogueValue))}
    missing = [rid for rid in committed if rid not in stored]
    resurrected = [rid for rid in in_flight if rid in stored]
    # A decision is three rows (review, value, audit): a partial one lacks its audit row or its value update.
    partial = sum(audited[rid] != 1 for rid in stored) + sum(rid not in stored for rid in audited)
    by_item = Counter(r.item_id for r in stored.values())
    latest = {}
    for rid, row in sorted(stored.items(), key=lambda kv: kv[1].id):
        latest[row.item_id] = row.value
    stale_values = sum(values[item].value != latest[item] or values[item].version_id != n for item,
                       n in by_item.items())
    report(f"writer SIGKILLed mid-transaction {KILLS} times [{dialect}]", kills=KILLS,
           surely_mid_transaction=len(in_flight), committed_before_kill=len(committed), stored=len(stored),
           missing=len(missing), in_flight_stored=len(resurrected), partial=partial,
           value_mismatch=stale_values, integrity_check=integrity)
    assert integrity in ("ok", "n/a")
    assert missing == [] and resurrected == [] and partial == 0 and stale_values == 0
    assert len(stored) - len(committed) <= KILLS  # at most one commit per run raced the kill unreported


def _wait(ws: Workspace, job_id: int, until, timeout: float = 240.0) -> jobs.JobInfo:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = jobs.get(ws, job_id)
        if until(info):
            return info
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not get there in {timeout} s: {info}")


@pytest.mark.slow  # a real training job in its own worker process, twice
@pytest.mark.parametrize("how", ["SIGKILL", "cancel"])
def test_killed_training_job_leaves_the_active_model_serving(demo_copy: Workspace, how: str, report) -> None:
    serving = save_model(demo_copy, planted_model())  # the version in service before the job starts
    before = [info.version for info in versions.store(demo_copy).versions("affinity")]
    job_id = jobs.submit(demo_copy, affinity_training.KIND,
                         {"iterations": 200, "n_factors": 16, "activate": True, "test_fraction": 0.2})
    running = _wait(demo_copy, job_id, lambda i: i.status == "running" and "iteration" in i.message)
    if how == "SIGKILL":
        os.killpg(running.pid, signal.SIGKILL)  # the worker and anything it started, with no chance to clean up
    else:
        jobs.cancel(demo_copy, job_id, by="analyst")
    info = _wait(demo_copy, job_id, lambda i: i.finished, timeout=60)
    after = [i.version for i in versions.store(demo_copy).versions("affinity")]
    artifact = versions.load_active(demo_copy, "affinity")
    leftovers = [p.name for p in (demo_copy.artifacts_path / "affinity").iterdir() if p.name.startswith(".tmp")]
    report(f"training job stopped by {how} mid-training", status=info.status, progress=f"{running.progress:.3f}",
           active_unchanged=versions.active_version(demo_copy, "affinity") == serving,
           served=artifact.version == serving, new_versions=len(after) - len(before), tmp_dirs=len(leftovers))
    assert info.status == ("failed" if how == "SIGKILL" else "cancelled"), info
    if how == "SIGKILL":
        assert info.error == DEAD_WORKER
    assert versions.active_version(demo_copy, "affinity") == serving
    assert artifact.version == serving and artifact.warning is None
    assert after == before
