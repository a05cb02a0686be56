"""Blend weight fitted on held-out items, and training from outfits when a workspace has no interactions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.models.long_tail import LongTailParams
from core.models.long_tail.als import fit_als, item_user_counts, session_matrix
from core.models.long_tail.blend import fit_blend_k


def _setup(planted: tuple) -> tuple:
    interactions, catalogue = planted
    matrix = session_matrix(interactions, catalogue["item_id"].to_numpy()).matrix
    params = LongTailParams(factors=16, iterations=10)
    _, items = fit_als(matrix, params)
    rows = np.flatnonzero(item_user_counts(matrix) >= 15)
    return matrix, items, rows, params


def test_fit_blend_k_keeps_noise_out_and_trusts_an_informative_predictor(planted: tuple) -> None:
    matrix, items, rows, params = _setup(planted)
    noise = np.random.default_rng(0).normal(size=items.shape).astype(np.float32)
    k_noise, report = fit_blend_k(matrix, items, noise, rows, params)
    assert k_noise <= 1.0, report  # random "predictions" must not dilute ALS
    assert report["als_only"] > report["predicted_only"]
    # Full-data ALS vectors as the "prediction": they know the hidden users, so the blend leans on them.
    k_good, report = fit_blend_k(matrix, items, items, rows, params)
    assert k_good >= 5.0, report
    assert report["predicted_only"] > report["als_only"]


def test_fit_blend_k_falls_back_to_the_parameter_on_too_few_items(planted: tuple) -> None:
    matrix, items, rows, params = _setup(planted)
    assert fit_blend_k(matrix, items, items, rows[:3], params) == (params.blend_k, {})


@pytest.fixture
def outfits_only(tmp_path: Path, planted: tuple, monkeypatch: pytest.MonkeyPatch):  # -> Workspace
    """A workspace with a catalogue and outfits but no interactions (what importing the Mango data set gives)."""
    from core.data.workspace import Workspace
    from core.db.engine import dispose_engines
    from core.db.session import forget_schema_checks

    interactions, catalogue = planted
    path = tmp_path / "workspaces" / "curated"
    path.mkdir(parents=True)
    catalogue.to_parquet(path / "catalogue.parquet")
    outfits = interactions[["user_id", "item_id"]].drop_duplicates().rename(columns={"user_id": "outfit_id"})
    outfits.to_parquet(path / "outfits.parquet")
    (path / "workspace.json").write_text(json.dumps({"name": "curated", "source": "test"}), encoding="utf-8")
    monkeypatch.setenv("ATELIER_HOME", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    forget_schema_checks()
    yield Workspace.open(path)
    dispose_engines()
    forget_schema_checks()


def test_a_workspace_with_only_outfits_trains_on_outfits_as_sessions(outfits_only) -> None:
    from core.services import jobs
    from core.services import long_tail

    interactions, source = long_tail.sessions(outfits_only)
    assert source == "outfits" and interactions["user_id"].str.startswith("outfit:").all()
    job = long_tail.submit_training(outfits_only, LongTailParams(epochs=3, factors=8, threshold=5), evaluate=False,
                                    projection=False, wait=True)
    info = jobs.get(outfits_only, job)
    assert info.result and info.result["version"]
    model = long_tail.load_model(outfits_only)
    assert model is not None and model.meta["source"] == "outfits"
    assert (model.counts > 0).sum() > 100


def test_a_workspace_without_interactions_or_outfits_says_what_to_import(outfits_only) -> None:
    from core.errors import ValidationError
    from core.services import long_tail

    (outfits_only.path / "outfits.parquet").unlink()
    with pytest.raises(ValidationError, match="neither interactions nor outfits"):
        long_tail.sessions(outfits_only)
