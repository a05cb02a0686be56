"""Alembic, configured in code so migrations run from any working directory, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic (with mako) is imported only to migrate or to explain a schema that is not current: checking that a
# database is at head, which every app start does, reads one row and the migration files (alembic: 0.18 s CPU).
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_REVISION = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)


def alembic_config(url: str | None = None) -> Config:
    """An alembic Config pointing at core/db/migrations (no alembic.ini needed)."""
    from alembic.config import Config  # noqa: PLC0415 — see the note above

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest migration in the code (there is exactly one head)."""
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"migrations have {len(heads)} heads {heads}: merge them (`alembic merge heads`)")
    return heads[0]


@cache
def code_head() -> str | None:
    """The head revision read from the migration files' `revision`/`down_revision` lines, without alembic; None
    when they do not show exactly one head (then ask alembic). A test holds it equal to `head_revision()`."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for name, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            quoted = re.findall(r"['\"]([^'\"]+)['\"]", value)
            if name == "revision":
                revisions.update(quoted[:1])
            else:
                parents.update(quoted)
    heads = revisions - parents
    return next(iter(heads)) if len(heads) == 1 else None


def _stored_revision(engine: Engine) -> str | None:
    """The one revision in alembic_version, or None (no table, no row, several rows: ask alembic)."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    except sa.exc.DBAPIError:
        return None
    return rows[0] if len(rows) == 1 else None


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for a database never migrated."""
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def schema_state(engine: Engine) -> str:
    """'empty' (never migrated), 'current', 'behind' (code is newer) or 'unknown' (database is newer)."""
    head = code_head()
    if head is not None and _stored_revision(engine) == head:
        return "current"  # the common case, answered without importing alembic
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    current = current_revision(engine)
    if current is None:
        return "empty"
    head = head_revision()
    if current == head:
        return "current"
    script = ScriptDirectory.from_config(alembic_config())
    known = {rev.revision for rev in script.walk_revisions()}
    return "behind" if current in known else "unknown"


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to `revision` in one transaction (serialised against other processes)."""
    from alembic import command  # noqa: PLC0415

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Two processes opening a fresh shared database must not both create the tables.
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(741852963)")
        # On SQLite the BEGIN IMMEDIATE of this transaction already serialises concurrent upgrades.
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database down to `revision` ('base' drops every table)."""
    from alembic import command  # noqa: PLC0415

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)
