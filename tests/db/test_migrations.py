"""Migrations go base -> head -> base -> head on both dialects, and the models match the migrated schema."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from core.config import REPO_ROOT
from core.data.workspace import Workspace
from core.db import migrate
from core.db.engine import engine_for
from core.db.models import AuditLog, Base, Job
from core.db.session import ensure_schema, forget_schema_checks, transaction
from core.errors import SchemaOutdatedError


def test_base_to_head_and_back(ws: Workspace) -> None:
    engine = engine_for(ws)
    assert migrate.schema_state(engine) == "empty"
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert set(Base.metadata.tables) <= set(sa.inspect(engine).get_table_names())
    migrate.downgrade(engine, "base")
    assert not set(Base.metadata.tables) & set(sa.inspect(engine).get_table_names())
    migrate.upgrade(engine)
    assert migrate.schema_state(engine) == "current"


def test_models_match_migrated_schema(ws: Workspace) -> None:
    engine = engine_for(ws)
    ensure_schema(ws)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models differ from the migrations; write a migration: {diff}"


def test_fresh_database_gets_schema_on_first_write(ws: Workspace) -> None:
    with transaction(ws) as session:
        session.add(Job(workspace=ws.name, workspace_path=str(ws.path), kind="k", target="m:f", submitted_by="t"))
    assert migrate.schema_state(engine_for(ws)) == "current"


def test_refuses_to_write_when_schema_is_behind_until_upgraded(ws: Workspace) -> None:
    engine = engine_for(ws)
    migrate.upgrade(engine, "0001")  # a database last opened by older code
    assert migrate.schema_state(engine) == "behind"
    with pytest.raises(SchemaOutdatedError, match="python -m core db upgrade"):
        with transaction(ws) as session:
            session.add(AuditLog(who="t", action="x", workspace=ws.name))
    with engine.connect() as conn:  # nothing was written
        assert conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar() == 0
    ensure_schema(ws)
    with transaction(ws) as session:
        session.add(AuditLog(who="t", action="x", workspace=ws.name))


def test_refuses_database_from_newer_code(ws: Workspace) -> None:
    engine = engine_for(ws)
    ensure_schema(ws)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'ffff_future'"))
    forget_schema_checks()
    with pytest.raises(SchemaOutdatedError, match="newer code"):
        with transaction(ws):
            pass


def test_cli_upgrade_and_current(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    from core.cli import main

    assert main(["db", "current", "--workspace", str(ws.path)]) == 0  # empty is fine: created on first use
    assert main(["db", "upgrade", "--workspace", str(ws.path)]) == 0
    assert main(["db", "current", "--workspace", str(ws.path), "--json"]) == 0
    assert '"state": "current"' in capsys.readouterr().out


def test_head_read_from_the_files_is_alembics_head() -> None:
    """The start-up check answers 'current' from the files without alembic: it must name alembic's own head."""
    assert migrate.code_head() == migrate.head_revision()


def test_current_database_is_checked_without_importing_alembic(ws: Workspace) -> None:
    """Regression (issue 17, cold start): every app start imported alembic and mako (0.18 s CPU) to learn that
    the database is current."""
    ensure_schema(ws)
    code = ("import sys; from core.data.workspace import Workspace; from core.db.session import schema_refusal; "
            f"assert schema_refusal(Workspace.open({str(ws.path)!r})) is None; print('alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    assert out.stdout.strip() == "False"
