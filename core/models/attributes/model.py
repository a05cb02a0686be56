"""The trained attribute model (ASOS, KDD 2018): network + linear hybrid, predictions per attribute, no pickle."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping

import numpy as np
import pandas as pd

from core.artifacts import arrays_to_torch_state, torch_state_to_arrays
from core.columns import ATTRIBUTE_PREFIX
from core.errors import ArtifactError, Problem, UnknownIdError, ValidationError
from core.features.text import TextHasher, WordSequencer
from core.evaluation import classification as cm
from core.models.attributes import evaluate as held_out
from core.models.attributes.features import CATEGORICAL_FIELDS, Encoder, LabelSpace, attribute_names
from core.models.attributes.linear import LinearText
from core.models.attributes.network import build_network, tensors
from core.models.attributes.params import KIND, AttributeParams
from core.models.attributes.train import Progress, fit
from core.models.family import require_arrays

# torch is imported inside the methods (and in network.py, train.py): loading this module stays cheap.

# Arrays every stored version has, whatever its attributes; the per-attribute and network arrays are checked on load.
BASE_ARRAYS = ("text.idf", "text.remap", "text.buckets", "space.categories", "space.applicable",
               *(f"vocab.{f}" for f in CATEGORICAL_FIELDS))
# The blend weights w tried per attribute on the inner split (w = 1: the network alone, 0: the linear model alone).
BLEND_GRID = tuple(round(0.1 * k, 1) for k in range(11))
MIN_BLEND_LABELS = 20  # fewer inner-validation labels than this say nothing about w: the equal blend is kept
EQUAL_BLEND = 0.5


@dataclass(frozen=True)
class AttributeData:
    """What training needs: a generic-schema catalogue (attr_<name> columns are the targets), which attributes
    (None: every attr_* column with two values or more), image vectors aligned to its rows (float32 (n, D) or
    None); `test` the held-out catalogue `evaluate` scores, with its own image rows. `previous`: a hybrid fitted
    on a subset of these items (the training job's evaluation model): its blend weights, chosen on its inner
    split, are kept, both halves are fitted once on every item, and its linear half starts the linear refit."""

    catalogue: pd.DataFrame
    attributes: tuple[str, ...] | None = None
    image: np.ndarray | None = None
    test: pd.DataFrame | None = None
    test_image: np.ndarray | None = None
    previous: "AttributeModel | None" = None


@dataclass
class AttributeModel:
    """A trained model: encoder, label space, network, and (the hybrid) a linear model with a blend weight per
    attribute. `probabilities` gives what is served: w·p_network + (1-w)·p_linear."""

    kind: ClassVar[str] = KIND
    Params: ClassVar[type[AttributeParams]] = AttributeParams

    params: AttributeParams
    encoder: Encoder
    space: LabelSpace
    net: Any
    history: list[dict[str, float]] = field(default_factory=list)
    linear: LinearText | None = None  # None: the network alone (hybrid_holdout 0, or a version from before)
    blend: dict[str, float] = field(default_factory=dict)  # attribute → w, the network's weight
    # per attribute, how w was chosen: inner split sizes and the inner-validation weighted F1 at each grid point
    blend_report: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def train(cls, data: AttributeData, params: AttributeParams, progress: Progress | None = None) -> "AttributeModel":
        """Fit on the labelled cells of `data.catalogue`; progress(fraction, metrics) once per epoch.

        The hybrid (hybrid_holdout > 0): network and linear model are fitted on an inner split of the training
        items, each attribute's w is the grid point with the best weighted F1 on the inner-validation items (the
        test split is never seen), then both are fitted again on every training item (hybrid_refit).
        """
        attributes = None if data.attributes is None else list(data.attributes)
        if params.hybrid_holdout <= 0:
            encoder, space, net, history = fit(data.catalogue, attributes, params, data.image, progress)
            return cls(params, encoder, space, net, history)
        previous = data.previous
        if previous is not None and previous.linear is not None:
            encoder, space, net, history = fit(data.catalogue, attributes, params, data.image,
                                               (lambda f, m: progress(0.9 * f, m)) if progress else None)
            linear = LinearText.fit(data.catalogue, space, params.linear_c, params.seed, warm=previous.linear)
            blend = {a: float(previous.blend.get(a, EQUAL_BLEND)) for a in space.attributes}
            return cls(params, encoder, space, net, history, linear, blend, dict(previous.blend_report))
        check_names = attribute_names(data.catalogue, attributes)  # the same names for the inner and the full fit
        rng = np.random.default_rng(params.seed + 1)
        held = rng.random(len(data.catalogue)) < params.hybrid_holdout
        if held.all() or not held.any():  # too few items to split: fit on all, blend equally
            held[:] = False
        inner, val = data.catalogue[~held].reset_index(drop=True), data.catalogue[held].reset_index(drop=True)
        inner_image = None if data.image is None else data.image[~held]
        share = 0.45 if params.hybrid_refit else 0.9
        step = (lambda f, m: progress(share * f, m)) if progress else None
        encoder, space, net, history = fit(inner, check_names, params, inner_image, step)
        linear = LinearText.fit(inner, space, params.linear_c, params.seed)
        model = cls(params, encoder, space, net, history, linear)
        model.blend, model.blend_report = model._choose_blend(val, None if data.image is None else data.image[held])
        if progress:
            progress(share + 0.05, {"blend_weights": float(np.mean(list(model.blend.values()) or [EQUAL_BLEND]))})
        if not params.hybrid_refit or not held.any():
            return model
        step = (lambda f, m: progress(0.5 + 0.45 * f, m)) if progress else None
        encoder, space, net, history = fit(data.catalogue, check_names, params, data.image, step)
        linear = LinearText.fit(data.catalogue, space, params.linear_c, params.seed, warm=linear)
        return cls(params, encoder, space, net, history, linear, model.blend, model.blend_report)

    def _choose_blend(self, val: pd.DataFrame, image: np.ndarray | None) -> tuple[dict[str, float],
                                                                                   dict[str, dict[str, Any]]]:
        """Per attribute, the grid w with the best inner-validation weighted F1 (ties: the one nearest the equal
        blend, which averages the two models' errors most), and the F1 at every grid point."""
        blend: dict[str, float] = {}
        report: dict[str, dict[str, Any]] = {}
        p_net, p_lin = self.network_probabilities(val, image), self._linear_probabilities(val)
        for name in self.attributes:
            column = ATTRIBUTE_PREFIX + name
            labelled = val[column].notna().to_numpy() if column in val else np.zeros(len(val), bool)
            if labelled.sum() < MIN_BLEND_LABELS:
                blend[name] = EQUAL_BLEND
                report[name] = {"validation_labels": int(labelled.sum()), "scores": None}
                continue
            truth = self.space.canonical(name, val.loc[labelled, column].astype(str)).to_numpy(dtype=str)
            classes = self.space.classes[name]
            scores = [cm.weighted_f1(truth, classes[(w * p_net[name][labelled] + (1 - w) * p_lin[name][labelled])
                                                   .argmax(axis=1)]) for w in BLEND_GRID]
            best = max(scores)
            tied = [w for w, s in zip(BLEND_GRID, scores) if s >= best - 1e-12]
            blend[name] = float(min(tied, key=lambda w: abs(w - EQUAL_BLEND)))
            report[name] = {"validation_labels": int(labelled.sum()), "scores": [float(s) for s in scores]}
        return blend, report

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
        """{attribute: float32 (n, k_a)} what the model serves, rows in catalogue order: the hybrid's blend
        w·p_network + (1-w)·p_linear, or the network's softmax when there is no linear half."""
        p_net = self.network_probabilities(catalogue, image, batch)
        return p_net if self.linear is None else self.blended(p_net, self._linear_probabilities(catalogue))

    def blended(self, p_net: dict[str, np.ndarray], p_linear: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The hybrid's served probabilities from its two halves' (float32 (n, k_a) each)."""
        return {a: (self.blend[a] * p_net[a] + (1 - self.blend[a]) * p_linear[a]).astype(np.float32)
                for a in self.attributes}

    def halves(self, catalogue: pd.DataFrame, image: np.ndarray | None = None
               ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None]:
        """(network probabilities, linear probabilities or None without a linear half), for the evaluation."""
        return (self.network_probabilities(catalogue, image),
                None if self.linear is None else self._linear_probabilities(catalogue))

    def _linear_probabilities(self, catalogue: pd.DataFrame) -> dict[str, np.ndarray]:
        if self.linear is None:
            raise ValidationError([Problem("attribute model", None, "linear", "this version has no linear half")])
        return self.linear.probabilities(catalogue)

    def network_probabilities(self, catalogue: pd.DataFrame, image: np.ndarray | None = None,
                              batch: int = 4096) -> dict[str, np.ndarray]:
        """{attribute: float32 (n, k_a) softmax probabilities} of the network alone, rows in catalogue order."""
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
        if self.linear is not None:
            arrays.update(self.linear.to_arrays(self.attributes))
            arrays["blend.weights"] = np.array([self.blend[a] for a in self.attributes], dtype=np.float64)
        meta = {"params": self.params.to_dict(), "attributes": self.attributes,
                "price_stats": list(self.encoder.price_stats), "image_dim": self.encoder.image_dim,
                "history": self.history, "blend_report": self.blend_report}
        return arrays, meta

    @classmethod
    def from_artifact(cls, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> "AttributeModel":
        """Rebuild a saved version (also one saved before the word convolution, without words.* arrays, or before
        the hybrid, without linear.* arrays: it serves its network alone)."""
        try:
            attributes = list(meta["attributes"])
            require_arrays(cls.kind, arrays, [*BASE_ARRAYS, *(f"classes.{j}" for j in range(len(attributes)))])
            params = AttributeParams.from_dict(meta["params"], strict=False)
            if "words.vocabulary" not in arrays:  # a version trained before the word convolution existed
                params = params.replace(word_channels=0)
            if "hybrid_holdout" not in meta["params"]:  # a version trained before the hybrid: the network alone
                params = params.replace(hybrid_holdout=0.0)
            if params.hybrid_holdout > 0:
                require_arrays(cls.kind, arrays, [*LinearText.array_names(attributes), "blend.weights"])
            space = LabelSpace(attributes, {a: arrays[f"classes.{j}"].astype(str) for j, a in enumerate(attributes)},
                               arrays["space.categories"].astype(str), arrays["space.applicable"].astype(bool))
            encoder = Encoder(TextHasher.from_arrays(arrays),
                              {f: arrays[f"vocab.{f}"].astype(str) for f in CATEGORICAL_FIELDS},
                              tuple(meta["price_stats"]), int(meta.get("image_dim", 0)),
                              WordSequencer.from_arrays(arrays) if params.word_channels else None)
            net = build_network(encoder, space, params)
            net.load_state_dict(arrays_to_torch_state(dict(arrays), prefix="net."))
            linear, blend = None, {}
            if params.hybrid_holdout > 0:
                linear = LinearText.from_arrays(arrays, space)
                weights = np.asarray(arrays["blend.weights"], dtype=np.float64)
                if weights.shape != (len(attributes),):
                    raise ValueError(f"blend.weights has shape {weights.shape}, expected ({len(attributes)},)")
                blend = {a: float(w) for a, w in zip(attributes, weights)}
        except (KeyError, RuntimeError, ValueError) as error:
            raise ArtifactError(f"attribute model arrays do not fit this code ({error}): train the model "
                                "again") from error
        net.eval()
        return cls(params, encoder, space, net, list(meta.get("history", [])), linear, blend,
                   dict(meta.get("blend_report", {})))
