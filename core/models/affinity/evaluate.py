"""Both-direction evaluation of affinity scores (brands for a user, users for a brand) and the baselines' scores."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import scipy.sparse as sp

from core.evaluation.ranking import evaluate_ranking
from core.models.affinity.brand_side import fit_als
from core.features.splits import Split

if TYPE_CHECKING:
    from core.models.affinity.data import AffinityData
    from core.models.affinity.model import AffinityModel

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


def als_scorer(train: sp.csr_matrix, factors: int = 64, regularization: float = 20.0, seed: int = 42) -> Scorer:
    """implicit's ALS on users×brands (`brand_side.fit_als`); scores are U·V both ways."""
    U, V = fit_als(train, factors, regularization, seed)
    return Scorer(lambda rows: U[rows] @ V.T, lambda rows: V[rows] @ U.T)


@dataclass(frozen=True)
class ValidationSet:
    """The held-out pairs of a split read both ways, and the queries ranked from each side.

    test/train: (n_users, n_brands) CSR as in the split; test_t/train_t their (n_brands, n_users) transposes;
    users/brands: int64 query rows, sorted, every one with a held-out pair (a seeded sample or all of them);
    held_out_users/held_out_brands: how many have a held-out pair (the population the samples are drawn from).
    """

    test: sp.csr_matrix
    train: sp.csr_matrix
    test_t: sp.csr_matrix
    train_t: sp.csr_matrix
    users: np.ndarray
    brands: np.ndarray
    held_out_users: int
    held_out_brands: int

    @classmethod
    def of(cls, split: Split, max_users: int | None = None, max_brands: int | None = None,
           seed: int = 0) -> ValidationSet:
        """Transposes once, and at most `max_users` users / `max_brands` brands (None = all) drawn with `seed`.

        The draw depends only on the split's held-out pairs and the seed, so two versions trained on the same split
        with the same seed are measured on the same queries (promotion compares them case for case).
        """
        test_t, train_t = split.test.T.tocsr(), split.train.T.tocsr()
        users, brands = _with_relevant(split.test), _with_relevant(test_t)
        # one generator per side, so the brand sample does not move when the user sample size changes
        sampled_users = _sample(users, max_users, np.random.default_rng([seed, 0]))
        sampled_brands = _sample(brands, max_brands, np.random.default_rng([seed, 1]))
        return cls(split.test, split.train, test_t, train_t, sampled_users, sampled_brands, len(users), len(brands))


def _with_relevant(relevant: sp.csr_matrix) -> np.ndarray:
    return np.flatnonzero(np.diff(relevant.indptr) > 0).astype(np.int64)


def _sample(rows: np.ndarray, limit: int | None, rng: np.random.Generator) -> np.ndarray:
    if limit is None or len(rows) <= limit:
        return rows
    return np.sort(rng.choice(rows, size=limit, replace=False))


def evaluate_both(scorer: Scorer, split: Split | ValidationSet, k: int = K,
                  with_auc: bool = True, sides: tuple[str, ...] = ("user", "brand")) -> dict[str, float | int]:
    """Precision/recall/NDCG@k and AUC from the user side and from the brand side, training positives excluded.

    A Split ranks every held-out user and brand; a ValidationSet only its sampled ones (n_users / n_brands are the
    queries ranked, held_out_users / held_out_brands the population they were drawn from). `sides` limits the
    ranking to one side (the other's metrics are left out).
    """
    v = split if isinstance(split, ValidationSet) else ValidationSet.of(split)
    n_users, n_brands = v.test.shape
    reports = {}
    if "user" in sides:
        reports["user"] = evaluate_ranking(scorer.user_scores, v.test, v.train, k,
                                           chunk_size=max(1, _CELLS // max(n_brands, 1)), with_auc=with_auc,
                                           queries=v.users)
    if "brand" in sides:
        reports["brand"] = evaluate_ranking(scorer.brand_scores, v.test_t, v.train_t, k,
                                            chunk_size=max(1, _CELLS // max(n_users, 1)), with_auc=with_auc,
                                            queries=v.brands)
    out: dict[str, float | int] = {}
    for side, report in reports.items():
        out[f"{side}_precision@{k}"] = report.precision
        out[f"{side}_recall@{k}"] = report.recall
        out[f"{side}_ndcg@{k}"] = report.ndcg
        out[f"{side}_auc"] = report.auc
    if "user" in reports:
        out["n_users"] = reports["user"].n_queries
    if "brand" in reports:
        out["n_brands"] = reports["brand"].n_queries
    out["held_out_users"] = v.held_out_users
    out["held_out_brands"] = v.held_out_brands
    return out


def pick_iteration(curve: list[dict[str, Any]], how: str = "both") -> int:
    """Index of the best curve entry by user P@10, brand P@10, or both (each relative to its own best, summed)."""
    u = [c["user_precision@10"] for c in curve]
    b = [c["brand_precision@10"] for c in curve]
    if how == "user":
        return int(np.argmax(u))
    if how == "brand":
        return int(np.argmax(b))
    mu, mb = max(max(u), 1e-9), max(max(b), 1e-9)
    return int(np.argmax([x / mu + y / mb for x, y in zip(u, b)]))


def evaluate_model(model: AffinityModel, data: AffinityData, k: int = K) -> dict[str, float | int]:
    """`evaluate_both` of a trained model on the held-out pairs of `data.split(model.params)`.

    The split's id maps come from its training part; they are mapped onto the model's, and users or brands the
    model never saw score 0. A model refitted on all of `data` has seen the held-out pairs: its validation
    metrics (chosen before the refit) are in `model.training.metrics`.
    """
    split = data.split(model.params)
    users = model.user_ids.to_index(split.user_ids.external, missing="mask")
    brands = model.brand_ids.to_index(split.column_ids.external, missing="mask")

    def aligned(scores: Callable[[np.ndarray], np.ndarray], rows: np.ndarray, columns: np.ndarray,
                queries: np.ndarray) -> np.ndarray:
        wanted = rows[np.asarray(queries, dtype=np.int64)]
        out = np.zeros((len(wanted), len(columns)), dtype=np.float32)
        known_rows, known_columns = wanted >= 0, columns >= 0
        if known_rows.any():
            out[np.ix_(known_rows, known_columns)] = scores(wanted[known_rows])[:, columns[known_columns]]
        return out

    scorer = Scorer(lambda q: aligned(model.scores_for_users, users, brands, q),
                    lambda q: aligned(model.scores_for_brands, brands, users, q))
    return evaluate_both(scorer, split, k)
