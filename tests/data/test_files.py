"""Crash-safe writes: a failed write or publish leaves the old content and no temporary file or folder."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from core import files
from core.data.workspace import Workspace, table_file
from core.errors import WorkspaceError


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_atomic_write_replaces_whole_and_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    files.atomic_write_json(target, {"v": 1})
    files.atomic_write_text(target, "second")
    assert target.read_text() == "second"
    with pytest.raises(RuntimeError):
        with files.atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("crash mid-write")
    assert target.read_text() == "second" and _names(tmp_path) == ["a.json"]


def test_publish_folder_never_overwrites_without_replace(tmp_path: Path) -> None:
    target = tmp_path / "ws"
    with files.staged_folder(target) as staging:
        (staging / "t.txt").write_text("one")
    assert (target / "t.txt").read_text() == "one" and _names(tmp_path) == ["ws"]
    staging = files.staging_beside(target)
    (staging / "t.txt").write_text("two")
    with pytest.raises(OSError):
        files.publish_folder(staging, target)
    assert (target / "t.txt").read_text() == "one"
    files.publish_folder(staging, target, replace=True)
    assert (target / "t.txt").read_text() == "two" and _names(tmp_path) == ["ws"]  # the old one is gone


def test_staged_folder_removes_the_staging_on_an_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        with files.staged_folder(tmp_path / "ws") as staging:
            (staging / "t.txt").write_text("x")
            raise RuntimeError("disk full")
    assert _names(tmp_path) == []


def test_swap_files_undo_restores_the_old_files(tmp_path: Path) -> None:
    live = tmp_path / "live"
    live.mkdir()
    (live / "a").write_text("old a")
    staging = files.staging_folder(live)
    (staging / "a").write_text("new a")
    (staging / "b").write_text("new b")
    undo = files.swap_files(live, staging, ["a", "b"])
    assert (live / "a").read_text() == "new a" and (live / "b").read_text() == "new b"
    undo()
    assert (live / "a").read_text() == "old a" and not (live / "b").exists()


def test_workspace_door_to_its_tables(seeded_workspace: Workspace) -> None:
    ws = seeded_workspace
    assert ws.table_path("catalogue") == ws.path / table_file("catalogue") and ws.has("catalogue")
    assert table_file("log") == "log.parquet" and not ws.has("log")
    pd.testing.assert_frame_equal(ws.read_table("catalogue"), ws.catalogue())
    assert list(ws.read_table("catalogue", columns=["item_id"]).columns) == ["item_id"]
    assert ws.table_version("catalogue") > 0 and ws.table_version("log") == 0
    assert [name for name, _ in ws.signature()][-1] == "workspace.json"
    with pytest.raises(WorkspaceError, match="no log"):
        ws.read_table("log")
