"""Train the affinity model as a job (validation curve in both directions, refit on all data) and load its versions."""

from __future__ import annotations

from typing import Any

from core.data.workspace import Workspace
from core.models.affinity import AffinityData, AffinityModel, AffinityParams
from core.models.affinity.params import DIRECTIONS
from core.services import models as versions
from core.services import jobs

KIND = AffinityModel.kind


def train_affinity(ws: Workspace, params: dict[str, Any], progress: Any = None) -> dict[str, Any]:
    """Job target: train on the workspace's interactions, save + register a version, activate it if asked.

    params: `AffinityParams.to_dict()` plus `by` (who trains it) and `activate` (True: make it active, False:
    never, "if_none", the default: only when no version is active yet). Returns {"version", "metrics" (validation
    at the chosen iteration), "iterations", "curve", "active"}.
    """
    values = dict(params or {})
    by = str(values.pop("by", "local"))
    activate = values.pop("activate", "if_none")
    model = AffinityModel.train(AffinityData(ws.interactions()), AffinityParams.from_dict(values), progress)
    arrays, meta = model.to_artifact()
    version = versions.store(ws).save(KIND, arrays, {**meta, "by": by})
    metrics, n_iter = model.training.metrics, model.params.iterations
    versions.register_version(ws, KIND, version, {**metrics, "iterations": n_iter}, by)
    if activate is True or (activate == "if_none" and versions.active_version(ws, KIND) is None):
        versions.activate(ws, KIND, version, by)
    if progress is not None:
        progress.update(1.0, f"saved affinity version {version}")
    return {"version": version, "metrics": metrics, "iterations": n_iter, "curve": model.training.curve,
            "active": versions.active_version(ws, KIND) == version}


def submit_training(ws: Workspace, params: AffinityParams, by: str = "local", activate: bool = False,
                    wait: bool = False, echo: bool = False) -> int:
    """Start training as a background job and return its id (follow it with ui.jobs.job_panel).

    activate=False activates the new version only when none is active yet. wait=True runs it in this process
    instead (the CLI, tests; `echo` prints its progress) and returns when it is done.
    """
    job_params = {**params.to_dict(), "by": by, "activate": True if activate else "if_none"}
    if wait:
        return jobs.run_inline(ws, KIND, job_params, submitted_by=by, echo=echo)
    return jobs.submit(ws, KIND, job_params, submitted_by=by)


def load_model(ws: Workspace, version: str | None = None) -> AffinityModel | None:
    """The active (or a given) affinity version, or None when none is active."""
    if version is not None:
        artifact = versions.store(ws).load(KIND, version)
    else:
        artifact = versions.load_active(ws, KIND)
        if artifact is None:
            return None
    return AffinityModel.from_artifact(artifact.arrays, artifact.meta)


def version_curves(ws: Workspace, versions_: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Validation curves stored with each version (for side-by-side learning curves)."""
    store = versions.store(ws)
    out = {}
    for v in versions_:
        info = next((i for i in store.versions(KIND) if i.version == v), None)
        out[v] = list(info.meta.get("curve", [])) if info is not None else []
    return out


# AffinityParams and DIRECTIONS are part of this service: the training page builds its form from them.
__all__ = ["KIND", "AffinityParams", "DIRECTIONS", "train_affinity", "submit_training", "load_model", "version_curves"]
