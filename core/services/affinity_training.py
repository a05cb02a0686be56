"""Train the affinity model as a job: validation curve in both directions, refit on all data, save a version."""

from __future__ import annotations

import math
from typing import Any, Protocol

from core.data.workspace import Workspace
from core.errors import ValidationError, Problem
from core.features.interactions import user_brand_matrix
from core.features.splits import split_interactions
from core.models.affinity import ARTIFACT_KIND, AffinityParams, AffinityTrainer
from core.services.affinity_eval import affinity_scorer, evaluate_both

JOB_KIND = "train_affinity"
# Options of the job besides AffinityParams (data preparation and what to do with the result).
DATA_DEFAULTS: dict[str, Any] = {
    "event_weights": None,  # None = core.columns.DEFAULT_EVENT_WEIGHTS
    "half_life_days": None,
    "test_fraction": 0.2,
    "select_iterations": True,  # refit with the iteration count that was best on validation (both sides)
    "activate": "if_none",  # True | False | "if_none" (activate when no version is active yet)
    "by": "local",
}


class ProgressLike(Protocol):
    def update(self, fraction: float, message: str = "", metrics: dict[str, Any] | None = None) -> None: ...


class _NoProgress:
    def update(self, fraction: float, message: str = "", metrics: dict[str, Any] | None = None) -> None:
        return None


def split_params(params: dict[str, Any]) -> tuple[AffinityParams, dict[str, Any]]:
    """(model hyper-parameters, data/job options) from one flat job-params dict; raises ValidationError."""
    options = {**DATA_DEFAULTS, **{k: v for k, v in params.items() if k in DATA_DEFAULTS}}
    tf = options["test_fraction"]
    if tf is not None and not 0.0 <= float(tf) < 0.9:
        raise ValidationError([Problem("affinity params", None, "test_fraction", "must be in [0, 0.9); 0 skips validation")])
    return AffinityParams.from_dict(params), options


def _balanced_best(curve: list[dict[str, Any]]) -> dict[str, Any]:
    """The iteration whose user and brand P@10, each relative to its own best, sum highest."""
    best_u = max(r["user_precision@10"] for r in curve) or 1e-9
    best_b = max(r["brand_precision@10"] for r in curve) or 1e-9
    return max(curve, key=lambda r: r["user_precision@10"] / best_u + r["brand_precision@10"] / best_b)


def train_affinity(ws: Workspace, params: dict[str, Any], progress: ProgressLike | None = None) -> dict[str, Any]:
    """Job target: validate per iteration (both directions), refit on all interactions, save + register a version.

    Returns {"version", "metrics" (validation at the chosen iteration), "iterations", "curve", "active"}.
    """
    from core.services import models as versions

    progress = progress or _NoProgress()
    model_params, options = split_params(params)
    interactions = ws.interactions()
    weights = {"event_weights": options["event_weights"], "half_life_days": options["half_life_days"]}
    curve: list[dict[str, Any]] = []
    split_info: dict[str, Any] = {}
    n_iter = model_params.iterations
    validate = bool(options["test_fraction"]) and n_iter > 0
    share = 0.7 if validate else 0.0
    if validate:
        progress.update(0.0, "splitting interactions for validation")
        split = split_interactions(interactions, test_fraction=float(options["test_fraction"]), seed=model_params.seed, **weights)
        split_info = split.summary()
        trainer = AffinityTrainer(split.train, split.user_ids, split.column_ids, model_params)
        for it in range(1, n_iter + 1):
            trainer.iterate()
            snapshot = _polished(trainer) if model_params.polish_epochs else trainer.model()
            # AUC needs a sort per query: per iteration only where that stays cheap (≤ 50M user–brand cells).
            metrics = evaluate_both(affinity_scorer(snapshot), split, with_auc=split.train.shape[0] * split.train.shape[1] <= 50_000_000)
            curve.append({"iteration": it, **metrics})
            progress.update(share * it / n_iter, f"validation iteration {it}/{n_iter}: user P@10 "
                            f"{metrics['user_precision@10']:.4f}, brand P@10 {metrics['brand_precision@10']:.4f}",
                            metrics={"iteration": it, "user_precision@10": metrics["user_precision@10"],
                                     "brand_precision@10": metrics["brand_precision@10"],
                                     "user_recall@10": metrics["user_recall@10"], "brand_recall@10": metrics["brand_recall@10"]})
        chosen = _balanced_best(curve) if options["select_iterations"] else curve[-1]
        n_iter = int(chosen["iteration"])
    final_params = AffinityParams.from_dict({**model_params.to_dict(), "iterations": n_iter})
    full = user_brand_matrix(interactions, **weights)
    progress.update(share, f"training on all {full.n_interactions:,} user–brand pairs for {n_iter} iterations")
    trainer = AffinityTrainer(full.matrix, full.user_ids, full.column_ids, final_params)
    for it in range(1, n_iter + 1):
        trainer.iterate()
        progress.update(share + (1 - share) * 0.95 * it / max(n_iter, 1), f"final model: iteration {it}/{n_iter}")
    trainer.polish()
    model = trainer.model()
    metrics = {k: v for k, v in (curve[n_iter - 1] if curve else {}).items()
               if k != "iteration" and not (isinstance(v, float) and math.isnan(v))}
    meta = {"params": {**final_params.to_dict(), **{k: v for k, v in options.items() if k not in ("activate", "by")}},
            "metrics": metrics, "curve": curve, "split": split_info,
            "n_users": model.n_users, "n_brands": model.n_brands, "n_interactions": full.n_interactions, "by": options["by"]}
    store = versions.store(ws)
    version = store.save(ARTIFACT_KIND, model.to_arrays(), meta)
    versions.register_version(ws, ARTIFACT_KIND, version, {**metrics, "iterations": n_iter}, options["by"])
    activate = options["activate"]
    if activate is True or (activate == "if_none" and versions.active_version(ws, ARTIFACT_KIND) is None):
        versions.activate(ws, ARTIFACT_KIND, version, options["by"])
    progress.update(1.0, f"saved affinity version {version}")
    return {"version": version, "metrics": metrics, "iterations": n_iter, "curve": curve,
            "active": versions.active_version(ws, ARTIFACT_KIND) == version}


def _polished(trainer: AffinityTrainer):
    """The model a run stopped here would return (polish epochs on a copy; training continues unpolished)."""
    import copy

    clone = copy.copy(trainer)
    clone.users_model = copy.deepcopy(trainer.users_model)
    clone.brands_model = copy.deepcopy(trainer.brands_model)
    clone.polish()
    return clone.model()


def submit_training(ws: Workspace, params: dict[str, Any], by: str = "local") -> int:
    """Start training as a background job; returns the job id (follow it with ui.jobs.job_panel)."""
    from core.services import jobs

    split_params(params)  # reject bad parameters now, not in the worker
    return jobs.submit(ws, JOB_KIND, {**params, "by": by}, submitted_by=by)


def load_model(ws: Workspace, version: str | None = None):
    """The active (or a given) affinity version as an AffinityModel, or None when none is active."""
    from core.models.affinity import AffinityModel
    from core.services import models as versions

    if version is not None:
        art = versions.store(ws).load(ARTIFACT_KIND, version)
    else:
        art = versions.load_active(ws, ARTIFACT_KIND)
        if art is None:
            return None
    return AffinityModel.from_arrays(art.arrays, art.meta.get("params", {}))


def version_curves(ws: Workspace, versions_: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Validation curves stored with each version (for side-by-side learning curves)."""
    from core.services import models as versions

    store = versions.store(ws)
    out = {}
    for v in versions_:
        info = next((i for i in store.versions(ARTIFACT_KIND) if i.version == v), None)
        out[v] = list(info.meta.get("curve", [])) if info is not None else []
    return out


__all__ = ["train_affinity", "submit_training", "load_model", "split_params", "JOB_KIND", "DATA_DEFAULTS",
           "version_curves"]
