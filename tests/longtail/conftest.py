"""Fixtures: planted tables and a tiny trained long-tail workspace (trained once per session: UMAP compiles once)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest

from tests.longtail.planted import planted_tables


@pytest.fixture(scope="session")
def planted() -> tuple:
    return planted_tables(n_users=500, n_items=300, n_interactions=9000, seed=3)


@pytest.fixture(scope="session")
def trained_home(tmp_path_factory: pytest.TempPathFactory, planted: tuple) -> Path:
    """ATELIER_HOME with workspace 'lt' holding the planted tables and an active long-tail version (with maps)."""
    from core.data.workspace import Workspace
    from core.db.engine import dispose_engines
    from core.db.session import forget_schema_checks
    from core.models.long_tail import EvalParams, LongTailParams
    from core.services import long_tail

    home = tmp_path_factory.mktemp("lt_home")
    path = home / "workspaces" / "lt"
    path.mkdir(parents=True)
    interactions, catalogue = planted
    interactions.to_parquet(path / "interactions.parquet")
    catalogue.to_parquet(path / "catalogue.parquet")
    (path / "workspace.json").write_text(json.dumps({"name": "lt", "source": "planted"}), encoding="utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv("ATELIER_HOME", str(home))
    mp.delenv("DATABASE_URL", raising=False)
    forget_schema_checks()
    ws = Workspace.open(path)
    long_tail.submit_training(ws, LongTailParams(epochs=8, factors=16, threshold=5),
                              protocol=EvalParams(holdout_fraction=0.2), wait=True)
    dispose_engines()
    forget_schema_checks()
    mp.undo()
    return home


@pytest.fixture
def trained_ws(trained_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    from core.data.workspace import Workspace
    from core.db.engine import dispose_engines
    from core.db.session import forget_schema_checks

    monkeypatch.setenv("ATELIER_HOME", str(trained_home))
    monkeypatch.setenv("ATELIER_WORKSPACE", "lt")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    forget_schema_checks()
    yield Workspace.open(trained_home / "workspaces" / "lt")
    dispose_engines()
    forget_schema_checks()
