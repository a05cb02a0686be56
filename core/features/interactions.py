"""Interaction matrices (user×brand, user×item) from the interactions table, with event weights and time decay."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp

from core.columns import DEFAULT_EVENT_WEIGHTS, EVENTS, Columns
from core.data.idmap import IdMap
from core.errors import ValidationError, Problem

__all__ = ["DEFAULT_EVENT_WEIGHTS", "InteractionMatrix", "interaction_weights", "interaction_matrix",
           "user_brand_matrix", "user_item_matrix", "planted_interactions"]


@dataclass(frozen=True)
class InteractionMatrix:
    """`matrix`: float32 CSR (n_users, n_columns), summed weights per pair; ids map rows and columns."""

    matrix: sp.csr_matrix
    user_ids: IdMap
    column_ids: IdMap

    @property
    def n_interactions(self) -> int:
        return int(self.matrix.nnz)


def interaction_weights(
    interactions: pd.DataFrame,
    event_weights: Mapping[str, float] | None = None,
    half_life_days: float | None = None,
    now: pd.Timestamp | None = None,
    unnamed_event_weight: float | None = None,
) -> np.ndarray:
    """Weight of each row: event weight × the row's `weight` column × 0.5 ** (age_days / half_life_days).

    Returns float32 (len(interactions),). Rows with a missing timestamp are not decayed; `now`
    defaults to the latest timestamp so that re-running on the same file gives the same weights.
    A row whose event has no weight in `event_weights` (or no event) is refused, or weighs
    `unnamed_event_weight` when that is given.
    """
    weights = dict(DEFAULT_EVENT_WEIGHTS if event_weights is None else event_weights)
    unknown = sorted(set(weights) - set(EVENTS))
    if unknown:
        raise ValidationError([Problem("event_weights", None, None, f"unknown events {unknown}; use {list(EVENTS)}")])
    if Columns.event in interactions:
        per_event = interactions[Columns.event].astype(object).map(weights)
        if unnamed_event_weight is not None:
            per_event = per_event.fillna(unnamed_event_weight)
        elif per_event.isna().any():
            bad = interactions.loc[per_event.isna(), Columns.event].astype(str).unique()[:5].tolist()
            raise ValidationError([Problem("interactions", None, Columns.event,
                                           f"events {bad} have no weight; give them one in event_weights")])
        w = per_event.to_numpy(dtype=np.float64)
    else:
        w = np.ones(len(interactions))
    if Columns.weight in interactions:
        w = w * interactions[Columns.weight].fillna(1.0).to_numpy(dtype=np.float64)
    if half_life_days and Columns.timestamp in interactions:
        ts = pd.to_datetime(interactions[Columns.timestamp], utc=True)
        if ts.notna().any():
            ref = pd.Timestamp(now) if now is not None else ts.max()
            if ref.tzinfo is None:
                ref = ref.tz_localize("UTC")
            age_days = ((ref - ts).dt.total_seconds() / 86400.0).clip(lower=0).fillna(0.0).to_numpy()
            w = w * np.power(0.5, age_days / float(half_life_days))
    return w.astype(np.float32)


def interaction_matrix(
    interactions: pd.DataFrame,
    column: str,
    event_weights: Mapping[str, float] | None = None,
    half_life_days: float | None = None,
    user_ids: IdMap | None = None,
    column_ids: IdMap | None = None,
    now: pd.Timestamp | None = None,
    unnamed_event_weight: float | None = None,
    keep_zero_weights: bool = False,
) -> InteractionMatrix:
    """Summed-weight CSR of users × `column` (brand_id or item_id); rows with a missing id are dropped.

    With `user_ids` / `column_ids` given, rows whose ids are not in them are dropped (e.g. a test
    period scored against the training id maps, or interactions outside a catalogue); otherwise the
    maps are built from the data (sorted), users from the rows that fall in a known column.
    The weighting is each caller's choice, so each model keeps its numbers: `unnamed_event_weight`
    (see `interaction_weights`) and `keep_zero_weights` (pairs summing to 0 stay stored entries).
    """
    for col in (Columns.user, column):
        if col not in interactions:
            raise ValidationError([Problem("interactions", None, col, "column is missing")])
    frame = interactions[interactions[Columns.user].notna() & interactions[column].notna()]
    users = frame[Columns.user].astype(str)
    cols = frame[column].astype(str)
    column_ids = column_ids or IdMap.from_values(cols)
    columns = column_ids.to_index(cols, missing="mask")
    user_ids = user_ids or IdMap.from_values(users[columns >= 0])
    rows = user_ids.to_index(users, missing="mask")
    weights = interaction_weights(frame, event_weights, half_life_days, now, unnamed_event_weight)
    keep = (rows >= 0) & (columns >= 0)
    matrix = sp.csr_matrix(
        (weights[keep], (rows[keep], columns[keep])), shape=(len(user_ids), len(column_ids)), dtype=np.float32
    )
    matrix.sum_duplicates()
    if not keep_zero_weights:
        matrix.eliminate_zeros()
    return InteractionMatrix(matrix, user_ids, column_ids)


def user_brand_matrix(interactions: pd.DataFrame, **kwargs: Any) -> InteractionMatrix:
    """users × brands; see `interaction_matrix` for the options."""
    return interaction_matrix(interactions, Columns.brand, **kwargs)


def user_item_matrix(interactions: pd.DataFrame, **kwargs: Any) -> InteractionMatrix:
    """users × items; see `interaction_matrix` for the options."""
    return interaction_matrix(interactions, Columns.item, **kwargs)


def planted_interactions(
    n_users: int = 20_000,
    n_brands: int = 500,
    n_interactions: int = 200_000,
    n_factors: int = 8,
    strength: float = 2.5,
    popularity_exponent: float = 1.0,
    seed: int = 0,
    with_timestamps: bool = True,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Synthetic interactions with planted structure, for tests and benchmarks.

    Each user picks distinct brands with probability ∝ popularity × exp(strength · u·v) (Gumbel top-k),
    with a log-normal number of brands per user. Returns (interactions in the generic schema, truth)
    where truth holds `user_factors` (n_users, n_factors), `brand_factors`, `popularity` (n_brands,).
    """
    rng = np.random.default_rng(seed)
    U = rng.normal(size=(n_users, n_factors)).astype(np.float32) / np.sqrt(n_factors)
    V = rng.normal(size=(n_brands, n_factors)).astype(np.float32)  # u·v ~ N(0, 1): `strength` is the logit scale
    popularity = (1.0 / np.arange(1, n_brands + 1) ** popularity_exponent)[rng.permutation(n_brands)]
    activity = rng.lognormal(0.0, 0.8, size=n_users)
    counts = np.clip(np.round(activity / activity.sum() * n_interactions), 1, n_brands // 2).astype(np.int64)
    log_pop = np.log(popularity / popularity.sum()).astype(np.float32)
    users, brands = [], []
    for start in range(0, n_users, 4096):
        stop = min(start + 4096, n_users)
        logits = strength * (U[start:stop] @ V.T) + log_pop
        logits += rng.gumbel(size=logits.shape).astype(np.float32)
        order = np.argsort(-logits, axis=1)
        c = counts[start:stop]
        mask = np.arange(n_brands)[None, :] < c[:, None]
        r, pos = np.nonzero(mask)
        users.append(r + start)
        brands.append(order[r, pos])
    u = np.concatenate(users)
    b = np.concatenate(brands)
    n = len(u)
    events = rng.choice(np.array(EVENTS, dtype=object), size=n, p=[0.55, 0.2, 0.1, 0.1, 0.05])
    frame = pd.DataFrame({
        Columns.user: np.char.add("u", u.astype(str)).astype(object),
        Columns.item: np.char.add("i", (b * 10 + rng.integers(0, 10, size=n)).astype(str)).astype(object),
        Columns.brand: np.char.add("b", b.astype(str)).astype(object),
        Columns.event: events,
        Columns.weight: np.ones(n, dtype=np.float32),
    })
    if with_timestamps:
        start_ts = pd.Timestamp("2024-01-01", tz="UTC")
        frame[Columns.timestamp] = start_ts + pd.to_timedelta(rng.uniform(0, 180, size=n), unit="D")
    else:
        frame[Columns.timestamp] = pd.NaT
    return frame, {"user_factors": U, "brand_factors": V, "popularity": popularity}
