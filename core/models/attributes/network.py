"""The attribute network (torch): shared trunk over text, type/brand/division, price and image; one head per
attribute."""

from __future__ import annotations

from typing import Any

import numpy as np

from core.features.text import PAD, bag_inputs
from core.models.attributes.features import CATEGORICAL_FIELDS, Encoder, Inputs, LabelSpace
from core.models.attributes.params import AttributeParams

# torch is imported inside the functions: the review pages read saved predictions and never build a network.


def build_network(encoder: Encoder, space: LabelSpace, params: AttributeParams) -> Any:
    """The untrained torch module for this encoder and label space."""
    import torch  # noqa: PLC0415 — torch: see the note above
    from torch import nn  # noqa: PLC0415

    class AttributeNet(nn.Module):
        """Shared trunk: text bag ⊕ word convolution ⊕ type/brand/division embeddings ⊕ price ⊕ image → hidden;
        one linear head per attribute over the hidden layer and both text vectors."""

        def __init__(self) -> None:
            super().__init__()
            self.text = nn.EmbeddingBag(encoder.text.n_features, params.text_dim, mode="sum", sparse=True)
            nn.init.normal_(self.text.weight, std=0.05)
            self.words = self.conv = None
            text_width = params.text_dim
            if encoder.words is not None:
                self.words = nn.Embedding(encoder.words.n_ids, params.word_dim, padding_idx=PAD, sparse=True)
                self.conv = nn.Conv1d(params.word_dim, params.word_channels, params.word_window,
                                      padding=params.word_window // 2)
                text_width += params.word_channels
            self.categorical = nn.ModuleList(nn.Embedding(len(encoder.vocabularies[f]) + 1, params.categorical_dim)
                                             for f in CATEGORICAL_FIELDS)
            width = text_width + params.categorical_dim * len(CATEGORICAL_FIELDS) + 2
            self.image = nn.Linear(encoder.image_dim, 64) if encoder.image_dim else None
            width += 64 if encoder.image_dim else 0
            self.trunk = nn.Sequential(nn.Dropout(params.dropout / 2), nn.Linear(width, params.hidden), nn.ReLU(),
                                       nn.Dropout(params.dropout))
            # Heads see the trunk and the text vectors themselves: a wide path keeps what TF-IDF + a linear model get.
            self.heads = nn.ModuleList(nn.Linear(params.hidden + text_width, len(space.classes[a]))
                                       for a in space.attributes)

        def phrases(self, words):  # noqa: ANN001, ANN202
            """Max over positions of the ReLU'd convolution over word ids (b, L) → (b, channels); PAD never wins."""
            # an even window adds one
            hits = torch.relu(self.conv(self.words(words).transpose(1, 2)))[..., : words.shape[1]]
            # ReLU output is ≥ 0, so zeroing the padded positions keeps them out of the max.
            return (hits * (words != PAD).unsqueeze(1)).amax(dim=2)

        def forward(self, indices, offsets, weights, codes, numeric, image=None, words=None):  # noqa: ANN001, ANN202 — torch tensors in and out
            text = self.text(indices, offsets, per_sample_weights=weights)
            if self.conv is not None:
                text = torch.cat([text, self.phrases(words)], dim=1)
            parts = [text] + [emb(codes[:, j]) for j, emb in enumerate(self.categorical)] + [numeric]
            if self.image is not None:
                parts.append(torch.relu(self.image(image)))
            hidden = torch.cat([self.trunk(torch.cat(parts, dim=1)), text], dim=1)
            return [head(hidden) for head in self.heads]

    return AttributeNet()


def tensors(inputs: Inputs) -> tuple:
    """The forward arguments (torch tensors) of a batch of inputs."""
    import torch  # noqa: PLC0415

    indices, offsets, weights = bag_inputs(inputs.text)
    image = None if inputs.image is None else torch.from_numpy(np.ascontiguousarray(inputs.image, dtype=np.float32))
    words = None
    if inputs.words is not None:  # trimmed to the batch's longest text: the convolution's cost is per position
        length = max(int((inputs.words != PAD).sum(axis=1).max(initial=0)), 1)
        words = torch.from_numpy(np.ascontiguousarray(inputs.words[:, :length]))
    return (torch.from_numpy(indices), torch.from_numpy(offsets), torch.from_numpy(weights),
            torch.from_numpy(inputs.categorical), torch.from_numpy(inputs.numeric), image, words)


