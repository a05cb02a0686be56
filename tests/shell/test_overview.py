"""Workspace overview numbers against direct computations on the demo."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.services.workspace import attribute_coverage, overview, popularity_curve


def test_popularity_curve_is_the_share_held_by_the_top_entities() -> None:
    curve = popularity_curve(np.array([0, 6, 0, 2]), points=5)  # x = 0, 25, 50, 75, 100 %
    np.testing.assert_allclose(curve["interaction_share"], [0.0, 0.75, 1.0, 1.0, 1.0])
    empty = popularity_curve(np.array([], dtype=int))
    assert (empty["interaction_share"] == 0).all()


def test_counts_tail_and_curves_match_the_tables(demo_workspace) -> None:
    view = overview(demo_workspace)
    inter, cat = demo_workspace.interactions(), demo_workspace.catalogue()
    assert view.counts == {"users": 4000, "brands": 60, "items": 2500, "interactions": len(inter),
                           "outfits": 800, "customers": 4000}
    counts = inter["item_id"].value_counts().reindex(cat["item_id"], fill_value=0)
    assert view.tail["item_tail_share"] == pytest.approx((counts <= 3).mean())
    assert view.tail["item_zero_share"] == pytest.approx((counts == 0).mean())
    top = counts.sort_values(ascending=False).head(500).sum() / counts.sum()
    assert view.tail["top20_item_share"] == pytest.approx(top, abs=1e-3)
    for curve in (view.item_curve, view.brand_curve):
        share = curve["interaction_share"].to_numpy()
        assert share[0] == 0 and share[-1] == pytest.approx(1) and (np.diff(share) >= -1e-12).all()
    assert sum(view.events.values()) == len(inter)
    assert view.period[0] < view.period[1]
    assert view.active_models.empty


def test_attribute_coverage_counts_labelled_items(demo_workspace) -> None:
    view = overview(demo_workspace)
    cat = demo_workspace.catalogue()
    table = view.attribute_coverage.set_index("attribute")
    assert list(table.index) == [c[5:] for c in cat.columns if c.startswith("attr_")]
    for name, row in table.iterrows():
        assert row["labelled"] == cat[f"attr_{name}"].notna().sum()
        assert row["labelled"] + row["missing"] == len(cat)
    assert view.coverage_by_group.loc["sleeve_length", "shoes"] == 0  # does not apply to shoes
    assert view.coverage_by_group.loc["colour", "shoes"] > 0.2
    # Applicability inferred from the data matches the demo's planted applicability.
    from core.data.demo import load_planted

    planted = load_planted(demo_workspace)
    complete = np.ones(len(cat), bool)
    for name, row in table.iterrows():
        applies = planted[f"attr_applicable_{name}"]
        assert row["applies_to"] == applies.sum()
        assert row["coverage_applicable"] == pytest.approx(cat[f"attr_{name}"].notna()[applies].mean())
        complete &= cat[f"attr_{name}"].notna().to_numpy() | ~applies
    assert view.complete_share == pytest.approx(complete.mean())


def test_blank_strings_count_as_missing() -> None:
    frame = pd.DataFrame({"item_id": ["a", "b", "c"], "attr_x": ["red", " ", None]})
    row = attribute_coverage(frame).iloc[0]
    assert (row["labelled"], row["missing"], row["values"]) == (1, 2, 1)
