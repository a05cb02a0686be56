"""Encoder, ALS, blending, faiss neighbours and projections on tiny data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import ValidationError
from core.features.content import build_content_features
from core.index import NeighbourIndex, brute_force_search
from core.models.long_tail import LongTailParams
from core.models.long_tail.als import fit_als, normalise, session_matrix
from core.models.long_tail.blend import blend
from core.models.long_tail.encoder import predict, train_encoder


def _planted_content(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Items whose target vector is a fixed function of category + one colour word in the name."""
    rng = np.random.default_rng(seed)
    cats, colours = rng.integers(5, size=n), rng.integers(6, size=n)
    cat_vec, colour_vec = rng.normal(size=(5, 8)), rng.normal(size=(6, 8))
    catalogue = pd.DataFrame({"item_id": [f"i{i}" for i in range(n)],
                              "name": [f"colour{c} item" for c in colours],
                              "description": "", "category": [f"cat{c}" for c in cats],
                              "price": rng.uniform(10, 100, n)})
    return catalogue, (cat_vec[cats] + 0.7 * colour_vec[colours]).astype(np.float32)


def test_encoder_learns_a_planted_content_to_vector_map() -> None:
    catalogue, target = _planted_content()
    features = build_content_features(catalogue)
    params = LongTailParams(epochs=25, hidden=64, embed_dim=8, dropout=0.0, lr=1e-2, patience=25, val_fraction=0.2,
                             batch_size=64)
    result = train_encoder(features, target, np.ones(len(target), bool), params)
    predicted = predict(result.model, features)
    val = result.val_items
    cosine = (predicted[val] * normalise(target)[val]).sum(axis=1).mean()
    shuffled = (predicted[val] * normalise(target)[np.roll(val, 1)]).sum(axis=1).mean()
    assert cosine > 0.9, cosine  # held-out items: the map was learnt, not memorised
    assert shuffled < 0.6
    assert result.history[-1]["val_loss"] < result.history[0]["val_loss"]
    assert len(np.intersect1d(result.train_items, result.val_items)) == 0


def test_encoder_refuses_too_few_items() -> None:
    catalogue, target = _planted_content(20)
    with pytest.raises(ValidationError, match="threshold"):
        train_encoder(build_content_features(catalogue), target, np.zeros(20, bool), LongTailParams(epochs=1))


def test_als_gives_unseen_items_a_zero_vector_and_similar_items_similar_vectors(planted: tuple) -> None:
    interactions, catalogue = planted
    items = catalogue["item_id"].to_numpy()
    matrix = session_matrix(interactions, np.concatenate([items, ["never_seen"]])).matrix
    assert matrix.shape == (interactions["user_id"].nunique(), len(items) + 1)
    user_f, item_f = fit_als(matrix, LongTailParams(factors=16, iterations=8))
    assert np.all(item_f[-1] == 0)
    assert np.isfinite(user_f).all() and np.abs(item_f[:-1]).sum() > 0


def test_blend_follows_the_interaction_count() -> None:
    als, predicted = np.array([[1.0, 0.0]] * 3, np.float32), np.array([[0.0, 1.0]] * 3, np.float32)
    mixed = blend(als, predicted, np.array([0.0, 5.0, 1000.0]), k=5.0)
    assert np.allclose(mixed[0], [0, 1]) and np.allclose(mixed[1], [np.sqrt(0.5)] * 2)
    assert mixed[2, 0] > 0.99
    assert np.allclose(np.linalg.norm(mixed, axis=1), 1.0)


def test_faiss_neighbours_match_brute_force_and_skip_empty_vectors() -> None:
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(300, 12)).astype(np.float32)
    vectors[7] = 0
    index = NeighbourIndex(vectors, np.array([f"i{i}" for i in range(300)]))
    scores, rows = index.search(vectors[10:30], 5)
    ref_scores, ref_rows = brute_force_search(vectors, vectors[10:30], 5)
    assert np.allclose(scores, ref_scores, atol=1e-5)
    assert (rows == ref_rows).mean() > 0.98  # float rounding may swap a near-tie
    found = index.neighbours("i3", 10)
    assert len(found) == 10 and "i3" not in dict(found) and "i7" not in dict(found)
    assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
    assert index.neighbours("i7") == []


@pytest.mark.slow
def test_projection_is_reproducible_for_a_fixed_seed() -> None:
    from core.projection import project

    rng = np.random.default_rng(0)
    vectors = np.concatenate([rng.normal(loc=c, size=(80, 8)) for c in (-3, 0, 3)]).astype(np.float32)
    first, again, other = project(vectors, seed=5), project(vectors, seed=5), project(vectors, seed=6)
    assert first.shape == (240, 2) and first.dtype == np.float32
    assert np.array_equal(first, again)
    assert not np.allclose(first, other)


@pytest.mark.slow
def test_projection_lays_out_identical_rows_together() -> None:
    from core.projection import project

    rng = np.random.default_rng(1)
    distinct = np.concatenate([rng.normal(loc=c, size=(30, 8)) for c in (-3, 3)]).astype(np.float32)
    rows = np.repeat(np.arange(len(distinct)), 25)  # 25 items share each content vector, as on Mango
    layout = project(distinct[rows], seed=3)
    assert layout.shape == (len(rows), 2) and np.array_equal(layout, project(distinct[rows], seed=3))
    spread = np.ptp(layout, axis=0).max()
    centres = np.stack([layout[rows == r].mean(axis=0) for r in range(len(distinct))])
    within = np.linalg.norm(layout - centres[rows], axis=1).max()
    assert 0 < within < 0.05 * spread  # copies sit visibly together, not on one pixel nor spread over the map


def test_an_ensemble_averages_members_trained_on_the_same_items_and_is_stored_whole() -> None:
    from core.artifacts import torch_state_to_arrays
    from core.models.long_tail.encoder import make_ensemble

    catalogue, target = _planted_content()
    features = build_content_features(catalogue)
    params = LongTailParams(epochs=4, hidden=32, embed_dim=4, patience=4, batch_size=64)
    members = [train_encoder(features, target, np.ones(len(target), bool), params, member=i) for i in range(3)]
    # the same training and validation items (the blend is fitted on the validation ones), other weights
    for m in members[1:]:
        np.testing.assert_array_equal(m.val_items, members[0].val_items)
        np.testing.assert_array_equal(m.train_items, members[0].train_items)
    outputs = [predict(m.model, features) for m in members]
    assert not np.allclose(outputs[0], outputs[1])
    ensemble = make_ensemble([m.model for m in members])
    np.testing.assert_allclose(predict(ensemble, features), normalise(np.mean(outputs, axis=0)), atol=1e-5)
    stored = torch_state_to_arrays(ensemble.state_dict(), prefix="encoder.")
    assert {k.split(".")[2] for k in stored} == {"0", "1", "2"}  # encoder.members.<i>.… for every member
    # member 0 is the encoder a single-encoder fit trains
    alone = train_encoder(features, target, np.ones(len(target), bool), params)
    np.testing.assert_allclose(predict(alone.model, features), outputs[0], atol=1e-6)
    with pytest.raises(ValidationError, match="encoders"):
        LongTailParams(encoders=0)
