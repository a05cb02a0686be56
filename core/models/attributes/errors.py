"""Catalogue-error finding by confident learning: out-of-fold probabilities, per-class thresholds, margin ranking."""

# Northcutt et al., "Confident Learning" (cleanlab's find_label_issues): a model must never judge the labels it was
# trained on, so every labelled item gets probabilities from a model fitted on the other folds. Each class j has its
# own bar t_j, the mean p_j of the items labelled j (a colour the text names is held to ~0.95, a pattern it hardly
# reveals to ~0.45). An item is a suspect when the model prefers another value (cleanlab's predicted_neq_given) and
# its own label gets less than `cutoff` of its class's bar: p(label) / t_label, the relative confidence, ranks
# suspects across attributes on one scale (a raw margin ranks the attributes the text barely predicts first).

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.columns import ATTRIBUTE_PREFIX, attribute_name

FOLDS = 5
# The review queue's default sensitivity: generous, since the queue is ranked (the surest suspects first) and a
# small catalogue's out-of-fold model is less sure of what it finds (docs/attributes.md has the trade-off).
DEFAULT_CUTOFF = 0.3
SUSPECT_COLUMNS = ["item_id", "attribute", "catalogue_value", "suggested", "self_confidence", "relative_confidence",
                   "margin", "suggested_probability"]


@dataclass(frozen=True)
class OutOfFold:
    """Probabilities of one attribute for its labelled items, each from a model that never saw its label.

    item_ids: str (n,); labels: str (n,) the catalogue values; classes: str (k,); probs: float32 (n, k)."""

    attribute: str
    item_ids: np.ndarray
    labels: np.ndarray
    classes: np.ndarray
    probs: np.ndarray


def product_text(catalogue: pd.DataFrame) -> list[str]:
    """What the linear model reads: name, description, category and category group of each item."""
    parts = [catalogue[c].fillna("").astype(str) for c in ("name", "description", "category", "category_group")
             if c in catalogue.columns]
    if not parts:
        return [""] * len(catalogue)
    text = parts[0]
    for part in parts[1:]:
        text = text + " " + part
    return text.tolist()


def out_of_fold(catalogue: pd.DataFrame, attribute: str, folds: int = FOLDS, seed: int = 0,
                C: float = 10.0) -> OutOfFold | None:
    """Cross-fitted TF-IDF + logistic-regression probabilities for the items that carry `attribute` (None when
    fewer than two values or too few items to fold)."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415 — sklearn only for this finder
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415
    from sklearn.model_selection import StratifiedKFold  # noqa: PLC0415

    column = ATTRIBUTE_PREFIX + attribute
    labelled = catalogue[catalogue[column].notna()]
    labels = labelled[column].astype(str).to_numpy()
    classes, counts = np.unique(labels, return_counts=True)
    if len(classes) < 2 or len(labels) < 2 * folds:
        return None
    text = product_text(labelled)
    probs = np.zeros((len(labels), len(classes)), dtype=np.float32)
    # A class rarer than the folds cannot be stratified; its items still get out-of-fold scores.
    splitter = StratifiedKFold(n_splits=min(folds, max(2, int(counts.min()))) if counts.min() >= 2 else folds,
                               shuffle=True, random_state=seed)
    strata = labels if counts.min() >= 2 else np.zeros(len(labels))
    for train, test in splitter.split(np.zeros(len(labels)), strata):
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1, token_pattern=r"(?u)\b\w+\b")
        x_train = vectorizer.fit_transform([text[i] for i in train])
        if len(np.unique(labels[train])) < 2:
            probs[test] = (labels[train][0] == classes).astype(np.float32)
            continue
        model = LogisticRegression(C=C, max_iter=500, random_state=seed).fit(x_train, labels[train])
        fold = model.predict_proba(vectorizer.transform([text[i] for i in test]))
        columns = np.searchsorted(classes, model.classes_)
        probs[np.ix_(test, columns)] = fold
    return OutOfFold(attribute, labelled["item_id"].astype(str).to_numpy(), labels, classes, probs)


def label_issues(oof: OutOfFold, cutoff: float = DEFAULT_CUTOFF) -> pd.DataFrame:
    """Suspects of one attribute (SUSPECT_COLUMNS), most suspicious first: the model prefers `suggested` and the
    catalogue value's probability is at most `cutoff` × the mean probability of that value among its items
    (the sensitivity: higher finds more, with more false alarms)."""
    given = np.searchsorted(oof.classes, oof.labels)
    rows = np.arange(len(given))
    thresholds = np.array([oof.probs[given == j, j].mean() if (given == j).any() else 1.0
                           for j in range(len(oof.classes))])
    self_confidence = oof.probs[rows, given]
    relative = self_confidence / np.maximum(thresholds[given], 1e-9)
    suggested = oof.probs.argmax(axis=1)
    others = oof.probs.copy()
    others[rows, given] = -1.0
    keep = np.flatnonzero((suggested != given) & (relative <= cutoff))
    frame = pd.DataFrame({
        "item_id": oof.item_ids[keep], "attribute": oof.attribute, "catalogue_value": oof.labels[keep],
        "suggested": oof.classes[suggested[keep]], "self_confidence": self_confidence[keep],
        "relative_confidence": relative[keep], "margin": (self_confidence - others.max(axis=1))[keep],
        "suggested_probability": oof.probs[keep, suggested[keep]],
    }, columns=SUSPECT_COLUMNS)
    return frame.sort_values("relative_confidence", kind="stable").reset_index(drop=True)


def find_errors(catalogue: pd.DataFrame, attributes: list[str] | None = None, cutoff: float = DEFAULT_CUTOFF,
                folds: int = FOLDS, seed: int = 0) -> pd.DataFrame:
    """Suspects of every attribute, ranked together by relative confidence (most suspicious first), with `rank`."""
    names = attributes or [attribute_name(c) for c in catalogue.columns if c.startswith(ATTRIBUTE_PREFIX)]
    parts = [label_issues(oof, cutoff) for oof in (out_of_fold(catalogue, n, folds, seed) for n in names)
             if oof is not None]
    if not parts:
        return pd.DataFrame(columns=[*SUSPECT_COLUMNS, "rank"])
    frame = pd.concat(parts, ignore_index=True).sort_values("relative_confidence", kind="stable")
    return frame.reset_index(drop=True).assign(rank=lambda f: np.arange(1, len(f) + 1))


def recall_precision(suspects: pd.DataFrame, errors: pd.DataFrame, top: int | None = None) -> pd.DataFrame:
    """Per attribute and overall: planted errors, suspects (the first `top`), found, recall and precision.

    errors: item_id, attribute of the known wrong values (the demo's planted truth, or a hand-checked sample)."""
    shown = suspects if top is None else suspects.head(top)
    truth = set(zip(errors["item_id"].astype(str), errors["attribute"].astype(str)))
    hits = np.array([(i, a) in truth for i, a in zip(shown["item_id"].astype(str), shown["attribute"].astype(str))],
                    dtype=bool)
    rows = []
    for name in sorted(set(errors["attribute"].astype(str)) | set(shown["attribute"].astype(str))):
        mine = (shown["attribute"].astype(str) == name).to_numpy()
        planted = int((errors["attribute"].astype(str) == name).sum())
        found = int(hits[mine].sum())
        rows.append({"attribute": name, "planted": planted, "suspects": int(mine.sum()), "found": found,
                     "recall": found / planted if planted else float("nan"),
                     "precision": found / int(mine.sum()) if mine.any() else float("nan")})
    found = int(hits.sum())
    rows.append({"attribute": "all", "planted": len(truth), "suspects": len(shown), "found": found,
                 "recall": found / len(truth) if truth else float("nan"),
                 "precision": found / len(shown) if len(shown) else float("nan")})
    return pd.DataFrame(rows)
