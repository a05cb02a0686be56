"""The affinity table's running top-k is exact: same sets, order and tie-break (lower index) as a brute-force sort."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from core.errors import AtelierError
from core.services import affinity_table, topk


def _brute_force(scores: np.ndarray, k: int) -> np.ndarray:
    """The reference: per row a stable sort of -score, i.e. best first and ties to the lower column."""
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def _tied_scores(rng: np.random.Generator, m: int, n: int) -> np.ndarray:
    """Scores from a handful of values (most of a row ties with others), with -0.0 beside 0.0."""
    scores = rng.choice(np.array([-1.5, -0.5, -0.0, 0.0, 0.5, 2.0], dtype=np.float32), size=(m, n))
    return scores.astype(np.float32)


@settings(max_examples=60, deadline=None)
@given(m=st.integers(1, 40), n=st.integers(1, 70), k=st.integers(1, 70), seed=st.integers(0, 2**16),
       tied=st.booleans())
def test_top_k_rows_equals_a_stable_sort(m, n, k, seed, tied):
    rng = np.random.default_rng(seed)
    scores = _tied_scores(rng, m, n) if tied else rng.normal(size=(m, n)).astype(np.float32)
    idx, vals = topk.top_k_rows(scores, k)
    want = _brute_force(scores, min(k, n))
    np.testing.assert_array_equal(idx, want)
    np.testing.assert_array_equal(vals, np.take_along_axis(scores, want, axis=1))
    assert idx.dtype == np.int32 and vals.dtype == np.float32


def test_keys_order_by_score_then_index_and_decode_exactly():
    scores = np.array([3.5, -np.inf, -0.0, 0.0, np.inf, -2.0, 1e-40, -1e-40, 3.5, 0.0], dtype=np.float32)
    index = np.array([9, 1, 5, 2, 0, 4, 3, 8, 6, topk.MAX_INDEX])
    order = np.argsort(topk.keys(scores, index))
    assert order.tolist() == np.lexsort((index, -scores)).tolist()  # -0.0 and 0.0 tie: index 2, 5, then MAX
    got_index, got_scores = topk.decode(topk.keys(scores, index))
    np.testing.assert_array_equal(got_index, index)
    np.testing.assert_array_equal(got_scores, scores)


def test_a_bound_that_is_not_one_fails_loudly():
    key = topk.keys(np.zeros(3, np.float32), np.arange(3))
    with pytest.raises(RuntimeError, match="fewer than k=2"):
        topk.best_per_group(key, np.array([0, 0, 1]), 2, 2)


def _install(ws, users: np.ndarray, brands: np.ndarray, user_bias: np.ndarray, brand_bias: np.ndarray,
             brand_side=None):
    from core.data.idmap import IdMap
    from core.models.affinity import AffinityModel
    from core.models.affinity.brand_side import BrandSide
    from core.services import models as versions

    model = AffinityModel(IdMap.from_values([f"u{i:05d}" for i in range(len(users))]),
                          IdMap.from_values([f"b{i:03d}" for i in range(len(brands))]),
                          users, brands, user_bias, brand_bias, brand_side=brand_side or BrandSide())
    version = versions.store(ws).save(AffinityModel.kind, *model.to_artifact())
    versions.register_version(ws, AffinityModel.kind, version, {}, "test")
    versions.activate(ws, AffinityModel.kind, version, "test")
    return model


@pytest.mark.parametrize("k_brands, k_users, partition_users", [(4, 30, 700), (37, 450, 300)])
def test_table_with_ties_equals_a_brute_force_sort_both_ways(demo_copy, monkeypatch, k_brands, k_users,
                                                             partition_users):
    # Factors in {-1, 0, 1} and biases in halves: every score is exact in float32 and most of them tie, so the
    # table must follow the tie-break rule itself. Chunks of 64 users give each partition several chunks and a
    # short last one; (37, 450, 300) asks for every brand and for more users than a partition holds.
    monkeypatch.setattr(affinity_table, "_CHUNK", 64)
    rng = np.random.default_rng(17)
    n_users, n_brands = 1900, 37
    f = lambda *shape: rng.integers(-1, 2, size=shape).astype(np.float32)  # noqa: E731
    model = _install(demo_copy, f(n_users, 6), f(n_brands, 6), f(n_users) / 2, f(n_brands) / 2)
    scores = model.user_factors @ model.brand_factors.T + model.user_bias[:, None] + model.brand_bias[None, :]
    affinity_table.score_table(demo_copy, {"k_brands": k_brands, "k_users": k_users,
                                           "partition_users": partition_users, "local_threads": 2})

    users = affinity_table.user_top_brands(demo_copy)
    want = _brute_force(scores, k_brands)
    got = np.asarray(users["brand_id"].astype(str)).reshape(n_users, k_brands)
    np.testing.assert_array_equal(got, model.brand_ids.to_array()[want])
    np.testing.assert_array_equal(users["score"].to_numpy().reshape(n_users, k_brands),
                                  np.take_along_axis(scores, want, axis=1))

    brands = affinity_table.brand_top_users(demo_copy)
    want = _brute_force(scores.T, k_users)
    got = np.asarray(brands["user_id"].astype(str)).reshape(n_brands, k_users)
    np.testing.assert_array_equal(np.asarray(brands["brand_id"].astype(str)).reshape(n_brands, k_users)[:, 0],
                                  model.brand_ids.to_array())
    np.testing.assert_array_equal(got, model.user_ids.to_array()[want])
    np.testing.assert_array_equal(brands["score"].to_numpy().reshape(n_brands, k_users),
                                  np.take_along_axis(scores.T, want, axis=1))
    assert brands["rank"].tolist() == list(range(1, k_users + 1)) * n_brands


def test_a_brand_side_of_its_own_ranks_the_brands_customers_and_leaves_each_customers_brands(demo_copy,
                                                                                              monkeypatch):
    # A model whose audiences are ranked by ALS or a blend (`AffinityModel.brand_side`): the brand side of the
    # table follows those factors exactly (ties included), the user side the model's own scores.
    from core.models.affinity.brand_side import BrandSide

    monkeypatch.setattr(affinity_table, "_CHUNK", 64)
    rng = np.random.default_rng(23)
    n_users, n_brands, k_brands, k_users = 900, 19, 3, 120
    f = lambda *shape: rng.integers(-1, 2, size=shape).astype(np.float32)  # noqa: E731
    side = BrandSide(0.5, {"1.00": 0.1, "0.50": 0.2}, 20.0, f(n_users, 3), f(n_brands, 3))
    model = _install(demo_copy, f(n_users, 6), f(n_brands, 6), f(n_users) / 2, f(n_brands) / 2, side)
    own = model.user_factors @ model.brand_factors.T + model.user_bias[:, None] + model.brand_bias[None, :]
    audience = side.user_factors @ side.brand_factors.T
    assert not np.array_equal(_brute_force(own.T, k_users), _brute_force(audience.T, k_users))
    affinity_table.score_table(demo_copy, {"k_brands": k_brands, "k_users": k_users, "partition_users": 400,
                                           "local_threads": 2})

    users = affinity_table.user_top_brands(demo_copy)
    got = np.asarray(users["brand_id"].astype(str)).reshape(n_users, k_brands)
    np.testing.assert_array_equal(got, model.brand_ids.to_array()[_brute_force(own, k_brands)])
    brands = affinity_table.brand_top_users(demo_copy)
    want = _brute_force(audience.T, k_users)
    got = np.asarray(brands["user_id"].astype(str)).reshape(n_brands, k_users)
    np.testing.assert_array_equal(got, model.user_ids.to_array()[want])
    np.testing.assert_array_equal(brands["score"].to_numpy().reshape(n_brands, k_users),
                                  np.take_along_axis(audience.T, want, axis=1))


def test_a_model_with_nan_factors_is_refused_before_anything_is_written(demo_copy):
    rng = np.random.default_rng(3)
    users = rng.normal(size=(50, 4)).astype(np.float32)
    users[7, 2] = np.nan
    _install(demo_copy, users, rng.normal(size=(5, 4)).astype(np.float32), np.zeros(50, np.float32),
             np.zeros(5, np.float32))
    with pytest.raises(AtelierError, match="non-finite factors or biases.*retrain it"):
        affinity_table.score_table(demo_copy, {"k_brands": 2, "k_users": 3})
    assert not (demo_copy.path / "affinity_table").exists()
