"""Settings from the environment: where workspaces live, which database, seeds and defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WORKSPACE = "demo"
DEFAULT_SEED = 42


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip().replace("_", "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a whole number: set it to e.g. {default}") from None
    if value <= 0:
        raise ValueError(f"{name}={value} must be positive (default {default})")
    return value


@dataclass(frozen=True)
class ImportLimits:
    """What one uploaded file may hold; a file over a limit is refused before it is parsed (uploads are hostile).

    Each has an env override, e.g. ATELIER_IMPORT_MAX_ROWS=40000000 for a full H&M transactions file; a bad
    value raises ValueError naming the variable (the readers turn it into a ConfigError).
    """

    max_bytes: int = 1 << 30  # ATELIER_IMPORT_MAX_BYTES: the file (after gzip decompression) in bytes
    max_rows: int = 10_000_000  # ATELIER_IMPORT_MAX_ROWS
    max_columns: int = 1_000  # ATELIER_IMPORT_MAX_COLUMNS: generous for attr_* columns
    max_uncompressed_bytes: int = 4 << 30  # ATELIER_IMPORT_MAX_UNCOMPRESSED_BYTES: Parquet's own metadata
    max_problems: int = 50  # ATELIER_IMPORT_MAX_PROBLEMS: problems listed per file, then "and N more"

    @classmethod
    def from_env(cls) -> "ImportLimits":
        d = cls()
        return cls(
            max_bytes=_env_int("ATELIER_IMPORT_MAX_BYTES", d.max_bytes),
            max_rows=_env_int("ATELIER_IMPORT_MAX_ROWS", d.max_rows),
            max_columns=_env_int("ATELIER_IMPORT_MAX_COLUMNS", d.max_columns),
            max_uncompressed_bytes=_env_int("ATELIER_IMPORT_MAX_UNCOMPRESSED_BYTES", d.max_uncompressed_bytes),
            max_problems=_env_int("ATELIER_IMPORT_MAX_PROBLEMS", d.max_problems),
        )


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
    def import_limits(self) -> ImportLimits:
        """Read when a file is imported, so a bad override only fails imports, not every command."""
        return ImportLimits.from_env()

    @property
    def workspaces_dir(self) -> Path:
        return self.home / "workspaces"

    def workspace_dir(self, name: str | None = None) -> Path:
        return self.workspaces_dir / (name or self.workspace)


def get_settings() -> Settings:
    """Settings read fresh from the environment (cheap; keeps tests that set env vars honest)."""
    return Settings.from_env()
