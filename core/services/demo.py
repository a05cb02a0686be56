"""The demo workspace as the CLI and the app make it: its files generated, then its database migrated."""

from __future__ import annotations

from pathlib import Path

from core.data.demo import generate_demo
from core.data.workspace import Workspace
from core.db.session import ensure_schema


def create_demo(out: Path | str, size: str = "small", seed: int = 42, replace: bool = False,
                name: str | None = None) -> Workspace:
    """Generate the demo workspace at `out` (see core.data.demo.generate_demo) and bring its database to head.

    Raises WorkspaceError if `out` already holds a workspace and `replace` is False, ConfigError for an unknown size.
    """
    ws = generate_demo(out, size=size, seed=seed, replace=replace, name=name)
    ensure_schema(ws)
    return ws
