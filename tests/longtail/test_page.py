"""AppTest of the Long-tail maps page on a tiny trained workspace."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.config import REPO_ROOT

pytestmark = pytest.mark.slow  # the shared fixture trains a version with three UMAP maps (numba compiles once)

PAGE = str(REPO_ROOT / "pages" / "long_tail.py")


def _run(**state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def test_page_shows_maps_neighbours_and_evaluation(trained_ws) -> None:
    at = _run()
    assert not at.exception, at.exception
    charts = at.get("plotly_chart")
    assert len(charts) == 2  # the two maps: the other tabs run only when opened
    spec = charts[0].proto.spec
    # WebGL points as typed arrays, with no per-point hover text or ids (a selection maps back on the server).
    assert "scattergl" in spec and '"bdata"' in spec
    assert "customdata" not in spec and "hovertemplate" not in spec
    # One item picked: its neighbours in both spaces are listed as cards with interaction counts.
    assert any("interactions" in m.value for m in at.markdown) or any("interactions" in c.value for c in at.caption) \
        or any("interactions" in t.value for t in at.get("markdown"))
    assert at.selectbox(key="lt_item_pick").value
    texts = " ".join(m.value for m in at.markdown)
    assert "ALS (collaborative)" in texts and "Predicted from content" in texts
    evaluation = _run(lt_tab="Evaluation")
    assert not evaluation.exception, evaluation.exception
    assert len(evaluation.get("plotly_chart")) == 1 and len(evaluation.dataframe) == 1  # NDCG chart, bucket table
    versions = _run(lt_tab="Train & versions")
    assert not versions.exception, versions.exception
    assert not versions.get("plotly_chart") and len(versions.dataframe) >= 1  # the versions table, no maps
    from core.models.long_tail import LongTailParams

    averaged = next(n for n in versions.number_input if n.label == "Encoders averaged")
    assert averaged.value == LongTailParams().encoders  # the form trains with the CLI's defaults
    at.radio(key="lt_space").set_value("blended").run()
    assert not at.exception, at.exception
    texts = " ".join(m.value for m in at.markdown)
    assert "Blended" in texts and texts.count("cosine") >= 2


def test_a_selection_on_one_map_is_listed_and_highlighted_on_both(trained_ws) -> None:
    at = _run(lt_selected=[0, 1, 2, 3, 4])
    assert not at.exception, at.exception
    assert any("5 selected items" in s.value for s in at.subheader)
    maps = [c.proto.spec for c in at.get("plotly_chart")[:2]]
    assert all('"name":"selected"' in spec.replace(" ", "") for spec in maps)


def test_search_narrows_the_item_picker(trained_ws) -> None:
    at = _run()
    at.text_input(key="lt_search").input("sneaker").run()
    assert not at.exception, at.exception
    options = at.selectbox(key="lt_item_pick").options
    assert options and all("sneaker" in o for o in options)
