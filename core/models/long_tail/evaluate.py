"""The long-tail cold-start protocol: hold items out, refit, rank their users and neighbours in every space."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from core.columns import Columns
from core.errors import Problem, ValidationError
from core.evaluation.ranking import evaluate_ranking, per_query_metrics, report_of, rows_per_chunk
from core.features.content import build_content_features, describe
from core.models.long_tail.als import normalise, session_matrix
from core.models.long_tail.blend import blend_weights, blended_similarity
from core.models.long_tail.data import unique_items
from core.models.long_tail.params import EvalParams, LongTailParams
from core.models.long_tail.spaces import Report, Spaces, fit_spaces

SPACES: tuple[str, ...] = ("als", "predicted", "blended", "content", "popularity")
POPULARITY_BUCKETS: tuple[str, ...] = ("head", "torso", "tail")
KNOWN_BUCKETS: tuple[tuple[str, int, int], ...] = (("0", 0, 0), ("1-2", 1, 2), ("3-10", 3, 10), ("11+", 11, 1 << 62))
# Pareto split of the items sorted by popularity: head holds the first half of all interactions, torso the next 30%.
HEAD_SHARE, TORSO_SHARE = 0.5, 0.8


@dataclass
class ColdStartSplit:
    """Train/held-out user × item matrices with no entry in both.

    held_items: int64 (h,) columns whose interactions were (partly) held out; known: int64 (h,) users kept
    known for each; total: int64 (n_items,) distinct users per item before the split.
    """

    train: sp.csr_matrix
    held: sp.csr_matrix
    held_items: np.ndarray
    known: np.ndarray
    total: np.ndarray


def popularity_buckets(counts: np.ndarray) -> np.ndarray:
    """'head' / 'torso' / 'tail' per item from interaction counts (Pareto shares of all interactions): <U5 (n,)."""
    counts = np.asarray(counts, dtype=np.float64)
    order = np.argsort(-counts, kind="stable")
    total = counts.sum()
    before = (np.cumsum(counts[order]) - counts[order]) / max(total, 1e-12)  # share held by more popular items
    buckets = np.empty(len(counts), dtype="<U5")
    buckets[order] = np.where(before < HEAD_SHARE, "head", np.where(before < TORSO_SHARE, "torso", "tail"))
    buckets[counts == 0] = "tail"
    return buckets


def known_bucket(known: np.ndarray) -> np.ndarray:
    """'0' / '1-2' / '3-10' / '11+' per count: <U4 (n,)."""
    out = np.empty(len(known), dtype="<U4")
    for name, low, high in KNOWN_BUCKETS:
        out[(known >= low) & (known <= high)] = name
    return out


def cold_start_split(user_items: sp.csr_matrix, params: EvalParams) -> ColdStartSplit:
    """Hold out all but k users of a seeded random set of items (k drawn from params.keep_choices).

    Every held-out item keeps at least one held-out user, so it can be scored; the train matrix never holds
    a held-out (user, item) entry.
    """
    rng = np.random.default_rng(params.seed)
    matrix = sp.csr_matrix(user_items, dtype=np.float32)
    matrix.eliminate_zeros()
    by_item = matrix.T.tocsr()
    total = np.diff(by_item.indptr).astype(np.int64)
    eligible = np.flatnonzero(total >= max(params.min_interactions, 1))
    n_held = int(round(len(eligible) * params.holdout_fraction))
    if n_held == 0:
        raise ValidationError([Problem("interactions", None, None,
                                       f"no item has ≥ {params.min_interactions} interacting users to hold out: "
                                       "import more interactions")])
    held_items = np.sort(rng.choice(eligible, size=n_held, replace=False))
    keep = rng.choice(np.asarray(params.keep_choices, dtype=np.int64), size=n_held)
    known = np.minimum(keep, total[held_items] - 1)
    held_rows, held_cols = [], []
    for item, k in zip(held_items, known):
        users = by_item.indices[by_item.indptr[item]:by_item.indptr[item + 1]]
        hidden = rng.permutation(users)[k:]
        held_rows.append(hidden)
        held_cols.append(np.full(len(hidden), item))
    rows, cols = np.concatenate(held_rows), np.concatenate(held_cols)
    mask = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=matrix.shape)
    held = matrix.multiply(mask).tocsr()
    train = (matrix - held).tocsr()
    train.eliminate_zeros()
    held.eliminate_zeros()
    return ColdStartSplit(train, held, held_items, known.astype(np.int64), total)


def _vector_scores(user_factors: np.ndarray, vectors: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    return lambda rows: (vectors[rows] @ user_factors.T).astype(np.float32)


def _space_scorers(spaces: Spaces, train: sp.csr_matrix) -> dict[str, tuple[Callable, Callable]]:
    """Per space: (score users for item rows, score items for item rows) → float32 (q, n_users) / (q, n_items)."""
    binary = (train > 0).astype(np.float32).tocsr()
    activity = np.asarray(binary.sum(axis=1)).ravel().astype(np.float32)
    popularity = np.asarray(binary.sum(axis=0)).ravel().astype(np.float32)
    # users × F: summed content of their known items, i.e. a user's score for item i is Σ_j cos(i, j) over their
    # items (content item-kNN). The mean (ASOS) would favour one-item users, whose profile has the largest norm.
    profiles = (binary @ spaces.content).tocsr()
    profiles_t = profiles.T.tocsr()
    unit = {"als": normalise(spaces.als), "predicted": spaces.predicted, "blended": spaces.blended}
    scorers: dict[str, tuple[Callable, Callable]] = {}
    for name, vectors in unit.items():
        scorers[name] = (_vector_scores(spaces.user_factors, vectors),
                         (lambda rows, v=vectors: (v[rows] @ v.T).astype(np.float32)))
    weights = blend_weights(spaces.counts, spaces.blend_k)
    scorers["blended"] = (scorers["blended"][0],
                          lambda rows: blended_similarity(unit["als"], spaces.predicted, weights, rows))
    content = spaces.content
    scorers["content"] = (lambda rows: np.asarray((content[rows] @ profiles_t).todense(), dtype=np.float32),
                          lambda rows: np.asarray((content[rows] @ content.T).todense(), dtype=np.float32))
    scorers["popularity"] = (lambda rows: np.tile(activity, (len(rows), 1)),
                             lambda rows: np.tile(popularity, (len(rows), 1)))
    return scorers


def evaluate_spaces(split: ColdStartSplit, spaces: Spaces, k: int = 10, min_lift: float = 2.0,
                    max_items: int | None = None, seed: int = 0,
                    report: Report | None = None) -> dict[str, dict[str, dict[str, float]]]:
    """{space: {bucket: {ndcg@10, ap, n_items, item_ndcg@10, item_ap, item_n_items}}} over the held-out items.

    Users task: rank every user for a held-out item; relevant = its held-out users, its known users excluded.
    Items task: rank every other item; relevant = items its held-out users interacted with in training more
    often than `min_lift` × chance, chance = popularity(j) × Σ activity(held-out users) / all pairs, so that
    popular items that active users touch anyway do not define relevance.
    With more than `max_items` held-out items, a seeded sample of them is scored (the large demo holds out
    ~20k items of 1M users: every one would cost a sort of 1M scores per space).
    """
    n_items, n_users = split.train.shape[1], split.train.shape[0]
    scored = np.arange(len(split.held_items))
    if max_items is not None and len(scored) > max_items:
        scored = np.sort(np.random.default_rng(seed).choice(scored, size=max_items, replace=False))
    held_t = split.held.T.tocsr()  # items × users
    train_t = split.train.T.tocsr()
    binary_train = (split.train > 0).astype(np.float32).tocsr()
    co = ((held_t > 0).astype(np.float32) @ binary_train).tocsr()  # items × items co-interaction counts
    co.setdiag(0)
    co.eliminate_zeros()
    activity = np.asarray(binary_train.sum(axis=1)).ravel()
    held_activity = np.asarray((held_t > 0).astype(np.float32) @ activity).ravel()
    co = _lift_filter(co, held_activity, np.asarray(binary_train.sum(axis=0)).ravel(), binary_train.nnz, min_lift)
    self_mask = sp.identity(n_items, dtype=np.float32, format="csr")
    held_items = split.held_items[scored]
    pop = popularity_buckets(split.total)[held_items]
    known = known_bucket(split.known[scored])
    buckets: dict[str, np.ndarray] = {"all": held_items}
    for name in POPULARITY_BUCKETS:
        buckets[name] = held_items[pop == name]
    for name, _, _ in KNOWN_BUCKETS:
        buckets[name] = held_items[known == name]
    scorers = {name: tuple(_tie_broken(fn, seed) for seed, fn in enumerate(pair))
               for name, pair in _space_scorers(spaces, split.train).items()}
    # Every held-out item is ranked once per space and task; the buckets average subsets of those queries.
    every = sp.diags(np.isin(np.arange(n_items), held_items).astype(np.float32))
    user_relevant, item_relevant = (every @ held_t).tocsr(), (every @ co).tocsr()
    results: dict[str, dict[str, dict[str, float]]] = {}
    for index, space in enumerate(SPACES):
        if report:
            report(index / len(SPACES), f"ranking users and items in the {space} space", None)
        user_fn, item_fn = scorers[space]
        user_q, user_m = per_query_metrics(user_fn, user_relevant, exclude=train_t, k=k,
                                           chunk_size=rows_per_chunk(n_users))
        item_q, item_m = per_query_metrics(item_fn, item_relevant, exclude=self_mask, k=k,
                                           chunk_size=rows_per_chunk(n_items))
        results[space] = {}
        for bucket, rows in buckets.items():
            entry: dict[str, float] = {"ndcg@10": float("nan"), "ap": float("nan"), "n_items": int(len(rows))}
            if len(rows):
                users = report_of(user_m[np.isin(user_q, rows)], k)
                items = report_of(item_m[np.isin(item_q, rows)], k)
                entry.update({"ndcg@10": users.ndcg, "ap": users.average_precision, "n_items": users.n_queries,
                              "item_ndcg@10": items.ndcg, "item_ap": items.average_precision,
                              "item_n_items": items.n_queries})
            results[space][bucket] = entry
    return results


def _tie_broken(score_fn: Callable[[np.ndarray], np.ndarray], seed: int) -> Callable[[np.ndarray], np.ndarray]:
    """Break exact ties at random: a zero vector (ALS for an item never seen) ranks nobody, so it must score
    like a random ranking, not like the optimistic tie rule of average precision."""
    def scored(rows: np.ndarray) -> np.ndarray:
        scores = np.asarray(score_fn(rows), dtype=np.float32)
        rng = np.random.default_rng([seed, int(rows[0]) if len(rows) else 0, len(rows)])
        eps = 1e-5 * max(float(np.abs(scores).max()) if scores.size else 0.0, 1e-6)
        return scores + rng.random(scores.shape, dtype=np.float32) * eps
    return scored


def _lift_filter(co: sp.csr_matrix, held_activity: np.ndarray, popularity: np.ndarray, n_pairs: int,
                 min_lift: float) -> sp.csr_matrix:
    """Keep co[i, j] only where co[i, j] ≥ min_lift × held_activity[i] × popularity[j] / n_pairs."""
    co = co.tocoo()
    expected = held_activity[co.row] * popularity[co.col] / max(n_pairs, 1)
    keep = co.data >= min_lift * expected
    return sp.csr_matrix((co.data[keep], (co.row[keep], co.col[keep])), shape=co.shape, dtype=np.float32)


def evaluate_long_tail(interactions: pd.DataFrame, catalogue: pd.DataFrame, params: LongTailParams | None = None,
                       protocol: EvalParams | None = None, report: Report | None = None,
                       image_features: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, Any]:
    """Run the cold-start protocol; returns {"spaces": {space: {bucket: {...}}}, "meta": {...}}."""
    params, protocol = params or LongTailParams(), protocol or EvalParams()
    features = build_content_features(unique_items(catalogue), image_features)
    matrix = session_matrix(interactions, features.item_ids).matrix
    if matrix.nnz == 0:
        raise ValidationError([Problem("interactions", None, Columns.item,
                                       "no interaction refers to a catalogue item: check the two files' item ids")])
    split = cold_start_split(matrix, protocol)
    spaces = fit_spaces(split.train, features, params, report, span=(0.0, 0.8))

    def scoring(fraction: float, message: str, metrics: dict | None = None) -> None:
        if report:
            report(0.85 + 0.15 * fraction, f"scoring held-out items: {message}", None)

    results = evaluate_spaces(split, spaces, protocol.k, protocol.min_lift, protocol.max_items, protocol.seed,
                              report=scoring)
    meta = {"n_users": int(matrix.shape[0]), "n_items": int(matrix.shape[1]), "n_interactions": int(matrix.nnz),
            "n_held_items": int(len(split.held_items)), "n_held_interactions": int(split.held.nnz),
            "encoder_items": int((spaces.counts >= params.threshold).sum()), "best_epoch": spaces.best_epoch,
            "timings": spaces.timings, "params": params.replace(blend_k=spaces.blend_k).to_dict(),
            "blend_fit": spaces.blend_fit, "protocol": protocol.to_dict(), "content": describe(features)}
    return {"spaces": results, "meta": meta}


def planted_ceiling_scores(matrix: sp.csr_matrix, user_ids: np.ndarray, item_ids: np.ndarray,
                           truth: dict[str, np.ndarray],
                    protocol: EvalParams | None = None) -> dict[str, dict[str, float]]:
    """The users task scored with a demo's planted truth, on the same cold-start split: {bucket: {ndcg@10, ap}}.

    Users rank by log activity + taste·item − log Σ_j popularity_j·exp(taste·item_j), i.e. the log-probability
    the generator gives each user for the item: no vector space can beat it by more than noise, so it is the
    ceiling against which the ALS-vs-predicted gap on the demo should be read. `matrix` rows are `user_ids`,
    columns `item_ids`; `truth` is what the demo generator planted (core.data.demo.load_planted).
    """
    protocol = protocol or EvalParams()
    split = cold_start_split(matrix, protocol)
    users = pd.Index(truth["user_ids"].astype(str)).get_indexer(user_ids)
    items = pd.Index(truth["item_ids"].astype(str)).get_indexer(item_ids)
    if (users < 0).any() or (items < 0).any():
        raise ValidationError([Problem("planted", None, None, "the planted truth does not match this workspace's "
                                       "tables (were they re-imported?): regenerate the demo")])
    taste, vectors = truth["user_factors"][users], truth["item_factors"][items]
    log_norm = np.log(np.exp(taste @ vectors.T) @ truth["item_popularity"][items])
    log_activity = np.log(truth["user_activity"][users])

    def scores(rows: np.ndarray) -> np.ndarray:
        return (log_activity[None, :] + vectors[rows] @ taste.T - log_norm[None, :]).astype(np.float32)

    held_t, train_t = split.held.T.tocsr(), split.train.T.tocsr()
    pop = popularity_buckets(split.total)[split.held_items]
    known = known_bucket(split.known)
    buckets = {"all": split.held_items, **{b: split.held_items[pop == b] for b in POPULARITY_BUCKETS},
               **{b: split.held_items[known == b] for b, _, _ in KNOWN_BUCKETS}}
    out: dict[str, dict[str, float]] = {}
    for bucket, rows in buckets.items():
        keep = sp.diags(np.isin(np.arange(matrix.shape[1]), rows).astype(np.float32))
        result = evaluate_ranking(scores, (keep @ held_t).tocsr(), exclude=train_t, k=protocol.k,
                                  chunk_size=rows_per_chunk(matrix.shape[0]))
        out[bucket] = {"ndcg@10": result.ndcg, "ap": result.average_precision, "n_items": result.n_queries}
    return out


def summary_metrics(evaluation: dict | None, history: list[dict[str, float]]) -> dict[str, float]:
    """Flat numbers for the versions table: tail/head NDCG@10 per space and the encoder's best val loss."""
    metrics: dict[str, float] = {}
    if history:
        metrics["encoder_val_loss"] = min(row["val_loss"] for row in history)
        metrics["encoder_val_cosine"] = max(row["val_cosine"] for row in history)
    for space in ("als", "predicted", "blended") if evaluation else ():
        for bucket in ("tail", "head"):
            metrics[f"{space}_{bucket}_ndcg@10"] = evaluation[space][bucket]["ndcg@10"]
    return metrics
