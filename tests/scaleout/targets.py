"""Job and part functions the scale-out tests run on Dask workers (importable there by module path)."""

from __future__ import annotations

import os
import time
from typing import Any


def count_slowly(ws: Any, params: dict[str, Any], progress: Any) -> dict[str, Any]:
    """A job of `steps` steps of `delay` seconds, reporting progress each step; its result is known in advance."""
    steps, delay = int(params.get("steps", 30)), float(params.get("delay", 0.1))
    total = 0
    for i in range(steps):
        time.sleep(delay)
        total += i
        progress.update((i + 1) / steps, f"step {i + 1}/{steps}", metrics={"step_value": i})
    return {"total": total, "steps": steps}


JOB_KINDS = {"test_count_slowly": count_slowly}


def slow_square(i: int, delay: float) -> tuple[int, int]:
    """One part of a fan-out: (i², the pid that computed it)."""
    time.sleep(delay)
    return i * i, os.getpid()


def set_env(key: str, value: str | None) -> None:
    """Set (or with None, remove) an environment variable in the process that runs this (a worker, via client.run)."""
    if value is None:
        os.environ.pop(key, None)
    else:
        os.environ[key] = value
