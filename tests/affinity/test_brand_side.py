"""The brand side's champion/challenger: blend arithmetic, the choice on validation, what is served and stored."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from core.artifacts import ArtifactStore
from core.data.idmap import IdMap
from core.errors import ArtifactError
from core.features.interactions import user_brand_matrix
from core.features.splits import split_interactions
from core.models.affinity import AffinityModel, AffinityParams
from core.models.affinity.brand_side import WEIGHTS, BrandSide, blend, choose, fit_als
from core.models.affinity.evaluate import ValidationSet
from core.models.affinity.train import AffinityTrainer, fit_matrices


def _random_model(n_users=300, n_brands=13, d=5, seed=0) -> AffinityModel:
    rng = np.random.default_rng(seed)
    return AffinityModel(IdMap.from_values([f"u{i:03d}" for i in range(n_users)]),
                         IdMap.from_values([f"b{i:02d}" for i in range(n_brands)]),
                         rng.normal(size=(n_users, d)), rng.normal(size=(n_brands, d)),
                         rng.normal(size=n_users), rng.normal(size=n_brands) * 5, AffinityParams(n_factors=d))


def _z(scores: np.ndarray) -> np.ndarray:
    """Each column (brand) standardised over all users."""
    return (scores - scores.mean(axis=0)) / scores.std(axis=0)


@pytest.mark.parametrize("weight", [0.75, 0.5, 0.25])
def test_a_blend_ranks_customers_by_the_weighted_standardised_scores_of_both_models(weight):
    model = _random_model()
    rng = np.random.default_rng(1)
    als = (rng.normal(size=(model.n_users, 4)).astype(np.float32),
           rng.normal(size=(model.n_brands, 4)).astype(np.float32))
    own = model.user_factors @ model.brand_factors.T + model.user_bias[:, None] + model.brand_bias[None, :]
    want = weight * _z(own) + (1 - weight) * _z(als[0] @ als[1].T)
    served = model.with_brand_side(blend(model, als, weight))
    got = served.scores_for_brands(np.arange(model.n_brands)).T
    # equal up to one constant per brand (the means, which do not change who ranks first)
    np.testing.assert_allclose(got - got.mean(axis=0), want - want.mean(axis=0), atol=2e-4)
    np.testing.assert_allclose(served.scores_for_brand(4), got[:, 4], atol=1e-6)
    # a customer's brands are still the model's own scores
    np.testing.assert_allclose(served.scores_for_user(7), model.scores_for_user(7))
    assert served.brand_side.source == "blend" and "bi-directional" in served.brand_side.label


def test_the_ends_of_the_blend_are_the_models_alone():
    model = _random_model()
    rng = np.random.default_rng(2)
    als = (rng.normal(size=(model.n_users, 3)), rng.normal(size=(model.n_brands, 3)))
    alone = model.with_brand_side(blend(model, als, 1.0))
    assert alone.brand_side.user_factors is None and alone.brand_side.source == "bidirectional"
    np.testing.assert_array_equal(alone.scores_for_brand(2), model.scores_for_brand(2))
    only_als = model.with_brand_side(blend(model, als, 0.0))
    assert only_als.brand_side.source == "als"
    np.testing.assert_allclose(only_als.scores_for_brand(2), (als[0] @ als[1][2]).astype(np.float32), rtol=1e-5)


def test_a_stored_brand_side_comes_back_and_an_incomplete_one_is_refused(tmp_path):
    model = _random_model()
    rng = np.random.default_rng(3)
    side = blend(model, (rng.normal(size=(model.n_users, 3)), rng.normal(size=(model.n_brands, 3))), 0.25,
                 {"1.00": 0.2, "0.25": 0.3}, 20.0)
    served = model.with_brand_side(side)
    store = ArtifactStore(tmp_path)
    arrays, meta = served.to_artifact()
    art = store.load(AffinityModel.kind, store.save(AffinityModel.kind, arrays, meta))
    back = AffinityModel.from_artifact(art.arrays, art.meta)
    assert back.brand_side.weight == 0.25 and back.brand_side.margin() == pytest.approx(0.5)
    np.testing.assert_array_equal(back.scores_for_brand(5), served.scores_for_brand(5))

    del arrays["audience_user_factors"]
    with pytest.raises(ArtifactError, match="lacks its factors.*retrain"):
        AffinityModel.from_artifact(arrays, meta)
    with pytest.raises(ArtifactError, match="do not match the id maps"):
        model.with_brand_side(BrandSide(0.5, {}, 20.0, np.zeros((5, 3)), np.zeros((model.n_brands, 3))))
    # a version from before the champion/challenger: the bi-directional model serves both sides
    old = {k: v for k, v in served.to_artifact()[0].items() if not k.startswith("audience_")}
    assert AffinityModel.from_artifact(old, {"params": {"n_factors": 5}}).brand_side.source == "bidirectional"


def test_choose_picks_the_best_candidate_on_validation_and_ties_go_to_the_bidirectional_model(planted):
    frame, _ = planted
    split = split_interactions(frame, method="random", seed=5)
    params = AffinityParams(n_factors=8, iterations=3)
    trainer = AffinityTrainer(split.train, split.user_ids, split.column_ids, params)
    for _ in range(3):
        trainer.iterate()
    held_out = ValidationSet.of(split, 400, None, seed=0)
    model = trainer.model()
    weight, validation = choose(model, fit_als(split.train, 8, 20.0, seed=0), held_out)
    assert sorted(validation) == sorted(f"{w:.2f}" for w in WEIGHTS)
    assert validation[f"{weight:.2f}"] == max(validation.values())
    assert weight == max(w for w in WEIGHTS if validation[f"{w:.2f}"] == max(validation.values()))


def test_training_serves_the_winner_and_can_be_told_not_to_challenge(planted):
    frame, _ = planted
    split_of = lambda: split_interactions(frame, method="random", seed=5)  # noqa: E731
    all_of = lambda: user_brand_matrix(frame)  # noqa: E731
    model = fit_matrices(split_of, all_of, AffinityParams(n_factors=8, iterations=2, validation_users=400))
    side = model.brand_side
    assert len(side.validation) == len(WEIGHTS) and side.validation[f"{side.weight:.2f}"] == max(
        side.validation.values())
    assert (side.user_factors is None) == (side.weight == 1.0)
    assert model.training.timings  # ALS and the candidates are in the timings, not hidden
    plain = fit_matrices(split_of, all_of, AffinityParams(n_factors=8, iterations=2, validation_users=400,
                                                          challenge_brand_side=False))
    assert plain.brand_side == BrandSide()


def test_fit_als_is_seeded():
    rng = np.random.default_rng(0)
    train = sp.random(80, 12, density=0.2, format="csr", random_state=rng, dtype=np.float32)
    a, b = fit_als(train, 4, 20.0, seed=3), fit_als(train, 4, 20.0, seed=3)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[0].shape == (80, 4) and a[1].shape == (12, 4) and a[0].dtype == np.float32


def _fit_with_scripted_pick(planted, monkeypatch, pick, iterations: int) -> AffinityModel:
    """fit_matrices on the planted pairs with `pick_iteration` replaced by `pick` (index into the curve so far)."""
    import core.models.affinity.train as train

    monkeypatch.setattr(train, "pick_iteration", lambda curve, *a, **k: pick(curve))
    frame, _ = planted
    return fit_matrices(lambda: split_interactions(frame, method="random", seed=5), lambda: user_brand_matrix(frame),
                        AffinityParams(n_factors=8, iterations=iterations, validation_users=400))


@pytest.mark.parametrize("pick, iterations, moved", [
    # the first iteration is best throughout: the trainer runs on (patience 2) and changes its arrays in place
    (lambda curve: 0, 4, 2),
    # each side is judged against its best so far, so a third evaluation can move the pick from the second
    # iteration back to the first: the contest must meet the first, not the second (overwritten) one
    (lambda curve: len(curve) - 1 if len(curve) <= 2 else 0, 5, 1),
], ids=["best-first", "pick-moves-back"])
def test_the_contest_meets_the_iteration_finally_picked(planted, monkeypatch, pick, iterations, moved):
    model = _fit_with_scripted_pick(planted, monkeypatch, pick, iterations)
    curve = model.training.curve
    assert len(curve) == 3 and model.params.iterations == 1
    assert model.brand_side.validation["1.00"] == curve[0]["brand_precision@10"]
    assert curve[moved]["brand_precision@10"] != curve[0]["brand_precision@10"]  # the arrays did move after it
