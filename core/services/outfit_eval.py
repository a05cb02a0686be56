"""Evaluate the complementary model on held-out outfits: a workspace's, two files', Mango's or Polyvore's."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from core.columns import Columns
from core.data.public import read_mango, read_polyvore
from core.models.complementary.evaluate import (CooccurrencePrior, check_split, compare_set_model, compatibility_auc,
                                                outfit_pairs, popularity_scorer, random_scorer, split_outfits)
from core.models.complementary.model import ComplementaryData, ComplementaryModel
from core.models.complementary.params import ComplementaryParams


def evaluate(
    catalogue: pd.DataFrame,
    train_outfits: pd.DataFrame,
    test_outfits: pd.DataFrame,
    params: ComplementaryParams | None = None,
    labels: pd.DataFrame | None = None,
    seed: int = 7,
    model: ComplementaryModel | None = None,
    progress: Callable[[float, str, dict], None] | None = None,
    image: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict:
    """Train on `train_outfits` (unless a model is given) and compare model, prior and random on `test_outfits`.

    Returns {"model"|"prior"|"popularity"|"random": {pair_auc, fitb_accuracy, outfit_auc}, "counts": {...}, "history":
    [...], "trained_model": ComplementaryModel}.
    """
    check_split(train_outfits, test_outfits)
    data = ComplementaryData(catalogue, train_outfits, labels, image, test_outfits)
    history: list[dict] = []
    if model is None:
        model = ComplementaryModel.train(data, params or ComplementaryParams(), progress)
        history = model.history
    result = model.evaluate(data, seed=seed)
    if history:
        result["history"] = history
    result["trained_model"] = model  # callers that save it pop this before printing
    return result


# -- public data sets -------------------------------------------------------------------------------------------

def evaluate_polyvore(folder: str | Path, params: ComplementaryParams | None = None, test_fraction: float = 0.2,
                      seed: int = 42) -> dict:
    """Polyvore (categories only): the three metrics on an outfit split of valid.json, plus the AUC on the
    dataset's labelled compatibility rows (positives from test outfits only, every negative row)."""
    data = read_polyvore(folder)
    params = (params or ComplementaryParams()).replace(use_item_ids=False)  # ids: most items occur once
    train_outfits, test_outfits = split_outfits(data["outfits"], test_fraction, seed)
    result = evaluate(data["catalogue"], train_outfits, test_outfits, params)
    model = result.pop("trained_model")
    compat = data.get("compatibility")
    if compat is not None and len(compat):
        test_items = set(test_outfits[Columns.item].astype(str))
        rows = []
        question = "question" if "question" in compat.columns else Columns.outfit  # one labelled row each
        for _, g in compat.groupby(question, sort=False):
            items = [str(i) for i in g[Columns.item] if isinstance(i, str) and i]
            label = int(g["label"].iloc[0])
            if label == 0 or all(i in test_items for i in items):
                rows.append((label, items))
        prior = CooccurrencePrior(model.feats, outfit_pairs(train_outfits, model.feats))
        for name, fn in (("model", model.score_rows), ("prior", prior),
                         ("popularity", popularity_scorer(model.feats, train_outfits)),
                         ("random", random_scorer(seed))):
            result[name]["compatibility_auc"] = compatibility_auc(fn, model.feats, rows)
        result["counts"]["compatibility_rows"] = len(rows)
    return result


def evaluate_mango(folder: str | Path, params: ComplementaryParams | None = None, test_fraction: float = 0.2,
                   seed: int = 42, set_model: bool = False) -> dict:
    """Mango curated outfits: split by outfit, train, and score model / prior / random (+ the set-model
    comparison under "outfit_scorers" when `set_model`)."""
    data = read_mango(folder)
    train_outfits, test_outfits = split_outfits(data["outfits"], test_fraction, seed)
    result = evaluate(data["catalogue"], train_outfits, test_outfits, params)
    model = result.pop("trained_model")
    if set_model:
        result["outfit_scorers"] = compare_set_model(model, train_outfits, test_outfits)
    return result


