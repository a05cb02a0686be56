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


def test_the_review_queue_lists_planted_errors_and_confirm_settles_a_suspect(atelier_home) -> None:
    """A retrained version carries its suspects; 'the catalogue is right' is a decision like any other."""
    from core.services import attributes as svc
    from tests.attributes.conftest import FAST, make_workspace, run_training_job, synthetic_catalogue

    frame = synthetic_catalogue(300, seed=4)
    shown = frame["attr_colour"].notna()
    planted = frame.index[shown][:6]
    frame.loc[planted, "attr_colour"] = ["navy" if c != "navy" else "white" for c in frame.loc[planted, "attr_colour"]]
    ws = make_workspace(atelier_home / "workspaces", "shop", frame)
    assert run_training_job(ws, **FAST, baseline=False).status == "done"
    active = svc.require_active(ws)
    queue = svc.review_queue(ws, active, "colour", which="suspect", limit=100)
    wrong = set(frame.loc[planted, "item_id"])
    assert wrong <= set(queue["item_id"]), "every planted colour error is a suspect"
    assert queue["relative_confidence"].is_monotonic_increasing
    first = queue.iloc[0]
    svc.decide(ws, first["item_id"], "colour", "confirm", first["current"], "ann", "c-1",
               seen_version=int(first["version"]))
    assert first["item_id"] not in set(svc.review_queue(ws, active, "colour", which="suspect", limit=100)["item_id"])
    decided = svc.decided_values(ws).set_index("item_id")
    assert decided.loc[first["item_id"], "value"] == first["current"]  # feeds training like any review
    fewer = svc.review_queue(ws, active, "colour", which="suspect", limit=100, sensitivity=0.001)
    assert len(fewer) < len(queue)  # the page's sensitivity: stricter finds fewer
