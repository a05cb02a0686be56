"""A workspace's tables as immutable generations behind one symlink, so a new set goes live in one atomic rename."""

# Layout: tables/<generation>/<table>.parquet are never changed once sealed; `live` is a symlink to the generation
# being served; each table's usual path (catalogue.parquet, ...) is a symlink to live/<file>, so every reader keeps
# its path while `os.replace` of one symlink switches all tables at once. A generation is sealed (renamed from a
# staging folder) before the database records it, and `live` moves only after that record commits: `recover`
# finishes or undoes whatever a crash interrupted.

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from core.files import fsync_dir, fsync_tree

TABLES_DIR = "tables"
LIVE = "live"
STAGING_PREFIX = ".staging-"
LOCK_FILE = ".publish.lock"
KILL_ENV = "ATELIER_IMPORT_KILL_AT"  # tests: SIGKILL this process when the publish reaches the named step
STEPS = ("staging_created", "tables_written", "unchanged_linked", "generation_sealed", "recorded",
         "live_switched", "manifest_written", "old_removed")  # an import into an existing workspace
NEW_WORKSPACE_STEPS = ("workspace_published", "workspace_recorded")  # an import that creates the workspace


@contextmanager
def publishing(root: Path) -> Iterator[None]:
    """Hold the workspace's publish lock (one import at a time per workspace, across processes on this machine):
    recovery and cleanup must never take another import's staged or sealed generation for a crashed one."""
    folder = Path(root) / TABLES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK_FILE, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes, also when the process dies
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def step(name: str) -> None:
    """A publish step is done; a crash test may end the process right here (as a power cut would)."""
    if os.environ.get(KILL_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


class TableStore:
    """The generations of one workspace folder (`root`) and the `live` symlink that picks one."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.tables = self.root / TABLES_DIR
        self.live = self.root / LIVE

    def live_generation(self) -> str | None:
        """The generation served now (None for a workspace still in the flat layout)."""
        if not self.live.is_symlink():
            return None
        return Path(os.readlink(self.live)).name

    def generations(self) -> list[str]:
        """Sealed generations, oldest first (names sort by time)."""
        if not self.tables.is_dir():
            return []
        return sorted(p.name for p in self.tables.iterdir() if p.is_dir() and not p.name.startswith("."))

    def ensure_layout(self, files: list[str]) -> None:
        """Move a flat workspace (real files at the usual paths) behind `live`, changing no content a reader sees.

        The first generation is hard links of the flat files, so replacing each flat file by a symlink to the
        same bytes is consistent at every instant; re-running after a crash completes it.
        """
        if self.live.is_symlink() and (self.live / ".sealed").exists():
            self._link_names(files)
            return
        if self.live.exists() or self.live.is_symlink():  # a copied workspace (symlinks became folders): redo
            shutil.rmtree(self.live) if self.live.is_dir() and not self.live.is_symlink() else self.live.unlink()
        present = [f for f in files if (self.root / f).is_file()]
        staging = self.stage()
        for name in present:
            _link_or_copy(self.root / name, staging / name)
        generation = self.seal(staging)
        self.switch(generation)
        self._link_names(present)

    def stage(self) -> Path:
        """A new, empty staging folder for the next generation (inside tables/, so sealing is one rename)."""
        self.tables.mkdir(parents=True, exist_ok=True)
        path = self.tables / f"{STAGING_PREFIX}{uuid.uuid4().hex[:12]}"
        path.mkdir()
        return path

    def carry_over(self, staging: Path, files: list[str]) -> None:
        """Hard-link the live files of tables this publish does not replace into the staging folder."""
        for name in files:
            source = self.root / name
            if source.is_file() and not (staging / name).exists():
                _link_or_copy(source.resolve(), staging / name)

    def seal(self, staging: Path) -> str:
        """fsync the staged files and rename the folder into a generation; returns its name."""
        (staging / ".sealed").write_bytes(b"")
        fsync_tree(staging)
        name = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"
        os.rename(staging, self.tables / name)
        fsync_dir(self.tables)
        return name

    def switch(self, generation: str, files: list[str] = ()) -> None:
        """Serve `generation`: usual paths for new table names first (they dangle until the switch), then one
        atomic replace of the `live` symlink."""
        self._link_names(list(files))
        tmp = self.root / f".{LIVE}.{uuid.uuid4().hex[:8]}"
        os.symlink(Path(TABLES_DIR) / generation, tmp)
        os.replace(tmp, self.live)
        fsync_dir(self.root)

    def remove_unused(self, keep: set[str]) -> None:
        """Delete staging folders and every generation not in `keep` (the live one is always kept)."""
        live = self.live_generation()
        if self.tables.is_dir():
            for path in self.tables.iterdir():
                if path.name.startswith(STAGING_PREFIX) or (path.is_dir() and not path.name.startswith(".")
                                                             and path.name not in keep | {live}):
                    shutil.rmtree(path, ignore_errors=True)
        for path in self.root.glob(f".{LIVE}.*"):
            path.unlink(missing_ok=True)

    def _link_names(self, files: list[str]) -> None:
        for name in files:
            path = self.root / name
            if path.is_symlink():
                continue
            tmp = self.root / f".{name}.{uuid.uuid4().hex[:8]}"
            os.symlink(Path(LIVE) / name, tmp)
            os.replace(tmp, path)  # a flat file becomes a link to the same bytes (see ensure_layout)


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not allowed: a copy is slower but the same bytes
        shutil.copy2(source, target)
