"""AffinityModel scoring and top-k; a version saved before the family contract; hand-over; planted structure."""

from __future__ import annotations

import numpy as np
import pytest

from core.artifacts import ArtifactStore
from core.data.idmap import IdMap
from core.errors import UnknownIdError, ValidationError
from core.features.splits import split_interactions
from core.models.affinity import AffinityModel, AffinityParams
from core.models.affinity.evaluate import affinity_scorer, evaluate_both, popularity_scorer
from core.models.affinity.train import AffinityTrainer, hand_over

SLOTS = ("embeddings", "embedding_gradients", "embedding_momentum", "biases", "bias_gradients", "bias_momentum")


def _random_model(n_users=37, n_brands=11, d=5, seed=0) -> AffinityModel:
    rng = np.random.default_rng(seed)
    return AffinityModel(IdMap.from_values([f"u{i:03d}" for i in range(n_users)]),
                         IdMap.from_values([f"b{i:02d}" for i in range(n_brands)]),
                         rng.normal(size=(n_users, d)), rng.normal(size=(n_brands, d)),
                         rng.normal(size=n_users), rng.normal(size=n_brands), AffinityParams(n_factors=d))


def test_scores_are_dot_plus_both_biases():
    m = _random_model()
    full = m.user_factors @ m.brand_factors.T + m.user_bias[:, None] + m.brand_bias[None, :]
    np.testing.assert_allclose(m.scores_for_brand(3), full[:, 3], rtol=1e-5)
    np.testing.assert_allclose(m.scores_for_user(7), full[7], rtol=1e-5)
    np.testing.assert_allclose(m.scores_for_brands(np.array([1, 4])), full[:, [1, 4]].T, rtol=1e-5)
    assert m.scores_for_brand(0).dtype == np.float32
    with pytest.raises(UnknownIdError):
        m.scores_for_brand(11)


@pytest.mark.parametrize("chunk", [1, 5, 4096])
def test_top_brands_for_users_matches_a_full_sort(chunk):
    m = _random_model()
    full = m.scores_for_users(np.arange(m.n_users))
    users = np.array([3, 0, 36, 3])
    idx, scores = m.top_brands_for_users(4, users, chunk=chunk)
    assert idx.dtype == np.int64 and scores.dtype == np.float32 and idx.shape == (4, 4)
    np.testing.assert_array_equal(idx, np.argsort(-full[users], axis=1, kind="stable")[:, :4])
    np.testing.assert_allclose(scores, -np.sort(-full[users], axis=1)[:, :4], rtol=1e-5)
    all_idx, _ = m.top_brands_for_users(50)  # k larger than the brands: every brand, best first
    assert all_idx.shape == (m.n_users, m.n_brands)


def test_a_version_saved_before_the_family_contract_still_loads(tmp_path):
    """The arrays and meta the old `to_arrays()` and training job wrote (params with keys of other releases)."""
    m = _random_model()
    store = ArtifactStore(tmp_path)
    old_arrays = {"user_ids": m.user_ids.to_array(), "brand_ids": m.brand_ids.to_array(),
                  "user_factors": m.user_factors, "brand_factors": m.brand_factors,
                  "user_bias": m.user_bias, "brand_bias": m.brand_bias}
    old_meta = {"params": {"n_factors": 5, "iterations_done": 3, "half_life_days": None, "activate": "if_none"},
                "metrics": {"user_precision@10": 0.25}, "curve": [], "split": {}, "by": "local"}
    version = store.save(AffinityModel.kind, old_arrays, old_meta)
    art = store.load(AffinityModel.kind, version)
    back = AffinityModel.from_artifact(art.arrays, art.meta)
    assert list(back.user_ids.external) == list(m.user_ids.external)
    np.testing.assert_array_equal(back.scores_for_brand(2), m.scores_for_brand(2))
    assert back.params == AffinityParams(n_factors=5)
    assert back.training.metrics == {"user_precision@10": 0.25}


def test_params_are_validated_and_round_trip():
    p = AffinityParams(iterations=3, transposed_lr_ratio=0.5)
    assert AffinityParams.from_dict({**p.to_dict(), "unknown": 1}, strict=False) == p
    with pytest.raises(ValidationError, match="direction"):
        AffinityParams(direction="sideways")


def _state(model, prefix):
    return {slot: getattr(model, f"{prefix}_{slot}").copy() for slot in SLOTS}


@pytest.mark.parametrize("schedule", ["adagrad", "adadelta"])
def test_hand_over_leaves_both_models_with_identical_state_swapped(planted, schedule):
    frame, _ = planted
    split = split_interactions(frame, method="random")
    trainer = AffinityTrainer(split.train, split.user_ids, split.column_ids,
                              AffinityParams(n_factors=8, learning_schedule=schedule, direction="bidirectional"))
    trainer.epoch("users")  # only the users×brands model has learned: the two now differ
    assert not np.allclose(trainer.users_model.item_embeddings, trainer.brands_model.user_embeddings)
    hand_over(trainer.users_model, trainer.brands_model)
    for a, b in (("user", "item"), ("item", "user")):
        src, dst = _state(trainer.users_model, a), _state(trainer.brands_model, b)
        for slot in SLOTS:
            np.testing.assert_array_equal(src[slot], dst[slot], err_msg=f"{a}_{slot}")
    # The accumulators really moved, so the test above compares learned optimiser state, not initial values.
    moved = "gradients" if schedule == "adagrad" else "momentum"
    assert np.any(getattr(trainer.users_model, f"item_embedding_{moved}") != (1.0 if schedule == "adagrad" else 0.0))
    trainer.iterate()  # a full iteration ends with the state handed back: identical again
    for a, b in (("user", "item"), ("item", "user")):
        for slot in SLOTS:
            np.testing.assert_array_equal(getattr(trainer.users_model, f"{a}_{slot}"),
                                          getattr(trainer.brands_model, f"{b}_{slot}"))


def test_frozen_row_bias_keeps_each_direction_from_moving_the_other_sides_bias(planted):
    frame, _ = planted
    split = split_interactions(frame, method="random")
    trainer = AffinityTrainer(split.train, split.user_ids, split.column_ids, AffinityParams(n_factors=8, iterations=1))
    before = trainer.users_model.user_biases.copy()
    trainer.epoch("users")
    np.testing.assert_array_equal(trainer.users_model.user_biases, before)
    assert np.any(trainer.users_model.item_biases != 0)  # the brand bias did learn


def test_bidirectional_model_finds_the_planted_structure_both_ways(planted):
    frame, truth = planted
    split = split_interactions(frame, method="random", seed=3)
    trainer = AffinityTrainer(split.train, split.user_ids, split.column_ids,
                              AffinityParams(n_factors=16, iterations=6, direction="bidirectional"))
    for _ in range(6):
        trainer.iterate()
    model = trainer.model()
    learned = evaluate_both(affinity_scorer(model), split)
    popular = evaluate_both(popularity_scorer(split.train), split)
    assert learned["user_precision@10"] > 1.2 * popular["user_precision@10"]
    assert learned["brand_precision@10"] > 1.5 * popular["brand_precision@10"]
    assert learned["user_auc"] > 0.75 and learned["brand_auc"] > 0.75
    # The learned brand-brand similarity agrees with the planted brand factors.
    order = np.array([int(b[1:]) for b in model.brand_ids.external])
    planted_sim = np.corrcoef(truth["brand_factors"][order])
    learned_sim = np.corrcoef(model.brand_factors)
    iu = np.triu_indices(len(order), 1)
    assert np.corrcoef(planted_sim[iu], learned_sim[iu])[0, 1] > 0.5
