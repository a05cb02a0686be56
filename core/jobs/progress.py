"""What a running job reports through: progress, live metric points, and the cancel it must obey."""

from __future__ import annotations

import sys
import time
from typing import Any

import sqlalchemy as sa

from core.data.workspace import Workspace
from core.db.models import Job, utcnow
from core.db.session import read_session, transaction
from core.errors import JobCancelled
from core.jsonable import to_plain

MIN_WRITE_INTERVAL_S = 0.25  # progress calls in a tight loop are coalesced to this rate
MAX_METRIC_POINTS = 5000


class Progress:
    """Handed to a job function: `update` stores progress and live metrics, and raises JobCancelled on cancel."""

    def __init__(self, ws: Workspace, job_id: int) -> None:
        self.ws, self.job_id = ws, job_id
        self._last_write = 0.0
        self._step = 0

    def update(self, fraction: float, message: str = "", metrics: dict[str, Any] | None = None) -> None:
        """Record `fraction` (0..1) and an optional metrics point; raise JobCancelled if a cancel was asked."""
        now = time.monotonic()
        if metrics is None and now - self._last_write < MIN_WRITE_INTERVAL_S and fraction < 1.0:
            return
        self._last_write = now
        with transaction(self.ws) as session:
            job = session.get(Job, self.job_id)
            if job.cancel_requested:
                raise JobCancelled(f"job {self.job_id} was cancelled")
            job.progress = float(min(max(fraction, 0.0), 1.0))
            if message:
                job.message = str(message)[:2000]
            job.heartbeat_at = utcnow()
            if metrics:
                self._step += 1
                point = {"step": self._step, "fraction": job.progress, "at": utcnow().isoformat(), **to_plain(metrics)}
                job.metrics = [*job.metrics, point][-MAX_METRIC_POINTS:]

    @property
    def cancel_requested(self) -> bool:
        """For job functions that want to stop at a clean point without an exception."""
        with read_session(self.ws) as session:
            return bool(session.scalar(sa.select(Job.cancel_requested).where(Job.id == self.job_id)))


class EchoProgress(Progress):
    """Progress that also prints each update (inline runs from the CLI)."""

    def update(self, fraction: float, message: str = "", metrics: dict[str, Any] | None = None) -> None:
        shown = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in (metrics or {}).items())
        print(f"[{fraction:6.1%}] {message} {shown}".rstrip(), file=sys.stderr, flush=True)
        super().update(fraction, message, metrics)
