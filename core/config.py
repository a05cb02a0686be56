"""Settings from the environment: where workspaces live, which database, seeds and defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WORKSPACE = "demo"
DEFAULT_SEED = 42


@dataclass(frozen=True)
class Settings:
    """Resolved settings; build with `Settings.from_env()` so tests can override by environment."""

    home: Path  # ATELIER_HOME: holds workspaces/ (default: <repo>/data)
    workspace: str  # ATELIER_WORKSPACE: the active workspace name (default: demo)
    database_url: str | None  # DATABASE_URL: a shared database; None = SQLite inside each workspace
    dask_scheduler: str | None  # ATELIER_DASK_SCHEDULER: run long work on a Dask cluster
    seed: int = DEFAULT_SEED

    @classmethod
    def from_env(cls) -> "Settings":
        home = Path(os.environ.get("ATELIER_HOME", REPO_ROOT / "data")).expanduser().resolve()
        return cls(
            home=home,
            workspace=os.environ.get("ATELIER_WORKSPACE", DEFAULT_WORKSPACE),
            database_url=os.environ.get("DATABASE_URL") or None,
            dask_scheduler=os.environ.get("ATELIER_DASK_SCHEDULER") or None,
            seed=int(os.environ.get("ATELIER_SEED", DEFAULT_SEED)),
        )

    @property
    def workspaces_dir(self) -> Path:
        return self.home / "workspaces"

    def workspace_dir(self, name: str | None = None) -> Path:
        return self.workspaces_dir / (name or self.workspace)


def get_settings() -> Settings:
    """Settings read fresh from the environment (cheap; keeps tests that set env vars honest)."""
    return Settings.from_env()
