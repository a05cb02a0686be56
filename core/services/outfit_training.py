"""Outfit-pair training: the job that splits outfits, trains with the stylists' labels, evaluates, saves and
activates."""

from __future__ import annotations

from typing import Any

import pandas as pd

from core.artifacts import ArtifactStore
from core.data.workspace import Workspace
from core.models.complementary import params as complementary_params
from core.models.complementary.evaluate import split_outfits
from core.models.complementary.params import ComplementaryParams
from core.services import models as versions
from core.services import promotion
from core.services import outfit_eval
from core.services.outfits import labelled_pairs
from core.services import jobs

KIND = complementary_params.KIND  # ComplementaryModel.kind: the job kind and the artifact kind
# How a run goes, beside the model's hyper-parameters: {name: default}.
RUN_OPTIONS: dict[str, Any] = {"test_fraction": 0.2, "use_labels": True, "activate": "auto", "eval_seed": 7}


def submit_training(ws: Workspace, params: ComplementaryParams, by: str, inline: bool = False, echo: bool = False,
                    **run: Any) -> int:
    """Queue the training job (inline: run it in this process, re-raising its error); returns the job id.

    run: RUN_OPTIONS — test_fraction (outfits held out), use_labels (stylist labels), activate ("auto": the
    promotion rule decides; True / False force it), eval_seed.
    """
    job_params = {"params": params.to_dict(), **_run_options(run), "by": by}
    if inline:
        return jobs.run_inline(ws, KIND, job_params, submitted_by=by, echo=echo)
    return jobs.submit(ws, KIND, job_params, submitted_by=by)


def train_complementary(ws: Workspace, job_params: dict[str, Any], progress: Any) -> dict[str, Any]:
    """Job target: split outfits, train on the training side plus stylist labels, evaluate, save and activate.

    job_params: {"params": ComplementaryParams.to_dict(), run options, "by"}. Returns {"version", "metrics",
    "prior", "random", "labels_used"}; `progress` is core.jobs.Progress.
    """
    job_params = dict(job_params)
    by = job_params.pop("by", "local")
    model_params = ComplementaryParams.from_dict(job_params.pop("params", None))
    run = _run_options(job_params)
    train_outfits, test_outfits = split_outfits(ws.outfits(), run["test_fraction"], model_params.seed)
    labels = labelled_pairs(ws) if run["use_labels"] else None
    progress.update(0.02, f"training with {0 if labels is None else len(labels)} labelled pairs")
    report = lambda f, msg, m: progress.update(0.05 + 0.85 * f, msg, m)  # noqa: E731
    result = outfit_eval.evaluate(ws.catalogue(), train_outfits, test_outfits, model_params, labels=labels,
                                  seed=run["eval_seed"], model=None, progress=report,
                                  image=ws.image_features() if model_params.use_image else None)
    model = result.pop("trained_model")
    progress.update(0.95, "saving", result["model"])
    arrays, meta = model.to_artifact()
    labels_used = 0 if labels is None else int(len(labels))
    counts = result["counts"]
    held_out = promotion.HeldOut(
        {m: float(result["model"][m]) for m in ("pair_auc", "fitb_accuracy")},
        {"pair_auc": int(counts.get("pairs", 0)), "fitb_accuracy": int(counts.get("fitb_questions", 0))},
        promotion.split_key(sorted(test_outfits["outfit_id"].astype(str).unique()), run["eval_seed"]))
    meta.update({"held_out": held_out.to_dict(), "metrics": result["model"], "prior": result["prior"],
                 "random": result["random"],
                 "counts": result["counts"], "labels_used": labels_used, "test_fraction": run["test_fraction"]})
    version = ArtifactStore(ws.artifacts_path).save(KIND, arrays, meta)
    metrics = {**result["model"], "prior_pair_auc": result["prior"]["pair_auc"],
               "prior_fitb_accuracy": result["prior"]["fitb_accuracy"], "labels_used": labels_used}
    versions.register_version(ws, KIND, version, metrics, by)
    decision = promotion.promote(ws, KIND, version, held_out, by, run["activate"])
    progress.update(1.0, f"version {version}: {'live' if decision.activated else 'held back'}", result["model"])
    return {"version": version, "metrics": result["model"], "prior": result["prior"], "random": result["random"],
            "labels_used": labels_used, "promotion": decision.to_dict()}


def evaluate_workspace(ws: Workspace, params: ComplementaryParams, test_fraction: float = 0.2,
                       use_labels: bool = True) -> dict[str, Any]:
    """Split the workspace's outfits by outfit, train on one side (+ labels) and score model/prior/random."""
    train_outfits, test_outfits = split_outfits(ws.outfits(), test_fraction, params.seed)
    labels = labelled_pairs(ws) if use_labels else None
    result = outfit_eval.evaluate(ws.catalogue(), train_outfits, test_outfits, params, labels=labels,
                                  image=ws.image_features() if params.use_image else None)
    result.pop("trained_model", None)
    return result


def evaluate_files(products: pd.DataFrame, train_outfits: pd.DataFrame, test_outfits: pd.DataFrame,
                   params: ComplementaryParams) -> dict[str, Any]:
    """Train on `train_outfits` of `products` and score model/prior/random on `test_outfits`."""
    result = outfit_eval.evaluate(products, train_outfits, test_outfits, params)
    result.pop("trained_model", None)
    return result


def _run_options(values: dict[str, Any]) -> dict[str, Any]:
    return versions.run_options(values, RUN_OPTIONS, "outfit training", "ComplementaryParams")
