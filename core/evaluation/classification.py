"""Classification metrics (ASOS Table 2): weighted F1, accuracy, majority-class accuracy, confusion matrix."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClassificationReport:
    """Scores of one attribute on its labelled test items."""

    samples: int
    classes: int
    weighted_f1: float
    accuracy: float
    majority_accuracy: float
    majority_class: str | None


def _as_str(values: np.ndarray | list) -> np.ndarray:
    return np.asarray(values, dtype=object).astype(str)


def accuracy(truth: np.ndarray | list, predicted: np.ndarray | list) -> float:
    """Share of exact matches; nan for no samples."""
    t, p = _as_str(truth), _as_str(predicted)
    return float((t == p).mean()) if len(t) else float("nan")


def weighted_f1(truth: np.ndarray | list, predicted: np.ndarray | list) -> float:
    """Mean of per-class F1 over the classes present in `truth`, weighted by their support (sklearn's 'weighted')."""
    t, p = _as_str(truth), _as_str(predicted)
    if len(t) == 0:
        return float("nan")
    classes, support = np.unique(t, return_counts=True)
    total = 0.0
    for label, count in zip(classes, support):
        tp = float(np.sum((t == label) & (p == label)))
        fp = float(np.sum((t != label) & (p == label)))
        fn = float(count) - tp
        f1 = 2 * tp / (2 * tp + fp + fn) if tp > 0 else 0.0
        total += count * f1
    return total / len(t)


def majority_accuracy(truth: np.ndarray | list,
                      train_truth: np.ndarray | list | None = None) -> tuple[float, str | None]:
    """Accuracy of always predicting the most frequent class (of `train_truth` when given, else of `truth`), and that
    class.

    ASOS reports the majority class's frequency in the test set: the default (no train_truth) does that.
    """
    t = _as_str(truth)
    source = t if train_truth is None else _as_str(train_truth)
    if len(t) == 0 or len(source) == 0:
        return float("nan"), None
    classes, counts = np.unique(source, return_counts=True)
    top = str(classes[np.argmax(counts)])
    return float((t == top).mean()), top


def confusion_matrix(truth: np.ndarray | list, predicted: np.ndarray | list,
                     labels: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """(int64 (k, k) counts with true labels by row and predicted by column, the k labels in order).

    labels default to the sorted union of both; pairs with a label outside `labels` are left out.
    """
    t, p = _as_str(truth), _as_str(predicted)
    order = sorted(set(t) | set(p)) if labels is None else [str(v) for v in labels]
    index = {v: i for i, v in enumerate(order)}
    matrix = np.zeros((len(order), len(order)), dtype=np.int64)
    for a, b in zip(t, p):
        if a in index and b in index:
            matrix[index[a], index[b]] += 1
    return matrix, order


def report(truth: np.ndarray | list, predicted: np.ndarray | list) -> ClassificationReport:
    """All Table 2 numbers for one attribute (#classes = distinct true labels in the test set)."""
    t = _as_str(truth)
    majority, top = majority_accuracy(t)
    return ClassificationReport(samples=len(t), classes=len(np.unique(t)), weighted_f1=weighted_f1(t, predicted),
                                accuracy=accuracy(t, predicted), majority_accuracy=majority, majority_class=top)
