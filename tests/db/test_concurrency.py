"""Several processes doing read-then-insert at once lose nothing (SQLite needs BEGIN IMMEDIATE for that)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from core.config import REPO_ROOT
from core.data.workspace import Workspace
from core.db.models import PairCandidate, PairLabel
from core.db.session import ensure_schema, read_session, transaction

WORKER = """
import sys
import pytest
import sqlalchemy as sa
from core.data.workspace import Workspace
from core.db.models import PairCandidate, PairLabel
from core.db.session import transaction
ws, proc, n = Workspace.open(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for i in range(n):
    with transaction(ws) as session:
        # Read, then write based on what was read: the pattern a deferred BEGIN loses under contention.
        pair = session.scalars(sa.select(PairCandidate).order_by(PairCandidate.id)).first()
        seen = session.scalar(sa.select(sa.func.count()).select_from(PairLabel).where(PairLabel.pair_id == pair.id))
        session.add(PairLabel(pair_id=pair.id, labeller=f"{proc}-{i}", label="yes", request_id=f"{proc}-{i}"))
        pair.labels_count = seen + 1
"""

PROCESSES, PER_PROCESS = 4, 40


@pytest.mark.slow  # four fresh Python processes: ~7 s on an idle machine, 30+ s on the busy shared one
def test_parallel_read_then_insert_loses_nothing(ws: Workspace) -> None:
    ensure_schema(ws)
    with transaction(ws) as session:
        session.add(PairCandidate(workspace=ws.name, item_a="a", item_b="b"))
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(ws.path), f"p{k}", str(PER_PROCESS)],
                         cwd=REPO_ROOT, env=env, stderr=subprocess.PIPE, text=True)
        for k in range(PROCESSES)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errors
    with read_session(ws) as session:
        labels = session.scalar(sa.select(sa.func.count()).select_from(PairLabel))
        count = session.scalar(sa.select(PairCandidate.labels_count))
    assert labels == PROCESSES * PER_PROCESS
    if ws.database_path.exists():  # SQLite: the read-modify-write was serialised, so no update was lost
        assert count == PROCESSES * PER_PROCESS
