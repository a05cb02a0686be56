"""Item embeddings: implicit ALS, a torch content encoder that predicts them, and count-weighted blending."""

from __future__ import annotations

import time
import warnings
from dataclasses import asdict, dataclass, fields
from typing import Any, Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from core.columns import DEFAULT_EVENT_WEIGHTS, Columns
from core.errors import Problem, ValidationError
from core.features.content import ContentFeatures


@dataclass
class EmbeddingParams:
    """Every knob of the long-tail model; stored with each version."""

    factors: int = 32  # demo: 16–32 beat 64 on every bucket (README); larger catalogues may want more
    regularization: float = 0.05
    iterations: int = 15
    alpha: float = 10.0  # ALS confidence = 1 + alpha * weight
    threshold: int = 10  # items with at least this many interacting users train the encoder
    val_fraction: float = 0.15  # of those items, held out to validate the encoder
    hidden: int = 256
    embed_dim: int = 16
    dropout: float = 0.2
    epochs: int = 40
    batch_size: int = 256
    lr: float = 3e-3
    weight_decay: float = 1e-5
    cosine_weight: float = 1.0  # loss = dim * MSE(unit vectors) + cosine_weight * (1 - cos)
    patience: int = 6
    blend_k: float = 5.0  # blended = w * als + (1 - w) * predicted, w = n / (n + blend_k)
    fit_blend_k: bool = True  # choose blend_k on the encoder's validation items (see `fit_blend_k`); else keep it
    seed: int = 42
    threads: int = 2  # ALS threads
    torch_threads: int = 1  # on 2 shared cores, 2 torch threads spin-wait and run 10× slower than 1

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> "EmbeddingParams":
        """Known keys only; an unknown key is a mistake the user should hear about."""
        values = dict(values or {})
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValidationError([Problem("params", None, k, f"unknown parameter; use one of {sorted(known)}")
                                   for k in unknown])
        params = cls()
        for key, value in values.items():
            setattr(params, key, type(getattr(params, key))(value))
        if params.factors < 2 or params.iterations < 1 or params.epochs < 1 or params.threshold < 1:
            raise ValidationError([Problem("params", None, None,
                                           "factors ≥ 2, iterations ≥ 1, epochs ≥ 1 and threshold ≥ 1 are required")])
        return params

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def interaction_matrix(interactions: pd.DataFrame, item_ids: np.ndarray,
                       event_weights: dict[str, float] | None = None) -> tuple[sp.csr_matrix, np.ndarray]:
    """User × item float32 CSR of summed weights (event weight × weight column) over `item_ids` columns.

    Interactions with items not in `item_ids` are dropped (the catalogue defines the item space).
    Returns (matrix (n_users, n_items), user_ids (n_users,) str).
    """
    for column in (Columns.user, Columns.item):
        if column not in interactions.columns:
            raise ValidationError([Problem("interactions", None, column, "column is required")])
    weights = dict(DEFAULT_EVENT_WEIGHTS if event_weights is None else event_weights)
    frame = interactions[[Columns.user, Columns.item]].astype(str)
    w = np.ones(len(frame))
    if Columns.event in interactions.columns:
        w = interactions[Columns.event].astype(object).map(weights).fillna(1.0).to_numpy(dtype=np.float64)
    if Columns.weight in interactions.columns:
        w = w * interactions[Columns.weight].fillna(1.0).to_numpy(dtype=np.float64)
    item_index = pd.Index(item_ids.astype(str))
    columns = item_index.get_indexer(frame[Columns.item])
    keep = columns >= 0
    users, user_codes = np.unique(frame[Columns.user].to_numpy()[keep], return_inverse=True)
    matrix = sp.csr_matrix((w[keep].astype(np.float32), (user_codes, columns[keep])),
                           shape=(len(users), len(item_ids)), dtype=np.float32)
    matrix.sum_duplicates()
    return matrix, users.astype(str)


def fit_als(user_items: sp.csr_matrix, params: EmbeddingParams) -> tuple[np.ndarray, np.ndarray]:
    """implicit ALS on a user × item matrix → (user_factors float32 (U, f), item_factors float32 (I, f)).

    Items (or users) without any interaction get a zero vector: ALS knows nothing about them.
    """
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

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
                params: EmbeddingParams) -> tuple[float, dict[str, float]]:
    """Choose blend_k so that blending helps where the content model is good and stays out where it is not.

    A small cold-start split on `rows` (items the encoder validated on, never trained on): each keeps n known
    users (n drawn from BLEND_KNOWN), the rest are hidden; ALS is refitted without the hidden pairs, and every
    k in BLEND_K_GRID is scored by NDCG@10 of ranking each item's hidden users with w·ALS + (1−w)·predicted,
    w = n/(n+k). Returns (best k, {"k=…": NDCG@10, "als_only": …, "predicted_only": …}); k = 0 means ALS only.
    `predicted` lives in the space of `als` (the full fit); a refit's factors are a different rotation, so the
    predicted vectors are first carried over by the orthogonal map that best aligns the two fits on the other
    items. With fewer than 10 usable items it returns (params.blend_k, {}).
    """
    from core.evaluation.ranking import evaluate_ranking, rows_per_chunk

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


def _torch():
    import torch

    return torch


def make_encoder(features: ContentFeatures, out_dim: int, params: EmbeddingParams):  # noqa: ANN201 — nn.Module
    """The content encoder: TF-IDF bag → linear, field embeddings, price, image → MLP → out_dim."""
    torch = _torch()
    nn = torch.nn

    class ContentEncoder(nn.Module):
        """Maps one item's content to a vector in ALS space (float32 (batch, out_dim))."""

        def __init__(self) -> None:
            super().__init__()
            self.text = nn.EmbeddingBag(features.text.shape[1], params.hidden, mode="sum")
            self.fields = nn.ModuleList(nn.Embedding(c, params.embed_dim) for c in features.cardinalities)
            self.image_dim = 0 if features.image is None else features.image.shape[1]
            self.image = nn.Linear(self.image_dim, params.hidden) if self.image_dim else None
            width = params.hidden * (2 if self.image_dim else 1) + params.embed_dim * len(features.fields) + 2
            self.mlp = nn.Sequential(nn.ReLU(), nn.Dropout(params.dropout), nn.Linear(width, params.hidden),
                                     nn.ReLU(), nn.Dropout(params.dropout), nn.Linear(params.hidden, out_dim))

        def forward(self, tokens, offsets, token_weights, codes, numeric, image=None):  # noqa: ANN001, ANN201
            parts = [self.text(tokens, offsets, per_sample_weights=token_weights)]
            if self.image is not None:
                parts.append(self.image(image))
            parts += [emb(codes[:, j]) for j, emb in enumerate(self.fields)]
            parts.append(numeric)
            return self.mlp(torch.cat(parts, dim=1))

    return ContentEncoder()


def _batch(features: ContentFeatures, rows: np.ndarray) -> tuple:
    torch = _torch()
    text = features.text[rows]
    tokens = torch.from_numpy(text.indices.astype(np.int64))
    offsets = torch.from_numpy(text.indptr[:-1].astype(np.int64))
    weights = torch.from_numpy(text.data.astype(np.float32))
    codes = torch.from_numpy(features.categorical[rows])
    numeric = torch.from_numpy(features.numeric[rows])
    image = torch.from_numpy(features.image[rows]) if features.image is not None else None
    return tokens, offsets, weights, codes, numeric, image


@dataclass
class EncoderResult:
    """A trained encoder and its curve; `history` rows: epoch, train_loss, val_loss, val_cosine, items_per_s."""

    model: Any
    history: list[dict[str, float]]
    best_epoch: int
    train_items: np.ndarray  # int64 row indices used for training
    val_items: np.ndarray  # int64 row indices used for validation


def train_encoder(features: ContentFeatures, targets: np.ndarray, eligible: np.ndarray, params: EmbeddingParams,
                  on_epoch: Callable[[dict[str, float]], None] | None = None) -> EncoderResult:
    """Fit the encoder to unit(targets[eligible]) with MSE + cosine; early-stop on held-out eligible items.

    targets: float32 (n_items, d) ALS vectors; eligible: bool (n_items,) items with enough interactions.
    `on_epoch` gets each history row (the training job forwards it as live metrics and may cancel there).
    """
    torch = _torch()
    torch.set_num_threads(max(1, min(params.torch_threads, 2)))
    torch.manual_seed(params.seed)
    rows = np.flatnonzero(eligible)
    if len(rows) < 4:
        raise ValidationError([Problem("interactions", None, None,
                                       f"only {len(rows)} items have ≥ {params.threshold} interactions; the encoder "
                                       "needs more: lower `threshold` or import more interactions")])
    rng = np.random.default_rng(params.seed)
    rows = rng.permutation(rows)
    n_val = max(1, int(round(len(rows) * params.val_fraction)))
    val_rows, train_rows = np.sort(rows[:n_val]), rows[n_val:]
    target = torch.from_numpy(normalise(targets))
    dim = targets.shape[1]
    model = make_encoder(features, dim, params)
    optimiser = torch.optim.Adam(model.parameters(), lr=params.lr, weight_decay=params.weight_decay)

    def loss_fn(pred, true):  # noqa: ANN001, ANN202
        mse = ((pred - true) ** 2).mean() * dim
        cos = torch.nn.functional.cosine_similarity(pred, true, dim=1, eps=1e-8)
        return mse + params.cosine_weight * (1.0 - cos).mean(), cos

    history: list[dict[str, float]] = []
    best = (np.inf, 0, None)
    val_batch = _batch(features, val_rows)
    for epoch in range(1, params.epochs + 1):
        model.train()
        started = time.perf_counter()
        order = rng.permutation(train_rows)
        total, seen = 0.0, 0
        for start in range(0, len(order), params.batch_size):
            batch_rows = np.sort(order[start:start + params.batch_size])
            pred = model(*_batch(features, batch_rows))
            loss, _ = loss_fn(pred, target[batch_rows])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(batch_rows)
            seen += len(batch_rows)
        elapsed = time.perf_counter() - started
        model.eval()
        with torch.no_grad():
            val_loss, val_cos = loss_fn(model(*val_batch), target[val_rows])
        row = {"epoch": epoch, "train_loss": total / max(seen, 1), "val_loss": float(val_loss),
               "val_cosine": float(val_cos.mean()), "items_per_s": seen / max(elapsed, 1e-9)}
        history.append(row)
        if on_epoch is not None:
            on_epoch(row)
        if row["val_loss"] < best[0] - 1e-5:
            best = (row["val_loss"], epoch, {k: v.detach().clone() for k, v in model.state_dict().items()})
        elif epoch - best[1] >= params.patience:
            break
    if best[2] is not None:
        model.load_state_dict(best[2])
    model.eval()
    return EncoderResult(model, history, best[1], np.sort(train_rows), val_rows)


def predict(model: Any, features: ContentFeatures, batch_size: int = 4096) -> np.ndarray:
    """Encoder output for every item: float32 (n_items, d), rows unit length."""
    torch = _torch()
    out = []
    model.eval()
    with torch.no_grad():
        for start in range(0, features.n_items, batch_size):
            rows = np.arange(start, min(start + batch_size, features.n_items))
            out.append(model(*_batch(features, rows)).numpy())
    return normalise(np.concatenate(out) if out else np.zeros((0, 1), np.float32))


def calibrate(predicted: np.ndarray, als: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Match the predicted vectors' mean and spread to the ALS vectors' over `rows` (the encoder's items).

    A regression shrinks towards the mean direction, so raw predictions sit in a narrow cone: they would all be
    nearer to each other than to any ALS vector, and a blended space would rank predicted-only items first.
    Returns float32 (n, d), rows unit length.
    """
    a, p = normalise(als[rows]), normalise(predicted[rows])
    mu_a, mu_p = a.mean(axis=0), p.mean(axis=0)
    spread_a = np.linalg.norm(a - mu_a, axis=1).mean()
    spread_p = max(np.linalg.norm(p - mu_p, axis=1).mean(), 1e-9)
    return normalise(mu_a + (normalise(predicted) - mu_p) * (spread_a / spread_p))


def item_user_counts(user_items: sp.csr_matrix) -> np.ndarray:
    """Distinct interacting users per item: int64 (n_items,)."""
    return np.asarray((user_items > 0).sum(axis=0)).ravel().astype(np.int64)
