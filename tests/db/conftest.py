"""Fixtures: a fresh workspace whose database is SQLite, or a throw-away schema on the local PostgreSQL."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from core.data.workspace import Workspace
from core.db.engine import dispose_engines
from core.db.session import forget_schema_checks

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_reachable() -> bool:
    try:
        engine = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 — any failure means "not here": skip
        return False


def make_workspace(root: Path, name: str = "w") -> Workspace:
    path = root / name
    path.mkdir(parents=True, exist_ok=True)
    (path / "workspace.json").write_text(json.dumps({"name": name}), encoding="utf-8")
    return Workspace.open(path)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def dialect(request: pytest.FixtureRequest, atelier_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run the test on SQLite, then on PostgreSQL in a fresh schema (dropped afterwards)."""
    forget_schema_checks()
    if request.param == "sqlite":
        yield "sqlite"
    else:
        if not _postgres_reachable():
            pytest.skip("PostgreSQL at 127.0.0.1:5432 is not reachable")
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(PG_ADMIN_URL)
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        monkeypatch.setenv("DATABASE_URL", f"{PG_ADMIN_URL}?options=-csearch_path%3D{schema}")
        try:
            yield "postgresql"
        finally:
            dispose_engines()
            with admin.begin() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
            admin.dispose()
    dispose_engines()
    forget_schema_checks()


@pytest.fixture
def ws(dialect: str, tmp_path: Path) -> Workspace:
    """A workspace whose database (SQLite file or PostgreSQL schema) is empty."""
    return make_workspace(tmp_path)
