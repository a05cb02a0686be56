"""What the app shell asks before a page runs: the demo on first launch, a crashed import finished, refused writes."""

from __future__ import annotations

import threading

from core.data.workspace import Workspace
from core.db.session import schema_refusal
from core.services.demo import create_demo
from core.services.imports import recover

__all__ = ["create_demo", "schema_refusal", "open_workspace"]

_RECOVERED: set[str] = set()  # workspace folders this process has already checked
_LOCK = threading.Lock()


def open_workspace(ws: Workspace) -> str | None:
    """Once per process and workspace, before anything reads it: finish or undo an import a crash interrupted
    (core.services.imports.recover). Returns what was done, for the log."""
    with _LOCK:
        if str(ws.path) in _RECOVERED:
            return None
        _RECOVERED.add(str(ws.path))
    if schema_refusal(ws):  # an outdated database cannot say which tables it committed: leave it to `db upgrade`
        return None
    return recover(ws)
