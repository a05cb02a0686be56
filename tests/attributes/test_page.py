"""AppTest of the review queue: a value picked and corrected in the same rerun is the value stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.data.workspace import Workspace
from core.services import attributes as svc
from tests.attributes.conftest import FAST, run_training_job

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "attribute_review.py")


@pytest.fixture
def page_ws(attr_ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    info = run_training_job(attr_ws, **FAST, baseline=False, refit=False)
    assert info.status == "done", info.error
    monkeypatch.setenv("ATELIER_WORKSPACE", attr_ws.name)
    return attr_ws


def test_correct_stores_the_value_picked_just_before_the_click(page_ws: Workspace) -> None:
    at = AppTest.from_file(PAGE, default_timeout=90).run()
    assert not at.exception
    at.selectbox(key="attr_attribute").set_value("pattern").run()
    card_keys = [b.key for b in at.button if b.key and b.key.startswith("correct_pattern_")]
    assert card_keys, "the queue shows no pattern cards"
    item = card_keys[0].removeprefix("correct_pattern_")
    pick = at.selectbox(key=f"pick_pattern_{item}")
    other = next(v for v in pick.options if v != pick.value)
    # a fast reviewer: the pick and the press reach the server in one rerun, before the card was redrawn
    pick.set_value(other)
    at.button(key=f"correct_pattern_{item}").click().run()
    assert not at.exception
    assert any(f"{item}: pattern set = {other}" in s.value for s in at.success), [s.value for s in at.success]
    stored = svc.decided_values(page_ws)
    row = stored[(stored["item_id"] == item) & (stored["attribute"] == "pattern")]
    assert row["value"].tolist() == [other]


def _first_item(at: AppTest, attribute: str) -> str:
    keys = [b.key for b in at.button if b.key and b.key.startswith(f"accept_{attribute}_")]
    assert keys, f"the queue shows no {attribute} cards"
    return keys[0].removeprefix(f"accept_{attribute}_")


def test_the_first_card_answers_to_keys_and_its_buttons_say_which(page_ws: Workspace) -> None:
    at = AppTest.from_file(PAGE, default_timeout=90).run()
    item = _first_item(at, "colour")
    for action, key in (("accept", "A"), ("correct", "E"), ("skip", "S")):
        button = at.button(key=f"{action}_colour_{item}")
        assert button.proto.shortcut.upper() == key  # Streamlit draws the key on the button
    second = [b for b in at.button if b.key and b.key.startswith("accept_colour_")][1]
    assert not second.proto.shortcut  # one card answers to keys, not every card at once
    undo = at.button(key="attr_undo_last")
    assert undo.proto.shortcut.upper() == "Z"
    assert any("A** accept" in c.value for c in at.caption), [c.value for c in at.caption]


def test_undo_takes_back_the_latest_decision_and_the_item_returns(page_ws: Workspace) -> None:
    at = AppTest.from_file(PAGE, default_timeout=90).run()
    first = _first_item(at, "colour")
    at.button(key=f"accept_colour_{first}").click().run()
    second = _first_item(at, "colour")
    at.button(key=f"skip_colour_{second}").click().run()
    assert _first_item(at, "colour") not in (first, second)
    at.button(key="attr_undo_last").click().run()
    assert not at.exception
    assert any(f"Undone: {second} (colour)" in i.value for i in at.info), [i.value for i in at.info]
    assert _first_item(at, "colour") == second  # the latest decision came back, not the oldest
    standing = svc.active_decisions(page_ws, "colour")
    assert standing["item_id"].tolist() == [first]


def test_the_decisions_tab_offers_the_newest_decision_to_undo_first(page_ws: Workspace) -> None:
    rows = svc.review_queue(page_ws, svc.require_active(page_ws), "colour", "missing", limit=2)
    for k, row in enumerate(rows.itertuples()):
        svc.decide(page_ws, row.item_id, "colour", "accept", row.predicted, "local", f"d-{k}")
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.session_state["attr_view"] = "Decisions"
    at.run()
    newest = int(svc.reviews(page_ws)["id"].max())
    assert at.selectbox(key="dec_undo_choice").value == newest


def test_bulk_accept_refreshes_the_preview_and_says_what_someone_else_decided(page_ws: Workspace) -> None:
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.session_state["attr_view"] = "Bulk accept"
    at.run()
    at.slider(key="bulk_threshold").set_value(0.5).run()
    count = int(next(m.value for m in at.markdown if "items would get a value" in m.value).split("**")[1])
    assert count > 1
    shown = svc.bulk_preview(page_ws, svc.require_active(page_ws), "colour", 0.5)
    # another merchandiser corrects one of the previewed items before this one clicks
    svc.decide(page_ws, shown.item_id[0], "colour", "correct", "red", "bob", "bob-1")
    at.button(key="bulk_accept").click().run()
    assert not at.exception
    assert any(f"Accepted {count - 1} of {count} predictions for colour: 1 was decided by someone else meanwhile"
               in w.value for w in at.warning), [w.value for w in at.warning]
    assert any("**0** items would get a value" in m.value for m in at.markdown)  # the preview was drawn again
    assert svc.decided_values(page_ws).set_index("item_id").loc[shown.item_id[0], "value"] == "red"


@pytest.fixture
def planted_ws(atelier_home: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Workspace, set[str]]:
    """A workspace with six wrong colours and their truth on disk (as a demo keeps it), trained."""
    import numpy as np

    from tests.attributes.conftest import make_workspace, synthetic_catalogue

    frame = synthetic_catalogue(300, seed=4)
    planted = frame.index[frame["attr_colour"].notna()][:6]
    frame.loc[planted, "attr_colour"] = ["navy" if c != "navy" else "white" for c in frame.loc[planted, "attr_colour"]]
    ws = make_workspace(atelier_home / "workspaces", "planted", frame)
    np.savez(ws.planted_path, item_ids=frame["item_id"].to_numpy(dtype=str),
             error_item=np.asarray(planted, dtype=np.int64), error_attribute=np.array(["colour"] * len(planted)))
    assert run_training_job(ws, **FAST, baseline=False, refit=False).status == "done"
    monkeypatch.setenv("ATELIER_WORKSPACE", ws.name)
    return ws, set(frame.loc[planted, "item_id"])


def test_suspects_have_a_sensitivity_a_quality_report_and_a_catalogue_is_right_answer(planted_ws) -> None:
    ws, wrong = planted_ws
    at = AppTest.from_file(PAGE, default_timeout=90).run()
    at.selectbox(key="attr_attribute").set_value("colour").run()
    at.radio(key="attr_which").set_value("suspect").run()
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "suspect colour values at this sensitivity" in captions
    assert "find 6 of 6" in captions or "of 6 (recall" in captions, captions  # the finder's quality, on the page
    assert any("How good is the error finder" in e.label for e in at.expander)
    cards = [b.key.removeprefix("confirm_colour_") for b in at.button if b.key and b.key.startswith("confirm_colour_")]
    assert cards and set(cards) & wrong, "planted colour errors are among the suspect cards"
    assert at.button(key=f"confirm_colour_{cards[0]}").proto.shortcut.upper() == "K"
    shown = svc.review_queue(ws, svc.require_active(ws), "colour", "suspect", limit=100)
    current = shown.set_index("item_id").loc[cards[0], "current"]
    at.button(key=f"confirm_colour_{cards[0]}").click().run()
    assert not at.exception
    assert any(f"{cards[0]}: colour kept as catalogued = {current}" in s.value for s in at.success)
    decided = svc.decided_values(ws).set_index("item_id")
    assert decided.loc[cards[0], "value"] == current  # a review: the next training set keeps this value
    left = [b.key for b in at.button if b.key and b.key.startswith("confirm_colour_")]
    assert f"confirm_colour_{cards[0]}" not in left
    at.slider(key="attr_sensitivity").set_value(0.02).run()
    fewer = [b.key for b in at.button if b.key and b.key.startswith("confirm_colour_")]
    assert len(fewer) < len(left)  # a stricter finder lists fewer suspects
