"""Whether a job's worker process is still alive, and how old a heartbeat is."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from core.db.models import utcnow


def alive(pid: int, since: datetime) -> bool:
    """Whether `pid` is a live (not zombie) process that started no later than the job (pid reuse)."""
    stat = Path(f"/proc/{pid}/stat")
    if not stat.parent.exists():
        if not Path("/proc/self/stat").exists():  # no procfs: ask the kernel
            try:
                os.kill(pid, 0)
                return True
            except ProcessLookupError:
                return False
            except PermissionError:
                return True
        return False
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    if fields[0] in ("Z", "X"):
        return False
    started = _boot_time() + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    return started <= since.astimezone(timezone.utc).timestamp() + 30.0


def age_s(moment: datetime) -> float:
    """Seconds since `moment` (a naive one is UTC, as SQLite returns it)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return (utcnow() - aware).total_seconds()


def _boot_time() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    return 0.0
