"""Attribute evaluation: seeded held-out split, Table 2 per attribute against majority class and TF-IDF + logistic regression."""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np
import pandas as pd

from core.columns import ATTRIBUTE_PREFIX
from core.evaluation import classification as cm
from core.features.text import product_text
from core.models.attributes import AttributeModel, AttributeParams, attribute_names, tfidf_logistic, train


def split_catalogue(catalogue: pd.DataFrame, test_fraction: float = 0.2, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) rows of the catalogue, a seeded random split of items (labels of test items are held out)."""
    rng = np.random.default_rng(seed)
    test = rng.random(len(catalogue)) < test_fraction
    return catalogue[~test].reset_index(drop=True), catalogue[test].reset_index(drop=True)


def category_as_attribute(catalogue: pd.DataFrame, name: str = "article_type") -> pd.DataFrame:
    """The finest product type becomes attribute `name`; the coarser category_group stands in as the type input.

    Lets Table 2 include the product type (Fashion Product Images' articleType, H&M's product type) without
    giving the model its own answer as input.
    """
    frame = catalogue.copy()
    frame[ATTRIBUTE_PREFIX + name] = frame["category"]
    frame["category"] = frame["category_group"] if "category_group" in frame else None
    return frame


def evaluate(train_catalogue: pd.DataFrame, test_catalogue: pd.DataFrame, attributes: list[str] | None = None,
             params: AttributeParams | None = None, baseline: bool = True, image: tuple | None = None,
             progress: Callable[[float, str, dict], None] | None = None, model: AttributeModel | None = None,
             ) -> dict[str, Any]:
    """Train on `train_catalogue`, score the labelled cells of `test_catalogue` attribute by attribute.

    Returns {"table": [per attribute: attribute, samples, test_samples, classes, weighted_f1, accuracy,
    majority_accuracy, baseline_f1, baseline_accuracy], "confusion": {attribute: {"labels", "matrix"}},
    "average": {...}, "timing": {...}, "model": AttributeModel}. Test labels are mapped to the model's classes
    (rare values → "other") for every scorer alike.
    """
    params = params or AttributeParams()
    names = attribute_names(train_catalogue, attributes)
    started = time.perf_counter()
    report = (lambda f, m: progress(0.8 * f, "training", m)) if progress else None
    train_image, test_image = image if image is not None else (None, None)
    model = model or train(train_catalogue, names, params, image=train_image, progress=report)
    train_s = time.perf_counter() - started
    started = time.perf_counter()
    probs = model.probabilities(test_catalogue, test_image)
    predict_s = time.perf_counter() - started
    train_text, test_text = product_text(train_catalogue), product_text(test_catalogue)
    table, confusion, baseline_s = [], {}, 0.0
    for j, name in enumerate(model.attributes):
        column = ATTRIBUTE_PREFIX + name
        if column not in test_catalogue.columns:
            continue
        labelled = test_catalogue[column].notna().to_numpy()
        truth = model.space.canonical(name, test_catalogue.loc[labelled, column].astype(str)).to_numpy(dtype=str)
        classes = model.space.classes[name]
        predicted = classes[probs[name][labelled].argmax(axis=1)]
        scores = cm.report(truth, predicted)
        row = {"attribute": name, "samples": int(train_catalogue[column].notna().sum() + labelled.sum()),
               "test_samples": int(labelled.sum()), "classes": int(len(classes)),
               "weighted_f1": scores.weighted_f1, "accuracy": scores.accuracy,
               "majority_accuracy": scores.majority_accuracy}
        if baseline and labelled.any():
            started = time.perf_counter()
            train_rows = train_catalogue[column].notna().to_numpy()
            train_truth = model.space.canonical(name, train_catalogue.loc[train_rows, column].astype(str)).to_numpy(dtype=str)
            base, _ = tfidf_logistic([t for t, keep in zip(train_text, train_rows) if keep], train_truth,
                                     [t for t, keep in zip(test_text, labelled) if keep], seed=params.seed)
            baseline_s += time.perf_counter() - started
            row["baseline_f1"] = cm.weighted_f1(truth, base)
            row["baseline_accuracy"] = cm.accuracy(truth, base)
        matrix, labels = cm.confusion_matrix(truth, predicted, labels=[str(c) for c in classes])
        confusion[name] = {"labels": labels, "matrix": matrix.tolist()}
        table.append(row)
        if progress:
            progress(0.8 + 0.2 * (j + 1) / len(model.attributes), f"scored {name}", {"weighted_f1": scores.weighted_f1})
    frame = pd.DataFrame(table)
    average = {k: float(frame[k].mean()) for k in ("weighted_f1", "accuracy", "majority_accuracy", "baseline_f1",
                                                    "baseline_accuracy") if k in frame and len(frame)}
    if "baseline_f1" in frame and len(frame):
        average["beats_baseline"] = int((frame["weighted_f1"] > frame["baseline_f1"]).sum())
        average["beats_majority"] = int((frame["accuracy"] > frame["majority_accuracy"]).sum())
        average["attributes"] = int(len(frame))
    return {"table": table, "confusion": confusion, "average": average, "model": model,
            "timing": {"train_s": train_s, "predict_s": predict_s, "baseline_s": baseline_s,
                       "train_items": int(len(train_catalogue)), "test_items": int(len(test_catalogue))},
            "params": params.__dict__.copy()}


def render_table(result: dict[str, Any]) -> str:
    """Table 2 as fixed-width text (model vs majority class vs TF-IDF + logistic regression; "—" where not run)."""
    def cell(value: float | None, width: int, percent: bool = False) -> str:
        if value is None or value != value:  # the baseline was not run (--no-baseline) or had no labels
            return f"{'—':>{width}}"
        return f"{100 * value:>{width}.1f}" if percent else f"{value:>{width}.3f}"

    lines = [f"{'attribute':<18}{'#samples':>9}{'#test':>7}{'#classes':>9}{'wF1':>7}{'acc%':>7}{'maj%':>7}{'LR wF1':>8}{'LR acc%':>8}"]
    for row in result["table"]:
        lines.append(f"{row['attribute']:<18}{row['samples']:>9}{row['test_samples']:>7}{row['classes']:>9}"
                     f"{cell(row['weighted_f1'], 7)}{cell(row['accuracy'], 7, True)}{cell(row['majority_accuracy'], 7, True)}"
                     f"{cell(row.get('baseline_f1'), 8)}{cell(row.get('baseline_accuracy'), 8, True)}")
    avg = result["average"]
    if avg:
        lines.append(f"{'average':<18}{'':>25}{cell(avg['weighted_f1'], 7)}{cell(avg['accuracy'], 7, True)}"
                     f"{cell(avg['majority_accuracy'], 7, True)}{cell(avg.get('baseline_f1'), 8)}"
                     f"{cell(avg.get('baseline_accuracy'), 8, True)}")
    return "\n".join(lines)
