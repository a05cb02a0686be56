"""Interaction matrices (event weights, decay) and splits (time, random, unseen ids, leave-one-out)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from core.errors import ValidationError
from core.features.interactions import interaction_weights, user_brand_matrix, user_item_matrix
from core.features.splits import leave_one_out, random_pair_split, split_interactions


def _frame():
    ts = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-11", "2024-01-11", "2024-01-12"], utc=True)
    return pd.DataFrame({
        "user_id": ["a", "a", "b", "b", "c", "a"],
        "item_id": ["i1", "i2", "i1", "i3", "i3", "i3"],
        "brand_id": ["X", "X", "X", "Y", "Y", "Y"],
        "event": ["view", "order", "wishlist", "view", "click", "add_to_bag"],
        "weight": np.ones(6, dtype=np.float32),
        "timestamp": ts,
    })


def test_event_weights_sum_per_pair():
    m = user_brand_matrix(_frame(), event_weights={"view": 1, "click": 2, "wishlist": 3, "add_to_bag": 4, "order": 10})
    dense = pd.DataFrame(m.matrix.toarray(), index=m.user_ids.external, columns=m.column_ids.external)
    assert dense.loc["a", "X"] == 11 and dense.loc["a", "Y"] == 4 and dense.loc["b", "X"] == 3
    assert dense.loc["c", "X"] == 0 and m.matrix.dtype == np.float32
    items = user_item_matrix(_frame())
    assert items.matrix.shape == (3, 3)


def test_time_decay_halves_weight_per_half_life():
    frame = _frame()
    w = interaction_weights(frame, {"view": 1, "click": 1, "wishlist": 1, "add_to_bag": 1, "order": 1},
                            half_life_days=1.0, now=pd.Timestamp("2024-01-12", tz="UTC"))
    np.testing.assert_allclose(w, 0.5 ** np.array([11, 10, 9, 1, 1, 0]), rtol=1e-5)


def test_unknown_event_weight_is_rejected():
    with pytest.raises(ValidationError, match="unknown events"):
        interaction_weights(_frame(), {"purchase": 2.0})


def test_time_split_holds_out_new_pairs_of_the_last_period():
    s = split_interactions(_frame(), test_fraction=0.5)
    assert s.method == "time"
    # Before the cutoff (2024-01-11): a-X, b-X. After: b-Y, c-Y (c unseen), a-Y; brand Y unseen in training.
    assert s.unseen["test_pairs_unseen_user"] == 1 and s.unseen["unseen_users"] == 1
    assert s.unseen["unseen_columns"] == 1
    assert s.test.nnz == 0 and s.train.nnz == 2


def test_random_split_is_seeded_and_disjoint():
    frame = pd.DataFrame({"user_id": [f"u{i % 50}" for i in range(1000)],
                          "brand_id": [f"b{i % 37}" for i in range(1000)],
                          "event": "view", "weight": 1.0, "timestamp": pd.NaT})
    a = split_interactions(frame, seed=7)
    b = split_interactions(frame, seed=7)
    assert a.method == "random"
    assert (a.test != b.test).nnz == 0
    assert a.test.multiply(a.train).nnz == 0
    total = a.train.nnz + a.test.nnz + a.unseen["test_pairs_unseen_user"] + a.unseen["test_pairs_unseen_column"]
    assert total == frame.drop_duplicates(["user_id", "brand_id"]).shape[0]
    assert 0.1 < a.test.nnz / total < 0.3


def test_leave_one_out_holds_one_per_row_with_two_or_more():
    m = sp.csr_matrix(np.array([[1, 2, 0], [0, 3, 0], [4, 5, 6]], dtype=np.float32))
    order = sp.csr_matrix(np.array([[1, 9, 0], [0, 3, 0], [7, 2, 1]], dtype=np.float32))
    train, test = leave_one_out(m, order=order)
    np.testing.assert_array_equal(test.toarray(), [[0, 1, 0], [0, 0, 0], [1, 0, 0]])
    np.testing.assert_array_equal(train.toarray(), [[1, 0, 0], [0, 3, 0], [0, 5, 6]])
    tr, te = leave_one_out(m, seed=1)
    assert te.nnz == 2 and tr.nnz == 4
    a, b = random_pair_split(m, 0.5, seed=0)
    assert a.nnz + b.nnz == m.nnz
