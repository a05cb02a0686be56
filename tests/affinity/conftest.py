"""Fixtures for the affinity area: a tiny planted interactions table and a workspace holding it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pandas as pd
import pytest

from core.data.workspace import Workspace
from core.features.interactions import planted_interactions


@pytest.fixture(scope="session")
def planted() -> tuple[pd.DataFrame, dict]:
    """1,500 users × 60 brands, ≈15k interactions with planted 8-d structure (seconds to train)."""
    return planted_interactions(n_users=1500, n_brands=60, n_interactions=15_000, strength=3.0, seed=1)


@pytest.fixture
def planted_ws(atelier_home: Path, planted) -> Iterator[Workspace]:
    """A workspace whose interactions are the planted table (no demo generator needed)."""
    from core.db.engine import dispose_engines
    from core.db.session import forget_schema_checks

    path = atelier_home / "workspaces" / "planted"
    path.mkdir(parents=True)
    (path / "workspace.json").write_text(json.dumps({"name": "planted"}), encoding="utf-8")
    planted[0].to_parquet(path / "interactions.parquet", index=False)
    forget_schema_checks()
    yield Workspace.open(path)
    dispose_engines()
    forget_schema_checks()
