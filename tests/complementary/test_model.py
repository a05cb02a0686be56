"""The pair model and its evaluation on synthetic outfits whose rule is known (colour family per outfit)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from core.errors import UnknownIdError, ValidationError
from core.models.complementary.features import TypeSampler, build_item_features, build_training_set
from core.models.complementary.model import ComplementaryData, ComplementaryModel
from core.models.complementary.params import ComplementaryParams
from core.services import outfit_eval
from tests.complementary.conftest import synthetic_outfits


def train(catalogue: pd.DataFrame, outfits: pd.DataFrame, labels: pd.DataFrame | None,
          params: ComplementaryParams) -> tuple[ComplementaryModel, list[dict]]:
    model = ComplementaryModel.train(ComplementaryData(catalogue, outfits, labels), params)
    return model, model.history

FAST = ComplementaryParams(epochs=4, dim=32, hidden=64, batch_size=512)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 50)), min_size=2, max_size=200),
       st.floats(0.05, 0.95), st.integers(0, 10_000))
def test_split_never_puts_an_outfit_on_both_sides(rows: list[tuple[int, int]], fraction: float, seed: int) -> None:
    outfits = pd.DataFrame([(f"o{o}", f"i{i}") for o, i in rows], columns=["outfit_id", "item_id"])
    if outfits["outfit_id"].nunique() < 2:
        return
    train_o, test_o = outfit_eval.split_outfits(outfits, fraction, seed)
    assert not set(train_o["outfit_id"]) & set(test_o["outfit_id"])
    assert len(train_o) + len(test_o) == len(outfits)
    assert len(test_o) > 0


def test_evaluate_refuses_an_outfit_on_both_sides() -> None:
    catalogue, outfits = synthetic_outfits(100, 40)
    with pytest.raises(ValidationError, match="split by outfit"):
        outfit_eval.evaluate(catalogue, outfits, outfits.head(8), FAST)


def test_type_sampler_swaps_for_another_item_of_the_same_type() -> None:
    types = np.array([0, 0, 0, 1, 1, 2])
    sampler = TypeSampler(types, np.random.default_rng(0))
    items = np.array([0, 1, 2, 3, 4, 5] * 50)
    out = sampler.draw(items)
    assert (types[out] == types[items]).all()
    assert (out[items != 5] != items[items != 5]).all()  # only a single-item type keeps its item


def test_model_learns_the_planted_rule_and_beats_prior_and_random() -> None:
    catalogue, outfits = synthetic_outfits()
    train_o, test_o = outfit_eval.split_outfits(outfits, 0.25, 1)
    result = outfit_eval.evaluate(catalogue, train_o, test_o, FAST)
    model, prior, rand = result["model"], result["prior"], result["random"]
    # Ceilings of a perfect scorer: a same-type swap keeps the colour family half the time, so pair AUC
    # tops out at 0.75; FITB at E[1 / (1 + Binomial(3, 1/2))] = 0.47 (random: 0.5 and 0.25).
    assert model["pair_auc"] > 0.7 and model["fitb_accuracy"] > 0.4
    assert model["pair_auc"] > rand["pair_auc"] + 0.15
    assert 0.35 < rand["pair_auc"] < 0.65
    assert prior["pair_auc"] > 0.6  # the colour field's PMI carries the rule too


def test_labels_change_the_next_training_set() -> None:
    catalogue, outfits = synthetic_outfits(120, 60)
    feats = build_item_features(catalogue)
    before = build_training_set(outfits, feats, None)
    labels = pd.DataFrame({"item_a": ["i0001", "i0002"], "item_b": ["i0003", "i0004"], "label": [0, 1]})
    after = build_training_set(outfits, feats, labels)
    assert len(before.labelled) == 0 and len(after.labelled) == 2
    assert after.labelled_y.tolist() == [0.0, 1.0]
    assert feats.item_ids[after.labelled[0]].tolist() == ["i0001", "i0003"]
    np.testing.assert_array_equal(before.positives, after.positives)


def test_a_does_not_go_label_lowers_that_pairs_score() -> None:
    catalogue, outfits = synthetic_outfits(200, 300)
    pair = outfits.groupby("outfit_id")["item_id"].apply(list).iloc[0][:2]
    params = ComplementaryParams(epochs=4, dim=32, hidden=64, batch_size=512, label_weight=30.0)
    base, _ = train(catalogue, outfits, None, params)
    labelled, _ = train(catalogue, outfits,
                        pd.DataFrame({"item_a": [pair[0]], "item_b": [pair[1]], "label": [0]}), params)
    assert labelled.score_pairs([pair[0]], [pair[1]])[0] < base.score_pairs([pair[0]], [pair[1]])[0] - 0.05


def test_training_records_one_finite_loss_per_epoch() -> None:
    # the artifact round trip (no object arrays, same scores) is the family contract's
    # (tests/models/test_complementary_family.py)
    catalogue, outfits = synthetic_outfits(150, 80)
    _, history = train(catalogue, outfits, None, ComplementaryParams(epochs=1, dim=16, hidden=32))
    assert len(history) == 1 and np.isfinite(history[0]["loss"])


def test_scores_are_symmetric_and_unknown_ids_are_named() -> None:
    catalogue, outfits = synthetic_outfits(150, 80)
    model, _ = train(catalogue, outfits, None, ComplementaryParams(epochs=1, dim=16, hidden=32))
    a, b = np.arange(0, 40), np.arange(40, 80)
    np.testing.assert_allclose(model.score_rows(a, b), model.score_rows(b, a), rtol=1e-5)
    with pytest.raises(UnknownIdError, match="nope"):
        model.score_pairs(["nope"], ["i0001"])


def test_complete_the_look_gives_other_categories_only() -> None:
    catalogue, outfits = synthetic_outfits()
    model, _ = train(catalogue, outfits, None, FAST)
    item = catalogue.item_id[0]
    look = model.complete_the_look(item, per_slot=2)
    own = catalogue.set_index("item_id").loc[item, "category_group"]
    assert own not in set(look["slot"]) and look.groupby("slot").size().max() == 2
    assert look.groupby("slot")["score"].apply(lambda s: s.is_monotonic_decreasing).all()
    # the planted rule: the best picks share the item's colour family
    colour = catalogue.set_index("item_id")["attr_colour"]
    family = {c: k % 2 for k, c in enumerate(("black", "white", "red", "blue", "green", "beige"))}
    best = look[look["rank"] == 1]["item_id"]
    assert np.mean([family[colour[i]] == family[colour[item]] for i in best]) >= 2 / 3


def test_bad_params_are_refused_with_the_known_names() -> None:
    with pytest.raises(ValidationError, match="unknown parameter"):
        ComplementaryParams.from_dict({"epochz": 3})
    with pytest.raises(ValidationError, match="fusion"):
        ComplementaryParams.from_dict({"fusion": ["concat", "xor"]})
