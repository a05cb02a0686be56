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
