"""Validation during affinity training: seeded query samples, sparse masks, evaluation every k, early stopping."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from core.evaluation.ranking import evaluate_ranking
from core.features.splits import split_interactions
from core.models.affinity import AffinityData, AffinityModel, AffinityParams
from core.models.affinity import train as train_module
from core.models.affinity.evaluate import Scorer, ValidationSet, evaluate_both
from core.services import affinity_training, promotion


@pytest.fixture(scope="module")
def split(planted):
    return split_interactions(planted[0], method="random", seed=4)


def _fixed(scores):
    return lambda rows: scores[rows].copy()


def test_sparse_masks_match_a_dense_brute_force_with_overlapping_exclusions():
    rng = np.random.default_rng(7)
    scores = rng.normal(size=(25, 40)).astype(np.float32)
    relevant = sp.random(25, 40, density=0.15, random_state=3, format="csr")
    exclude = (relevant + sp.random(25, 40, density=0.3, random_state=4, format="csr")).tocsr()  # ⊇ relevant
    report = evaluate_ranking(_fixed(scores), relevant, exclude, k=5, chunk_size=6, with_auc=False)
    rel, exc = relevant.toarray() > 0, exclude.toarray() > 0
    per = []
    for i in np.flatnonzero(rel.any(axis=1)):
        s = np.where(exc[i] & ~rel[i], -np.inf, scores[i])  # a held-out positive is never excluded
        per.append(rel[i, np.argsort(-s, kind="stable")[:5]].sum() / 5)
    assert report.precision == pytest.approx(np.mean(per))
    assert np.isnan(report.auc)


def test_queries_rank_only_the_rows_given_and_drop_those_without_a_relevant_candidate():
    rng = np.random.default_rng(1)
    scores = rng.random((30, 20)).astype(np.float32)
    dense = (rng.random((30, 20)) < 0.2).astype(np.float32)
    dense[5] = 0  # row 5 has nothing held out
    relevant = sp.csr_matrix(dense)
    rows = np.array([2, 5, 11, 17])
    some = evaluate_ranking(_fixed(scores), relevant, k=3, queries=rows)
    kept = [2, 11, 17]
    alone = evaluate_ranking(_fixed(scores[kept]), relevant[kept], k=3)
    assert some.n_queries == 3
    assert (some.precision, some.ndcg, some.auc) == pytest.approx((alone.precision, alone.ndcg, alone.auc))


def test_the_sample_is_fixed_by_the_split_and_seed(split):
    a = ValidationSet.of(split, max_users=200, max_brands=20, seed=42)
    b = ValidationSet.of(split, max_users=200, max_brands=20, seed=42)
    other = ValidationSet.of(split, max_users=200, max_brands=20, seed=43)
    np.testing.assert_array_equal(a.users, b.users)
    np.testing.assert_array_equal(a.brands, b.brands)
    assert not np.array_equal(a.users, other.users)
    assert (len(a.users), len(a.brands)) == (200, 20)
    assert np.all(np.diff(split.test.indptr)[a.users] > 0) and np.all(np.diff(a.test_t.indptr)[a.brands] > 0)
    # each side has its own draw: a different user cap leaves the brand sample as it was
    np.testing.assert_array_equal(ValidationSet.of(split, max_users=300, max_brands=20, seed=42).brands, a.brands)
    everything = ValidationSet.of(split, max_users=10**9, max_brands=None)
    assert len(everything.users) == everything.held_out_users == int((np.diff(split.test.indptr) > 0).sum())


def test_evaluate_both_reports_the_sample_and_the_population(split):
    rng = np.random.default_rng(0)
    s = rng.random(split.train.shape).astype(np.float32)
    scorer = Scorer(_fixed(s), _fixed(np.ascontiguousarray(s.T)))
    sample = ValidationSet.of(split, max_users=150, max_brands=10, seed=1)
    out = evaluate_both(scorer, sample, with_auc=False)
    assert (out["n_users"], out["n_brands"]) == (150, 10)
    assert (out["held_out_users"], out["held_out_brands"]) == (sample.held_out_users, sample.held_out_brands)
    assert out["held_out_users"] > 150
    by_hand = evaluate_ranking(scorer.user_scores, split.test[sample.users], split.train[sample.users], 10,
                               with_auc=False)
    assert out["user_precision@10"] == pytest.approx(by_hand.precision)


def _scripted_curve(monkeypatch, user_p10: list[float]) -> list[int]:
    """Make validation return `user_p10` in turn (brand side flat); returns the iterations it was called after."""
    calls: list[int] = []

    def fake(scorer, held_out, k=10, with_auc=True):
        calls.append(len(calls))
        p = user_p10[len(calls) - 1]
        return {"user_precision@10": p, "brand_precision@10": 0.1, "user_recall@10": p, "brand_recall@10": 0.1,
                "n_users": 10, "n_brands": 5, "held_out_users": 10, "held_out_brands": 5}

    monkeypatch.setattr(train_module, "evaluate_both", fake)
    return calls


def test_evaluation_every_k_iterations_and_always_the_last(planted, monkeypatch):
    _scripted_curve(monkeypatch, [0.1, 0.2, 0.3])
    params = AffinityParams(n_factors=4, iterations=5, eval_every=2, patience=0)
    model = AffinityModel.train(AffinityData(planted[0]), params)
    assert [c["iteration"] for c in model.training.curve] == [2, 4, 5]
    assert model.params.iterations == 5
    phases = {"preparing", "training", "validation"}
    assert set(model.training.timings) == phases | {f"{p}_cpu" for p in phases}


def test_early_stopping_refits_for_the_best_iteration_seen(planted, monkeypatch):
    calls = _scripted_curve(monkeypatch, [0.1, 0.3, 0.2, 0.25, 0.5, 0.6])
    params = AffinityParams(n_factors=4, iterations=6, patience=2)
    model = AffinityModel.train(AffinityData(planted[0]), params)
    # best at iteration 2, then two evaluations without a better one: stops after iteration 4
    assert [c["iteration"] for c in model.training.curve] == [1, 2, 3, 4] and len(calls) == 4
    assert model.params.iterations == 2
    assert model.training.metrics["user_precision@10"] == 0.3


def test_held_out_noise_and_key_follow_the_sample(planted):
    data = AffinityData(planted[0])
    sampled = AffinityParams(n_factors=4, iterations=1, validation_users=100, validation_brands=10)
    whole = sampled.replace(validation_users=None, validation_brands=None)
    model = AffinityModel.train(data, whole)
    a = affinity_training.held_out_figures(AffinityModel.train(data, sampled), sampled)
    b = affinity_training.held_out_figures(model, whole)
    assert a is not None and b is not None
    # the served brand side (the contest's winner) is its own figure on the same brand queries
    assert a.sizes == {"user_precision@10": 1000, "brand_precision@10": 100, "audience_brand_precision@10": 100}
    assert b.sizes["user_precision@10"] > a.sizes["user_precision@10"]
    # a sample is another held-out set than the whole split; the whole split keeps the key it always had
    assert a.split != b.split
    assert b.split == promotion.split_key(model.training.split, whole.seed, whole.test_fraction)
    # and the noise promotion allows is that of the sample's size
    live = promotion.HeldOut(a.metrics, a.sizes, a.split)
    rows = {r["metric"]: r for r in promotion.compare(a, live)}
    p = a.metrics["brand_precision@10"]
    assert rows["brand_precision@10"]["noise"] == pytest.approx(np.sqrt(p * (1 - p) / 100))


@pytest.mark.parametrize("schedule", ["adagrad", "adadelta"])
def test_blockwise_initialisation_is_lightfms_bit_for_bit(schedule, monkeypatch):
    from lightfm import LightFM

    monkeypatch.setattr(train_module, "_INIT_ROWS", 7)  # many blocks, a short last one
    ours, theirs = (LightFM(no_components=5, learning_schedule=schedule, random_state=np.random.RandomState(3))
                    for _ in range(2))
    train_module.initialize(ours, 5, 23, 40)
    theirs._initialize(5, 23, 40)
    for side in ("item", "user"):
        for slot in train_module._SLOTS:
            a, b = getattr(ours, f"{side}_{slot}"), getattr(theirs, f"{side}_{slot}")
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b, err_msg=f"{side}_{slot}")
    # the generator moved on by the same draws, so the epochs that follow shuffle the same way
    assert ours.random_state.rand() == theirs.random_state.rand()
