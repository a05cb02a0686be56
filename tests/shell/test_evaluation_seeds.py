"""`--seeds` on the evaluation commands: mean ± sd over one run per seed, and bad seed lists refused."""

from __future__ import annotations

import json

import pytest

from core.cli import main as cli_main
from core.evaluation.seeds import over_seeds, seed_list


def test_over_seeds_gives_mean_sd_and_values_and_leaves_empty_figures_out():
    runs = [{"a": {"p": 0.2, "n": 3, "name": "x"}, "b": None}, {"a": {"p": 0.4, "n": 5, "name": "x"}, "b": None},
            {"a": {"p": float("nan"), "n": 7, "name": "x"}, "b": None}]
    summary = over_seeds(runs)
    assert summary["mean"]["a"]["p"] == pytest.approx(0.3) and summary["sd"]["a"]["p"] == pytest.approx(0.1414, 1e-3)
    assert summary["values"]["a"]["n"] == [3.0, 5.0, 7.0] and summary["mean"]["a"]["name"] == "x"
    assert summary["mean"]["b"] is None
    assert over_seeds(runs[:1])["sd"]["a"]["p"] == 0.0
    assert seed_list("7, 1,2") == [7, 1, 2]
    for bad in ("1,a", "", "1,1"):
        with pytest.raises(ValueError, match="--seeds"):
            seed_list(bad)


def test_affinity_evaluation_over_seeds(tmp_path, capsys):
    from core.features.interactions import planted_interactions

    path = tmp_path / "interactions.csv"
    planted_interactions(n_users=400, n_brands=20, n_interactions=4000, seed=1)[0].to_csv(path, index=False)
    args = ["evaluate", "affinity", "--interactions", str(path), "--models", "popularity,als", "--seeds", "1,2",
            "--split", "random", "--factors", "4"]
    assert cli_main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["seeds"] == [1, 2] and set(out["runs"]) == {"1", "2"}
    assert len(out["values"]["als"]["brand_precision@10"]) == 2
    assert out["mean"]["als"]["brand_precision@10"] == pytest.approx(
        sum(out["values"]["als"]["brand_precision@10"]) / 2)
    assert cli_main(args) == 0
    text = capsys.readouterr().out
    assert "mean ± sd" in text and "regularization=" in text
    assert cli_main([*args[:-4], "--seeds", "1,x"]) == 2
    assert "whole numbers" in capsys.readouterr().err


def test_long_tail_evaluation_over_seeds_on_a_demo_shows_the_ceiling(demo_copy, capsys):
    args = ["evaluate", "long-tail", "--workspace", str(demo_copy.path), "--seeds", "7,1",
            "--params", '{"epochs": 2, "encoders": 2, "fit_blend_k": false}', "--eval", '{"max_items": 150}']
    assert cli_main(args) == 0
    text = capsys.readouterr().out
    assert "mean ± sd over seeds 7, 1" in text and "planted truth (ceiling)" in text
    assert "predicted: tail" in text and "of the planted ceiling" in text
    assert cli_main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["values"]["spaces"]["als"]["tail"]["ndcg@10"]) == 2 and "ceiling" in out["mean"]
