"""Collaborative item vectors: the long-tail interaction matrix and implicit's ALS on it."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from core.columns import Columns
from core.data.idmap import IdMap
from core.features.interactions import InteractionMatrix, interaction_matrix
from core.models.long_tail.params import LongTailParams


def session_matrix(interactions: pd.DataFrame, item_ids: np.ndarray) -> InteractionMatrix:
    """User × item float32 CSR of summed weights (event weight × weight column) over the `item_ids` columns.

    The catalogue defines the item space: interactions with other items are dropped, and users are those with
    at least one catalogue item. Unlike the affinity model's matrix, an event without a weight counts 1 and
    zero-weight pairs stay stored entries (ALS reads them): the weighting this model was measured with.
    """
    return interaction_matrix(interactions, Columns.item, column_ids=IdMap(np.asarray(item_ids).astype(str)),
                              unnamed_event_weight=1.0, keep_zero_weights=True)


def fit_als(user_items: sp.csr_matrix, params: LongTailParams) -> tuple[np.ndarray, np.ndarray]:
    """implicit ALS on a user × item matrix → (user_factors float32 (U, f), item_factors float32 (I, f)).

    Items (or users) without any interaction get a zero vector: ALS knows nothing about them.
    """
    # implicit (numba kernels) loads only where ALS trains
    from implicit.cpu.als import AlternatingLeastSquares  # noqa: PLC0415

    matrix = sp.csr_matrix(user_items, dtype=np.float32)
    with threadpool_limits(1, "blas"), warnings.catch_warnings():  # BLAS threads would fight implicit's own
        warnings.filterwarnings("ignore", message=".*OpenBLAS is configured.*")  # checked before the limit applies
        model = AlternatingLeastSquares(factors=params.factors, regularization=params.regularization,
                                        alpha=params.alpha, iterations=params.iterations,
                                        num_threads=params.threads, random_state=params.seed)
        model.fit(matrix, show_progress=False)
    users = np.asarray(model.user_factors, dtype=np.float32).copy()
    items = np.asarray(model.item_factors, dtype=np.float32).copy()
    users[np.diff(matrix.indptr) == 0] = 0.0
    items[np.asarray((matrix > 0).sum(axis=0)).ravel() == 0] = 0.0
    return users, items


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero): float32 (n, d)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)



def item_user_counts(user_items: sp.csr_matrix) -> np.ndarray:
    """Distinct interacting users per item: int64 (n_items,)."""
    return np.asarray((user_items > 0).sum(axis=0)).ravel().astype(np.int64)
