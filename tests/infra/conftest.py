"""Fixtures: a fresh workspace folder (SQLite database created on first use)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest

from core.data.workspace import Workspace
from core.db.engine import dispose_engines
from core.db.session import forget_schema_checks


@pytest.fixture
def ws(atelier_home: Path) -> Iterator[Workspace]:
    path = atelier_home / "workspaces" / "infra"
    path.mkdir(parents=True)
    (path / "workspace.json").write_text(json.dumps({"name": "infra"}), encoding="utf-8")
    forget_schema_checks()
    yield Workspace.open(path)
    dispose_engines()
    forget_schema_checks()
