"""The trained pair model over a fixed catalogue: score pairs and outfits, complete a look, a pickle-free artifact."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

import numpy as np
import pandas as pd
import torch

from core.columns import Columns
from core.errors import ArtifactError, Problem, ValidationError
from core.models.complementary import evaluate as held_out
from core.models.complementary.features import ItemFeatures, build_item_features, build_training_set, known_id_slots
from core.models.complementary.network import ItemEncoder, PairScorer
from core.models.complementary.params import KIND, ComplementaryParams
from core.models.complementary.train import ProgressFn, fit
from core.models.family import require_arrays

FEATURE_ARRAYS = ("item_ids", "cat_codes", "numeric", "text_indices", "text_offsets", "image", "type_codes", "types",
                  "slots")


@dataclass(frozen=True)
class ComplementaryData:
    """What training needs: a generic-schema catalogue, its training outfits (outfit_id, item_id), stylist labels
    (item_a, item_b, label 1/0, or None) and image vectors ((item ids, float32 (n, d)) or None); `test_outfits`
    the held-out outfits `evaluate` asks about (no outfit id on both sides)."""

    catalogue: pd.DataFrame
    outfits: pd.DataFrame
    labels: pd.DataFrame | None = None
    image: tuple[np.ndarray, np.ndarray] | None = None
    test_outfits: pd.DataFrame | None = None


class ComplementaryModel:
    """A trained pair model over a fixed catalogue: score pairs, outfits, and complete the look."""

    kind: ClassVar[str] = KIND
    Params: ClassVar[type[ComplementaryParams]] = ComplementaryParams

    def __init__(self, feats: ItemFeatures, params: ComplementaryParams, known_ids: np.ndarray | None = None) -> None:
        self.feats = feats
        self.params = params
        # id slot per catalogue row: 0 = not seen in training outfits (content only)
        self.id_slots = known_ids if known_ids is not None else np.zeros(feats.n_items, dtype=np.int64)
        n_known = int(self.id_slots.max()) if params.use_item_ids and self.id_slots.size else 0
        torch.manual_seed(params.seed)
        self.encoder = ItemEncoder(feats, params, n_known)
        self.scorer = PairScorer(params)
        self._embeddings: np.ndarray | None = None
        self.history: list[dict] = []  # one loss per epoch of the last training (not stored in the artifact)

    # -- inputs ---------------------------------------------------------------------------------------------
    def _inputs(self, rows: np.ndarray, hide_ids: np.ndarray | None = None) -> dict[str, torch.Tensor]:
        f = self.feats
        out = {"cat": torch.from_numpy(f.cat_codes[rows])}
        if self.encoder.has_text:
            starts = f.text_offsets[rows]
            ends = np.where(rows + 1 < f.n_items, f.text_offsets[np.minimum(rows + 1, f.n_items - 1)],
                            len(f.text_indices))
            lengths = ends - starts
            idx = np.concatenate([f.text_indices[s:e] for s,
                                  e in zip(starts, ends)]) if lengths.sum() else np.zeros(0, np.int64)
            out["text_idx"] = torch.from_numpy(idx.astype(np.int64))
            out["text_off"] = torch.from_numpy(np.r_[0, np.cumsum(lengths)[:-1]].astype(np.int64))
        if self.encoder.numeric is not None:
            out["num"] = torch.from_numpy(f.numeric[rows])
        if self.encoder.image is not None:
            out["img"] = torch.from_numpy(f.image[rows])
        if self.encoder.ids is not None:
            ids = self.id_slots[rows].copy()
            if hide_ids is not None:
                ids[hide_ids] = 0
            out["ids"] = torch.from_numpy(ids)
        return out

    # -- training -------------------------------------------------------------------------------------------
    @classmethod
    def train(cls, data: ComplementaryData, params: ComplementaryParams,
              progress: ProgressFn | None = None) -> "ComplementaryModel":
        """Fit on the catalogue, its training outfits and the stylist labels; `history` holds one loss per epoch."""
        feats = build_item_features(data.catalogue, data.image, params.text_buckets)
        pairs = build_training_set(data.outfits, feats, data.labels)
        if len(pairs.positives) == 0:
            raise ValidationError([Problem("outfits", None, Columns.outfit, "no outfit has two items of the catalogue: "
                                           "import outfits whose items are in the products file")])
        model = cls(feats, params, known_id_slots(feats, data.outfits) if params.use_item_ids else None)
        model.history = fit(model, pairs, progress)
        return model

    def evaluate(self, data: ComplementaryData, seed: int = 7) -> dict[str, Any]:
        """Model, co-occurrence prior, popularity and random on `data.test_outfits` (see evaluate.held_out_metrics)."""
        if data.test_outfits is None:
            raise ValidationError([Problem("complementary data", None, "test_outfits", "no held-out outfits to "
                                           "evaluate on: split the outfits first (evaluate.split_outfits)")])
        return held_out.held_out_metrics(self, data.outfits, data.test_outfits, seed)

    def forget_embeddings(self) -> None:
        """Drop the cached item vectors (the weights changed)."""
        self._embeddings = None

    def logits(self, a: np.ndarray, b: np.ndarray, rng: np.random.Generator | None = None,
               training: bool = False) -> torch.Tensor:
        """Pair logits float32 (n,) of rows a[i], b[i]; in training a share of id vectors is hidden (id_dropout)."""
        rows = np.concatenate([a, b])
        hide = None
        if training and self.encoder.ids is not None and self.params.id_dropout > 0:
            hide = rng.random(len(rows)) < self.params.id_dropout
        z = self.encoder(self._inputs(rows, hide))
        return self.scorer(z[: len(a)], z[len(a):])

    # -- scoring --------------------------------------------------------------------------------------------
    def embeddings(self) -> np.ndarray:
        """Item vectors float32 (n_items, dim), computed once per trained state."""
        if self._embeddings is None:
            with torch.no_grad():
                chunks = [
                    self.encoder(self._inputs(np.arange(s, min(s + 8192, self.feats.n_items)))).numpy()
                    for s in range(0, self.feats.n_items, 8192)
                ]
            self._embeddings = np.concatenate(chunks) if chunks else np.zeros((0, self.params.dim), np.float32)
        return self._embeddings

    def score_rows(self, a: np.ndarray, b: np.ndarray, batch: int = 65536) -> np.ndarray:
        """Probabilities float32 (n,) that rows a[i] and b[i] go together."""
        torch.set_num_threads(self.params.threads)
        emb = torch.from_numpy(self.embeddings())
        out = np.empty(len(a), dtype=np.float32)
        with torch.no_grad():
            for s in range(0, len(a), batch):
                ia = torch.from_numpy(np.asarray(a[s:s + batch], dtype=np.int64))
                ib = torch.from_numpy(np.asarray(b[s:s + batch], dtype=np.int64))
                out[s:s + batch] = torch.sigmoid(self.scorer(emb[ia], emb[ib])).numpy()
        return out

    def score_pairs(self, item_a: list[str], item_b: list[str]) -> np.ndarray:
        """Probabilities float32 (n,) for pairs of external item ids."""
        return self.score_rows(self.feats.index(item_a), self.feats.index(item_b))

    def outfit_score(self, rows: np.ndarray) -> float:
        """Mean pairwise probability of a set of catalogue rows (0.0 for fewer than two items)."""
        if len(rows) < 2:
            return 0.0
        i, j = np.triu_indices(len(rows), k=1)
        return float(self.score_rows(rows[i], rows[j]).mean())

    def complete_the_look(self, item: str, per_slot: int = 3, exclude_same_slot: bool = True) -> pd.DataFrame:
        """Best items of each other slot (coarse category) for `item`: slot, item_id, score, rank."""
        row = int(self.feats.index([item])[0])
        candidates = np.arange(self.feats.n_items)
        if exclude_same_slot:
            candidates = candidates[self.feats.slots[candidates] != self.feats.slots[row]]
        scores = self.score_rows(np.full(len(candidates), row), candidates)
        frame = pd.DataFrame({"slot": self.feats.slots[candidates], "row": candidates, Columns.score: scores})
        frame = frame.sort_values(["slot", Columns.score],
                                  ascending=[True, False]).groupby("slot", sort=True).head(per_slot)
        frame[Columns.rank] = frame.groupby("slot").cumcount() + 1
        frame[Columns.item] = self.feats.item_ids[frame["row"].to_numpy()]
        return frame[["slot", Columns.item, Columns.score, Columns.rank]].reset_index(drop=True)

    # -- persistence ----------------------------------------------------------------------------------------
    def to_artifact(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Arrays (content, id slots, weights as float32) and JSON meta for `ArtifactStore.save`."""
        arrays = {f"feat.{k}": v for k, v in self.feats.to_arrays().items()}
        arrays["id_slots"] = self.id_slots.astype(np.int64)
        for prefix, module in (("encoder", self.encoder), ("scorer", self.scorer)):
            for name, tensor in module.state_dict().items():
                arrays[f"w.{prefix}.{name}"] = tensor.detach().cpu().numpy()
        meta = {"params": self.params.to_dict(), "field_names": self.feats.field_names}
        return arrays, meta

    @classmethod
    def from_artifact(cls, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> "ComplementaryModel":
        """Rebuild a saved version; ArtifactError when an array is missing or does not fit this code."""
        field_names = list(meta["field_names"])
        require_arrays(cls.kind, arrays, ["id_slots", *(f"feat.{n}" for n in FEATURE_ARRAYS),
                                          *(f"feat.vocab.{n}" for n in field_names)])
        params = ComplementaryParams.from_dict(meta["params"], strict=False)
        feats = ItemFeatures.from_arrays({k[5:]: v for k, v in arrays.items() if k.startswith("feat.")}, field_names)
        model = cls(feats, params, arrays["id_slots"].astype(np.int64))
        try:
            for prefix, module in (("encoder", model.encoder), ("scorer", model.scorer)):
                state = {k[len(prefix) + 3:]: torch.from_numpy(np.array(v)) for k, v in arrays.items()
                         if k.startswith(f"w.{prefix}.")}
                module.load_state_dict(state)
        except RuntimeError as error:  # a missing or misshapen weight
            raise ArtifactError(f"complementary model weights do not fit this code ({error}): train the model again") \
                from error
        model.encoder.eval()
        model.scorer.eval()
        return model
