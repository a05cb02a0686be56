"""The demo generator's planted structure: sizes, long tail, signals in content, masked attributes, outfits."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.columns import EVENTS
from core.data.demo import ATTRIBUTES, GROUPS, SIZES, STYLE_WORDS, STYLES, generate_demo, load_planted
from core.errors import ConfigError, WorkspaceError


@pytest.fixture(scope="module")
def planted(demo_workspace) -> dict[str, np.ndarray]:
    return load_planted(demo_workspace)


def test_sizes_and_ids_are_consistent(demo_workspace) -> None:
    size = SIZES["small"]
    inter, cat = demo_workspace.interactions(), demo_workspace.catalogue()
    assert len(inter) == size.interactions and len(cat) == size.items
    assert cat["item_id"].is_unique and cat["brand"].nunique() == size.brands
    assert inter["user_id"].nunique() == size.users  # every user has at least one interaction
    assert set(inter["item_id"]) <= set(cat["item_id"])
    brand_of = cat.set_index("item_id")["brand"]
    assert (inter["brand_id"].to_numpy() == brand_of.loc[inter["item_id"]].to_numpy()).all()
    assert demo_workspace.outfits()["outfit_id"].nunique() == size.outfits
    assert len(demo_workspace.customers()) == size.users
    ids, vectors = demo_workspace.image_features()
    assert vectors.shape == (size.items, 32) and vectors.dtype == np.float32 and list(ids) == list(cat["item_id"])


def test_tables_pass_the_import_validators(demo_workspace) -> None:
    validate_frame = pytest.importorskip("core.services.imports").validate_frame
    for kind in ("interactions", "catalogue", "outfits", "customers"):
        frame = getattr(demo_workspace, kind)()
        assert len(validate_frame(frame, kind, kind)) == len(frame)


def test_item_popularity_has_a_real_long_tail(demo_workspace) -> None:
    counts = demo_workspace.interactions()["item_id"].value_counts().reindex(
        demo_workspace.catalogue()["item_id"], fill_value=0).sort_values(ascending=False)
    assert (counts <= 3).mean() > 0.5  # most items have 0-3 interactions
    assert counts.head(len(counts) // 5).sum() / counts.sum() > 0.75  # the top 20% hold most of them
    assert counts.head(len(counts) // 100).sum() / counts.sum() < 0.5  # ... without one item taking everything


def test_events_decrease_with_intent_and_span_ninety_days(demo_workspace) -> None:
    inter = demo_workspace.interactions()
    shares = inter["event"].value_counts(normalize=True).reindex(list(EVENTS))
    assert shares.notna().all() and (np.diff(shares.to_numpy()) < 0).all()
    assert str(inter["timestamp"].dt.tz) == "UTC"
    assert (inter["timestamp"].max() - inter["timestamp"].min()).days >= 85


def test_users_act_on_their_planted_taste(demo_workspace, planted) -> None:
    inter = demo_workspace.interactions()
    brand_index = pd.Index(planted["brand_ids"]).get_indexer(inter["brand_id"])
    user_index = pd.Index(planted["user_ids"]).get_indexer(inter["user_id"])
    matched = (planted["brand_style"][brand_index] == planted["user_styles"][user_index, 0]).mean()
    assert matched > 3 / len(STYLES)  # chance is ~1/8


def test_high_intent_events_follow_a_better_taste_match(demo_workspace, planted) -> None:
    inter = demo_workspace.interactions()
    items = pd.Index(planted["item_ids"]).get_indexer(inter["item_id"])
    users = pd.Index(planted["user_ids"]).get_indexer(inter["user_id"])
    score = np.einsum("nk,nk->n", planted["user_factors"][users], planted["item_factors"][items])
    by_event = pd.Series(score).groupby(inter["event"].to_numpy()).mean()
    assert by_event["order"] > by_event["view"]


def test_content_carries_the_latent_style(demo_workspace, planted) -> None:
    cat = demo_workspace.catalogue()
    style = planted["item_style"]
    words_found = [any(w.lower() in n.lower() for w in STYLE_WORDS[STYLES[s]]) for n, s in zip(cat["name"], style)]
    assert np.mean(words_found) == 1.0  # the name opens with a word of the item's style
    sporty = cat["category"][style == STYLES.index("sporty")]
    assert (sporty == "sneakers").mean() > 1.5 * (cat["category"] == "sneakers").mean()
    # Image features are a noisy linear function of the latent factors: least squares recovers them well.
    _, vectors = demo_workspace.image_features()
    design = np.c_[vectors, np.ones(len(vectors))]
    coef, *_ = np.linalg.lstsq(design, planted["item_factors"], rcond=None)
    residual = planted["item_factors"] - design @ coef
    r2 = 1 - residual.var(axis=0).sum() / planted["item_factors"].var(axis=0).sum()
    assert r2 > 0.6


def test_attributes_are_partly_missing_with_planted_errors(demo_workspace, planted) -> None:
    cat = demo_workspace.catalogue()
    shown_total = 0
    for name in ATTRIBUTES:
        applicable = planted[f"attr_applicable_{name}"]
        column = cat[f"attr_{name}"]
        missing = column.isna().to_numpy()
        assert missing[~applicable].all()  # e.g. no sleeve length on shoes
        rate = missing[applicable].mean()
        assert 0.25 < rate < 0.8, (name, rate)
        shown = ~missing
        shown_total += shown.sum()
        truth = planted[f"attr_true_{name}"]
        agree = (column.to_numpy()[shown] == truth[shown]).mean()
        assert 0.95 < agree < 1.0  # ~2% planted catalogue errors
    assert ((0.30 <= planted["attr_missing_rate"]) & (planted["attr_missing_rate"] <= 0.75)).all()
    errors = planted["error_item"]
    assert 0.01 < len(errors) / shown_total < 0.03
    for item, attr, true, wrong in zip(errors[:50], planted["error_attribute"], planted["error_true"],
                                       planted["error_wrong"]):
        assert cat[f"attr_{attr}"].iloc[item] == wrong != true
    assert set(cat["category_group"]) == set(GROUPS)


def test_outfits_follow_the_planted_rule(demo_workspace, planted) -> None:
    outfits = demo_workspace.outfits()
    cat = demo_workspace.catalogue().set_index("item_id")
    index = pd.Index(planted["item_ids"]).get_indexer(outfits["item_id"])
    families = planted["colour_families"][planted["item_colour"][index]]
    frame = outfits.assign(style=planted["item_style"][index], family=families,
                           group=cat.loc[outfits["item_id"], "category_group"].to_numpy(),
                           division=cat.loc[outfits["item_id"], "division"].to_numpy())
    for _, rows in frame.groupby("outfit_id"):
        assert 3 <= len(rows) <= 4 and rows["group"].is_unique
        assert rows["style"].nunique() == 1 and rows["division"].nunique() == 1
        assert rows["division"].iloc[0] in ("women", "men")
        assert len(set(rows["family"]) - {"neutral"}) <= 1  # one accent family plus neutrals


def test_customers_carry_suppression_flags(demo_workspace) -> None:
    customers = demo_workspace.customers()
    assert customers["user_id"].is_unique
    assert 0.03 < customers["unsubscribed"].mean() < 0.07
    assert 0.002 < customers["bounced"].mean() < 0.02
    assert 0.0 < customers["test_account"].mean() < 0.015


def test_same_seed_same_data_other_seed_other_data(tmp_path) -> None:
    first = generate_demo(tmp_path / "a", size="tiny", seed=7)
    second = generate_demo(tmp_path / "b", size="tiny", seed=7)
    third = generate_demo(tmp_path / "c", size="tiny", seed=8)
    for kind in ("interactions", "catalogue", "outfits", "customers"):
        pd.testing.assert_frame_equal(getattr(first, kind)(), getattr(second, kind)())
    assert not first.catalogue()["name"].equals(third.catalogue()["name"])
    np.testing.assert_array_equal(first.image_features()[1], second.image_features()[1])
    manifest = json.loads((first.path / "workspace.json").read_text())
    assert manifest["source"] == "demo" and manifest["planted"]["factors"] == len(STYLES)


def test_never_overwrites_without_force_and_leaves_nothing_on_failure(tmp_path, monkeypatch) -> None:
    ws = generate_demo(tmp_path / "demo", size="tiny")
    before = ws.catalogue().copy()
    with pytest.raises(WorkspaceError, match="--force"):
        generate_demo(tmp_path / "demo", size="tiny", seed=9)
    pd.testing.assert_frame_equal(ws.catalogue(), before)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", broken)
    with pytest.raises(OSError):
        generate_demo(tmp_path / "other", size="tiny")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]  # no half-written folder, no staging left
    with pytest.raises(ConfigError, match="small"):
        generate_demo(tmp_path / "x", size="huge")


def test_cli_writes_the_demo_and_reports_json(tmp_path, capsys) -> None:
    from core.cli import main

    assert main(["demo", "--out", str(tmp_path / "cli"), "--size", "tiny", "--seed", "3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["users"] == SIZES["tiny"].users and result["seed"] == 3
    assert main(["demo", "--out", str(tmp_path / "cli"), "--size", "tiny"]) == 2  # exists: refused, exit 2
