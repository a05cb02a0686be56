"""A trained long-tail version: item vectors in the ALS, predicted and blended spaces, with counts and buckets."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

import numpy as np

from core.errors import UnknownIdError
from core.models.family import require_arrays
from core.models.long_tail.blend import blend_weights, blended_similarity
from core.models.long_tail.als import normalise
from core.models.long_tail.data import LongTailData
from core.models.long_tail.evaluate import evaluate_long_tail
from core.models.long_tail.params import EvalParams, LongTailParams

MAP_SPACES: tuple[str, ...] = ("als", "predicted", "blended")
_ARRAYS = ("item_ids", *MAP_SPACES, "counts", "bucket")
# Saved for re-use (the encoder predicts vectors from content), not read back by the pages.
_STORED_PREFIXES = ("encoder.", "content.")


@dataclass(frozen=True, eq=False)
class LongTailModel:
    """Row i of every array is item `item_ids[i]` (<U, catalogue order).

    vectors: {"als": float32 (n, f) raw ALS, "predicted": float32 (n, f) unit, "blended": float32 (n, f) unit};
    counts: int64 (n,) interacting users; bucket: <U5 (n,) head/torso/tail; layouts: {space: float32 (n, 2)} UMAP
    maps (when projected); stored: encoder weights and content vocabularies; meta: the training record (history,
    timings, ...) and, for a loaded version, everything saved with it; version: set when loaded from a store.
    """

    kind: ClassVar[str] = "long_tail"
    Params: ClassVar[type[LongTailParams]] = LongTailParams

    item_ids: np.ndarray
    vectors: dict[str, np.ndarray]
    counts: np.ndarray
    bucket: np.ndarray
    params: LongTailParams = field(default_factory=LongTailParams)
    layouts: dict[str, np.ndarray] = field(default_factory=dict)
    stored: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    version: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "_position", {str(item): i for i, item in enumerate(self.item_ids)})

    # ------------------------------------------------------------------ the family contract
    @classmethod
    def train(cls, data: LongTailData, params: LongTailParams, progress: Any = None) -> LongTailModel:
        """ALS → content encoder → predicted, calibrated and blended vectors; see `train.fit`."""
        # train.py builds LongTailModel, so it is imported on use
        from core.models.long_tail.train import fit  # noqa: PLC0415

        return fit(data, params, progress)

    def evaluate(self, data: LongTailData, protocol: EvalParams | None = None) -> dict[str, Any]:
        """The cold-start protocol on `data` with this model's params (it refits on its own split)."""
        return evaluate_long_tail(data.interactions, data.catalogue, self.params, protocol,
                                  image_features=data.image_features)

    def to_artifact(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Arrays: ids, the three spaces, counts, buckets, `umap_<space>` layouts, encoder and content arrays."""
        arrays: dict[str, np.ndarray] = {"item_ids": np.asarray(self.item_ids).astype(str), **self.vectors,
                                         "counts": self.counts, "bucket": self.bucket}
        arrays.update({f"umap_{name}": layout for name, layout in self.layouts.items()})
        arrays.update(self.stored)
        return arrays, {**self.meta, "params": self.params.to_dict(), "arrays": sorted(arrays)}

    @classmethod
    def from_artifact(cls, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> LongTailModel:
        """Rebuild a saved version; versions saved before `meta["arrays"]` was recorded need the core arrays only."""
        require_arrays(cls.kind, arrays, {*_ARRAYS, *meta.get("arrays", ())})
        return cls(np.asarray(arrays["item_ids"]), {s: arrays[s] for s in MAP_SPACES}, arrays["counts"],
                   arrays["bucket"], LongTailParams.from_dict(meta.get("params"), strict=False),
                   {s: arrays[f"umap_{s}"] for s in MAP_SPACES if f"umap_{s}" in arrays},
                   {k: v for k, v in arrays.items() if k.startswith(_STORED_PREFIXES)}, dict(meta))

    # ------------------------------------------------------------------ questions
    def with_layouts(self, layouts: dict[str, np.ndarray]) -> LongTailModel:
        """The same model with 2-d maps of its spaces (float32 (n, 2) each)."""
        return dataclasses.replace(self, layouts=dict(layouts))

    def position(self, item_id: str) -> int:
        """Row of `item_id`; UnknownIdError when this version does not hold it."""
        try:
            return self._position[str(item_id)]  # type: ignore[attr-defined]
        except KeyError:
            raise UnknownIdError(f"item '{item_id}' is not in this model version: pick an item of the catalogue "
                                 "it was trained on, or train again") from None

    def blended_neighbours(self, item_id: str, k: int = 10) -> list[tuple[str, float]]:
        """The k nearest other items by the similarity-level blend of `blended_similarity` (exact, NumPy)."""
        row = self.position(item_id)
        weights = blend_weights(self.counts, float(self.params.blend_k))
        scores = blended_similarity(normalise(self.vectors["als"]), self.vectors["predicted"], weights,
                                    np.array([row]))[0]
        scores[row] = -np.inf
        top = np.argpartition(-scores, min(k, len(scores) - 1))[:k + 1]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(str(self.item_ids[j]), float(scores[j])) for j in top if j != row][:k]
