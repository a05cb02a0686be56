"""Ranking metrics over score matrices: precision@k, recall@k, NDCG@k, AUC and average precision."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.sparse as sp

ScoreFn = Callable[[np.ndarray], np.ndarray]
"""Maps query indices (int64, shape (q,)) to scores (float32, shape (q, n_candidates))."""


@dataclass(frozen=True)
class RankingReport:
    """Means over the queries that have at least one relevant candidate."""

    precision: float
    recall: float
    ndcg: float
    auc: float
    average_precision: float
    n_queries: int
    k: int

    def as_dict(self, prefix: str = "") -> dict[str, float | int]:
        k = self.k
        return {
            f"{prefix}precision@{k}": self.precision,
            f"{prefix}recall@{k}": self.recall,
            f"{prefix}ndcg@{k}": self.ndcg,
            f"{prefix}auc": self.auc,
            f"{prefix}ap": self.average_precision,
            f"{prefix}n": self.n_queries,
        }


def rows_per_chunk(n_candidates: int) -> int:
    """Queries to score at once: ≤ 2**27 scores (512 MB of float32, plus as much again for the masks), so that
    ranking 1M users stays in memory; small candidate sets keep the default of 2,048."""
    return int(max(8, min(2048, (1 << 27) // max(n_candidates, 1))))


def evaluate_ranking(
    score_fn: ScoreFn,
    relevant: sp.csr_matrix,
    exclude: sp.csr_matrix | None = None,
    k: int = 10,
    chunk_size: int = 2048,
    with_auc: bool = True,
    queries: np.ndarray | None = None,
) -> RankingReport:
    """Score every query that has a relevant candidate and rank its candidates.

    relevant: (n_queries, n_candidates) sparse; non-zero = relevant (held-out positives).
    exclude: same shape; non-zero candidates (e.g. training positives) are removed from the ranking
    and from the AUC negatives, as is standard for held-out evaluation.
    with_auc=False skips AUC and AP (reported as NaN): the top-k metrics alone need no per-query sort.
    queries: rank only these rows (e.g. a seeded sample); None ranks every row with a relevant candidate.
    """
    _, metrics = per_query_metrics(score_fn, relevant, exclude, k, chunk_size, with_auc, queries)
    return report_of(metrics, k)


def report_of(metrics: np.ndarray, k: int) -> RankingReport:
    """The RankingReport of some rows of `per_query_metrics` (e.g. the queries of one bucket)."""
    means = metrics.sum(axis=0) / max(len(metrics), 1) if len(metrics) else np.zeros(5)
    return RankingReport(*(float(m) for m in means), n_queries=len(metrics), k=k)


def per_query_metrics(
    score_fn: ScoreFn,
    relevant: sp.csr_matrix,
    exclude: sp.csr_matrix | None = None,
    k: int = 10,
    chunk_size: int = 2048,
    with_auc: bool = True,
    queries: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(queries int64 (n,), metrics float64 (n, 5): precision, recall, NDCG, AUC, AP) for every query with a
    relevant candidate, so that one scoring pass can be averaged over several subsets of the queries.

    queries: only these rows (int64, e.g. a seeded sample; rows without a relevant candidate are dropped).
    """
    relevant = sp.csr_matrix(relevant, dtype=np.float32)
    relevant.eliminate_zeros()
    relevant.sort_indices()
    exclude = sp.csr_matrix(exclude, dtype=np.float32) if exclude is not None else None
    has_relevant = np.diff(relevant.indptr) > 0
    if queries is None:
        queries = np.flatnonzero(has_relevant)
    else:
        queries = np.unique(np.asarray(queries, dtype=np.int64))
        queries = queries[has_relevant[queries]]
    parts = [np.zeros((0, 5))]
    for start in range(0, len(queries), chunk_size):
        rows = queries[start : start + chunk_size]
        scores = np.asarray(score_fn(rows), dtype=np.float32)
        if scores.base is not None or not scores.flags.writeable or not scores.flags.c_contiguous:
            scores = scores.copy()  # exclusions are written into it: never into the scorer's own arrays
        parts.append(_chunk_metrics(scores, relevant[rows], exclude[rows] if exclude is not None else None, k,
                                    with_auc))
    return queries, np.concatenate(parts)


def _row_col(matrix: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) int64 of every stored entry of a CSR matrix, in storage order."""
    rows = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))
    return rows, matrix.indices.astype(np.int64)


def _chunk_metrics(scores: np.ndarray, relevant: sp.csr_matrix, exclude: sp.csr_matrix | None, k: int,
                   with_auc: bool = True) -> np.ndarray:
    """Metrics of one chunk of queries; scores (q, n_candidates) float32 is overwritten (excluded -> -inf).

    The masks stay sparse: a dense (q, n_candidates) boolean per mask costs as much memory traffic as the
    scores themselves, and at 1M candidates it was most of the evaluation (see docs/affinity.md). Only AUC, which
    walks whole rows anyway, builds dense rows.
    """
    q, n_candidates = scores.shape
    rel_rows, rel_cols = _row_col(relevant)
    if exclude is not None and exclude.nnz:
        kept = scores[rel_rows, rel_cols]  # a held-out positive is never excluded: restored after the masking
        ex_rows, ex_cols = _row_col(exclude)
        scores[ex_rows, ex_cols] = -np.inf
        scores[rel_rows, rel_cols] = kept
    kk = min(k, n_candidates)
    # the largest kk without negating (and so copying) the whole chunk
    top = np.argpartition(scores, n_candidates - kk, axis=1)[:, n_candidates - kk:]
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
    top = np.take_along_axis(top, order, axis=1)
    # relevant keys row * n + column are sorted (CSR with sorted indices): membership by binary search
    rel_keys = rel_rows * n_candidates + rel_cols
    top_keys = np.arange(q, dtype=np.int64)[:, None] * n_candidates + top
    where = np.minimum(np.searchsorted(rel_keys, top_keys), max(len(rel_keys) - 1, 0))
    hits = rel_keys[where] == top_keys if len(rel_keys) else np.zeros(top.shape, dtype=bool)
    n_rel = np.diff(relevant.indptr)
    precision = hits.sum(axis=1) / k
    recall = hits.sum(axis=1) / n_rel
    discounts = 1.0 / np.log2(np.arange(2, kk + 2))
    dcg = (hits * discounts).sum(axis=1)
    ideal = np.cumsum(discounts)[np.minimum(n_rel, kk) - 1]
    ndcg = dcg / ideal
    if with_auc:
        rel = relevant.toarray() > 0
        excluded = (exclude.toarray() > 0) & ~rel if exclude is not None else np.zeros_like(rel)
        auc, ap = _auc_and_ap(scores, rel, excluded)
    else:
        auc = ap = np.full(q, np.nan)
    return np.stack([precision, recall, ndcg, auc, ap], axis=1).astype(np.float64)


_FEW_POSITIVES = 16


def _auc_and_ap(scores: np.ndarray, rel: np.ndarray, excluded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row AUC (ties count half) and average precision over the full ranking of non-excluded candidates.

    One sort of the negatives per row and binary searches for the positives (O(n log n), no full argsort):
    for AP a positive tied with negatives is ranked above them.
    """
    q, _ = scores.shape
    auc = np.empty(q)
    ap = np.empty(q)
    for i in range(q):
        keep = ~excluded[i]
        s = scores[i, keep]
        r = rel[i, keep]
        pos = s[r]
        n_pos = len(pos)
        n_neg = len(s) - n_pos
        if n_neg == 0 or n_pos == 0:
            auc[i] = 1.0 if n_neg == 0 else 0.0
            ap[i] = 1.0 if n_pos else 0.0
            continue
        pos_desc = np.sort(pos)[::-1]
        if n_pos <= _FEW_POSITIVES:
            # A few positives among 1M candidates: counting against each is cheaper than sorting the negatives
            # (same counts as the binary searches below; positives are never counted as negatives).
            neg = s[~r]
            below = np.array([np.count_nonzero(neg < p) for p in pos_desc])
            tied = np.array([np.count_nonzero(neg == p) for p in pos_desc])
            negatives_above = n_neg - below - tied
        else:
            neg = np.sort(s[~r])
            below = np.searchsorted(neg, pos_desc, side="left")
            tied = np.searchsorted(neg, pos_desc, side="right") - below
            negatives_above = n_neg - (below + tied)
        auc[i] = (below.sum() + 0.5 * tied.sum()) / (n_pos * n_neg)
        hits = np.arange(1, n_pos + 1)
        ap[i] = (hits / (hits + negatives_above)).mean()
    return auc, ap
