"""Ranking metrics against small cases computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from core.evaluation.ranking import evaluate_ranking


def _fixed(scores):
    scores = np.asarray(scores, dtype=np.float32)
    return lambda rows: scores[rows]


def test_one_query_by_hand():
    # Candidates ranked 0 > 1 > 2 > 3 > 4; relevant {1, 3}; k = 2.
    scores = [[5, 4, 3, 2, 1]]
    relevant = sp.csr_matrix([[0, 1, 0, 1, 0]])
    r = evaluate_ranking(_fixed(scores), relevant, k=2)
    assert r.precision == pytest.approx(1 / 2)
    assert r.recall == pytest.approx(1 / 2)
    assert r.ndcg == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    # Positives at ranks 2 and 4: pairs (pos above neg): item 1 beats 2, 4 (2 of 3); item 3 beats 4 (1 of 3).
    assert r.auc == pytest.approx(3 / 6)
    assert r.average_precision == pytest.approx((1 / 2 + 2 / 4) / 2)
    assert r.n_queries == 1


def test_exclusions_leave_the_ranking_and_the_auc_negatives():
    scores = [[5, 4, 3, 2, 1]]
    relevant = sp.csr_matrix([[0, 1, 0, 1, 0]])
    exclude = sp.csr_matrix([[1, 0, 1, 0, 0]])  # training positives 0 and 2
    r = evaluate_ranking(_fixed(scores), relevant, exclude, k=2)
    # Remaining ranking: 1, 3, 4 -> both relevant in the top 2; only negative is 4, below both.
    assert r.precision == pytest.approx(1.0)
    assert r.recall == pytest.approx(1.0)
    assert r.ndcg == pytest.approx(1.0)
    assert r.auc == pytest.approx(1.0)


def test_queries_without_relevant_items_are_skipped_and_ties_count_half():
    scores = [[1, 1, 1, 1], [9, 8, 7, 6]]
    relevant = sp.csr_matrix([[1, 0, 0, 0], [0, 0, 0, 0]])
    r = evaluate_ranking(_fixed(scores), relevant, k=10)
    assert r.n_queries == 1
    assert r.auc == pytest.approx(0.5)
    assert r.precision == pytest.approx(1 / 10)  # precision@k divides by k even with fewer candidates
    assert r.recall == pytest.approx(1.0)


def test_means_over_queries_and_chunks_agree():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(30, 12)).astype(np.float32)
    relevant = sp.random(30, 12, density=0.2, random_state=1, format="csr")
    exclude = sp.random(30, 12, density=0.2, random_state=2, format="csr")
    a = evaluate_ranking(_fixed(scores), relevant, exclude, k=3, chunk_size=4)
    b = evaluate_ranking(_fixed(scores), relevant, exclude, k=3, chunk_size=100)
    for field in ("precision", "recall", "ndcg", "auc", "average_precision"):
        assert getattr(a, field) == pytest.approx(getattr(b, field))
    assert a.n_queries == b.n_queries
    # Per-query precision by brute force.
    rel = relevant.toarray() > 0
    exc = (exclude.toarray() > 0) & ~rel
    per = []
    for i in np.flatnonzero(rel.any(axis=1)):
        s = np.where(exc[i], -np.inf, scores[i])
        top = np.argsort(-s, kind="stable")[:3]
        per.append(rel[i, top].sum() / 3)
    assert a.precision == pytest.approx(np.mean(per))


def test_both_directions_by_hand():
    """evaluate_both ranks brands per user on the matrix and users per brand on its transpose."""
    from core.data.idmap import IdMap
    from core.features.splits import Split
    from core.models.affinity.evaluate import Scorer, evaluate_both

    # 3 users × 3 brands; one score matrix read both ways. Training positive (0, 0); held out (0, 1), (2, 1).
    s = np.array([[9, 5, 1], [8, 7, 2], [3, 4, 6]], dtype=np.float32)
    train = sp.csr_matrix(np.array([[1, 0, 0], [0, 0, 0], [0, 0, 0]], dtype=np.float32))
    test = sp.csr_matrix(np.array([[0, 1, 0], [0, 0, 0], [0, 1, 0]], dtype=np.float32))
    ids = IdMap.from_array(np.array(["a", "b", "c"]))
    split = Split(train, test, ids, ids, "random")
    r = evaluate_both(Scorer(lambda rows: s[rows], lambda rows: s.T[rows]), split, k=1)
    # User side: user 0 ranks brand 1 (5) > 2 (1), brand 0 excluded -> hit, AUC 1; user 2 ranks 2 (6) > 1 (4) > 0 (3)
    # -> miss, its positive beats one of two negatives, AUC 1/2.
    assert (r["n_users"], r["user_precision@1"], r["user_recall@1"]) == (2, 0.5, 0.5)
    assert r["user_auc"] == pytest.approx((1.0 + 0.5) / 2)
    # Brand side (only brand 1 has held-out users): users 1 (7) > 0 (5) > 2 (4); both positives sit below the one
    # negative -> no hit, AUC 0. Reading the user-side matrix instead would give a hit here.
    assert (r["n_brands"], r["brand_precision@1"], r["brand_recall@1"]) == (1, 0.0, 0.0)
    assert r["brand_auc"] == pytest.approx(0.0)
    assert r["brand_ndcg@1"] == pytest.approx(0.0)


@pytest.mark.parametrize("positives", [1, 5, 16, 40])
def test_counting_and_sorting_paths_agree_with_ties(positives, monkeypatch):
    from core.evaluation import ranking

    rng = np.random.default_rng(positives)
    scores = rng.integers(0, 20, size=(6, 300)).astype(np.float32)  # few distinct values: many ties
    rel = np.zeros_like(scores, dtype=bool)
    for row in rel:
        row[rng.choice(300, positives, replace=False)] = True
    excluded = rng.random(scores.shape) < 0.1
    excluded &= ~rel
    counted = ranking._auc_and_ap(scores.copy(), rel, excluded)
    monkeypatch.setattr(ranking, "_FEW_POSITIVES", -1)  # every row through the sort + binary-search path
    sorted_ = ranking._auc_and_ap(scores.copy(), rel, excluded)
    np.testing.assert_allclose(counted[0], sorted_[0])
    np.testing.assert_allclose(counted[1], sorted_[1])


def test_per_query_metrics_average_to_the_report():
    from core.evaluation.ranking import per_query_metrics, report_of

    rng = np.random.default_rng(3)
    scores = rng.random((40, 50)).astype(np.float32)
    relevant = sp.csr_matrix((rng.random((40, 50)) < 0.1).astype(np.float32))
    whole = evaluate_ranking(_fixed(scores), relevant, k=5, chunk_size=7)
    queries, metrics = per_query_metrics(_fixed(scores), relevant, k=5, chunk_size=7)
    assert report_of(metrics, 5) == whole
    half = queries < 20  # a subset of the queries (a bucket) averages only its own rows
    alone = evaluate_ranking(_fixed(scores), relevant[:20], k=5)
    assert report_of(metrics[half], 5).ndcg == pytest.approx(alone.ndcg)
    assert report_of(metrics[half], 5).n_queries == alone.n_queries
