"""The preview's customer index and the rank-once, cut-many audience agree with plain pandas and the old full path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data.workspace import Workspace
from core.features.customer_events import CustomerEvents
from core.services.audience import (AudienceSpec, Exclusions, build_audience, cut_audience, exclusion_masks, explain,
                                    prepare_data, rank_audience)
from tests.crm.conftest import planted_customers, planted_interactions
from tests.crm.test_pages import frame, open_audience


def random_interactions(seed: int = 0, n: int = 5_000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"user_id": [f"u{i}" for i in rng.integers(0, 300, n)],
                          "brand_id": [f"b{i}" for i in rng.integers(0, 20, n)],
                          "event": rng.choice(["view", "click", "order", "cart"], n)})
    frame.loc[3, "event"], frame.loc[4, "brand_id"], frame.loc[5, "user_id"] = None, None, None
    return frame


def test_event_counts_match_a_groupby() -> None:
    frame = random_interactions()
    index = CustomerEvents.build(frame)
    users = ["u7", "nobody", "u0", "u299", "u7"]
    brands = ["b1", "b3", "b19", "no-such-brand"]
    got = index.event_counts(users, brands)
    sub = frame[frame.brand_id.isin(brands)].dropna()
    expected = sub.groupby(["user_id", "brand_id", "event"]).size()
    for user, counts in zip(users, got):
        want: dict[str, dict[str, int]] = {}
        if user in expected.index.get_level_values(0):
            for (brand, event), c in expected.loc[user].items():
                want.setdefault(brand, {})[event] = int(c)
        assert counts == want, user
    assert index.n_rows == int(frame.user_id.notna().sum())


def test_explain_orders_events_by_count_then_name() -> None:
    frame = pd.DataFrame({"user_id": ["a"] * 6 + ["b"], "brand_id": ["x", "x", "x", "x", "y", "y", "x"],
                          "event": ["view", "order", "order", "click", "view", "view", "view"]})
    why = explain(CustomerEvents.build(frame), ["a", "b", "c"], {"x", "y"}, {"x"})
    assert why[0] == "order ×2, click ×1, view ×1 on x; view ×2 on y (similar)"
    assert why[1] == "view ×1 on x"
    assert why[2].startswith("no events on these brands")
    assert explain(frame, ["a"], {"x", "y"}, {"x"}) == why[:1]  # a DataFrame is indexed the same way


@pytest.mark.parametrize("rule,value", [("top_n", 7), ("top_n", 500), ("top_percent", 12.5), ("min_score", 0.6),
                                        ("min_score", 99.0)])
def test_one_ranking_cut_many_ways_is_the_plain_sort(model, rule: str, value: float) -> None:
    data = prepare_data(model, planted_interactions(), planted_customers())
    exclusions = Exclusions(suppressed=True, bought_brand_within_days=30, min_activity=2)
    ranked = rank_audience(model, AudienceSpec(["acme"], exclusions=exclusions), data)  # its cut is not used
    spec = AudienceSpec(["acme"], rule=rule, value=value, exclusions=exclusions, control_percent=20, seed=5)
    cut = cut_audience(model, ranked, spec)
    # by hand: drop every excluded user, sort the rest by score (ties by lower index), take the rule's prefix
    masks = exclusion_masks(model, spec, data)
    out = np.logical_or.reduce(list(masks.values()))
    scores = model.scores_for_brand(0)
    eligible = np.flatnonzero(~out)
    ordered = eligible[np.lexsort((eligible, -scores[eligible]))]
    k = {"top_n": min(int(value), len(ordered)), "top_percent": int(np.ceil(len(ordered) * value / 100)),
         "min_score": int((scores[ordered] >= np.float32(value)).sum())}[rule]
    assert cut.user_index.tolist() == ordered[:k].tolist()
    assert cut.n_eligible == len(eligible) and cut.size == k
    if k:
        assert cut.excluded_above_cutoff == {n: int((m & (scores >= cut.cutoff)).sum()) for n, m in masks.items()}
    assert cut.groups.tolist() == build_audience(model, spec, data).groups.tolist()


def test_an_import_rebuilds_the_why_index(crm_ws: Workspace) -> None:
    """The page caches the customer index by the interactions table: a replaced table must show its events."""
    at = open_audience(brand="acme", value="5")
    assert not at.exception, at.exception
    assert "order ×1 on acme" in frame(at, "why")["why"].iloc[0]
    table = planted_interactions()
    extra = table[(table.user_id == "u000") & (table.brand_id == "acme")].copy()
    pd.concat([table, extra, extra]).to_parquet(crm_ws.table_path("interactions"), index=False)
    at.run()
    assert not at.exception, at.exception
    assert "order ×3 on acme" in frame(at, "why")["why"].iloc[0]
