"""Attribute training: the job that evaluates, refits on every label, saves with predictions, registers and
activates."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.artifacts import ArtifactStore
from core.data.workspace import Workspace
from core.models.attributes.evaluate import split_catalogue
from core.models.attributes.features import image_matrix
from core.models.attributes.model import AttributeData, AttributeModel
from core.models.attributes.params import AttributeParams
from core.models.attributes import errors
from core.services import attribute_eval
from core.services import models as versions
from core.services import promotion
from core.services.attribute_review import decided_values, effective_catalogue
from core.services import jobs

KIND = AttributeModel.kind  # the job kind and the artifact kind
TOP = 3  # predictions saved per item and attribute
# How a run goes, beside the model's hyper-parameters: {name: default}.
RUN_OPTIONS: dict[str, Any] = {"attributes": None, "baseline": True, "refit": True, "use_reviews": True,
                               "evaluate": True, "test_fraction": 0.2, "eval_seed": 7, "activate": "auto"}


def submit_training(ws: Workspace, params: AttributeParams, by: str, inline: bool = False, echo: bool = False,
                    **run: Any) -> int:
    """Queue the training job (inline: run it in this process, re-raising its error); returns the job id.

    run: RUN_OPTIONS — attributes (names, None = every attr_* column), baseline (TF-IDF + LR in Table 2), refit
    (train again on every label after the held-out score), use_reviews, evaluate, test_fraction, eval_seed, activate
    ("auto": the promotion rule decides; True / False force it).
    """
    job_params = {"params": params.to_dict(), **_run_options(run), "by": by}
    if inline:
        return jobs.run_inline(ws, KIND, job_params, submitted_by=by, echo=echo)
    return jobs.submit(ws, KIND, job_params, submitted_by=by)


def train_attributes(ws: Workspace, job_params: dict[str, Any], progress: Any) -> dict[str, Any]:
    """Job target: evaluate on a seeded held-out split (Table 2 + baselines), refit on every label (review
    decisions override the catalogue), save with predictions for every item, register and activate.

    job_params: {"params": AttributeParams.to_dict(), run options, "by"}. Returns {"version", "average", "table",
    "labels_from_reviews"}; `progress` is core.jobs.Progress.
    """
    job_params = dict(job_params)
    by = job_params.pop("by", "local")
    model_params = AttributeParams.from_dict(job_params.pop("params", None))
    run = _run_options(job_params)
    catalogue = effective_catalogue(ws, run["use_reviews"])
    decided = decided_values(ws) if run["use_reviews"] else None
    reviewed = 0 if decided is None else int(len(decided))
    image = image_matrix(catalogue, ws.image_features())
    if run["evaluate"]:
        train_part, test_part = split_catalogue(catalogue, run["test_fraction"], run["eval_seed"])
        progress.update(0.01, "evaluating on a held-out split", {"labels_from_reviews": reviewed})
        split_image = None
        if image is not None:
            split_image = (image_matrix(train_part, ws.image_features()), image_matrix(test_part, ws.image_features()))
        result = attribute_eval.evaluate(train_part, test_part, run["attributes"], model_params,
                                         baseline=run["baseline"], image=split_image,
                                         progress=lambda f, m, x: progress.update(0.5 * f, m, x))
        model = result["model"]
        held_out = promotion.HeldOut(
            {"weighted_f1": float(result["average"]["weighted_f1"])}, {"weighted_f1": int(len(test_part))},
            promotion.split_key(sorted(test_part["item_id"].astype(str)), run["test_fraction"], run["eval_seed"])) \
            if "weighted_f1" in result["average"] else None
    else:  # a quick retrain without a held-out score (the version then shows no Table 2)
        result = {"table": [], "confusion": {}, "average": {}, "timing": {}}
        model, held_out = None, None
    if model is None or run["refit"]:
        attributes = model.attributes if model else run["attributes"]
        # The hybrid's weights were chosen on an inner split of the evaluation's training items (never its test
        # items): the model on every label reuses them (and warm-starts from its linear half) rather than holding
        # out another inner split.
        data = AttributeData(catalogue, None if attributes is None else tuple(attributes), image, previous=model)
        model = AttributeModel.train(data, model_params,
                                     progress=lambda f, m: progress.update(0.5 + 0.4 * f, "training on every label", m))
    progress.update(0.92, "predicting every item")
    arrays, meta = model.to_artifact()
    arrays.update(prediction_arrays(model, catalogue, image, decided))
    progress.update(0.95, "looking for catalogue errors (5-fold cross-fitting)")
    suspects = errors.find_errors(catalogue, list(model.attributes), cutoff=1.0)
    arrays.update(suspect_arrays(suspects))
    known = attribute_eval.planted_errors(ws)
    if known is not None:  # a demo: the page shows how much of what was planted the finder finds
        meta["error_finder"] = attribute_eval.error_finder_report(catalogue, known, suspects=suspects)
    meta.update({"table": result["table"], "confusion": result["confusion"], "average": result["average"],
                 "timing": result["timing"], "labels_from_reviews": reviewed, "refit": run["refit"],
                 "test_fraction": run["test_fraction"], "held_out": held_out.to_dict() if held_out else None})
    version = ArtifactStore(ws.artifacts_path).save(KIND, arrays, meta)
    metrics = {**result["average"], **{f"wF1 {row['attribute']}": row["weighted_f1"] for row in result["table"]},
               "labels_from_reviews": reviewed}
    versions.register_version(ws, KIND, version, metrics, by)
    decision = promotion.promote(ws, KIND, version, held_out, by, run["activate"])
    progress.update(1.0, f"version {version}: {'live' if decision.activated else 'held back'}", result["average"])
    return {"version": version, "average": result["average"], "table": result["table"], "labels_from_reviews": reviewed,
            "promotion": decision.to_dict()}


def prediction_arrays(model: AttributeModel, catalogue: pd.DataFrame, image: np.ndarray | None,
                      decided: pd.DataFrame | None = None) -> dict[str, np.ndarray]:
    """Top-3 classes and probabilities per item and attribute, saved with the version so pages read them instantly.

    decided: standing review values (item_id, attribute, value); each one the model knows as a class is served as the
    item's prediction at probability 1, whatever the network says: one corrected label weighs little against the
    text it contradicts, and a merchandiser who corrected an item must not see the old value come back.
    pred.item_ids str (n,); pred.<j>.top int32 (n, 3) class indices; pred.<j>.p float32 (n, 3);
    pred.<j>.reviewed uint8 (n,) 1 where a review decided the top class.
    """
    probs = model.probabilities(catalogue, image)
    item_ids = catalogue["item_id"].astype(str).to_numpy(dtype=str)
    arrays = {"pred.item_ids": item_ids}
    for j, name in enumerate(model.attributes):
        p, rank = probs[name], probs[name]
        reviewed = np.zeros(len(item_ids), dtype=np.uint8)
        if decided is not None and not decided.empty:
            p, rank, reviewed = _with_decisions(p, item_ids, decided[decided["attribute"] == name],
                                                list(model.space.classes[name]))
        top = np.argsort(-rank, axis=1, kind="stable")[:, :TOP].astype(np.int32)
        arrays[f"pred.{j}.top"] = top
        arrays[f"pred.{j}.p"] = np.take_along_axis(p, top, axis=1).astype(np.float32)
        arrays[f"pred.{j}.reviewed"] = reviewed
    return arrays


def suspect_arrays(suspects: pd.DataFrame) -> dict[str, np.ndarray]:
    """The confident-learning candidates saved with the version (core.models.attributes.errors, every one the model
    disputes; the review page cuts them at its sensitivity): suspect.<column> arrays, one row per item and attribute.
    """
    return {"suspect.item_id": suspects["item_id"].astype(str).to_numpy(dtype=str),
            "suspect.attribute": suspects["attribute"].astype(str).to_numpy(dtype=str),
            "suspect.catalogue_value": suspects["catalogue_value"].astype(str).to_numpy(dtype=str),
            "suspect.suggested": suspects["suggested"].astype(str).to_numpy(dtype=str),
            "suspect.relative_confidence": suspects["relative_confidence"].to_numpy(dtype=np.float32),
            "suspect.suggested_probability": suspects["suggested_probability"].to_numpy(dtype=np.float32)}


def _with_decisions(p: np.ndarray, item_ids: np.ndarray, decided: pd.DataFrame,
                    classes: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each decided item whose value is a class (a value the model has no class for is left to the model):
    probability 1 for that class, ranked first; the model's other guesses keep their probabilities as alternatives.

    Returns (p shown, ranking key, uint8 (n,) marking the decided rows); p and key are float (n, k).
    """
    index = {c: k for k, c in enumerate(classes)}
    row_of = {item: r for r, item in enumerate(item_ids)}
    shown, rank = p.copy(), p.copy()
    reviewed = np.zeros(len(item_ids), dtype=np.uint8)
    for item, value in zip(decided["item_id"].astype(str), decided["value"].astype(str)):
        if item in row_of and value in index:
            r, k = row_of[item], index[value]
            shown[r, k], rank[r, k], reviewed[r] = 1.0, np.inf, 1
    return shown, rank, reviewed


def _run_options(values: dict[str, Any]) -> dict[str, Any]:
    return versions.run_options(values, RUN_OPTIONS, "attribute training", "AttributeParams")
