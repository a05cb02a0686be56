"""Workspace: one folder of validated tables (Parquet), its artifacts and, by default, its SQLite database."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from core.config import Settings, get_settings
from core.errors import WorkspaceError

# File layout of a workspace folder; readers write these only after validation, atomically.
INTERACTIONS = "interactions.parquet"  # user_id, item_id, brand_id, event, weight, timestamp
CATALOGUE = "catalogue.parquet"  # item_id, name, description, brand, category, category_group, division, price, image_url, attr_*
OUTFITS = "outfits.parquet"  # outfit_id, item_id
CUSTOMERS = "customers.parquet"  # user_id, unsubscribed, bounced, test_account
IMAGE_FEATURES = "image_features.npz"  # item_ids (str), vectors (float32, (n, d))
MANIFEST = "workspace.json"  # name, description, created_at, source, planted (demo truth, optional)
DATABASE = "atelier.db"
ARTIFACTS = "artifacts"
TABLES = {"interactions": INTERACTIONS, "catalogue": CATALOGUE, "outfits": OUTFITS, "customers": CUSTOMERS}


@dataclass(frozen=True)
class Workspace:
    """A named folder of data. Tables are read lazily and cached per file version (path + mtime)."""

    name: str
    path: Path

    @classmethod
    def open(cls, name_or_path: str | Path | None = None, settings: Settings | None = None) -> "Workspace":
        """Open by name (under ATELIER_HOME/workspaces) or by directory; raises WorkspaceError if absent."""
        settings = settings or get_settings()
        candidate = Path(name_or_path) if name_or_path is not None else settings.workspace_dir()
        if name_or_path is not None and not candidate.is_dir():
            candidate = settings.workspace_dir(str(name_or_path))
        if not (candidate / MANIFEST).is_file():
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

    def has(self, table: str) -> bool:
        return (self.path / TABLES[table]).is_file()

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

    def _table(self, table: str) -> pd.DataFrame:
        path = self.path / TABLES[table]
        if not path.is_file():
            raise WorkspaceError(f"workspace '{self.name}' has no {table}: import a {table} file on the Data page")
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
    return [Workspace(p.name, p.resolve()) for p in sorted(root.iterdir()) if (p / MANIFEST).is_file()]
