"""Cold-start protocol: no leakage, buckets, and metrics that separate informative from uninformative spaces."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from core.features.content import build_content_features
from core.models.long_tail import EvalParams, LongTailParams
from core.models.long_tail.als import normalise, session_matrix
from core.models.long_tail.evaluate import (cold_start_split, evaluate_long_tail, evaluate_spaces, known_bucket,
                                            popularity_buckets)
from core.models.long_tail.spaces import Spaces, fit_spaces


def _matrix(planted: tuple) -> sp.csr_matrix:
    interactions, catalogue = planted
    matrix = session_matrix(interactions, catalogue["item_id"].to_numpy()).matrix
    return matrix


def test_cold_start_split_never_leaks_held_out_interactions(planted: tuple) -> None:
    matrix = _matrix(planted)
    split = cold_start_split(matrix, EvalParams(holdout_fraction=0.3, seed=1))
    assert split.train.multiply(split.held).nnz == 0  # no (user, item) pair on both sides
    assert abs(split.train + split.held - matrix).sum() < 1e-3  # nothing lost or invented
    held_per_item = np.diff(split.held.T.tocsr().indptr)
    train_per_item = np.diff(split.train.T.tocsr().indptr)
    assert set(np.flatnonzero(held_per_item)) == set(split.held_items)
    assert np.all(held_per_item[split.held_items] >= 1)
    assert np.array_equal(train_per_item[split.held_items], split.known)  # exactly k known users stay
    again = cold_start_split(matrix, EvalParams(holdout_fraction=0.3, seed=1))
    assert np.array_equal(again.held_items, split.held_items) and (again.held != split.held).nnz == 0
    # The model is fitted on the train side only: a fully held-out item has no ALS vector at all.
    features = build_content_features(planted[1])
    spaces = fit_spaces(split.train, features, LongTailParams(factors=8, iterations=3, epochs=2, threshold=5))
    cold = split.held_items[split.known == 0]
    assert len(cold) and np.all(spaces.als[cold] == 0) and np.all(spaces.counts[cold] == 0)


def test_buckets() -> None:
    counts = np.array([50, 30, 10, 5, 3, 1, 1, 0])
    assert popularity_buckets(counts).tolist() == ["head", "torso", "tail", "tail", "tail", "tail", "tail", "tail"]
    assert known_bucket(np.array([0, 1, 2, 3, 10, 11, 400])).tolist() == ["0", "1-2", "1-2", "3-10",
                                                                          "3-10", "11+", "11+"]


def test_metrics_rank_an_oracle_space_above_noise_and_zero_vectors_at_chance(planted: tuple) -> None:
    matrix = _matrix(planted)
    split = cold_start_split(matrix, EvalParams(holdout_fraction=0.3, seed=2))
    n_items = matrix.shape[1]
    rng = np.random.default_rng(0)
    # Oracle: user factors and item vectors from an SVD of the FULL matrix (it has seen the held-out pairs).
    u, s, vt = np.linalg.svd(matrix.toarray(), full_matrices=False)
    users, oracle = (u[:, :16] * s[:16]).astype(np.float32), vt[:16].T.astype(np.float32)
    noise = normalise(rng.normal(size=oracle.shape))
    content = build_content_features(planted[1]).raw_matrix()
    zero = np.zeros_like(oracle)
    spaces = Spaces(als=zero, predicted=normalise(oracle), blended=noise, content=content, user_factors=users,
                    counts=np.zeros(n_items, np.int64), history=[], best_epoch=0, timings={})
    result = evaluate_spaces(split, spaces)
    assert result["predicted"]["all"]["ndcg@10"] > 3 * result["blended"]["all"]["ndcg@10"]
    assert result["predicted"]["all"]["ap"] > 2 * result["als"]["all"]["ap"]
    # A zero vector ranks at random: its AP is near the share of relevant users, not the optimistic 1.0 of ties.
    share = split.held.nnz / (len(split.held_items) * matrix.shape[0])
    assert result["als"]["all"]["ap"] < 10 * share + 0.05
    assert result["predicted"]["all"]["n_items"] == len(split.held_items)
    sizes = sum(result["predicted"][b]["n_items"] for b in ("head", "torso", "tail"))
    assert sizes == len(split.held_items)


def test_evaluate_long_tail_content_beats_als_on_cold_items(planted: tuple) -> None:
    interactions, catalogue = planted
    result = evaluate_long_tail(interactions, catalogue, LongTailParams(factors=16, epochs=15, threshold=5),
                                EvalParams(holdout_fraction=0.3))
    spaces = result["spaces"]
    assert set(spaces) == {"als", "predicted", "blended", "content", "popularity"}
    for space in spaces.values():
        assert {"head", "torso", "tail", "0", "1-2", "3-10", "11+", "all"} <= set(space)
        assert {"ndcg@10", "ap", "n_items"} <= set(space["all"])
    # Planted content reveals taste, ALS has nothing for never-seen items: predicted must win there.
    assert spaces["predicted"]["0"]["ndcg@10"] > 2 * spaces["als"]["0"]["ndcg@10"]
    assert result["meta"]["n_held_items"] == spaces["als"]["all"]["n_items"]


def test_blended_similarity_follows_the_query_items_confidence() -> None:
    from core.models.long_tail.blend import blend_weights, blended_similarity

    rng = np.random.default_rng(0)
    als, predicted = normalise(rng.normal(size=(50, 4))), normalise(rng.normal(size=(50, 4)))
    weights = blend_weights(np.r_[np.zeros(10), np.full(40, 10_000)], k=5)
    scores = blended_similarity(als, predicted, weights, np.arange(50))
    assert np.allclose(scores[:10], predicted[:10] @ predicted.T, atol=1e-6)  # a cold item: content only
    assert np.allclose(scores[10:], als[10:] @ als.T, atol=2e-3)  # a well-known item: ALS


def test_planted_ceiling_ranks_held_out_users_far_above_chance_on_the_demo(demo_workspace) -> None:
    from core.services.long_tail import planted_ceiling

    ceiling = planted_ceiling(demo_workspace)
    assert ceiling["all"]["n_items"] == ceiling["head"]["n_items"] + ceiling["torso"]["n_items"] \
        + ceiling["tail"]["n_items"]
    # 4,000 users and a handful of held-out users per item: a random ranking has NDCG@10 ≈ 0.01.
    assert ceiling["all"]["ndcg@10"] > 0.2
    assert ceiling["head"]["ndcg@10"] > ceiling["tail"]["ndcg@10"] > 0.05


def test_max_items_scores_a_seeded_sample_of_the_held_out_items(planted: tuple) -> None:
    matrix = _matrix(planted)
    split = cold_start_split(matrix, EvalParams(holdout_fraction=0.3))
    assert len(split.held_items) > 25
    rng = np.random.default_rng(0)
    n_items = matrix.shape[1]
    spaces = Spaces(als=rng.normal(size=(n_items, 8)).astype(np.float32),
                    predicted=normalise(rng.normal(size=(n_items, 8))),
                    blended=normalise(rng.normal(size=(n_items, 8))),
                    content=sp.csr_matrix(normalise(rng.normal(size=(n_items, 4)))),
                    user_factors=rng.normal(size=(matrix.shape[0], 8)).astype(np.float32),
                    counts=np.ones(n_items, np.int64), history=[], best_epoch=0, timings={})
    first = evaluate_spaces(split, spaces, max_items=25, seed=1)
    assert first["als"]["all"]["n_items"] == 25
    assert sum(first["als"][b]["n_items"] for b in ("head", "torso", "tail")) == 25
    assert first == evaluate_spaces(split, spaces, max_items=25, seed=1)
    assert evaluate_spaces(split, spaces)["als"]["all"]["n_items"] == len(split.held_items)
