"""Confident learning finds catalogue errors the text contradicts, never judging a label with a model that saw it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.models.attributes import errors

COLOURS = ("red", "navy", "white", "black")


def catalogue(n: int = 400, wrong: int = 12, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Items whose name says their colour; `wrong` of them catalogued with another colour."""
    rng = np.random.default_rng(seed)
    true = rng.choice(COLOURS, n)
    shown = true.copy()
    bad = rng.choice(n, wrong, replace=False)
    shown[bad] = [COLOURS[(COLOURS.index(c) + 1) % len(COLOURS)] for c in true[bad]]
    frame = pd.DataFrame({"item_id": [f"i{k}" for k in range(n)], "name": [f"{c} cotton shirt" for c in true],
                          "description": "A shirt.", "attr_colour": shown,
                          "attr_fit": rng.choice(("slim", "regular"), n)})  # fit: nothing in the text says it
    known = pd.DataFrame({"item_id": frame["item_id"].iloc[bad], "attribute": "colour"})
    return frame, known


def test_every_contradicted_value_is_found_and_the_unpredictable_attribute_stays_quiet() -> None:
    frame, known = catalogue()
    suspects = errors.find_errors(frame)
    report = errors.recall_precision(suspects, known).set_index("attribute")
    assert report.loc["colour", "recall"] == 1.0 and report.loc["colour", "precision"] == 1.0
    assert report.loc["all", "precision"] >= 0.8  # fit, random, yields almost no suspect at the default cutoff
    assert list(suspects["rank"]) == list(range(1, len(suspects) + 1))
    first = suspects.iloc[0]
    shown = frame.set_index("item_id").loc[first["item_id"]]
    assert first["catalogue_value"] == shown["attr_colour"] and first["suggested"] in shown["name"]


def test_out_of_fold_probabilities_never_come_from_a_model_that_saw_the_label() -> None:
    """A model trained on its own labels would call a unique item's label right; out of fold it cannot know it."""
    frame, _ = catalogue(wrong=0)
    frame.loc[0, ["name", "attr_colour"]] = ["zorblax cotton shirt", "red"]  # a word no other item has
    oof = errors.out_of_fold(frame, "colour")
    assert oof is not None and oof.probs.shape == (len(frame), len(COLOURS))
    np.testing.assert_allclose(oof.probs.sum(axis=1), 1.0, rtol=1e-5)
    red = list(oof.classes).index("red")
    assert oof.probs[0, red] < 0.6  # in-sample it would be ~1


def test_a_higher_cutoff_finds_more_with_more_false_alarms() -> None:
    frame, known = catalogue(wrong=30)
    strict, loose = errors.find_errors(frame, cutoff=0.02), errors.find_errors(frame, cutoff=1.0)
    assert len(strict) < len(loose)
    assert set(zip(strict["item_id"], strict["attribute"])) <= set(zip(loose["item_id"], loose["attribute"]))
