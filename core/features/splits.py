"""Train/test splits of interactions: last period held out when timestamps exist, else seeded random pairs;
leave-one-out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp

from core.columns import Columns
from core.data.idmap import IdMap
from core.errors import ValidationError, Problem
from core.features.interactions import interaction_matrix


@dataclass(frozen=True)
class Split:
    """train: float32 CSR (n_users, n_columns) of weights; test: float32 CSR, 1.0 = held-out positive pair.

    Ids come from the training data only; test pairs of users or columns unseen in training are
    dropped from `test` and counted in `unseen` (no model can score them; reported apart).
    """

    train: sp.csr_matrix
    test: sp.csr_matrix
    user_ids: IdMap
    column_ids: IdMap
    method: str  # "time" | "random"
    cutoff: str | None = None
    unseen: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, object]:
        return {"method": self.method, "cutoff": self.cutoff, "train_pairs": int(self.train.nnz),
                "test_pairs": int(self.test.nnz), **self.unseen}


def split_interactions(
    interactions: pd.DataFrame,
    column: str = Columns.brand,
    test_fraction: float = 0.2,
    seed: int = 42,
    method: str = "auto",
    event_weights: Mapping[str, float] | None = None,
    half_life_days: float | None = None,
) -> Split:
    """Hold out the last period (the latest `test_fraction` of timestamped events) or a random share of pairs.

    method: "auto" (time when at least half the rows have a timestamp, else random), "time" or "random".
    A time split holds out the user–column pairs that first appear after the cutoff: pairs already
    seen in training are not "new affinity" and stay out of the test set.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValidationError([Problem("split", None, None, f"test_fraction must be in (0, 1), got {test_fraction}")])
    frame = interactions[interactions[Columns.user].notna() & interactions[column].notna()]
    if frame.empty:
        raise ValidationError([Problem("interactions", None, column, "no rows with both a user and a " + column)])
    ts = pd.to_datetime(frame[Columns.timestamp], utc=True) if Columns.timestamp in frame else None
    has_time = ts is not None and ts.notna().mean() >= 0.5 and ts.nunique() > 1
    if method == "auto":
        method = "time" if has_time else "random"
    if method == "time" and not has_time:
        raise ValidationError([Problem("interactions", None, Columns.timestamp,
                                       "a time split needs timestamps on at least half the rows; use method='random'")])
    kwargs = {"event_weights": event_weights, "half_life_days": half_life_days}
    if method == "time":
        cutoff = ts.quantile(1.0 - test_fraction)
        before = (ts < cutoff).to_numpy() | ts.isna().to_numpy()
        train = interaction_matrix(frame[before], column, now=cutoff, **kwargs)
        later = frame[~before]
        return _with_test(train, later[Columns.user].astype(str), later[column].astype(str), "time", str(cutoff))
    if method != "random":
        raise ValidationError([Problem("split", None, None,
                                       f"unknown split method {method!r}; use auto, time or random")])
    pairs = frame[Columns.user].astype(str) + "\x1f" + frame[column].astype(str)
    codes, unique_pairs = pd.factorize(pairs)
    rng = np.random.default_rng(seed)
    held = rng.random(len(unique_pairs)) < test_fraction
    train = interaction_matrix(frame[~held[codes]], column, **kwargs)
    test_pairs = pd.Series(unique_pairs[held]).str.split("\x1f", n=1, expand=True)
    if test_pairs.empty:
        test_pairs = pd.DataFrame({0: pd.Series(dtype=object), 1: pd.Series(dtype=object)})
    return _with_test(train, test_pairs[0], test_pairs[1], "random", None)


def _with_test(train: pd.DataFrame, users: pd.Series, columns: pd.Series, method: str, cutoff: str | None) -> Split:
    u = train.user_ids.to_index(users.to_numpy(), missing="mask")
    c = train.column_ids.to_index(columns.to_numpy(), missing="mask")
    unseen = {
        "test_pairs_unseen_user": int((u < 0).sum()),
        "test_pairs_unseen_column": int(((u >= 0) & (c < 0)).sum()),
        "unseen_users": int(pd.unique(users[u < 0]).size),
        "unseen_columns": int(pd.unique(columns[c < 0]).size),
    }
    keep = (u >= 0) & (c >= 0)
    test = sp.csr_matrix((np.ones(int(keep.sum()), np.float32), (u[keep], c[keep])), shape=train.matrix.shape)
    test.sum_duplicates()
    test.data[:] = 1.0
    # Pairs already positive in training are not new affinity: a time split keeps them out of the test set.
    test = test - test.multiply(train.matrix > 0)
    test = sp.csr_matrix(test, dtype=np.float32)
    test.eliminate_zeros()
    return Split(train.matrix, test, train.user_ids, train.column_ids, method, cutoff, unseen)


def random_pair_split(matrix: sp.csr_matrix, test_fraction: float = 0.2,
                      seed: int = 42) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Split the non-zeros of a CSR matrix: (train with the weights, test with 1.0), both float32 CSR."""
    coo = sp.coo_matrix(matrix)
    held = np.random.default_rng(seed).random(coo.nnz) < test_fraction
    train = sp.csr_matrix((coo.data[~held], (coo.row[~held], coo.col[~held])), shape=coo.shape, dtype=np.float32)
    test = sp.csr_matrix((np.ones(int(held.sum()), np.float32), (coo.row[held], coo.col[held])), shape=coo.shape)
    return train, test


def leave_one_out(matrix: sp.csr_matrix, seed: int = 42,
                  order: sp.csr_matrix | None = None) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Hold out one positive per row that has at least two: (train, test) float32 CSR of the same shape.

    With `order` (same sparsity, e.g. last-interaction timestamps as floats) the row's largest is held out
    (the most recent); otherwise a seeded random one.
    """
    matrix = sp.csr_matrix(matrix, dtype=np.float32)
    matrix.sort_indices()
    rng = np.random.default_rng(seed)
    counts = np.diff(matrix.indptr)
    rows = np.flatnonzero(counts >= 2)
    if order is not None:
        order = sp.csr_matrix(order)
        order.sort_indices()
        if order.shape != matrix.shape or not np.array_equal(order.indptr, matrix.indptr):
            raise ValidationError([Problem("leave_one_out", None, None,
                                           "order must have the same non-zeros as matrix")])
        picks = np.array([matrix.indptr[r] + int(np.argmax(order.data[order.indptr[r]:order.indptr[r + 1]]))
                          for r in rows], dtype=np.int64)
    else:
        picks = matrix.indptr[rows] + (rng.random(len(rows)) * counts[rows]).astype(np.int64)
    held = np.zeros(matrix.nnz, dtype=bool)
    held[picks] = True
    coo = matrix.tocoo()  # same order as CSR data after sort_indices
    train = sp.csr_matrix((coo.data[~held], (coo.row[~held], coo.col[~held])), shape=matrix.shape, dtype=np.float32)
    test = sp.csr_matrix((np.ones(int(held.sum()), np.float32), (coo.row[held], coo.col[held])), shape=matrix.shape)
    return train, test
