"""Sessions: every write inside one transaction; the schema is checked before anything is written."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Iterator

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core.data.workspace import Workspace
from core.db import migrate
from core.db.engine import engine_for
from core.errors import SchemaOutdatedError, StaleEditError

_CURRENT: set[str] = set()  # URLs verified at head in this process
_LOCK = threading.Lock()
_OPEN = threading.local()  # URLs this thread holds a write transaction on


def ensure_schema(ws: Workspace) -> str:
    """Migrate the workspace's database to head (CLI and app call this when they open a workspace)."""
    engine = engine_for(ws)
    migrate.upgrade(engine)
    _CURRENT.add(str(engine.url))
    return migrate.head_revision()


def check_schema(engine: Engine) -> None:
    """Create a brand-new database's tables; refuse one whose schema is behind (or ahead of) the code."""
    key = str(engine.url)
    if key in _CURRENT:
        return
    with _LOCK:
        state = migrate.schema_state(engine)
        if state == "empty":
            migrate.upgrade(engine)  # nothing to lose: a fresh database gets the current schema
        elif state == "behind":
            raise SchemaOutdatedError(
                f"the database {engine.url.render_as_string()} is at revision {migrate.current_revision(engine)}, "
                f"the code needs {migrate.head_revision()}: run `python -m core db upgrade` (nothing was written)"
            )
        elif state == "unknown":
            raise SchemaOutdatedError(
                f"the database {engine.url.render_as_string()} was migrated by newer code "
                f"(revision {migrate.current_revision(engine)}): update Atelier before writing to it"
            )
        _CURRENT.add(key)


def schema_refusal(ws: Workspace) -> str | None:
    """Why writes to the workspace's database are refused (its schema is behind or ahead of the code), else None.

    Never migrates an existing database (people decide when to upgrade one); a brand-new one gets its tables.
    """
    try:
        check_schema(engine_for(ws))
    except SchemaOutdatedError as error:
        return str(error).replace("`python -m core db upgrade`", f"`python -m core db upgrade --workspace {ws.name}`")
    return None


def forget_schema_checks() -> None:
    """Re-check schemas on next use (tests that downgrade a database)."""
    _CURRENT.clear()


@contextmanager
def transaction(ws: Workspace) -> Iterator[Session]:
    """A session inside one write transaction (SQLite: BEGIN IMMEDIATE); commits on exit, rolls back on error.

    A concurrent edit of a versioned row (Campaign, CatalogueValue) raises StaleEditError.
    Keep `st.*` calls out of the block: a Streamlit rerun may interrupt the script at any of them.
    """
    engine = engine_for(ws)
    check_schema(engine)
    held = _OPEN.__dict__.setdefault("urls", set())
    key = str(engine.url)
    if key in held:
        # On SQLite the inner BEGIN IMMEDIATE would wait 30 s for the outer one's lock, then fail.
        raise RuntimeError("transaction(ws) opened inside another transaction on the same database: "
                           "pass the outer session down instead")
    held.add(key)
    session = Session(engine, expire_on_commit=False)
    try:
        with session.begin():
            yield session
    except StaleDataError as error:
        raise StaleEditError(
            "someone else changed this record since it was shown to you: reload it and decide again"
        ) from error
    finally:
        held.discard(key)
        session.close()


@contextmanager
def read_session(ws: Workspace) -> Iterator[Session]:
    """A session for reading only: a deferred transaction that never takes SQLite's write lock."""
    engine = engine_for(ws)
    check_schema(engine)
    session = Session(engine.execution_options(atelier_read_only=True), expire_on_commit=False)
    sa.event.listen(session, "before_flush", _refuse_writes)
    try:
        with session.begin():  # ends with a commit of nothing, which keeps loaded rows readable
            yield session
    finally:
        session.close()


def _refuse_writes(session: Session, flush_context: Any, instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("read_session is for reading: write inside core.db.session.transaction(ws)")


def insert_ignore(session: Session, model: type, values: dict[str, Any] | list[dict[str, Any]]) -> int:
    """INSERT ... ON CONFLICT DO NOTHING (SQLite and PostgreSQL); returns how many rows were inserted.

    Makes a human write idempotent: a second submit with the same request_id inserts nothing.
    """
    if isinstance(values, dict):
        values = [values]
    if not values:
        return 0
    dialect = session.get_bind().dialect.name
    module = {"sqlite": sqlite, "postgresql": postgresql}.get(dialect)
    if module is None:
        raise NotImplementedError(f"insert_ignore supports sqlite and postgresql, not {dialect}")
    table = model.__table__
    rows = [_with_defaults(table, row) for row in values]
    # RETURNING counts what went in on both dialects (psycopg reports rowcount -1 for multi-row VALUES).
    statement = module.insert(table).values(rows).on_conflict_do_nothing().returning(*table.primary_key.columns)
    return len(session.execute(statement).all())


def _with_defaults(table: sa.Table, row: dict[str, Any]) -> dict[str, Any]:
    # Core inserts of a multi-row VALUES need every row to name the same columns: fill Python-side defaults.
    filled = dict(row)
    for column in table.columns:
        if column.key in filled or column.primary_key or column.default is None:
            continue
        default = column.default
        if default.is_scalar:
            filled[column.key] = default.arg
        elif default.is_callable:
            filled[column.key] = default.arg(None)  # SQLAlchemy wraps callables to take a context
    return filled


def check_version(obj: Any, expected_version: int) -> None:
    """Refuse an edit made on a stale view: the row's version_id moved on since the person saw it."""
    if obj.version_id != expected_version:
        raise StaleEditError(
            f"{type(obj).__name__} {getattr(obj, 'id', '')} was changed by "
            f"{getattr(obj, 'updated_by', None) or 'someone else'} "
            "since you opened it: reload it and decide again"
        )
