"""Crash-safe writes: write beside the target, fsync, rename, fsync the folder; readers see the old or the new, never
half."""

# A rename is atomic only within one filesystem, so every temporary file and staging folder is made in the
# target's own folder. The folder is fsynced after the rename, or a power cut can forget the rename itself.

from __future__ import annotations

import json
import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (names created, renamed or removed in it) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def fsync_tree(root: Path) -> None:
    """Flush every file and folder under `root` (and `root` itself), deepest first."""
    for folder, _, files in os.walk(root, topdown=False):
        for name in files:
            fsync_file(Path(folder) / name)
        fsync_dir(Path(folder))


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` for writers that need a file name (Parquet, np.save).

    When the block ends normally the file is fsynced and renamed over `path`; on an error it is removed.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield tmp
        fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one step (the folder must exist)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    atomic_write_bytes(path, text.encode(encoding))


def atomic_write_json(path: Path, payload: Any, indent: int | None = 2,
                      default: Callable[[Any], Any] | None = None) -> None:
    atomic_write_text(path, json.dumps(payload, indent=indent, default=default))


def staging_folder(parent: Path, prefix: str = ".staging-") -> Path:
    """A new, empty, hidden folder `parent/<prefix><random>`: make it beside what it will replace."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    path = parent / f"{prefix}{uuid.uuid4().hex[:12]}"
    path.mkdir()
    return path


def publish_folder(staging: Path, target: Path, replace: bool = False) -> None:
    """Make the complete folder `staging` appear as `target` in one rename (fsync, rename, fsync the parent).

    Without `replace` an existing non-empty `target` is never touched: the rename raises OSError. With
    `replace` the old folder is moved aside first, put back if the rename fails, and removed after.
    `staging` must be in `target`'s parent folder (see staging_beside); the caller removes it on an error.
    """
    staging, target = Path(staging), Path(target)
    fsync_tree(staging)
    old = None
    if replace and target.exists():
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        os.rename(target, old)
    try:
        os.rename(staging, target)
    except BaseException:
        if old is not None:
            os.rename(old, target)
        raise
    fsync_dir(target.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def staging_beside(target: Path) -> Path:
    """A staging folder for `target` in its parent folder, named after it (`.<name>.staging-<random>`)."""
    target = Path(target)
    return staging_folder(target.parent, f".{target.name}.staging-")


@contextmanager
def staged_folder(target: Path, replace: bool = False) -> Iterator[Path]:
    """Write into the yielded staging folder; it is published as `target` when the block ends, removed on an error."""
    staging = staging_beside(target)
    try:
        yield staging
        publish_folder(staging, target, replace=replace)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def swap_files(folder: Path, staging: Path, names: list[str]) -> Callable[[], None]:
    """Move the staged files `names` over those in `folder` (the old ones kept in staging/previous); returns an undo.

    Each file is replaced atomically, the set one by one: if a move fails midway, the files moved so far are
    put back before the error propagates. The undo works until `staging` is removed.
    """
    folder, staging = Path(folder), Path(staging)
    for name in names:
        fsync_file(staging / name)
    backups = staging / "previous"
    backups.mkdir()
    moved_old: list[str] = []
    placed: list[str] = []

    def undo() -> None:
        for name in placed:
            (folder / name).unlink(missing_ok=True)
        for name in moved_old:
            os.replace(backups / name, folder / name)
        fsync_dir(folder)

    try:
        for name in names:
            if (folder / name).exists():
                os.replace(folder / name, backups / name)
                moved_old.append(name)
            os.replace(staging / name, folder / name)
            placed.append(name)
    except BaseException:
        undo()
        raise
    fsync_dir(folder)
    return undo
