"""Both-direction evaluation of affinity models (brands for a user, users for a brand) against baselines."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp

from core.evaluation.ranking import evaluate_ranking
from core.features.splits import Split, random_pair_split, split_interactions
from core.models.affinity import AffinityModel, AffinityParams, AffinityTrainer

MODELS = ("popularity", "warp", "warp_transposed", "bidirectional", "als")
K = 10
_CELLS = 4_000_000  # score-matrix cells per evaluation chunk (16 MB of float32)


@dataclass(frozen=True)
class Scorer:
    """user_scores(rows int64 (q,)) -> float32 (q, n_brands); brand_scores(rows) -> float32 (q, n_users)."""

    user_scores: Callable[[np.ndarray], np.ndarray]
    brand_scores: Callable[[np.ndarray], np.ndarray]


def affinity_scorer(model: AffinityModel) -> Scorer:
    return Scorer(model.scores_for_users, model.scores_for_brands)


def popularity_scorer(train: sp.csr_matrix) -> Scorer:
    """Brands ranked by how many users they have; users ranked by how many brands they interacted with."""
    brand_pop = np.asarray((train > 0).sum(axis=0)).ravel().astype(np.float32)
    user_act = np.asarray((train > 0).sum(axis=1)).ravel().astype(np.float32)
    return Scorer(lambda rows: np.broadcast_to(brand_pop, (len(rows), len(brand_pop))).copy(),
                  lambda rows: np.broadcast_to(user_act, (len(rows), len(user_act))).copy())


def als_scorer(train: sp.csr_matrix, factors: int = 64, iterations: int = 15, alpha: float = 10.0,
               regularization: float = 20.0, seed: int = 42) -> Scorer:
    """implicit's ALS on users×brands (confidence 1 + alpha·log1p(weight)); scores are U·V both ways."""
    from implicit.cpu.als import AlternatingLeastSquares

    conf = sp.csr_matrix(train, dtype=np.float32, copy=True)
    conf.data = (alpha * np.log1p(conf.data)).astype(np.float32)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, "blas"):  # implicit parallelises itself; nested BLAS threads only slow it down
        als = AlternatingLeastSquares(factors=factors, iterations=iterations, regularization=regularization,
                                      random_state=seed, num_threads=2)
        als.fit(conf, show_progress=False)
    U = np.asarray(als.user_factors, dtype=np.float32)
    V = np.asarray(als.item_factors, dtype=np.float32)
    return Scorer(lambda rows: U[rows] @ V.T, lambda rows: V[rows] @ U.T)


def evaluate_both(scorer: Scorer, split: Split, k: int = K, with_auc: bool = True) -> dict[str, float | int]:
    """Precision/recall/NDCG@k and AUC from the user side and from the brand side, training positives excluded."""
    n_users, n_brands = split.train.shape
    user = evaluate_ranking(scorer.user_scores, split.test, split.train, k,
                            chunk_size=max(1, _CELLS // max(n_brands, 1)), with_auc=with_auc)
    test_t, train_t = split.test.T.tocsr(), split.train.T.tocsr()
    brand = evaluate_ranking(scorer.brand_scores, test_t, train_t, k,
                             chunk_size=max(1, _CELLS // max(n_users, 1)), with_auc=with_auc)
    out: dict[str, float | int] = {}
    for side, report in (("user", user), ("brand", brand)):
        out[f"{side}_precision@{k}"] = report.precision
        out[f"{side}_recall@{k}"] = report.recall
        out[f"{side}_ndcg@{k}"] = report.ndcg
        out[f"{side}_auc"] = report.auc
    out["n_users"] = user.n_queries
    out["n_brands"] = brand.n_queries
    return out


def model_params(name: str, base: AffinityParams | None = None) -> AffinityParams:
    """The AffinityParams of a named comparison model (warp, warp_transposed, bidirectional)."""
    base = base or AffinityParams()
    d = base.to_dict()
    if name == "warp":
        d.update(direction="users", polish_epochs=0)
    elif name == "warp_transposed":
        d.update(direction="brands", polish_epochs=0)
    elif name == "bidirectional":
        d.update(direction="bidirectional")
    else:
        raise ValueError(name)
    return AffinityParams.from_dict(d)


# What each model is for decides how its iteration count is chosen on the inner validation split.
_SELECT = {"warp": "user", "warp_transposed": "brand", "bidirectional": "both", "als": "both"}
ALS_REGULARIZATION = (0.05, 1.0, 20.0)


def _pick(curve: list[dict], how: str) -> int:
    """Index of the best entry: by user P@10, brand P@10, or both (each relative to its own best, summed)."""
    u = [c["user_precision@10"] for c in curve]
    b = [c["brand_precision@10"] for c in curve]
    if how == "user":
        return int(np.argmax(u))
    if how == "brand":
        return int(np.argmax(b))
    mu, mb = max(max(u), 1e-9), max(max(b), 1e-9)
    return int(np.argmax([x / mu + y / mb for x, y in zip(u, b)]))


def _inner(split: Split, seed: int) -> Split:
    train, val = random_pair_split(split.train, 0.2, seed=seed + 1)
    return Split(train, val, split.user_ids, split.column_ids, "random")


def _fit_lightfm(train, split: Split, p: AffinityParams, iterations: int) -> AffinityModel:
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
        model = trainer.model()
        if p.polish_epochs:
            import copy

            clone = copy.copy(trainer)
            clone.users_model = copy.deepcopy(trainer.users_model)
            clone.brands_model = copy.deepcopy(trainer.brands_model)
            clone.polish()
            model = clone.model()
        curve.append(evaluate_both(affinity_scorer(model), inner, with_auc=False))
    return _pick(curve, _SELECT[name]) + 1


def compare(
    split: Split,
    params: AffinityParams | None = None,
    models: tuple[str, ...] = MODELS,
    k: int = K,
    tune: bool = True,
) -> dict[str, dict[str, float | int]]:
    """Evaluate each named model on one split; LightFM models use `params` with their direction set.

    tune=True gives every model the same small budget, chosen on an inner 80/20 split of the training
    pairs (never on the test pairs): LightFM models their iteration count (up to params.iterations, by
    user P@10 for warp, brand P@10 for warp_transposed, both for bidirectional), ALS its regularization.
    """
    params = params or AffinityParams()
    results: dict[str, dict[str, float | int]] = {}
    for name in models:
        start = time.perf_counter()
        chosen: dict[str, float | int] = {}
        if name == "popularity":
            scorer = popularity_scorer(split.train)
        elif name == "als":
            reg = ALS_REGULARIZATION[-1]
            if tune:
                inner = _inner(split, params.seed)
                curve = [evaluate_both(als_scorer(inner.train, params.n_factors, regularization=r), inner, with_auc=False)
                         for r in ALS_REGULARIZATION]
                reg = ALS_REGULARIZATION[_pick(curve, "both")]
            scorer = als_scorer(split.train, factors=params.n_factors, regularization=reg)
            chosen = {"regularization": reg}
        else:
            p = model_params(name, params)
            iterations = _tune_lightfm(split, name, p) if tune else p.iterations
            scorer = affinity_scorer(_fit_lightfm(split.train, split, p, iterations))
            chosen = {"iterations": iterations}
        results[name] = {**evaluate_both(scorer, split, k), **chosen, "seconds": round(time.perf_counter() - start, 2)}
    return results


def evaluate_interactions(
    interactions: pd.DataFrame,
    params: AffinityParams | None = None,
    models: tuple[str, ...] = MODELS,
    test_fraction: float = 0.2,
    seed: int = 42,
    split_method: str = "auto",
    tune: bool = True,
) -> dict[str, object]:
    """Split a generic interactions table and compare the models: {"models": {...}, "split": {...}}."""
    params = params or AffinityParams()
    split = split_interactions(interactions, test_fraction=test_fraction, seed=seed, method=split_method)
    return {"models": compare(split, params, models, tune=tune), "split": split.summary(), "params": params.to_dict()}


def evaluate_workspace(ws, params: AffinityParams | None = None, **kwargs) -> dict[str, object]:
    """`evaluate_interactions` on a workspace's interactions table."""
    return evaluate_interactions(ws.interactions(), params, **kwargs)


def evaluate_file(path: Path, params: AffinityParams | None = None, **kwargs) -> dict[str, object]:
    """Evaluate on a generic-schema interactions file (CSV/Parquet) or a Tmall folder, without a workspace."""
    path = Path(path)
    if path.is_dir():
        from core.data.public import read_tmall

        frame = read_tmall(path)["interactions"]
    else:
        from core.data.readers import read_table

        frame = read_table(path, "interactions")
    return evaluate_interactions(frame, params, **kwargs)
