"""Held-out evaluation of the attribute model (Table 2) against the majority class and TF-IDF + logistic regression."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pandas as pd

from core.columns import ATTRIBUTE_PREFIX
from core.evaluation import classification as cm
from core.features.text import product_text

if TYPE_CHECKING:
    from core.models.attributes.model import AttributeModel

AVERAGED = ("weighted_f1", "accuracy", "majority_accuracy", "baseline_f1", "baseline_accuracy", "network_f1",
            "network_accuracy", "linear_f1")


def split_catalogue(catalogue: pd.DataFrame, test_fraction: float = 0.2,
                    seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
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


def held_out_table(model: "AttributeModel", train_catalogue: pd.DataFrame, test_catalogue: pd.DataFrame,
                   test_image: np.ndarray | None = None, baseline: bool = True,
                   progress: Callable[[float, str, dict], None] | None = None) -> dict[str, Any]:
    """Score the labelled cells of `test_catalogue` attribute by attribute (the baseline fits on `train_catalogue`).

    Returns {"table": [per attribute: attribute, samples, test_samples, classes, weighted_f1, accuracy,
    majority_accuracy, baseline_f1, baseline_accuracy; for the hybrid also network_f1, network_accuracy (its
    network alone), linear_f1 (its linear half alone) and blend_weight (w, the network's share)], "confusion":
    {attribute: {"labels", "matrix"}}, "average": {...}, "timing": {predict_s, baseline_s, train_items,
    test_items}}. weighted_f1 / accuracy score what the model serves (the hybrid's blend). Test labels are mapped
    to the model's classes (rare values → "other") for every scorer alike; progress(fraction, message, metrics).
    """
    started = time.perf_counter()
    p_net, p_linear = model.halves(test_catalogue, test_image)
    probs = p_net if p_linear is None else model.blended(p_net, p_linear)
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
        if p_linear is not None:
            network = classes[p_net[name][labelled].argmax(axis=1)]
            row.update({"network_f1": cm.weighted_f1(truth, network), "network_accuracy": cm.accuracy(truth, network),
                        "linear_f1": cm.weighted_f1(truth, classes[p_linear[name][labelled].argmax(axis=1)]),
                        "blend_weight": float(model.blend[name])})
        if baseline and labelled.any():
            started = time.perf_counter()
            train_rows = train_catalogue[column].notna().to_numpy()
            train_truth = model.space.canonical(name, train_catalogue.loc[train_rows,
                                                                          column].astype(str)).to_numpy(dtype=str)
            base, _ = tfidf_logistic([t for t, keep in zip(train_text, train_rows) if keep], train_truth,
                                     [t for t, keep in zip(test_text, labelled) if keep], seed=model.params.seed)
            baseline_s += time.perf_counter() - started
            row["baseline_f1"] = cm.weighted_f1(truth, base)
            row["baseline_accuracy"] = cm.accuracy(truth, base)
        matrix, labels = cm.confusion_matrix(truth, predicted, labels=[str(c) for c in classes])
        confusion[name] = {"labels": labels, "matrix": matrix.tolist()}
        table.append(row)
        if progress:
            progress((j + 1) / len(model.attributes), f"scored {name}", {"weighted_f1": scores.weighted_f1})
    return {"table": table, "confusion": confusion, "average": _average(pd.DataFrame(table)),
            "timing": {"predict_s": predict_s, "baseline_s": baseline_s, "train_items": int(len(train_catalogue)),
                       "test_items": int(len(test_catalogue))}}


def _average(frame: pd.DataFrame) -> dict[str, float | int]:
    average: dict[str, float | int] = {k: float(frame[k].mean()) for k in AVERAGED if k in frame and len(frame)}
    if "baseline_f1" in frame and len(frame):
        average["beats_baseline"] = int((frame["weighted_f1"] > frame["baseline_f1"]).sum())
        average["beats_majority"] = int((frame["accuracy"] > frame["majority_accuracy"]).sum())
        average["attributes"] = int(len(frame))
        if "network_f1" in frame:
            average["network_beats_baseline"] = int((frame["network_f1"] > frame["baseline_f1"]).sum())
    return average


def tfidf_logistic(train_text: list[str], train_labels: np.ndarray, test_text: list[str], C: float = 10.0,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Per-attribute TF-IDF (word 1–2-grams, sublinear tf) + multinomial logistic regression on name+description.

    train_labels: str (n,). Returns (predicted str (m,), probability float (m,)).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415 — sklearn only for this baseline
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, token_pattern=r"(?u)\b\w+\b")
    x = vectorizer.fit_transform(train_text)
    classes = np.unique(train_labels)
    if len(classes) == 1:
        return np.full(len(test_text), classes[0]), np.ones(len(test_text))
    model = LogisticRegression(C=C, max_iter=300, random_state=seed).fit(x, train_labels)
    p = model.predict_proba(vectorizer.transform(test_text))
    best = p.argmax(axis=1)
    return model.classes_[best], p[np.arange(len(best)), best]
