"""Training the pair model: BCE on co-outfit positives, fresh type-aware negatives each epoch, weighted labels."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np
import torch
from torch import nn

from core.models.complementary.features import TrainingSet, TypeSampler

if TYPE_CHECKING:
    from core.models.complementary.model import ComplementaryModel

ProgressFn = Callable[[float, str, dict], None]


def fit(model: "ComplementaryModel", data: TrainingSet, progress: ProgressFn | None = None) -> list[dict]:
    """Train `model` in place; returns one dict of training figures per epoch (loss)."""
    p = model.params
    torch.set_num_threads(p.threads)
    rng = np.random.default_rng(p.seed)
    sampler = TypeSampler(model.feats.type_codes, rng)
    opt = torch.optim.Adam(list(model.encoder.parameters()) + list(model.scorer.parameters()), lr=p.lr,
                           weight_decay=p.weight_decay)
    loss_fn = nn.BCEWithLogitsLoss(reduction="none")
    history = []
    model.encoder.train()
    model.scorer.train()
    for epoch in range(p.epochs):
        a, b, y, w = _epoch_rows(model, data, sampler, rng)
        total, seen = 0.0, 0
        for s in range(0, len(a), p.batch_size):
            sl = slice(s, s + p.batch_size)
            logits = model.logits(a[sl], b[sl], rng, training=True)
            loss = (loss_fn(logits, torch.from_numpy(y[sl])) * torch.from_numpy(w[sl])).sum() / float(w[sl].sum())
            opt.zero_grad()
            loss.backward()
            opt.step()
            n = min(p.batch_size, len(a) - s)
            total += float(loss.detach()) * n
            seen += n
        history.append({"epoch": epoch + 1, "loss": total / max(seen, 1)})
        if progress:
            progress((epoch + 1) / p.epochs, f"epoch {epoch + 1}/{p.epochs}", {"loss": history[-1]["loss"]})
    model.encoder.eval()
    model.scorer.eval()
    model.forget_embeddings()
    return history


def _epoch_rows(model: "ComplementaryModel", data: TrainingSet, sampler: TypeSampler,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    p = model.params
    pos = data.positives
    if len(pos) > p.max_positive_pairs:
        pos = pos[rng.choice(len(pos), p.max_positive_pairs, replace=False)]
    flip = rng.random(len(pos)) < 0.5  # either side gets swapped, so both legs see negatives
    anchor = np.where(flip, pos[:, 1], pos[:, 0])
    other = np.where(flip, pos[:, 0], pos[:, 1])
    k = p.negatives_per_positive
    neg_a = np.tile(anchor, k)
    neg_b = sampler.draw(np.tile(other, k))
    a = np.concatenate([anchor, neg_a, data.labelled[:, 0]])
    b = np.concatenate([other, neg_b, data.labelled[:, 1]])
    y = np.concatenate([np.ones(len(anchor)), np.zeros(len(neg_a)), data.labelled_y]).astype(np.float32)
    # negatives are k per positive: weight them 1/k so classes balance; labels weigh label_weight each
    w = np.concatenate([np.ones(len(anchor)), np.full(len(neg_a), 1.0 / k),
                        np.full(len(data.labelled), p.label_weight)]).astype(np.float32)
    order = rng.permutation(len(a))
    return a[order], b[order], y[order], w[order]
