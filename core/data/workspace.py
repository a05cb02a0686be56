"""Workspace: one folder of validated tables (Parquet), its artifacts and, by default, its SQLite database."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from core.config import Settings, get_settings
from core.files import atomic_write_json
from core.errors import WorkspaceError

# File layout of a workspace folder; readers write these only after validation, atomically.
INTERACTIONS = "interactions.parquet"  # user_id, item_id, brand_id, event, weight, timestamp
# item_id, name, description, brand, category, category_group, division, price, image_url, attr_*
CATALOGUE = "catalogue.parquet"
OUTFITS = "outfits.parquet"  # outfit_id, item_id
CUSTOMERS = "customers.parquet"  # user_id, unsubscribed, bounced, test_account
IMAGE_FEATURES = "image_features.npz"  # item_ids (str), vectors (float32, (n, d))
MANIFEST = "workspace.json"  # name, description, created_at, source, planted (demo truth, optional)
PLANTED = "planted.npz"  # demo only: truth arrays (latent factors, unmasked attributes, errors, outfit rule)
DATABASE = "atelier.db"
ARTIFACTS = "artifacts"
TABLES = {"interactions": INTERACTIONS, "catalogue": CATALOGUE, "outfits": OUTFITS, "customers": CUSTOMERS}

# A workspace name is one folder under ATELIER_HOME/workspaces: no separator, no leading dot, nothing a shell or a
# URL could turn into another folder.
WORKSPACE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def table_file(name: str) -> str:
    """File name of a table: the four generic ones, or `<name>.parquet` for a public data set's extra table."""
    return TABLES.get(name, f"{name}.parquet")


def check_workspace_name(name: object) -> str:
    """`name` when it is a workspace name (WORKSPACE_NAME); otherwise WorkspaceError saying what a name may hold."""
    text = name if isinstance(name, str) else ""
    if not WORKSPACE_NAME.fullmatch(text):
        shown = repr(name)[:80]
        raise WorkspaceError(f"workspace name {shown} is not allowed: use 1 to 64 letters, digits, '-', '_' or '.' "
                             "(starting with a letter or digit; no '/' or '..')")
    return text


def is_workspace(folder: Path) -> bool:
    return (Path(folder) / MANIFEST).is_file()


def write_table_files(folder: Path, tables: Mapping[str, pd.DataFrame]) -> list[str]:
    """Write validated tables into `folder` (a staging folder, published whole afterwards); returns the file names."""
    names = []
    for name, frame in tables.items():
        frame.to_parquet(Path(folder) / table_file(name), index=False)
        names.append(table_file(name))
    return names


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    atomic_write_json(Path(folder) / MANIFEST, manifest, default=str)


def write_image_features(folder: Path, item_ids: np.ndarray, vectors: np.ndarray) -> None:
    """Store precomputed image vectors: item_ids str (n,), vectors float32 (n, d)."""
    np.savez(Path(folder) / IMAGE_FEATURES, item_ids=item_ids, vectors=vectors)


@dataclass(frozen=True)
class Workspace:
    """A named folder of data. Tables are read lazily and cached per file version (path + mtime)."""

    name: str
    path: Path

    @classmethod
    def named(cls, name: str, settings: Settings | None = None) -> "Workspace":
        """Open by name only, under ATELIER_HOME/workspaces (what the web app does with ?ws= and its forms).

        WorkspaceError for a name that is not one (a path, '..', a NUL) or for a workspace that does not exist.
        """
        settings = settings or get_settings()
        folder = settings.workspaces_dir / check_workspace_name(name)
        if not is_workspace(folder):
            raise WorkspaceError(f"no workspace named {name!r}: pick one in the sidebar, or create it on the Data page")
        return cls(name=folder.name, path=folder.resolve())

    @classmethod
    def open(cls, name_or_path: str | Path | None = None, settings: Settings | None = None) -> "Workspace":
        """Open by name (under ATELIER_HOME/workspaces) or by directory (the CLI's --workspace); WorkspaceError if
        absent or if the path cannot be a folder (a NUL byte)."""
        settings = settings or get_settings()
        if name_or_path is not None and "\0" in str(name_or_path):
            raise WorkspaceError(f"{str(name_or_path)!r} holds a NUL character: give a workspace name or folder")
        candidate = Path(name_or_path) if name_or_path is not None else settings.workspace_dir()
        if name_or_path is not None and not candidate.is_dir():
            candidate = settings.workspace_dir(str(name_or_path))
        if not is_workspace(candidate):
            raise WorkspaceError(
                f"no workspace at {candidate}: create the demo with `python -m core demo` "
                "or import data with `python -m core import`"
            )
        return cls(name=candidate.name, path=candidate.resolve())

    @property
    def manifest(self) -> dict:
        return json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))

    @property
    def database_path(self) -> Path:
        return self.path / DATABASE

    @property
    def artifacts_path(self) -> Path:
        return self.path / ARTIFACTS

    @property
    def planted_path(self) -> Path:
        return self.path / PLANTED

    def table_path(self, table: str) -> Path:
        return self.path / table_file(table)

    def has(self, table: str) -> bool:
        return self.table_path(table).is_file()

    def table_version(self, table: str) -> int:
        """mtime in ns of the table's file, 0 when absent: a cache key that changes whenever the table is replaced."""
        path = self.table_path(table)
        return path.stat().st_mtime_ns if path.is_file() else 0

    def signature(self) -> tuple[tuple[str, int], ...]:
        """(file name, mtime ns) of the four tables and the manifest: changes whenever one is replaced."""
        files = [self.path / name for name in (*TABLES.values(), MANIFEST)]
        return tuple((f.name, f.stat().st_mtime_ns if f.is_file() else 0) for f in files)

    def read_table(self, table: str, columns: list[str] | None = None) -> pd.DataFrame:
        """A stored table (any name, see table_file), all columns from the shared cache or only `columns` read fresh."""
        if columns is None:
            return self._table(table)
        path = self._existing(table)
        return pd.read_parquet(path, columns=columns)

    def interactions(self) -> pd.DataFrame:
        return self._table("interactions")

    def catalogue(self) -> pd.DataFrame:
        return self._table("catalogue")

    def outfits(self) -> pd.DataFrame:
        return self._table("outfits")

    def customers(self) -> pd.DataFrame:
        return self._table("customers")

    def image_features(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(item_ids object (n,), vectors float32 (n, d)) or None when the workspace has none."""
        path = self.path / IMAGE_FEATURES
        if not path.is_file():
            return None
        with np.load(path, allow_pickle=False) as data:
            return data["item_ids"].astype(object), data["vectors"].astype(np.float32)

    def _existing(self, table: str) -> Path:
        path = self.table_path(table)
        if not path.is_file():
            raise WorkspaceError(f"workspace '{self.name}' has no {table}: import a {table} file on the Data page")
        return path

    def _table(self, table: str) -> pd.DataFrame:
        path = self._existing(table)
        # The cached frame is shared: callers must copy before mutating.
        return _read_parquet(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=16)
def _read_parquet(path: str, mtime_ns: int) -> pd.DataFrame:
    return pd.read_parquet(path)


def list_workspaces(settings: Settings | None = None) -> list[Workspace]:
    settings = settings or get_settings()
    root = settings.workspaces_dir
    if not root.is_dir():
        return []
    return [Workspace(p.name, p.resolve()) for p in sorted(root.iterdir()) if is_workspace(p)]
