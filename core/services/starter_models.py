"""One job that trains every model of a fresh workspace in turn, so a first launch opens on working pages."""

from __future__ import annotations

from typing import Any, Callable

from core.data.workspace import Workspace
from core.errors import JobCancelled
from core.services import jobs
from core.services.catalog import KINDS

KIND = "starter_models"
# (label, job function, share of the job's progress): cheapest first, so the first pages light up soonest.
# The catalog's lazy functions: queuing this job (`make run`) imports none of the training code.
STEPS: tuple[tuple[str, Callable[..., dict[str, Any]], float], ...] = (
    ("brand affinity", KINDS["affinity"], 0.15),
    ("outfit pairs", KINDS["complementary"], 0.2),
    ("attribute predictor", KINDS["attributes"], 0.3),
    ("long-tail embeddings", KINDS["long_tail"], 0.35),
)


class _Slice:
    """The progress of one step, mapped into its share of the whole job (cancel still reaches every step)."""

    def __init__(self, progress: Any, start: float, share: float, label: str) -> None:
        self.progress, self.start, self.share, self.label = progress, start, share, label

    def update(self, fraction: float, message: str = "", metrics: dict[str, Any] | None = None) -> None:
        fraction = min(max(float(fraction), 0.0), 1.0)
        self.progress.update(self.start + self.share * fraction, f"{self.label}: {message}" if message else self.label,
                             metrics)


def train_starter_models(ws: Workspace, params: dict[str, Any], progress: Any) -> dict[str, Any]:
    """Job function: train brand affinity, outfit pairs, attributes and long-tail embeddings with their defaults.

    A step that fails is reported and the next one still runs: one model's problem must not leave the others
    untrained. Returns {label: {"version"} or {"error"}, "summary": one line}.
    """
    by = str(params.get("by", "local"))
    results: dict[str, Any] = {}
    start = 0.0
    for label, step, share in STEPS:
        try:
            result = step(ws, {"by": by}, _Slice(progress, start, share, label))
            results[label] = {"version": (result or {}).get("version")}
        except JobCancelled:
            raise
        except Exception as error:  # noqa: BLE001 — reported per model, the job goes on with the next one
            results[label] = {"error": f"{type(error).__name__}: {error}"}
        start += share
    failed = [label for label, r in results.items() if "error" in r]
    if len(failed) == len(STEPS):
        raise RuntimeError("no model could be trained: " + "; ".join(f"{k}: {r['error']}" for k, r in results.items()))
    summary = f"{len(STEPS) - len(failed)} of {len(STEPS)} models trained" + (f"; failed: {', '.join(failed)}"
                                                                              if failed else "")
    progress.update(1.0, summary)
    return {**results, "summary": summary}


def submit(ws: Workspace, by: str = "local") -> int:
    """Queue the job (a detached worker process); returns its id."""
    # here, not at the top: the facade reads the catalog, which lists this module
    return jobs.submit(ws, KIND, {"by": by}, submitted_by=by)
