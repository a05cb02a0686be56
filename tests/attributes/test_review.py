"""Review decisions: stored at once and idempotent, stale edits refused, undo, bulk accept, labels feed the next
model."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

from core.data.workspace import Workspace
from core.errors import StaleEditError, ValidationError
from core.services import attributes as svc
from tests.attributes.conftest import FAST, make_workspace, run_training_job, synthetic_catalogue


def _train(ws: Workspace, **extra) -> dict:
    info = run_training_job(ws, **{**FAST, "baseline": False, **extra})
    assert info.status == "done", info.error
    return info.result


@pytest.fixture
def trained(attr_ws: Workspace) -> svc.ActiveModel:
    _train(attr_ws, refit=False)  # the split's model serves: one training is enough for queue tests
    return svc.require_active(attr_ws)


def test_queue_lists_missing_applicable_items_in_confidence_order(attr_ws: Workspace, trained: svc.ActiveModel) -> None:
    queue = svc.review_queue(attr_ws, trained, "sleeve_length", "missing", "confidence", limit=500)
    catalogue = attr_ws.catalogue().set_index("item_id")
    assert len(queue) > 0
    assert catalogue.loc[queue["item_id"], "attr_sleeve_length"].isna().all()
    assert set(catalogue.loc[queue["item_id"], "category"]) <= {"shirts", "tshirts"}  # not applicable to jeans
    assert queue["probability"].is_monotonic_decreasing
    unsure = svc.review_queue(attr_ws, trained, "sleeve_length", "missing", "uncertainty", limit=500)
    assert unsure["probability"].is_monotonic_increasing


def test_decisions_are_stored_idempotent_and_undoable(attr_ws: Workspace, trained: svc.ActiveModel) -> None:
    row = svc.review_queue(attr_ws, trained, "colour", "missing", limit=1).iloc[0]
    first = svc.decide(attr_ws, row.item_id, "colour", "accept", row.predicted, "ann", "req-1", 0, row.predicted,
                       row.probability)
    again = svc.decide(attr_ws, row.item_id, "colour", "accept", row.predicted, "ann", "req-1", 0)
    assert again.duplicate and again.review_id == first.review_id
    assert len(svc.reviews(attr_ws)) == 1
    assert svc.effective_catalogue(attr_ws).set_index("item_id").loc[row.item_id, "attr_colour"] == row.predicted
    assert row.item_id not in set(svc.review_queue(attr_ws, trained, "colour", "missing", limit=500)["item_id"])

    corrected = svc.decide(attr_ws, row.item_id, "colour", "correct", "red", "bob", "req-2", first.version)
    assert corrected.version == first.version + 1
    svc.undo(attr_ws, corrected.review_id, "bob", "undo-1")
    assert svc.effective_catalogue(attr_ws).set_index("item_id").loc[row.item_id, "attr_colour"] == row.predicted
    svc.undo(attr_ws, first.review_id, "ann", "undo-2")
    assert pd.isna(svc.effective_catalogue(attr_ws).set_index("item_id").loc[row.item_id, "attr_colour"])
    history = svc.reviews(attr_ws)
    assert history["undone"].all() and len(history) == 2
    with pytest.raises(ValidationError):
        svc.decide(attr_ws, row.item_id, "colour", "correct", "", "bob", "req-3", 0)


def test_second_reviewer_on_a_stale_view_is_told(attr_ws: Workspace, trained: svc.ActiveModel) -> None:
    row = svc.review_queue(attr_ws, trained, "pattern", "missing", limit=1).iloc[0]
    svc.decide(attr_ws, row.item_id, "pattern", "accept", row.predicted, "ann", "a-1", seen_version=0)
    with pytest.raises(StaleEditError, match="reload"):
        svc.decide(attr_ws, row.item_id, "pattern", "correct", "solid", "bob", "b-1", seen_version=0)
    assert len(svc.reviews(attr_ws)) == 1


def test_concurrent_reviews_of_one_item_leave_one_value_and_a_message(attr_ws: Workspace,
                                                                      trained: svc.ActiveModel) -> None:
    row = svc.review_queue(attr_ws, trained, "colour", "missing", limit=1).iloc[0]
    values = ["black", "white", "red", "navy"]
    barrier, outcomes = threading.Barrier(len(values)), []

    def review(k: int) -> None:
        barrier.wait()
        try:
            svc.decide(attr_ws, row.item_id, "colour", "correct", values[k], f"user{k}", f"c-{k}", seen_version=0)
            outcomes.append(("ok", values[k]))
        except StaleEditError as error:
            outcomes.append(("stale", str(error)))

    threads = [threading.Thread(target=review, args=(k,)) for k in range(len(values))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [v for kind, v in outcomes if kind == "ok"]
    assert len(winners) == 1 and sum(kind == "stale" for kind, _ in outcomes) == len(values) - 1
    decided = svc.decided_values(attr_ws)
    assert decided[["item_id", "value"]].values.tolist() == [[row.item_id, winners[0]]]
    assert len(svc.reviews(attr_ws)) == 1


def test_bulk_accept_writes_what_the_preview_showed(attr_ws: Workspace, trained: svc.ActiveModel) -> None:
    preview = svc.bulk_preview(attr_ws, trained, "colour", 0.5)
    assert len(preview) > 0
    written = svc.bulk_accept(attr_ws, trained, "colour", 0.5, "ann", "bulk-1").written
    assert written == len(preview)
    assert svc.bulk_accept(attr_ws, trained, "colour", 0.5, "ann", "bulk-1").written == 0  # nothing left, same request
    decided = svc.decided_values(attr_ws).set_index("item_id")
    assert decided.loc[preview["item_id"], "value"].tolist() == preview["predicted"].tolist()
    rates = svc.acceptance(attr_ws, trained).set_index("attribute")
    assert rates.loc["colour", "accepted"] == written and rates.loc["colour", "acceptance_rate"] == 1.0


def test_export_marks_sources_and_escapes_formulas(attr_ws: Workspace, trained: svc.ActiveModel) -> None:
    row = svc.review_queue(attr_ws, trained, "colour", "missing", limit=1).iloc[0]
    svc.decide(attr_ws, row.item_id, "colour", "correct", "=HYPERLINK(1)", "ann", "x-1")
    frame = svc.consolidated_catalogue(attr_ws).set_index("item_id")
    assert frame.loc[row.item_id, "source_colour"] == "review"
    labelled = attr_ws.catalogue().dropna(subset=["attr_colour"])["item_id"].iloc[0]
    assert frame.loc[labelled, "source_colour"] == "catalogue"
    text = svc.export_catalogue(attr_ws, "ann").decode("utf-8")
    assert "'=HYPERLINK(1)" in text and ",=HYPERLINK" not in text


def test_a_corrected_label_changes_the_next_training_set_and_prediction(atelier_home) -> None:
    # Two new items named by a word no other item has, colour missing: only a reviewed label can teach it.
    catalogue = synthetic_catalogue(200, seed=6)
    extra = catalogue.iloc[:2].copy()
    extra["item_id"], extra["name"] = ["z1", "z2"], ["zorblax limited edition", "zorblax special drop"]
    extra["description"], extra["attr_colour"] = ["The zorblax capsule.", "The zorblax capsule, again."], None
    ws = make_workspace(atelier_home / "workspaces", "fix", pd.concat([catalogue, extra], ignore_index=True))
    params = {"epochs": 15, "min_df": 1, "evaluate": False, "activate": True}  # no held-out score: activate by hand
    _train(ws, **params)
    old = svc.require_active(ws).predictions("colour").set_index("item_id").loc["z1"]
    new_value = next(v for v in ("navy", "red", "white", "black") if v != old.predicted)
    svc.decide(ws, "z1", "colour", "correct", new_value, "ann", "fix-1", seen_version=0)
    svc.decide(ws, "z2", "colour", "correct", new_value, "ann", "fix-2", seen_version=0)
    training_set = svc.effective_catalogue(ws).set_index("item_id")
    assert training_set.loc[["z1", "z2"], "attr_colour"].tolist() == [new_value, new_value]
    assert _train(ws, **params)["labels_from_reviews"] == 2
    after = svc.require_active(ws).predictions("colour").set_index("item_id").loc["z1"]
    assert after.predicted == new_value, (old.to_dict(), after.to_dict())
    assert svc.effective_catalogue(ws, use_reviews=False).set_index("item_id").loc[["z1", "z2"],
                                                                                   "attr_colour"].isna().all()


def test_concurrent_corrections_of_a_decided_value_leave_one_value_and_tell_the_rest(attr_ws: Workspace) -> None:
    # The other path than a first decision: a value exists (version 1) and four reviewers who saw it correct it at once.
    item = attr_ws.catalogue()["item_id"].iloc[0]
    first = svc.decide(attr_ws, item, "colour", "correct", "black", "seed", "seed-1", seen_version=0)
    values = ["white", "red", "navy", "black"]
    barrier, outcomes = threading.Barrier(len(values)), []

    def review(k: int) -> None:
        barrier.wait()
        try:
            svc.decide(attr_ws, item, "colour", "correct", values[k], f"user{k}", f"e-{k}", seen_version=first.version)
            outcomes.append(("ok", values[k]))
        except StaleEditError as error:
            outcomes.append(("stale", str(error)))

    threads = [threading.Thread(target=review, args=(k,)) for k in range(len(values))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [v for kind, v in outcomes if kind == "ok"]
    messages = [m for kind, m in outcomes if kind == "stale"]
    assert len(winners) == 1 and len(messages) == len(values) - 1, outcomes
    assert all(f"item {item} (colour) was changed" in m and "reload" in m for m in messages), messages
    decided = svc.decided_values(attr_ws)
    assert decided[["item_id", "value"]].values.tolist() == [[item, winners[0]]]
    assert len(svc.reviews(attr_ws)) == 2  # the seed and the one winner; the others wrote nothing


def test_undo_latest_takes_back_the_newest_decision_not_the_oldest(attr_ws: Workspace,
                                                                   trained: svc.ActiveModel) -> None:
    first, second = svc.review_queue(attr_ws, trained, "colour", "missing", limit=2).itertuples()
    svc.decide(attr_ws, first.item_id, "colour", "accept", first.predicted, "ann", "u-1")
    svc.decide(attr_ws, second.item_id, "colour", "skip", None, "ann", "u-2")
    svc.decide(attr_ws, second.item_id, "pattern", "skip", None, "bob", "u-3")  # someone else's, later still
    undone = svc.undo_latest(attr_ws, "ann", "u-undo-1")
    history = svc.reviews(attr_ws).set_index(["item_id", "attribute"])
    assert undone is not None and history.loc[(second.item_id, "colour"), "undone"]
    assert not history.loc[(first.item_id, "colour"), "undone"]  # the older decision stands
    assert not history.loc[(second.item_id, "pattern"), "undone"]  # bob's is bob's
    svc.undo_latest(attr_ws, "ann", "u-undo-2")
    assert svc.undo_latest(attr_ws, "ann", "u-undo-3") is None  # nothing of ann's left


def test_bulk_accept_of_a_stale_preview_says_how_many_someone_else_decided(attr_ws: Workspace,
                                                                           trained: svc.ActiveModel) -> None:
    preview = svc.bulk_preview(attr_ws, trained, "colour", 0.0)
    shown = preview.head(4)
    # between the preview and the click, bob decides one item and carol skips another
    svc.decide(attr_ws, shown.item_id[0], "colour", "correct", "red", "bob", "b-1")
    svc.decide(attr_ws, shown.item_id[1], "colour", "skip", None, "carol", "c-1")
    result = svc.bulk_accept(attr_ws, trained, "colour", 0.0, "ann", "bulk-2", seen=shown)
    assert (result.shown, result.written, result.decided_elsewhere) == (4, 2, 2)
    assert "Accepted 2 of 4" in result.message("colour")
    assert "2 were decided by someone else meanwhile" in result.message("colour")
    decided = svc.decided_values(attr_ws).set_index("item_id")["value"]
    assert decided[shown.item_id[0]] == "red"  # bob's value stands
    again = svc.bulk_accept(attr_ws, trained, "colour", 0.0, "ann", "bulk-2", seen=shown)
    assert again.written == 0 and again.already == 2  # the same click twice writes once

