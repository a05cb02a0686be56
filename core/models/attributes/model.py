"""The trained attribute model (ASOS, KDD 2018): probabilities and predictions per attribute, a pickle-free artifact."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping

import numpy as np
import pandas as pd

from core.artifacts import arrays_to_torch_state, torch_state_to_arrays
from core.columns import ATTRIBUTE_PREFIX
from core.errors import ArtifactError, Problem, UnknownIdError, ValidationError
from core.features.text import TextHasher, WordSequencer
from core.models.attributes import evaluate as held_out
from core.models.attributes.features import CATEGORICAL_FIELDS, Encoder, LabelSpace
from core.models.attributes.network import build_network, tensors
from core.models.attributes.params import KIND, AttributeParams
from core.models.attributes.train import Progress, fit
from core.models.family import require_arrays

# torch is imported inside the methods (and in network.py, train.py): loading this module stays cheap.

# Arrays every stored version has, whatever its attributes; the per-attribute and network arrays are checked on load.
BASE_ARRAYS = ("text.idf", "text.remap", "text.buckets", "space.categories", "space.applicable",
               *(f"vocab.{f}" for f in CATEGORICAL_FIELDS))


@dataclass(frozen=True)
class AttributeData:
    """What training needs: a generic-schema catalogue (attr_<name> columns are the targets), which attributes
    (None: every attr_* column with two values or more), image vectors aligned to its rows (float32 (n, D) or
    None); `test` the held-out catalogue `evaluate` scores, with its own image rows."""

    catalogue: pd.DataFrame
    attributes: tuple[str, ...] | None = None
    image: np.ndarray | None = None
    test: pd.DataFrame | None = None
    test_image: np.ndarray | None = None


@dataclass
class AttributeModel:
    """A trained model: encoder, label space, network. `predict` gives probabilities per attribute."""

    kind: ClassVar[str] = KIND
    Params: ClassVar[type[AttributeParams]] = AttributeParams

    params: AttributeParams
    encoder: Encoder
    space: LabelSpace
    net: Any
    history: list[dict[str, float]] = field(default_factory=list)

    @classmethod
    def train(cls, data: AttributeData, params: AttributeParams, progress: Progress | None = None) -> "AttributeModel":
        """Fit on the labelled cells of `data.catalogue`; progress(fraction, metrics) once per epoch."""
        attributes = None if data.attributes is None else list(data.attributes)
        encoder, space, net, history = fit(data.catalogue, attributes, params, data.image, progress)
        return cls(params, encoder, space, net, history)

    def evaluate(self, data: AttributeData, baseline: bool = True,
                 progress: Callable[[float, str, dict], None] | None = None) -> dict[str, Any]:
        """Table 2 on `data.test` (see evaluate.held_out_table); the TF-IDF baseline fits on `data.catalogue`."""
        if data.test is None:
            raise ValidationError([Problem("attribute data", None, "test", "no held-out catalogue to evaluate on: "
                                           "split the catalogue first (evaluate.split_catalogue)")])
        return held_out.held_out_table(self, data.catalogue, data.test, data.test_image, baseline, progress)

    @property
    def attributes(self) -> list[str]:
        return self.space.attributes

    def attribute_index(self, name: str) -> int:
        """Position of attribute `name` among the model's outputs; UnknownIdError naming the known ones."""
        if name not in self.space.attributes:
            raise UnknownIdError(f"attribute '{name}' is not predicted by this model: pick one of {self.attributes}")
        return self.space.attributes.index(name)

    def probabilities(self, catalogue: pd.DataFrame, image: np.ndarray | None = None,
                      batch: int = 4096) -> dict[str, np.ndarray]:
        """{attribute: float32 (n, k_a) softmax probabilities}, rows in catalogue order."""
        import torch  # noqa: PLC0415 — torch loads only where predictions are computed (seconds)

        torch.set_num_threads(self.params.threads)
        inputs = self.encoder.encode(catalogue, image)
        out: dict[str, list[np.ndarray]] = {a: [] for a in self.attributes}
        self.net.eval()
        with torch.no_grad():
            for start in range(0, len(catalogue), batch):
                rows = np.arange(start, min(start + batch, len(catalogue)))
                logits = self.net(*tensors(inputs.rows(rows)))
                for a, z in zip(self.attributes, logits):
                    out[a].append(torch.softmax(z, dim=1).numpy())
        return {a: np.concatenate(v) if v else np.zeros((0, len(self.space.classes[a])), np.float32) for a,
                v in out.items()}

    def predict(self, catalogue: pd.DataFrame, image: np.ndarray | None = None, top: int = 3) -> pd.DataFrame:
        """One row per item × attribute: item_id, attribute, predicted, probability, alternatives (str "v (p); ..."),
        catalogue_value, has_value, applicable, suspect (the catalogue value disagrees with a prediction ≥
        suspect_threshold)."""
        probs = self.probabilities(catalogue, image)
        applies = self.space.applies(catalogue)
        frames = []
        ids = catalogue["item_id"].astype(str).to_numpy()
        for j, name in enumerate(self.attributes):
            p, classes = probs[name], self.space.classes[name]
            order = np.argsort(-p, axis=1)[:, :top]
            best = order[:, 0]
            prob = p[np.arange(len(p)), best]
            alternatives = [("; ".join(f"{classes[c]} ({p[i, c]:.2f})" for c in row[1:])) for i,
                            row in enumerate(order)]
            column = ATTRIBUTE_PREFIX + name
            current = (catalogue[column] if column in catalogue
                       else pd.Series(pd.NA, index=catalogue.index, dtype=object))
            has = current.notna().to_numpy()
            canonical = self.space.canonical(name, current).to_numpy(dtype=object)
            predicted = classes[best]
            suspect = has & (prob >= self.params.suspect_threshold) & (canonical != predicted.astype(object))
            frames.append(pd.DataFrame({
                "item_id": ids, "attribute": name, "predicted": predicted, "probability": prob.astype(np.float32),
                "alternatives": alternatives, "catalogue_value": current.to_numpy(dtype=object), "has_value": has,
                "applicable": applies[:, j], "suspect": suspect & applies[:, j],
            }))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    # ------------------------------------------------------------------------------------------ persistence
    def to_artifact(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """(arrays for ArtifactStore.save, meta) — torch state as numpy arrays, vocabularies as unicode arrays."""
        arrays = torch_state_to_arrays(self.net.state_dict(), prefix="net.")
        arrays.update(self.encoder.text.to_arrays())
        if self.encoder.words is not None:
            arrays.update(self.encoder.words.to_arrays())
        for f in CATEGORICAL_FIELDS:
            arrays[f"vocab.{f}"] = self.encoder.vocabularies[f].astype(str)
        for j, a in enumerate(self.attributes):
            arrays[f"classes.{j}"] = self.space.classes[a].astype(str)
        arrays["space.categories"] = self.space.categories.astype(str)
        arrays["space.applicable"] = self.space.applicable.astype(np.uint8)
        meta = {"params": self.params.to_dict(), "attributes": self.attributes,
                "price_stats": list(self.encoder.price_stats), "image_dim": self.encoder.image_dim,
                "history": self.history}
        return arrays, meta

    @classmethod
    def from_artifact(cls, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> "AttributeModel":
        """Rebuild a saved version (also one saved before the word convolution: it has no words.* arrays)."""
        try:
            attributes = list(meta["attributes"])
            require_arrays(cls.kind, arrays, [*BASE_ARRAYS, *(f"classes.{j}" for j in range(len(attributes)))])
            params = AttributeParams.from_dict(meta["params"], strict=False)
            if "words.vocabulary" not in arrays:  # a version trained before the word convolution existed
                params = params.replace(word_channels=0)
            space = LabelSpace(attributes, {a: arrays[f"classes.{j}"].astype(str) for j, a in enumerate(attributes)},
                               arrays["space.categories"].astype(str), arrays["space.applicable"].astype(bool))
            encoder = Encoder(TextHasher.from_arrays(arrays),
                              {f: arrays[f"vocab.{f}"].astype(str) for f in CATEGORICAL_FIELDS},
                              tuple(meta["price_stats"]), int(meta.get("image_dim", 0)),
                              WordSequencer.from_arrays(arrays) if params.word_channels else None)
            net = build_network(encoder, space, params)
            net.load_state_dict(arrays_to_torch_state(dict(arrays), prefix="net."))
        except (KeyError, RuntimeError, ValueError) as error:
            raise ArtifactError(f"attribute model arrays do not fit this code ({error}): train the model "
                                "again") from error
        net.eval()
        return cls(params, encoder, space, net, list(meta.get("history", [])))
