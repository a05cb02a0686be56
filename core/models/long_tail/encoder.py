"""The content encoder: a torch network that predicts an item's ALS vector from its text, fields, price and image."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from core.errors import Problem, ValidationError
from core.features.content import ContentFeatures
from core.models.long_tail.als import normalise
from core.models.long_tail.params import LongTailParams


def _torch():  # noqa: ANN202 — the torch module
    # seconds to import: loaded by training and prediction only, not by the pages that read vectors
    import torch  # noqa: PLC0415

    return torch


def make_encoder(features: ContentFeatures, out_dim: int, params: LongTailParams):  # noqa: ANN201 — nn.Module
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

        def forward(self, tokens, offsets, token_weights, codes, numeric, image=None):  # noqa: ANN001, ANN202 — torch tensors in and out
            parts = [self.text(tokens, offsets, per_sample_weights=token_weights)]
            if self.image is not None:
                parts.append(self.image(image))
            parts += [emb(codes[:, j]) for j, emb in enumerate(self.fields)]
            parts.append(numeric)
            return self.mlp(torch.cat(parts, dim=1))

    return ContentEncoder()


def make_ensemble(members: list[Any]):  # noqa: ANN201 — nn.Module
    """Several trained encoders as one module: the mean of their unit outputs (`predict` normalises it again)."""
    torch = _torch()

    class Ensemble(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.members = torch.nn.ModuleList(members)

        def forward(self, *inputs):  # noqa: ANN002, ANN202 — the members' torch tensors
            outs = [torch.nn.functional.normalize(m(*inputs), dim=1) for m in self.members]
            return torch.stack(outs).mean(dim=0)

    return Ensemble()


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


def train_encoder(features: ContentFeatures, targets: np.ndarray, eligible: np.ndarray, params: LongTailParams,
                  on_epoch: Callable[[dict[str, float]], None] | None = None, member: int = 0) -> EncoderResult:
    """Fit the encoder to unit(targets[eligible]) with MSE + cosine; early-stop on held-out eligible items.

    targets: float32 (n_items, d) ALS vectors; eligible: bool (n_items,) items with enough interactions.
    `on_epoch` gets each history row (the training job forwards it as live metrics and may cancel there).
    `member` > 0 trains another member of an ensemble: the same training and validation items, its own
    initialisation and batch order.
    """
    torch = _torch()
    torch.set_num_threads(max(1, min(params.torch_threads, 2)))
    torch.manual_seed(params.seed + 1000 * member)
    rows = np.flatnonzero(eligible)
    if len(rows) < 4:
        raise ValidationError([Problem("interactions", None, None,
                                       f"only {len(rows)} items have ≥ {params.threshold} interactions; the encoder "
                                       "needs more: lower `threshold` or import more interactions")])
    rng = np.random.default_rng(params.seed)
    rows = rng.permutation(rows)
    n_val = max(1, int(round(len(rows) * params.val_fraction)))
    val_rows, train_rows = np.sort(rows[:n_val]), rows[n_val:]
    if member:
        rng = np.random.default_rng([params.seed, member])
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
