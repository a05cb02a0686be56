"""Blending ALS and predicted vectors by how much each item is known, and choosing the blend's k."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from core.evaluation.ranking import evaluate_ranking, rows_per_chunk
from core.models.long_tail.als import fit_als, normalise
from core.models.long_tail.params import LongTailParams


def blend(als: np.ndarray, predicted: np.ndarray, counts: np.ndarray, k: float) -> np.ndarray:
    """w·unit(als) + (1−w)·unit(predicted) with w = n/(n+k) per item: float32 (n, d), rows unit length."""
    w = (counts / (counts + max(k, 1e-9))).astype(np.float32)[:, None]
    return normalise(w * normalise(als) + (1.0 - w) * normalise(predicted))


BLEND_K_GRID: tuple[float, ...] = (0.0, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 12.0, 20.0, 35.0, 60.0, 100.0, 1e9)
BLEND_KNOWN: tuple[int, ...] = (1, 2, 3, 5, 10)
# Items the blend_k split scores: enough to tell the k grid apart, few enough that 14 rankings of 1M users
# (the large demo) take a minute, not an hour.
BLEND_MAX_ITEMS = 600


def fit_blend_k(user_items: sp.csr_matrix, als: np.ndarray, predicted: np.ndarray, rows: np.ndarray,
                params: LongTailParams) -> tuple[float, dict[str, float]]:
    """Choose blend_k so that blending helps where the content model is good and stays out where it is not.

    A small cold-start split on `rows` (items the encoder validated on, never trained on): each keeps n known
    users (n drawn from BLEND_KNOWN), the rest are hidden; ALS is refitted without the hidden pairs, and every
    k in BLEND_K_GRID is scored by NDCG@10 of ranking each item's hidden users with w·ALS + (1−w)·predicted,
    w = n/(n+k). Returns (best k, {"k=…": NDCG@10, "als_only": …, "predicted_only": …}); k = 0 means ALS only.
    `predicted` lives in the space of `als` (the full fit); a refit's factors are a different rotation, so the
    predicted vectors are first carried over by the orthogonal map that best aligns the two fits on the other
    items. With fewer than 10 usable items it returns (params.blend_k, {}).
    """
    rng = np.random.default_rng(params.seed + 1)
    rows = np.asarray(rows)
    if len(rows) > BLEND_MAX_ITEMS:
        rows = np.sort(rng.choice(rows, BLEND_MAX_ITEMS, replace=False))
    matrix = sp.csr_matrix(user_items, dtype=np.float32)
    by_item = matrix.T.tocsr()
    hidden_rows, hidden_cols, known = [], [], np.zeros(matrix.shape[1], np.float32)
    for item in rows:
        users = by_item.indices[by_item.indptr[item]:by_item.indptr[item + 1]]
        n = int(rng.choice(BLEND_KNOWN))
        if len(users) <= n:
            continue
        hidden = rng.permutation(users)[n:]
        hidden_rows.append(hidden)
        hidden_cols.append(np.full(len(hidden), item))
        known[item] = n
    if len(hidden_rows) < 10:
        return params.blend_k, {}
    r, c = np.concatenate(hidden_rows), np.concatenate(hidden_cols)
    held = matrix.multiply(sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=matrix.shape)).tocsr()
    train = (matrix - held).tocsr()
    train.eliminate_zeros()
    users, items = fit_als(train, params)
    anchors = np.flatnonzero((known == 0) & (np.linalg.norm(als, axis=1) > 0) & (np.linalg.norm(items, axis=1) > 0))
    u, _, vt = np.linalg.svd(normalise(als[anchors]).T @ normalise(items[anchors]))  # orthogonal Procrustes
    als_unit, pred_unit = normalise(items), normalise(normalise(predicted) @ (u @ vt))
    relevant, exclude = held.T.tocsr(), train.T.tocsr()
    scores: dict[float, float] = {}
    for k in BLEND_K_GRID:
        w = (known / (known + k) if k > 0 else np.ones_like(known))[:, None]
        vectors = w * als_unit + (1.0 - w) * pred_unit
        scores[k] = evaluate_ranking(lambda q, v=vectors: v[q] @ users.T, relevant, exclude, k=10,
                                     chunk_size=rows_per_chunk(users.shape[0]), with_auc=False).ndcg
    best = max(scores, key=lambda k: (round(scores[k], 3), -k))  # near-ties go to the smaller k: trust ALS
    report = {f"k={k:g}": v for k, v in scores.items() if k < 1e9}
    report.update({"als_only": scores[0.0], "predicted_only": scores[1e9]})
    return float(min(best, 1e6)), report


def blend_weights(counts: np.ndarray, k: float) -> np.ndarray:
    """ALS weight per item, n/(n+k): float32 (n_items,)."""
    counts = np.asarray(counts, dtype=np.float32)
    return counts / (counts + max(float(k), 1e-9))


def blended_similarity(als_unit: np.ndarray, predicted: np.ndarray, weights: np.ndarray,
                       rows: np.ndarray) -> np.ndarray:
    """Item-to-item similarity of the blended space: float32 (len(rows), n_items).

    s(i, j) = w_i·cos_ALS(i, j) + (1−w_i)·cos_predicted(i, j): the query's own confidence in ALS decides which
    space ranks its neighbours. Blending the vectors instead (or weighting by both items) lets predicted-only
    candidates win, because predicted vectors sit closer to each other than ALS vectors do.
    """
    w = weights[rows][:, None]
    return (w * (als_unit[rows] @ als_unit.T) + (1.0 - w) * (predicted[rows] @ predicted.T)).astype(np.float32)
