"""Train the affinity model as a job (validation curve in both directions, refit on all data) and load its versions."""

from __future__ import annotations

from typing import Any

from core.data.workspace import Workspace
from core.models.affinity import AffinityData, AffinityModel, AffinityParams
from core.models.affinity.params import DIRECTIONS
from core.services import jobs, promotion
from core.services import models as versions

KIND = AffinityModel.kind


def train_affinity(ws: Workspace, params: dict[str, Any], progress: Any = None) -> dict[str, Any]:
    """Job target: train on the workspace's interactions, save + register a version, activate it if asked.

    params: `AffinityParams.to_dict()` plus `by` (who trains it) and `activate` (True: make it live, False: never,
    "auto", the default: the promotion rule decides, see core.services.promotion). Returns {"version", "metrics"
    (validation at the chosen iteration), "iterations", "curve", "active", "promotion", "brand_side" (which model
    ranks audiences, why: `BrandSide.explanation`, and every candidate's brand P@10 on validation)}.
    """
    values = dict(params or {})
    by = str(values.pop("by", "local"))
    activate = values.pop("activate", "auto")
    model_params = AffinityParams.from_dict(values)
    model = AffinityModel.train(AffinityData(ws.interactions()), model_params, progress)
    metrics, n_iter = model.training.metrics, model.params.iterations
    held_out = held_out_figures(model, model_params)
    arrays, meta = model.to_artifact()
    meta = {**meta, "by": by, "held_out": held_out.to_dict() if held_out else None}
    version = versions.store(ws).save(KIND, arrays, meta)
    side = model.brand_side
    served = served_brand_precision(model)
    versions.register_version(ws, KIND, version, {**metrics, "iterations": n_iter, **(
        {"audience_brand_precision@10": served} if served is not None else {})}, by)
    decision = promotion.promote(ws, KIND, version, held_out, by, True if activate is True else
                                 False if activate is False else "auto",
                                 details={"brand_side": {**side.to_meta(), "serves": side.label}})
    if progress is not None:
        progress.update(1.0, f"saved affinity version {version}: {'live' if decision.activated else 'held back'}")
    return {"version": version, "metrics": metrics, "iterations": n_iter, "curve": model.training.curve,
            "active": versions.active_version(ws, KIND) == version, "promotion": decision.to_dict(),
            "brand_side": {**side.to_meta(), "serves": side.label, "explanation": side.explanation()}}


def held_out_figures(model: AffinityModel, params: AffinityParams) -> promotion.HeldOut | None:
    """P@10 from both sides on the validation split at the chosen iteration (None when trained without one), and
    the brand P@10 of what ranks audiences (`served_brand_precision`) where the brand side was contested.

    The sizes behind the noise are the queries actually ranked: 10 per sampled user or brand, not the whole split.
    """
    metrics = model.training.metrics
    if not metrics or "user_precision@10" not in metrics:
        return None
    n_users, n_brands = int(metrics.get("n_users", 0)), int(metrics.get("n_brands", 0))
    sizes = {"user_precision@10": 10 * n_users, "brand_precision@10": 10 * n_brands}
    # the split's own summary (method, cutoff, pair counts) changes with the data; seed and share fix the draw
    parts: list = [model.training.split, params.seed, params.test_fraction]
    held_out = (int(metrics.get("held_out_users", n_users)), int(metrics.get("held_out_brands", n_brands)))
    if held_out != (n_users, n_brands):
        # a seeded sample of the split: the same queries only for the same sample sizes (an unsampled run keeps
        # the key versions measured on the whole split had, so they stay comparable)
        parts.append({"sampled_users": n_users, "sampled_brands": n_brands})
    figures = {m: float(metrics[m]) for m in sizes}
    served = served_brand_precision(model)
    if served is not None:
        # its own name: the best of the contest's candidates on these queries is a little optimistic, so it is
        # compared only with another version's served figure; the model's own brand P@10 is still compared too
        figures["audience_brand_precision@10"] = served
        sizes["audience_brand_precision@10"] = sizes["brand_precision@10"]
    return promotion.HeldOut(figures, sizes, promotion.split_key(*parts))


def served_brand_precision(model: AffinityModel) -> float | None:
    """Brand P@10 on the validation split of what ranks a brand's customers (None without the champion/challenger).

    It is the best of the candidates on that split, so a little optimistic; the held-out test of
    `python -m core evaluate affinity` measures it without that bias.
    """
    return model.brand_side.served_precision


def submit_training(ws: Workspace, params: AffinityParams, by: str = "local", activate: bool = False,
                    wait: bool = False, echo: bool = False) -> int:
    """Start training as a background job and return its id (follow it with ui.jobs.job_panel).

    activate=True makes the new version live whatever its figures; False leaves the promotion rule to decide
    (core.services.promotion: live when nothing is, or when not worse than the live one). wait=True runs it here
    instead (the CLI, tests; `echo` prints its progress) and returns when it is done.
    """
    job_params = {**params.to_dict(), "by": by, "activate": True if activate else "auto"}
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
