"""The affinity comparison, both ways: popularity, WARP, its transpose, bi-directional, ALS and what training serves."""

from __future__ import annotations

import dataclasses
import time

import pandas as pd

from core.features.interactions import InteractionMatrix
from core.features.splits import Split, random_pair_split, split_interactions
from core.columns import Columns
from core.models.affinity.data import AffinityData
from core.models.affinity.evaluate import (K, Scorer, affinity_scorer, als_scorer, evaluate_both, pick_iteration,
                                           popularity_scorer)
from core.models.affinity.model import AffinityModel
from core.models.affinity.params import AffinityParams
from core.models.affinity.train import AffinityTrainer, fit, fit_matrices

# "served": what a training job ships, the bi-directional model with its brand side chosen among it, ALS and blends
MODELS = ("popularity", "warp", "warp_transposed", "bidirectional", "als", "served")
# What each model is for decides how its iteration count is chosen on the inner validation split.
_SELECT = {"warp": "user", "warp_transposed": "brand", "bidirectional": "both", "als": "both"}
ALS_REGULARIZATION = (0.05, 1.0, 20.0)


def model_params(name: str, base: AffinityParams | None = None) -> AffinityParams:
    """The AffinityParams of a named comparison model (warp, warp_transposed, bidirectional)."""
    base = base or AffinityParams()
    if name == "warp":
        return base.replace(direction="users", polish_epochs=0)
    if name == "warp_transposed":
        return base.replace(direction="brands", polish_epochs=0)
    if name == "bidirectional":
        return base.replace(direction="bidirectional")
    raise ValueError(name)


def _inner(split: Split, seed: int) -> Split:
    train, val = random_pair_split(split.train, 0.2, seed=seed + 1)
    return Split(train, val, split.user_ids, split.column_ids, "random")


def _fit_lightfm(train, split: Split, p: AffinityParams, iterations: int) -> AffinityModel:  # noqa: ANN001 — CSR
    trainer = AffinityTrainer(train, split.user_ids, split.column_ids, p)
    for _ in range(iterations):
        trainer.iterate()
    trainer.polish()
    return trainer.model()


def _tune_lightfm(split: Split, name: str, p: AffinityParams) -> int:
    """Iteration count (1..p.iterations) best on an inner 80/20 split of the training pairs."""
    inner = _inner(split, p.seed)
    trainer = AffinityTrainer(inner.train, inner.user_ids, inner.column_ids, p)
    curve = []
    for _ in range(p.iterations):
        trainer.iterate()
        curve.append(evaluate_both(affinity_scorer(trainer.polished()), inner, with_auc=False))
    return pick_iteration(curve, _SELECT[name]) + 1


def compare(
    split: Split,
    params: AffinityParams | None = None,
    models: tuple[str, ...] = MODELS,
    k: int = K,
    tune: bool = True,
    history: pd.DataFrame | None = None,
) -> dict[str, dict[str, float | int]]:
    """Evaluate each named model on one split; LightFM models use `params` with their direction set.

    tune=True gives every model the same small budget, chosen on an inner 80/20 split of the training
    pairs (never on the test pairs): LightFM models their iteration count (up to params.iterations, by
    user P@10 for warp, brand P@10 for warp_transposed, both for bidirectional), ALS its regularization.
    "served" is trained as a training job trains, with or without `tune`: on `history` (the interactions before a
    time split's cutoff, `history_of`) exactly as a job on that workspace would, its own time split choosing the
    iteration count and the brand side; without it (a random split), `fit_matrices` on the inner split.
    """
    params = params or AffinityParams()
    results: dict[str, dict[str, float | int]] = {}
    for name in models:
        start = time.perf_counter()
        chosen: dict[str, float | int] = {}
        scorer: Scorer
        if name == "popularity":
            scorer = popularity_scorer(split.train)
        elif name == "als":
            reg = ALS_REGULARIZATION[-1]
            if tune:
                inner = _inner(split, params.seed)
                curve = [evaluate_both(als_scorer(inner.train, params.n_factors, regularization=r, seed=params.seed),
                                       inner, with_auc=False)
                         for r in ALS_REGULARIZATION]
                reg = ALS_REGULARIZATION[pick_iteration(curve, "both")]
            scorer = als_scorer(split.train, factors=params.n_factors, regularization=reg, seed=params.seed)
            chosen = {"regularization": reg}
        elif name == "served":
            p = model_params("bidirectional", params)
            if history is not None:
                model = _aligned(fit(AffinityData(history), p), split)
            else:
                model = fit_matrices(lambda: _inner(split, p.seed),
                                     lambda: InteractionMatrix(split.train, split.user_ids, split.column_ids), p)
            scorer = affinity_scorer(model)
            chosen = {"iterations": model.params.iterations, "brand_side_weight": model.brand_side.weight}
        else:
            p = model_params(name, params)
            iterations = _tune_lightfm(split, name, p) if tune else p.iterations
            scorer = affinity_scorer(_fit_lightfm(split.train, split, p, iterations))
            chosen = {"iterations": iterations}
        results[name] = {**evaluate_both(scorer, split, k), **chosen, "seconds": round(time.perf_counter() - start, 2)}
    return results


def history_of(interactions: pd.DataFrame, split: Split) -> pd.DataFrame | None:
    """The rows a time split trained on (before its cutoff, or undated); None for a random split."""
    if split.method != "time" or split.cutoff is None:
        return None
    ts = pd.to_datetime(interactions[Columns.timestamp], utc=True)
    return interactions[(ts < pd.Timestamp(split.cutoff)).to_numpy() | ts.isna().to_numpy()]


def _aligned(model: AffinityModel, split: Split) -> AffinityModel:
    """`model`'s rows reordered to the split's id maps (the same ids: both come from the same training rows)."""
    users = model.user_ids.to_index(split.user_ids.to_array(), "user")
    brands = model.brand_ids.to_index(split.column_ids.to_array(), "brand")
    side = model.brand_side
    if side.user_factors is not None:
        side = dataclasses.replace(side, user_factors=side.user_factors[users],
                                   brand_factors=side.brand_factors[brands])
    return AffinityModel(split.user_ids, split.column_ids, model.user_factors[users], model.brand_factors[brands],
                         model.user_bias[users], model.brand_bias[brands], model.params, model.training, side)


def evaluate_interactions(
    interactions: pd.DataFrame,
    params: AffinityParams | None = None,
    models: tuple[str, ...] = MODELS,
    test_fraction: float = 0.2,
    seed: int = 42,
    split_method: str = "auto",
    tune: bool = True,
) -> dict[str, object]:
    """Split a generic interactions table and compare the models: {"models": {...}, "split": {...}, "params"}."""
    params = params or AffinityParams()
    split = split_interactions(interactions, test_fraction=test_fraction, seed=seed, method=split_method)
    history = history_of(interactions, split) if "served" in models else None
    return {"models": compare(split, params, models, tune=tune, history=history),
            "split": split.summary(), "params": params.to_dict()}
