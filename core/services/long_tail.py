"""Long tail: cold-start evaluation of ALS/predicted/blended/content/popularity spaces, and the training job."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from core.columns import Columns
from core.data.workspace import Workspace
from core.errors import Problem, ValidationError
from core.evaluation.ranking import evaluate_ranking, per_query_metrics, report_of, rows_per_chunk
from core.features.content import ContentFeatures, build_content_features, describe
from core.models.embeddings import (EmbeddingParams, blend, calibrate, fit_als, fit_blend_k, interaction_matrix,
                                    item_user_counts, normalise, predict, train_encoder)

log = logging.getLogger(__name__)

KIND = "long_tail"
SPACES: tuple[str, ...] = ("als", "predicted", "blended", "content", "popularity")
POPULARITY_BUCKETS: tuple[str, ...] = ("head", "torso", "tail")
KNOWN_BUCKETS: tuple[tuple[str, int, int], ...] = (("0", 0, 0), ("1-2", 1, 2), ("3-10", 3, 10), ("11+", 11, 1 << 62))
# Pareto split of the items sorted by popularity: head holds the first half of all interactions, torso the next 30%.
HEAD_SHARE, TORSO_SHARE = 0.5, 0.8
MAP_SPACES: tuple[str, ...] = ("als", "predicted", "blended")
Report = Callable[[float, str, dict | None], None]


@dataclass
class EvalParams:
    """The cold-start protocol's knobs."""

    holdout_fraction: float = 0.25  # of items with ≥ min_interactions users, chosen with `seed`
    keep_choices: tuple[int, ...] = (0, 0, 1, 2, 5, 10, 25)  # interactions left known per held-out item
    min_interactions: int = 2
    k: int = 10
    seed: int = 7
    min_lift: float = 2.0  # items task: a co-interacted item is relevant only if co-count ≥ min_lift × chance
    max_items: int = 2000  # held-out items scored (a seeded sample beyond this; all still leave training)

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> "EvalParams":
        values = dict(values or {})
        params = cls()
        for key, value in values.items():
            if not hasattr(params, key):
                raise ValidationError([Problem("eval params", None, key, "unknown parameter")])
            setattr(params, key, tuple(int(v) for v in value) if key == "keep_choices" else type(getattr(params, key))(value))
        if not 0 < params.holdout_fraction < 1:
            raise ValidationError([Problem("eval params", None, "holdout_fraction", "must be between 0 and 1")])
        return params


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


@dataclass
class Spaces:
    """Item vectors of every space (rows = catalogue items) plus what scoring users needs."""

    als: np.ndarray  # float32 (n_items, f) raw ALS
    predicted: np.ndarray  # float32 (n_items, f) unit
    blended: np.ndarray  # float32 (n_items, f) unit
    content: sp.csr_matrix  # float32 (n_items, F) unit rows
    user_factors: np.ndarray  # float32 (n_users, f)
    counts: np.ndarray  # int64 (n_items,) interacting users in the matrix the spaces were fitted on
    history: list[dict[str, float]]
    best_epoch: int
    timings: dict[str, float]
    blend_k: float = 5.0


def fit_spaces(user_items: sp.csr_matrix, features: ContentFeatures, params: EmbeddingParams,
               report: Report | None = None, span: tuple[float, float] = (0.0, 1.0)) -> Spaces:
    """ALS on `user_items`, the encoder on items with ≥ threshold users, predicted and blended vectors."""
    lo, hi = span
    say = report or (lambda fraction, message, metrics=None: None)
    timings = {}
    started = time.perf_counter()
    say(lo, "fitting ALS", None)
    users, items = fit_als(user_items, params)
    timings["als_s"] = time.perf_counter() - started
    counts = item_user_counts(user_items)
    eligible = counts >= params.threshold

    def on_epoch(row: dict[str, float]) -> None:
        say(lo + (hi - lo) * (0.2 + 0.75 * row["epoch"] / params.epochs),
            f"encoder epoch {row['epoch']}: val loss {row['val_loss']:.4f}", row)

    started = time.perf_counter()
    result = train_encoder(features, items, eligible, params, on_epoch=on_epoch)
    timings["encoder_s"] = time.perf_counter() - started
    predicted = calibrate(predict(result.model, features), items, result.train_items)
    blend_k, blend_fit = params.blend_k, {}
    if params.fit_blend_k:
        blend_k, blend_fit = fit_blend_k(user_items, items, predicted, result.val_items, params)
    blended = blend(items, predicted, counts.astype(np.float32), blend_k)
    spaces = Spaces(items, predicted, blended, features.raw_matrix(), users, counts, result.history,
                    result.best_epoch, timings, blend_k)
    spaces.blend_fit = blend_fit  # type: ignore[attr-defined] — cosine per k, reported with the version
    spaces.encoder = result.model  # type: ignore[attr-defined] — kept for saving, not part of the dataclass API
    return spaces


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


def evaluate_long_tail(interactions: pd.DataFrame, catalogue: pd.DataFrame, params: dict[str, Any] | None = None,
                       eval_params: dict[str, Any] | None = None, report: Report | None = None,
                       image_features: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, Any]:
    """Run the cold-start protocol; returns {"spaces": {space: {bucket: {...}}}, "meta": {...}}."""
    model_params = EmbeddingParams.from_dict(params)
    protocol = EvalParams.from_dict(eval_params)
    features = build_content_features(_catalogue(catalogue), image_features)
    matrix, _ = interaction_matrix(interactions, features.item_ids)
    if matrix.nnz == 0:
        raise ValidationError([Problem("interactions", None, Columns.item,
                                       "no interaction refers to a catalogue item: check the two files' item ids")])
    split = cold_start_split(matrix, protocol)
    spaces = fit_spaces(split.train, features, model_params, report, span=(0.0, 0.8))

    def scoring(fraction: float, message: str, metrics: dict | None = None) -> None:
        if report:
            report(0.85 + 0.15 * fraction, f"scoring held-out items: {message}", None)

    results = evaluate_spaces(split, spaces, protocol.k, protocol.min_lift, protocol.max_items, protocol.seed,
                              report=scoring)
    meta = {"n_users": int(matrix.shape[0]), "n_items": int(matrix.shape[1]), "n_interactions": int(matrix.nnz),
            "n_held_items": int(len(split.held_items)), "n_held_interactions": int(split.held.nnz),
            "encoder_items": int((spaces.counts >= model_params.threshold).sum()), "best_epoch": spaces.best_epoch,
            "timings": spaces.timings, "params": {**model_params.as_dict(), "blend_k": spaces.blend_k},
            "blend_fit": spaces.blend_fit,  # type: ignore[attr-defined]
            "protocol": {**protocol.__dict__, "keep_choices": list(protocol.keep_choices)},
            "content": describe(features)}
    return {"spaces": results, "meta": meta}


def planted_ceiling(ws: Workspace, eval_params: dict[str, Any] | None = None) -> dict[str, dict[str, float]]:
    """The users task scored with the demo's planted truth, on the same cold-start split: {bucket: {ndcg@10, ap}}.

    Users rank by log activity + taste·item − log Σ_j popularity_j·exp(taste·item_j), i.e. the log-probability
    the generator gives each user for the item: no vector space can beat it by more than noise, so it is the
    ceiling against which the ALS-vs-predicted gap on the demo should be read. Demo workspaces only.
    """
    from core.data.demo import load_planted

    truth = load_planted(ws)
    protocol = EvalParams.from_dict(eval_params)
    catalogue = _catalogue(ws.catalogue())
    item_ids = catalogue[Columns.item].astype(str).to_numpy()
    matrix, user_ids = interaction_matrix(ws.interactions(), item_ids)
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
        report = evaluate_ranking(scores, (keep @ held_t).tocsr(), exclude=train_t, k=protocol.k,
                                  chunk_size=rows_per_chunk(matrix.shape[0]))
        out[bucket] = {"ndcg@10": report.ndcg, "ap": report.average_precision, "n_items": report.n_queries}
    return out


def _catalogue(catalogue: pd.DataFrame) -> pd.DataFrame:
    frame = catalogue.drop_duplicates(Columns.item, keep="first").reset_index(drop=True)
    return frame


def outfits_as_sessions(outfits: pd.DataFrame) -> pd.DataFrame:
    """Curated outfits as interactions: one session (user_id = 'outfit:<id>') per outfit, one row per item."""
    return pd.DataFrame({Columns.user: "outfit:" + outfits[Columns.outfit].astype(str),
                         Columns.item: outfits[Columns.item].astype(str),
                         Columns.event: "order", Columns.weight: np.float32(1.0)})


def mango_tables(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mango curated outfits as sessions: (interactions with user_id = outfit id, catalogue)."""
    from core.data.public import read_mango

    tables = read_mango(Path(folder))
    return outfits_as_sessions(tables["outfits"]), tables["catalogue"]


def sessions(ws: Workspace) -> tuple[pd.DataFrame, str]:
    """The co-occurrence the model learns from: (interactions, source) — the workspace's interactions, or, in a
    workspace that only has curated outfits (e.g. the imported Mango data set), its outfits as sessions."""
    if ws.has("interactions"):
        return ws.interactions(), "interactions"
    if ws.has("outfits"):
        return outfits_as_sessions(ws.outfits()), "outfits"
    raise ValidationError([Problem("interactions", None, None,
                                   f"workspace '{ws.name}' has neither interactions nor outfits: import an "
                                   "interactions (or outfits) file on the Data page")])


# ---------------------------------------------------------------- training job


def train_long_tail(ws: Workspace, params: dict[str, Any], progress: Any) -> dict[str, Any]:
    """Job target: ALS → encoder (live val loss) → vectors → evaluation → UMAP per space → saved, active version.

    params: EmbeddingParams keys, plus `evaluate` (bool, default True), `projection` (bool, default True),
    `eval` (EvalParams keys) and `by` (who trained it).
    """
    from core.services import models

    params = dict(params or {})
    run_eval = bool(params.pop("evaluate", True))
    run_projection = bool(params.pop("projection", True))
    eval_params = params.pop("eval", None)
    by = str(params.pop("by", "local"))
    model_params = EmbeddingParams.from_dict(params)

    def report(fraction: float, message: str, metrics: dict | None = None) -> None:
        progress.update(fraction, message, metrics)

    catalogue = _catalogue(ws.catalogue())
    features = build_content_features(catalogue, ws.image_features())
    interactions, source = sessions(ws)
    matrix, _ = interaction_matrix(interactions, features.item_ids)
    if matrix.nnz == 0:
        raise ValidationError([Problem(source, None, Columns.item,
                                       f"no row of the {source} refers to a catalogue item: import matching files")])
    spaces = fit_spaces(matrix, features, model_params, report, span=(0.02, 0.45 if run_eval else 0.7))
    evaluation, eval_blend_k = None, None
    if run_eval:
        result = evaluate_long_tail(interactions, catalogue, model_params.as_dict(), eval_params,
                                    report=lambda f, m, metrics=None: report(0.45 + 0.3 * f, f"evaluation: {m}"),
                                    image_features=ws.image_features())
        evaluation = result["spaces"]
        eval_blend_k = result["meta"]["params"]["blend_k"]  # the evaluation fits its own k on its own split
    layouts: dict[str, np.ndarray] = {}
    timings = dict(spaces.timings)
    if run_projection:
        for i, name in enumerate(MAP_SPACES):
            report(0.76 + 0.07 * i, f"UMAP of the {name} space", None)
            started = time.perf_counter()
            layouts[name] = project_space(getattr(spaces, name), model_params.seed)
            timings[f"umap_{name}_s"] = time.perf_counter() - started
    report(0.97, "saving the version", None)
    arrays = model_arrays(spaces, features, catalogue, layouts)
    metrics = summary_metrics(evaluation, spaces)
    meta = {"params": {**model_params.as_dict(), "blend_k": spaces.blend_k},
            "blend_fit": spaces.blend_fit,  # type: ignore[attr-defined]
            "metrics": metrics, "evaluation": evaluation, "evaluation_blend_k": eval_blend_k,
            "history": spaces.history, "best_epoch": spaces.best_epoch, "timings": timings,
            "content": describe(features), "by": by, "source": source, "n_users": int(matrix.shape[0]),
            "n_interactions": int(matrix.nnz)}
    version = models.store(ws).save(KIND, arrays, meta)
    models.register_version(ws, KIND, version, metrics, by)
    models.activate(ws, KIND, version, by)
    report(1.0, f"version {version} is active", None)
    return {"version": version, "metrics": metrics, "timings": timings}


def project_space(vectors: np.ndarray, seed: int) -> np.ndarray:
    from core.projection import project

    return project(vectors, seed=seed)


def summary_metrics(evaluation: dict | None, spaces: Spaces) -> dict[str, float]:
    """Flat numbers for the versions table: tail/head NDCG@10 per space and the encoder's best val loss."""
    metrics: dict[str, float] = {}
    if spaces.history:
        metrics["encoder_val_loss"] = min(row["val_loss"] for row in spaces.history)
        metrics["encoder_val_cosine"] = max(row["val_cosine"] for row in spaces.history)
    for space in ("als", "predicted", "blended") if evaluation else ():
        for bucket in ("tail", "head"):
            value = evaluation[space][bucket]["ndcg@10"]
            metrics[f"{space}_{bucket}_ndcg@10"] = value
    return metrics


def model_arrays(spaces: Spaces, features: ContentFeatures, catalogue: pd.DataFrame,
                 layouts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """What a version stores: vectors per space, counts, buckets, layouts, encoder weights, content vocabularies."""
    from core.artifacts import torch_state_to_arrays

    arrays: dict[str, np.ndarray] = {
        "item_ids": features.item_ids.astype(str),
        "als": spaces.als, "predicted": spaces.predicted, "blended": spaces.blended,
        "counts": spaces.counts, "bucket": popularity_buckets(spaces.counts),
    }
    for name, layout in layouts.items():
        arrays[f"umap_{name}"] = layout
    arrays.update(torch_state_to_arrays(spaces.encoder.state_dict(), prefix="encoder."))  # type: ignore[attr-defined]
    arrays.update(features.to_arrays())
    return arrays


@dataclass
class LongTailModel:
    """A loaded version, for the page: vectors, layouts, counts and the catalogue columns it shows."""

    version: str
    item_ids: np.ndarray
    vectors: dict[str, np.ndarray]
    layouts: dict[str, np.ndarray]
    counts: np.ndarray
    bucket: np.ndarray
    meta: dict[str, Any]


def load_model(ws: Workspace) -> LongTailModel | None:
    """The active long-tail version, or None when none was trained."""
    from core.services import models

    artifact = models.load_active(ws, KIND)
    if artifact is None:
        return None
    a = artifact.arrays
    return LongTailModel(artifact.version, a["item_ids"], {s: a[s] for s in MAP_SPACES},
                         {s: a[f"umap_{s}"] for s in MAP_SPACES if f"umap_{s}" in a}, a["counts"], a["bucket"],
                         artifact.meta)


def items_frame(ws: Workspace, model: LongTailModel) -> pd.DataFrame:
    """One row per model item: item_id, name, brand, category, image_url, interactions, bucket (catalogue order)."""
    frame = pd.DataFrame({Columns.item: model.item_ids, "interactions": model.counts, "bucket": model.bucket})
    catalogue = _catalogue(ws.catalogue())
    wanted = [c for c in ("name", "brand", "category", "category_group", "price", "image_url") if c in catalogue]
    info = catalogue[[Columns.item, *wanted]].astype({Columns.item: str})
    frame = frame.merge(info, on=Columns.item, how="left")
    for column in ("name", "brand", "category"):
        if column not in frame:
            frame[column] = ""
        frame[column] = frame[column].fillna("").astype(str)
    return frame


def neighbours(model: LongTailModel, item_id: str, space: str, k: int = 10) -> list[tuple[str, float]]:
    """The k nearest items of `item_id` in `space` (als | predicted | blended) by cosine.

    als/predicted: exact faiss search; blended: the similarity-level blend of `blended_similarity` (exact, NumPy).
    """
    index = neighbour_index(model, space)
    if space != "blended":
        return index.neighbours(item_id, k)
    row = index.position(item_id)
    als_unit = normalise(model.vectors["als"])
    weights = blend_weights(model.counts, float(model.meta.get("params", {}).get("blend_k", 5.0)))
    scores = blended_similarity(als_unit, model.vectors["predicted"], weights, np.array([row]))[0]
    scores[row] = -np.inf
    top = np.argpartition(-scores, min(k, len(scores) - 1))[:k + 1]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(str(model.item_ids[j]), float(scores[j])) for j in top if j != row][:k]


_INDEXES: dict[tuple[str, str], Any] = {}


def neighbour_index(model: LongTailModel, space: str):  # noqa: ANN201 — NeighbourIndex
    """A faiss index per (version, space), built once per process (≈ ms for 100k × 64)."""
    from core.index import NeighbourIndex

    if space not in model.vectors:
        raise ValidationError([Problem("space", None, None, f"unknown space '{space}'; use one of {list(MAP_SPACES)}")])
    key = (model.version, space)
    if key not in _INDEXES:
        if len(_INDEXES) > 8:
            _INDEXES.clear()
        _INDEXES[key] = NeighbourIndex(model.vectors[space], model.item_ids)
    return _INDEXES[key]


def evaluation_table(evaluation: dict[str, dict[str, dict[str, float]]], task: str = "users") -> pd.DataFrame:
    """Long table: space, bucket, ndcg@10, ap, n_items for `task` users | items."""
    prefix = "" if task == "users" else "item_"
    rows = []
    for space, buckets in evaluation.items():
        for bucket, entry in buckets.items():
            rows.append({"space": space, "bucket": bucket, "ndcg@10": entry.get(f"{prefix}ndcg@10"),
                         "ap": entry.get(f"{prefix}ap"), "n_items": entry.get(f"{prefix}n_items", entry.get("n_items"))})
    return pd.DataFrame(rows)
