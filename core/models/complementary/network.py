"""The pair model's torch modules: the shared item encoder, the Siamese pair scorer and a DeepSets outfit scorer."""

from __future__ import annotations

import torch
from torch import nn

from core.models.complementary.features import ItemFeatures
from core.models.complementary.params import ComplementaryParams


class ItemEncoder(nn.Module):
    """Shared leg: item rows -> float32 (batch, dim) from categorical, text, numeric, image and (optional) id inputs."""

    def __init__(self, feats: ItemFeatures, params: ComplementaryParams, n_known: int):
        super().__init__()
        n_fields = feats.cat_codes.shape[1]
        self.fields = nn.Embedding(feats.vocab_size, params.field_dim, padding_idx=0)
        self.text = nn.EmbeddingBag(params.text_buckets, params.field_dim, mode="mean")
        self.has_text = feats.text_indices.size > 0
        width = n_fields * params.field_dim + (params.field_dim if self.has_text else 0)
        self.numeric = nn.Linear(feats.numeric.shape[1], 8) if feats.numeric.shape[1] else None
        width += 8 if self.numeric is not None else 0
        self.image = nn.Linear(feats.image.shape[1], 32) if feats.image.shape[1] else None
        width += 32 if self.image is not None else 0
        self.ids = nn.Embedding(n_known + 1, params.id_dim, padding_idx=0) if n_known else None
        width += params.id_dim if self.ids is not None else 0
        self.mlp = nn.Sequential(nn.Linear(width, params.hidden), nn.ReLU(), nn.Linear(params.hidden, params.dim))

    def forward(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        parts = [self.fields(inputs["cat"]).flatten(1)]
        if self.has_text:
            parts.append(self.text(inputs["text_idx"], inputs["text_off"]))
        if self.numeric is not None:
            parts.append(torch.relu(self.numeric(inputs["num"])))
        if self.image is not None:
            parts.append(torch.relu(self.image(inputs["img"])))
        if self.ids is not None:
            parts.append(self.ids(inputs["ids"]))
        return self.mlp(torch.cat(parts, dim=1))


class PairScorer(nn.Module):
    """Siamese pair score: fuse two item vectors (concat + element-wise ops) and map to one logit."""

    def __init__(self, params: ComplementaryParams):
        super().__init__()
        self.fusion = tuple(params.fusion)
        width = sum(2 * params.dim if f == "concat" else params.dim for f in self.fusion)
        self.head = nn.Sequential(nn.Linear(width, params.hidden), nn.ReLU(), nn.Linear(params.hidden, 1))

    def fuse(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        ops = {
            "concat": lambda: torch.cat([u, v], dim=1),
            "max": lambda: torch.maximum(u, v),
            "min": lambda: torch.minimum(u, v),
            "sum": lambda: u + v,
            "avg": lambda: (u + v) / 2,
            "mul": lambda: u * v,
        }
        return torch.cat([ops[f]() for f in self.fusion], dim=1)

    def forward(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Logits float32 (batch,); symmetric because concat is averaged over both orders."""
        out = self.head(self.fuse(u, v)).squeeze(1)
        if "concat" in self.fusion:
            out = (out + self.head(self.fuse(v, u)).squeeze(1)) / 2
        return out


class OutfitSetModel(nn.Module):
    """A set scorer f(i, j, k, ...) over frozen item vectors: DeepSets (mean and max pooling) -> MLP -> logit."""

    def __init__(self, dim: int, hidden: int = 128):
        super().__init__()
        self.item = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, z: torch.Tensor, owner: torch.Tensor, n_sets: int) -> torch.Tensor:
        """z float32 (n_rows, dim) item vectors, owner int64 (n_rows,) set index -> logits (n_sets,)."""
        h = self.item(z)
        idx = owner.unsqueeze(1).expand_as(h)
        counts = torch.bincount(owner, minlength=n_sets).clamp(min=1).unsqueeze(1).to(h.dtype)
        mean = torch.zeros(n_sets, h.shape[1]).index_add_(0, owner, h) / counts
        peak = torch.zeros(n_sets, h.shape[1]).scatter_reduce_(0, idx, h, "amax", include_self=False)
        return self.head(torch.cat([mean, peak], dim=1)).squeeze(1)
