"""Tiny job functions the job tests run in worker processes, by the kinds of JOB_KINDS."""

from __future__ import annotations

import time
from typing import Any

from core.data.workspace import Workspace
from core.jobs import Progress


def count(ws: Workspace, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Reports `steps` progress points with a falling loss; returns the number of steps."""
    steps = int(params.get("steps", 5))
    for step in range(1, steps + 1):
        time.sleep(float(params.get("sleep", 0.0)))
        progress.update(step / steps, f"step {step} of {steps}", {"loss": 1.0 / step})
    return {"steps": steps, "workspace": ws.name}


def boom(ws: Workspace, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    progress.update(0.5, "about to fail")
    raise ValueError("planted failure 42")


def forever(ws: Workspace, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Reports progress until cancelled."""
    step = 0
    while True:
        step += 1
        progress.update(min(step / 1000, 0.99), f"step {step}", {"loss": 1.0 / step})
        time.sleep(0.1)


def stubborn(ws: Workspace, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Never looks at its progress again: only the watchdog can stop it."""
    progress.update(0.1, "busy")
    time.sleep(600)
    return {}


# Found by worker processes through ATELIER_JOB_KIND_MODULES (tests/conftest.py), see core/services/catalog.py.
JOB_KINDS = {"test_count": count, "test_boom": boom, "test_forever": forever, "test_stubborn": stubborn}
