"""The attribute model: masked losses never read a missing label, learns planted attributes, round-trips as arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from core.errors import ValidationError
from core.models.attributes.evaluate import split_catalogue
from core.models.attributes.features import OTHER, LabelSpace
from core.models.attributes.model import AttributeData, AttributeModel
from core.models.attributes.params import AttributeParams
from core.models.attributes.train import masked_loss
from core.services.attribute_eval import evaluate
from tests.attributes.conftest import FAST, synthetic_catalogue


def train(catalogue: pd.DataFrame, attributes: list[str] | None, params: AttributeParams) -> AttributeModel:
    return AttributeModel.train(AttributeData(catalogue, None if attributes is None else tuple(attributes)), params)


def test_masked_loss_gives_missing_cells_no_gradient() -> None:
    logits = [torch.randn(4, 3, requires_grad=True), torch.randn(4, 2, requires_grad=True)]
    labels = torch.tensor([[0, -1], [-1, 1], [2, -1], [-1, -1]])
    weights = [torch.ones(3), torch.ones(2)]
    masked_loss(logits, labels, weights).backward()
    assert torch.all(logits[0].grad[[1, 3]] == 0) and torch.all(logits[0].grad[[0, 2]].abs().sum(1) > 0)
    assert torch.all(logits[1].grad[[0, 2, 3]] == 0) and logits[1].grad[1].abs().sum() > 0
    with pytest.raises((IndexError, RuntimeError)):  # the sentinel would poison the loss if it were read
        torch.nn.functional.cross_entropy(logits[1].detach(), labels[:, 1])


@pytest.mark.parametrize("mode", ["masked", "tasks"])
def test_training_never_reads_a_missing_label(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    catalogue = synthetic_catalogue(160, seed=1, missing=0.5)
    real = torch.nn.functional.cross_entropy
    seen: list[int] = []

    def guarded(input, target, *args, **kwargs):  # noqa: A002
        assert bool((target >= 0).all()), "a missing label (-1) reached the loss"
        seen.append(int(target.numel()))
        return real(input, target, *args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "cross_entropy", guarded)
    # the network alone: the hybrid would fit it on its inner split, a subset of these labels
    model = train(catalogue, None, AttributeParams.from_dict({**FAST, "epochs": 1, "mode": mode, "hybrid_holdout": 0}))
    labels = model.space.encode(catalogue)
    assert (labels == -1).any()
    # every present label was used exactly once in the epoch (masked: per attribute per batch; tasks: per task batch)
    assert sum(seen) == int((labels >= 0).sum())


def test_learns_planted_attributes_beating_majority_and_applicability() -> None:
    catalogue = synthetic_catalogue(400, seed=2)
    train, test = split_catalogue(catalogue, 0.25, seed=0)
    result = evaluate(train, test, None, AttributeParams.from_dict(FAST), baseline=True)
    table = {row["attribute"]: row for row in result["table"]}
    assert set(table) == {"colour", "pattern", "sleeve_length"}
    for row in table.values():
        assert row["accuracy"] > row["majority_accuracy"] + 0.2, row
        assert 0 <= row["baseline_f1"] <= 1
    space = result["model"].space
    codes = {c: i + 1 for i, c in enumerate(space.categories)}
    sleeve = space.attributes.index("sleeve_length")
    assert space.applicable[codes["shirts"], sleeve] and not space.applicable[codes["jeans"], sleeve]
    assert np.asarray(result["confusion"]["colour"]["matrix"]).sum() == table["colour"]["test_samples"]


def test_min_support_folds_rare_values_into_other() -> None:
    catalogue = synthetic_catalogue(120, seed=3, missing=0.0)
    catalogue.loc[:1, "attr_colour"] = ["teal", "mauve"]
    space = LabelSpace.fit(catalogue, ["colour"], AttributeParams(min_support=3))
    assert "teal" not in space.classes["colour"] and space.classes["colour"][-1] == OTHER
    labels = space.encode(catalogue)
    assert space.classes["colour"][labels[0, 0]] == OTHER


def test_predict_gives_one_row_per_item_and_attribute() -> None:
    # the artifact round trip of the probabilities is the family contract's (tests/models/test_attributes_family.py)
    catalogue = synthetic_catalogue(200, seed=4)
    model = train(catalogue, None, AttributeParams.from_dict({**FAST, "epochs": 2}))
    frame = model.predict(catalogue)
    assert len(frame) == len(catalogue) * 3
    assert set(frame.columns) >= {"item_id", "attribute", "predicted", "probability", "alternatives",
                                  "has_value", "suspect"}
    assert frame["has_value"].sum() == sum(catalogue[f"attr_{a}"].notna().sum() for a in model.attributes)


def test_suspect_when_a_confident_prediction_disagrees() -> None:
    catalogue = synthetic_catalogue(300, seed=5, missing=0.1)
    model = train(catalogue, ["colour"], AttributeParams.from_dict({**FAST, "suspect_threshold": 0.6}))
    probe = catalogue.iloc[:3].copy()
    wrong = {"black": "white", "white": "red", "red": "navy", "navy": "black"}
    probe["attr_colour"] = [wrong[n.split()[0]] for n in probe["name"]]
    frame = model.predict(probe)
    assert frame["suspect"].all(), frame
    assert not model.predict(catalogue.iloc[:0]).shape[0]


def test_bad_input_is_refused_with_a_message() -> None:
    catalogue = synthetic_catalogue(50)
    with pytest.raises(ValidationError, match="unique"):
        train(pd.concat([catalogue, catalogue.iloc[:1]]), None, AttributeParams(epochs=1))
    with pytest.raises(ValidationError, match="attr_size"):
        train(catalogue, ["size"], AttributeParams(epochs=1))
    with pytest.raises(ValidationError, match=r"unknown parameter\(s\) \['epoch'\]"):
        AttributeParams.from_dict({"epoch": 3})


def test_word_sequences_keep_order_mark_unknown_words_and_pad() -> None:
    from core.features.text import PAD, UNKNOWN, WordSequencer

    fit_on = pd.DataFrame({"name": ["red shirt", "blue shirt"], "description": ["short sleeves", "long sleeves"]})
    words = WordSequencer(min_df=1, max_words=4).fit(fit_on)
    ids = {w: k + 2 for k, w in enumerate(words.vocabulary)}
    out = words.transform(pd.DataFrame({"name": ["shirt red", "green"], "description": ["short sleeves collar", None]}))
    assert out.dtype == np.int64 and out.shape == (2, 4)  # "shirt red . short sleeves collar" cut at 4 words
    assert out[0].tolist() == [ids["shirt"], ids["red"], ids["short"], ids["sleeves"]]
    assert out[1].tolist() == [UNKNOWN, PAD, PAD, PAD]
    assert words.vocabulary[0] in ("shirt", "sleeves")  # the most frequent words come first
    loaded = WordSequencer.from_arrays(words.to_arrays())
    assert loaded.max_words == 4 and loaded.vocabulary.tolist() == words.vocabulary.tolist()


def test_padding_never_changes_what_the_word_convolution_finds() -> None:
    catalogue = synthetic_catalogue(120, seed=6)
    model = train(catalogue, None, AttributeParams.from_dict({**FAST, "epochs": 1}))
    net = model.net.eval()
    ids = torch.from_numpy(model.encoder.words.transform(catalogue.iloc[:1]))
    ids = ids[:, : int((ids != 0).sum())]
    padded = torch.nn.functional.pad(ids, (0, 40), value=0)
    with torch.no_grad():
        torch.testing.assert_close(net.phrases(ids), net.phrases(padded))
        assert not torch.equal(net.phrases(ids), net.phrases(ids.flip(1)))  # word order reaches the text vector


def test_a_version_saved_before_the_word_convolution_still_loads() -> None:
    catalogue = synthetic_catalogue(150, seed=7)
    model = train(catalogue, None, AttributeParams.from_dict({**FAST, "epochs": 1, "word_channels": 0}))
    arrays, meta = model.to_artifact()
    assert not any(k.startswith("words.") for k in arrays)
    old = {k: v for k, v in meta["params"].items() if not k.startswith(("word_", "max_words"))}
    loaded = AttributeModel.from_artifact(arrays, {**meta, "params": old})
    for name, p in model.probabilities(catalogue).items():
        np.testing.assert_allclose(p, loaded.probabilities(catalogue)[name], rtol=1e-5, atol=1e-6)


def test_an_even_word_window_trains_and_a_zero_width_is_refused() -> None:
    catalogue = synthetic_catalogue(100, seed=8)
    model = train(catalogue, None, AttributeParams.from_dict({**FAST, "epochs": 1, "word_window": 4}))
    assert all(p.shape == (len(catalogue), len(model.space.classes[a])) for a,
               p in model.probabilities(catalogue).items())
    with pytest.raises(ValidationError, match="word_window"):
        AttributeParams.from_dict({"word_window": 0})
    assert AttributeParams.from_dict({"word_channels": 0, "word_window": 0}).word_channels == 0
