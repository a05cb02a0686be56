"""Classification metrics against hand-computed cases (and sklearn on random labels)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from core.evaluation import classification as cm

TRUTH = ["a", "a", "a", "b", "b", "c"]
PRED = ["a", "a", "b", "b", "c", "c"]


def test_weighted_f1_by_hand() -> None:
    # a: tp 2, fp 0, fn 1 -> 0.8 (support 3); b: tp 1, fp 1, fn 1 -> 0.5 (2); c: tp 1, fp 1, fn 0 -> 2/3 (1)
    expected = (3 * 0.8 + 2 * 0.5 + 1 * (2 / 3)) / 6
    assert cm.weighted_f1(TRUTH, PRED) == pytest.approx(expected)


def test_accuracy_majority_and_confusion_by_hand() -> None:
    assert cm.accuracy(TRUTH, PRED) == pytest.approx(4 / 6)
    assert cm.majority_accuracy(TRUTH) == (pytest.approx(0.5), "a")
    assert cm.majority_accuracy(TRUTH, train_truth=["c", "c", "a"]) == (pytest.approx(1 / 6), "c")
    matrix, labels = cm.confusion_matrix(TRUTH, PRED)
    assert labels == ["a", "b", "c"]
    assert matrix.tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    report = cm.report(TRUTH, PRED)
    assert (report.samples, report.classes, report.majority_class) == (6, 3, "a")


def test_predicting_an_unseen_class_counts_as_a_miss() -> None:
    # "z" is never true: it costs a's recall but adds no class to the weighting
    assert cm.weighted_f1(["a", "a"], ["a", "z"]) == pytest.approx(2 / 3)
    matrix, labels = cm.confusion_matrix(["a", "a"], ["a", "z"], labels=["a"])
    assert matrix.tolist() == [[1]] and labels == ["a"]


def test_weighted_f1_matches_sklearn_on_random_labels() -> None:
    rng = np.random.default_rng(3)
    for _ in range(5):
        truth = rng.choice(list("abcde"), 200, p=[0.5, 0.2, 0.15, 0.1, 0.05])
        pred = np.where(rng.random(200) < 0.7, truth, rng.choice(list("abcdef"), 200))
        assert cm.weighted_f1(truth, pred) == pytest.approx(f1_score(truth, pred, average="weighted", zero_division=0))
