"""Engine factory: SQLite in the workspace (WAL, BEGIN IMMEDIATE, foreign keys) or PostgreSQL via DATABASE_URL."""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from core.config import get_settings
from core.data.workspace import Workspace

SQLITE_BUSY_TIMEOUT_MS = 30_000

_ENGINES: dict[str, Engine] = {}
_LOCK = threading.Lock()


def database_url(ws: Workspace) -> str:
    """DATABASE_URL when set (one shared database), else the workspace's own SQLite file."""
    return get_settings().database_url or sqlite_url(ws.database_path)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def engine_for(ws: Workspace) -> Engine:
    """The process-wide engine of the workspace's database (cached per URL)."""
    return get_engine(database_url(ws))


def get_engine(url: str) -> Engine:
    """An engine per URL, built once per process; SQLite ones get the safe-concurrency recipe."""
    with _LOCK:
        engine = _ENGINES.get(url)
        if engine is None:
            engine = _make_engine(url)
            _ENGINES[url] = engine
        return engine


def dispose_engines() -> None:
    """Close every cached engine (tests; after a database file was removed)."""
    with _LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()


def _make_engine(url: str) -> Engine:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True, future=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None hands transaction control to us: the pysqlite driver would otherwise open a
    # deferred BEGIN itself, and a read-then-write transaction then fails with "database is locked"
    # when another writer committed meanwhile (busy_timeout does not help; see RELIABILITY.md).
    engine = sa.create_engine(
        url,
        connect_args={"isolation_level": None, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        future=True,
    )
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection, connection_record) -> None:  # noqa: ANN001 — DBAPI objects
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL is durable across application crashes
    cursor.close()


def _sqlite_on_begin(conn: sa.Connection) -> None:
    # Take the write lock up front: the busy_timeout then queues writers instead of failing them.
    # Readers (core.db.session.read_session) stay deferred so they never wait for, or block, a writer.
    read_only = conn.get_execution_options().get("atelier_read_only", False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
