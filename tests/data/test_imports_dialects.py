"""Imports record their runs on SQLite and PostgreSQL; a rejected one adds no row; concurrent imports never mix."""

from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from core.data.workspace import Workspace
from core.errors import ValidationError
from core.services.imports import ImportFile, import_files, table_checksums
from tests.data.conftest import MALFORMED
from tests.db.conftest import dialect  # noqa: F401 — the SQLite / PostgreSQL fixture


def _counts(ws: Workspace) -> tuple[int, int]:
    from core.db.models import AuditLog, ImportRun
    from core.db.session import read_session

    with read_session(ws) as session:
        runs = session.scalar(sa.select(sa.func.count()).select_from(ImportRun).where(ImportRun.workspace == ws.name))
        audit = session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.workspace == ws.name))
    return int(runs), int(audit)


def test_runs_recorded_and_rejections_add_nothing(dialect: str, atelier_home: Path) -> None:
    result = import_files("shop", [ImportFile("catalogue", b"item_id,brand\n00123,B\n", "c.csv")], by="ana")
    ws = Workspace.open("shop")
    assert _counts(ws) == (1, 1) and result.run_ids
    before = table_checksums(ws.path)
    for name, kind in [("duplicate_item.csv", "catalogue"), ("truncated.parquet", "interactions"),
                       ("latin1.csv", "catalogue")]:
        with pytest.raises(ValidationError):
            import_files("shop", [ImportFile(kind, MALFORMED / name)])
    assert _counts(ws) == (1, 1)
    assert table_checksums(ws.path) == before  # tables, manifest and (on SQLite) the database file
    import_files("shop", [ImportFile("interactions", b"user_id,item_id,event\nu,00123,order\n", "i.csv")])
    assert _counts(ws) == (2, 2)
    assert ws.interactions()["brand_id"].tolist() == ["B"]


def test_concurrent_imports_leave_one_whole_version(atelier_home: Path) -> None:
    import_files("shop", [ImportFile("catalogue", b"item_id\nseed\n", "c.csv")])
    ws = Workspace.open("shop")
    versions = {f"v{i}": ("item_id,name\n" + "".join(f"v{i}-{j},n\n" for j in range(200))).encode() for i in range(4)}
    errors: list[BaseException] = []

    def worker(tag: str, data: bytes) -> None:
        try:
            import_files("shop", [ImportFile("catalogue", data, f"{tag}.csv")])
        except BaseException as error:  # noqa: BLE001 — reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=item) for item in versions.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    stored = pd.read_parquet(ws.table_path("catalogue"))["item_id"]
    tags = {value.split("-")[0] for value in stored}
    assert len(stored) == 200 and len(tags) == 1  # one import's table, whole
    assert _counts(ws)[0] == 5
    assert not [p for p in ws.path.iterdir() if p.name.startswith(".staging")]
