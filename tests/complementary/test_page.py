"""AppTest of the outfit labelling page: cards, a decision written at once, undo, agreement, complete-the-look."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.config import REPO_ROOT
from core.data.workspace import Workspace
from core.models.complementary.params import ComplementaryParams
from core.services import outfit_training, outfits
from tests.complementary.conftest import make_workspace, synthetic_outfits

PAGE = str(REPO_ROOT / "pages" / "outfit_labelling.py")


@pytest.fixture
def page_ws(atelier_home: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    catalogue, outfit_rows = synthetic_outfits(300, 300)
    ws = make_workspace(atelier_home / "workspaces", "outfits", catalogue, outfit_rows)
    monkeypatch.setenv("ATELIER_WORKSPACE", "outfits")
    outfit_training.submit_training(ws, ComplementaryParams(epochs=2, dim=16, hidden=32), "local", inline=True)
    outfits.propose_candidates(ws, n=20)
    return ws


def test_label_undo_and_panels(page_ws: Workspace) -> None:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception, at.exception
    markdown = " ".join(m.value for m in at.markdown)
    assert "Pair" in " ".join(c.value for c in at.caption)
    first = outfits.claim_pair(page_ws, "local")
    assert first.item_a["name"] in markdown and first.item_b["name"] in markdown

    at.button(key="decide_no").click().run()
    assert not at.exception, at.exception
    labels = outfits.all_labels(page_ws)
    assert labels[["pair_id", "labeller", "label"]].values.tolist() == [[first.pair_id, "local", "no"]]
    assert outfits.claim_pair(page_ws, "local").pair_id != first.pair_id  # the next pair is shown
    assert any(m.label == "Your labels today" and m.value == "1" for m in at.metric)

    at.button(key="undo_last").click().run()
    assert outfits.all_labels(page_ws).empty
    assert outfits.claim_pair(page_ws, "local").pair_id == first.pair_id


def test_only_the_open_tab_runs_so_shortcuts_cannot_label_unseen_pairs(page_ws: Workspace) -> None:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    for view, present, absent in (("Model", "retrain", "decide_yes"), ("Agreement", None, "decide_no"),
                                  ("Complete the look", None, "undo_last")):
        at.session_state["outfit_view"] = view
        at.run()
        assert not at.exception, at.exception
        keys = {b.key for b in at.button}
        assert absent not in keys, (view, keys)  # no Y/N/U/Z button is mounted outside "Label pairs"
        if present:
            assert present in keys
    metrics = {m.label for m in at.metric}
    at.session_state["outfit_view"] = "Complete the look"
    assert any(m.label == "Outfit score (item + each category's best)" for m in at.run().metric)
    at.session_state["outfit_view"] = "Agreement"
    assert any("Fleiss" in m.label for m in at.run().metric)
    at.session_state["outfit_view"] = "Model"
    shown = {m.label: m.value for m in at.run().metric}
    assert float(shown["Pair AUC"]) > 0.5 and shown["Labels used"] == "0"  # the newest version's held-out figures
    assert "Your labels today" not in metrics


def test_an_empty_queue_says_why_and_what_to_do(atelier_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalogue, outfit_rows = synthetic_outfits(120, 60)
    ws = make_workspace(atelier_home / "workspaces", "fresh", catalogue, outfit_rows)
    monkeypatch.setenv("ATELIER_WORKSPACE", "fresh")
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["outfit_auto_queued"] = True  # this session already had its first batch
    at.run()
    assert not at.exception, at.exception
    assert "until a model is trained" in " ".join(i.value for i in at.info)
    outfits.propose_candidates(ws, n=1)
    assert outfits.claim_pair(ws, "someone else") is not None
    assert "other stylists" in " ".join(i.value for i in at.run().info)


def test_an_empty_queue_gets_a_first_batch_so_the_page_opens_on_work(atelier_home: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    catalogue, outfit_rows = synthetic_outfits(120, 60)
    ws = make_workspace(atelier_home / "workspaces", "first", catalogue, outfit_rows)
    monkeypatch.setenv("ATELIER_WORKSPACE", "first")
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception, at.exception
    said = " ".join(i.value for i in at.info)
    assert f"{outfits.FIRST_BATCH} pairs across categories" in said and "queued to start with" in said, said
    assert {"decide_yes", "decide_no", "decide_unsure"} <= {b.key for b in at.button}  # a pair to judge at once
    shown = {m.label: m.value for m in at.metric}
    assert shown["Pairs waiting"] == str(outfits.FIRST_BATCH)
    assert sum(outfits.queue_status(ws).values()) == outfits.FIRST_BATCH
    at.run()  # a rerun queues nothing more
    assert sum(outfits.queue_status(ws).values()) == outfits.FIRST_BATCH


def test_complete_the_look_shows_the_item_beside_its_suggestions(page_ws: Workspace) -> None:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["outfit_view"] = "Complete the look"
    at.run()
    assert not at.exception, at.exception
    item = at.selectbox(key="look_item").value
    card = outfits.item_card(page_ws, item)
    markdown = [m.value for m in at.markdown]
    assert "**The item**" in markdown
    assert f"**{card['name']}**" in markdown  # the anchor's own card, not only its name in the picker
    assert any(f"`{item}`" in c.value for c in at.caption)
