"""Multi-task attribute model (ASOS, KDD 2018): shared trunk over text, brand/type/division, price, image; one head per attribute."""

from __future__ import annotations

import time
import warnings
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from core.artifacts import arrays_to_torch_state, torch_state_to_arrays
from core.columns import ATTRIBUTE_PREFIX, attribute_columns, attribute_name
from core.errors import ArtifactError, ValidationError, Problem
from core.features.text import DEFAULT_BUCKETS, PAD, TextHasher, WordSequencer, bag_inputs

KIND = "attributes"
OTHER = "other"
CATEGORICAL_FIELDS: tuple[str, ...] = ("brand", "category", "category_group", "division")
MODES = ("masked", "tasks")


@dataclass
class AttributeParams:
    """Hyper-parameters; round-trip through JSON so a version records exactly how it was made."""

    min_support: int = 5  # a class needs this many labelled training items, the rest become "other"
    applicability_min_fraction: float = 0.02  # an attribute applies to a type where ≥ this share of its items is labelled
    mode: str = "masked"  # "masked": joint loss over the labels present; "tasks": one dataset per attribute, random task order
    class_weight_power: float = 0.0  # 0: none, 1: inverse frequency ("balanced"), 0.5 in between
    text_dim: int = 96
    word_dim: int = 48  # the word convolution (ASOS's text CNN) beside the n-gram bag; word_channels 0 turns it off
    word_channels: int = 128
    word_window: int = 3
    max_words: int = 128
    categorical_dim: int = 16
    hidden: int = 256
    dropout: float = 0.2
    epochs: int = 6
    batch_size: int = 128
    lr: float = 3e-3
    text_lr: float = 0.05
    weight_decay: float = 1e-5
    buckets: int = DEFAULT_BUCKETS
    min_df: int = 2  # text n-grams in fewer training items are dropped
    suspect_threshold: float = 0.9
    seed: int = 0
    threads: int = 1  # 2 threads ran 6x slower than 1 on the shared, loaded 2 cores (OpenMP spinning)

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> "AttributeParams":
        known = {f.name for f in fields(cls)}
        unknown = set(values or {}) - known
        if unknown:
            raise ValidationError([Problem("params", None, name, f"unknown attribute-model parameter; known: {sorted(known)}")
                                   for name in sorted(unknown)])
        params = cls(**{k: v for k, v in (values or {}).items()})
        if params.mode not in MODES:
            raise ValidationError([Problem("params", None, "mode", f"must be one of {MODES}", params.mode)])
        small = [name for name in ("word_dim", "word_window", "max_words") if getattr(params, name) < 1]
        if params.word_channels < 0 or (params.word_channels and small):
            raise ValidationError([Problem("params", None, name, "must be at least 1 (word_channels 0 turns the word "
                                           "convolution off)", getattr(params, name)) for name in small or ["word_channels"]])
        return params


# ---------------------------------------------------------------------------------------------- labels
@dataclass
class LabelSpace:
    """Classes per attribute (min support, rest → "other") and which attributes apply to which product types.

    attributes: names without the attr_ prefix. classes[a]: str array, "other" last when some values were folded.
    applicable: bool (n_categories + 1, A); row 0 = unknown type (every attribute that has labels applies).
    """

    attributes: list[str]
    classes: dict[str, np.ndarray]
    categories: np.ndarray  # type values, code = index + 1
    applicable: np.ndarray

    @classmethod
    def fit(cls, catalogue: pd.DataFrame, attributes: list[str], params: AttributeParams) -> "LabelSpace":
        classes = {}
        for name in attributes:
            counts = catalogue[ATTRIBUTE_PREFIX + name].dropna().astype(str).value_counts()
            kept = sorted(counts[counts >= params.min_support].index.tolist())
            if (counts < params.min_support).any() or not kept:
                kept.append(OTHER) if OTHER not in kept else None
            classes[name] = np.array(kept, dtype=str)
        types = catalogue["category"].fillna("").astype(str) if "category" in catalogue else pd.Series("", index=catalogue.index)
        categories = np.array(sorted(set(types) - {""}), dtype=str)
        code = {c: i + 1 for i, c in enumerate(categories)}
        codes = types.map(code).fillna(0).astype(int).to_numpy()
        totals = np.bincount(codes, minlength=len(categories) + 1).astype(float)
        applicable = np.ones((len(categories) + 1, len(attributes)), dtype=bool)
        for j, name in enumerate(attributes):
            labelled = np.bincount(codes[catalogue[ATTRIBUTE_PREFIX + name].notna().to_numpy()],
                                   minlength=len(categories) + 1).astype(float)
            share = labelled / np.maximum(totals, 1)
            applicable[1:, j] = (labelled[1:] > 0) & (share[1:] >= params.applicability_min_fraction)
        return cls(list(attributes), classes, categories, applicable)

    def encode(self, catalogue: pd.DataFrame) -> np.ndarray:
        """Labels int64 (n, A): class index, -1 where the catalogue has no value (never read by the loss)."""
        labels = np.full((len(catalogue), len(self.attributes)), -1, dtype=np.int64)
        for j, name in enumerate(self.attributes):
            column = ATTRIBUTE_PREFIX + name
            if column not in catalogue.columns:
                continue
            values = catalogue[column]
            index = {v: i for i, v in enumerate(self.classes[name])}
            other = index.get(OTHER, -1)
            present = values.notna().to_numpy()
            mapped = values[present].astype(str).map(lambda v: index.get(v, other)).to_numpy()
            labels[present, j] = mapped
        return labels

    def category_codes(self, catalogue: pd.DataFrame) -> np.ndarray:
        code = {c: i + 1 for i, c in enumerate(self.categories)}
        if "category" not in catalogue:
            return np.zeros(len(catalogue), dtype=np.int64)
        return catalogue["category"].astype(object).map(code).fillna(0).astype(np.int64).to_numpy()

    def applies(self, catalogue: pd.DataFrame) -> np.ndarray:
        """bool (n, A): whether each attribute applies to each item's product type."""
        return self.applicable[self.category_codes(catalogue)]

    def canonical(self, name: str, values: pd.Series) -> pd.Series:
        """Catalogue values as the model's classes (unseen or rare → "other"; missing stays NA)."""
        known = set(self.classes[name])
        fallback = OTHER if OTHER in known else None
        return values.map(lambda v: v if pd.isna(v) or str(v) in known else fallback)


# ---------------------------------------------------------------------------------------------- inputs
@dataclass
class Inputs:
    """Network inputs for n items: text bag csr float32 (n, n_features), categorical codes int64 (n, F)
    (0 = unknown), numeric float32 (n, 2), image float32 (n, D) or None, word ids int64 (n, L) or None (PAD = 0)."""

    text: sp.csr_matrix
    categorical: np.ndarray
    numeric: np.ndarray
    image: np.ndarray | None
    words: np.ndarray | None = None

    def rows(self, index: np.ndarray) -> "Inputs":
        return Inputs(self.text[index], self.categorical[index], self.numeric[index],
                      None if self.image is None else self.image[index], None if self.words is None else self.words[index])


@dataclass
class Encoder:
    """Turns catalogue rows into Inputs with what was learned from the training catalogue."""

    text: TextHasher
    vocabularies: dict[str, np.ndarray]
    price_stats: tuple[float, float]
    image_dim: int = 0
    words: WordSequencer | None = None

    @classmethod
    def fit(cls, catalogue: pd.DataFrame, params: AttributeParams, image_dim: int) -> "Encoder":
        vocabularies = {f: np.array(sorted(set(catalogue[f].dropna().astype(str))), dtype=str) if f in catalogue else
                        np.array([], dtype=str) for f in CATEGORICAL_FIELDS}
        logp = np.log1p(pd.to_numeric(catalogue.get("price"), errors="coerce").astype(float).clip(lower=0)) \
            if "price" in catalogue else pd.Series(dtype=float)
        mean, std = (float(logp.mean()), float(logp.std() or 1.0)) if logp.notna().any() else (0.0, 1.0)
        words = WordSequencer(params.min_df, params.max_words).fit(catalogue) if params.word_channels else None
        return cls(TextHasher(params.buckets, params.min_df).fit(catalogue), vocabularies, (mean, std if std > 0 else 1.0),
                   image_dim, words)

    def encode(self, catalogue: pd.DataFrame, image: np.ndarray | None = None) -> Inputs:
        codes = np.zeros((len(catalogue), len(CATEGORICAL_FIELDS)), dtype=np.int64)
        for j, name in enumerate(CATEGORICAL_FIELDS):
            if name in catalogue:
                index = {v: i + 1 for i, v in enumerate(self.vocabularies[name])}
                codes[:, j] = catalogue[name].astype(object).map(index).fillna(0).astype(np.int64).to_numpy()
        price = pd.to_numeric(catalogue["price"], errors="coerce").astype(float) if "price" in catalogue else \
            pd.Series(np.nan, index=catalogue.index)
        logp = ((np.log1p(price.clip(lower=0)) - self.price_stats[0]) / self.price_stats[1]).to_numpy()
        numeric = np.stack([np.nan_to_num(logp, nan=0.0), price.isna().to_numpy(float)], axis=1).astype(np.float32)
        if self.image_dim and image is None:
            image = np.zeros((len(catalogue), self.image_dim), dtype=np.float32)
        return Inputs(self.text.transform(catalogue), codes, numeric, image if self.image_dim else None,
                      None if self.words is None else self.words.transform(catalogue))


def image_matrix(catalogue: pd.DataFrame, features: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray | None:
    """Image vectors aligned to the catalogue rows: float32 (n, D), zeros for items without a vector; None if absent."""
    if features is None:
        return None
    ids, vectors = features
    row = {str(i): k for k, i in enumerate(ids)}
    out = np.zeros((len(catalogue), vectors.shape[1]), dtype=np.float32)
    for k, item in enumerate(catalogue["item_id"].astype(str)):
        if item in row:
            out[k] = vectors[row[item]]
    return out


# ---------------------------------------------------------------------------------------------- network
def _network(encoder: Encoder, space: LabelSpace, params: AttributeParams):  # noqa: ANN202 — torch module
    import torch
    from torch import nn

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
            hits = torch.relu(self.conv(self.words(words).transpose(1, 2)))[..., : words.shape[1]]  # an even window adds one
            # ReLU output is ≥ 0, so zeroing the padded positions keeps them out of the max.
            return (hits * (words != PAD).unsqueeze(1)).amax(dim=2)

        def forward(self, indices, offsets, weights, codes, numeric, image=None, words=None):  # noqa: ANN001, ANN201
            text = self.text(indices, offsets, per_sample_weights=weights)
            if self.conv is not None:
                text = torch.cat([text, self.phrases(words)], dim=1)
            parts = [text] + [emb(codes[:, j]) for j, emb in enumerate(self.categorical)] + [numeric]
            if self.image is not None:
                parts.append(torch.relu(self.image(image)))
            hidden = torch.cat([self.trunk(torch.cat(parts, dim=1)), text], dim=1)
            return [head(hidden) for head in self.heads]

    return AttributeNet()


def _tensors(inputs: Inputs):  # noqa: ANN202
    import torch

    indices, offsets, weights = bag_inputs(inputs.text)
    image = None if inputs.image is None else torch.from_numpy(np.ascontiguousarray(inputs.image, dtype=np.float32))
    words = None
    if inputs.words is not None:  # trimmed to the batch's longest text: the convolution's cost is per position
        length = max(int((inputs.words != PAD).sum(axis=1).max(initial=0)), 1)
        words = torch.from_numpy(np.ascontiguousarray(inputs.words[:, :length]))
    return (torch.from_numpy(indices), torch.from_numpy(offsets), torch.from_numpy(weights),
            torch.from_numpy(inputs.categorical), torch.from_numpy(inputs.numeric), image, words)


# ---------------------------------------------------------------------------------------------- model
@dataclass
class AttributeModel:
    """A trained model: encoder, label space, network. `predict` gives probabilities per attribute."""

    params: AttributeParams
    encoder: Encoder
    space: LabelSpace
    net: Any
    history: list[dict[str, float]] = field(default_factory=list)

    @property
    def attributes(self) -> list[str]:
        return self.space.attributes

    def probabilities(self, catalogue: pd.DataFrame, image: np.ndarray | None = None, batch: int = 4096) -> dict[str, np.ndarray]:
        """{attribute: float32 (n, k_a) softmax probabilities}, rows in catalogue order."""
        import torch

        torch.set_num_threads(self.params.threads)
        inputs = self.encoder.encode(catalogue, image)
        out: dict[str, list[np.ndarray]] = {a: [] for a in self.attributes}
        self.net.eval()
        with torch.no_grad():
            for start in range(0, len(catalogue), batch):
                rows = np.arange(start, min(start + batch, len(catalogue)))
                logits = self.net(*_tensors(inputs.rows(rows)))
                for a, z in zip(self.attributes, logits):
                    out[a].append(torch.softmax(z, dim=1).numpy())
        return {a: np.concatenate(v) if v else np.zeros((0, len(self.space.classes[a])), np.float32) for a, v in out.items()}

    def predict(self, catalogue: pd.DataFrame, image: np.ndarray | None = None, top: int = 3) -> pd.DataFrame:
        """One row per item × attribute: item_id, attribute, predicted, probability, alternatives (str "v (p); ..."),
        catalogue_value, has_value, applicable, suspect (the catalogue value disagrees with a prediction ≥ suspect_threshold)."""
        probs = self.probabilities(catalogue, image)
        applies = self.space.applies(catalogue)
        frames = []
        ids = catalogue["item_id"].astype(str).to_numpy()
        for j, name in enumerate(self.attributes):
            p, classes = probs[name], self.space.classes[name]
            order = np.argsort(-p, axis=1)[:, :top]
            best = order[:, 0]
            prob = p[np.arange(len(p)), best]
            alternatives = [("; ".join(f"{classes[c]} ({p[i, c]:.2f})" for c in row[1:])) for i, row in enumerate(order)]
            column = ATTRIBUTE_PREFIX + name
            current = catalogue[column] if column in catalogue else pd.Series(pd.NA, index=catalogue.index, dtype=object)
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
    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
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
        meta = {"params": asdict(self.params), "attributes": self.attributes, "price_stats": list(self.encoder.price_stats),
                "image_dim": self.encoder.image_dim, "history": self.history}
        return arrays, meta

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> "AttributeModel":
        try:
            params = AttributeParams.from_dict(meta["params"])
            if "words.vocabulary" not in arrays:  # a version trained before the word convolution existed
                params.word_channels = 0
            attributes = list(meta["attributes"])
            space = LabelSpace(attributes, {a: arrays[f"classes.{j}"].astype(str) for j, a in enumerate(attributes)},
                               arrays["space.categories"].astype(str), arrays["space.applicable"].astype(bool))
            encoder = Encoder(TextHasher.from_arrays(arrays), {f: arrays[f"vocab.{f}"].astype(str) for f in CATEGORICAL_FIELDS},
                              tuple(meta["price_stats"]), int(meta.get("image_dim", 0)),
                              WordSequencer.from_arrays(arrays) if params.word_channels else None)
            net = _network(encoder, space, params)
            net.load_state_dict(arrays_to_torch_state(arrays, prefix="net."))
        except (KeyError, RuntimeError, ValueError) as error:
            raise ArtifactError(f"attribute model arrays do not fit this code ({error}): train the model again") from error
        net.eval()
        return cls(params, encoder, space, net, list(meta.get("history", [])))


# ---------------------------------------------------------------------------------------------- training
def attribute_names(catalogue: pd.DataFrame, wanted: list[str] | None = None) -> list[str]:
    """The attributes to model: `wanted` (names without attr_) or every attr_* column with at least 2 values."""
    present = [attribute_name(c) for c in attribute_columns(list(catalogue.columns))]
    if wanted:
        missing = [w for w in wanted if w not in present]
        if missing:
            raise ValidationError([Problem("catalogue", None, ATTRIBUTE_PREFIX + m, "attribute column not in the catalogue")
                                   for m in missing])
        return list(wanted)
    return [a for a in present if catalogue[ATTRIBUTE_PREFIX + a].dropna().nunique() >= 2]


def class_weights(labels: np.ndarray, n_classes: int, power: float) -> np.ndarray:
    """float32 (n_classes,): (n / (k · count))^power over the labels present (labels ≥ 0), mean 1 over the samples."""
    present = labels[labels >= 0]
    counts = np.bincount(present, minlength=n_classes).astype(float)
    if power == 0 or present.size == 0:
        return np.ones(n_classes, dtype=np.float32)
    weights = np.where(counts > 0, (present.size / (n_classes * np.maximum(counts, 1))) ** power, 0.0)
    weights /= max((weights[present]).mean(), 1e-12)
    return weights.astype(np.float32)


def masked_loss(logits: list, labels, weights: list):  # noqa: ANN001, ANN201 — torch tensors
    """Σ over attributes of the class-weighted mean cross-entropy over the rows whose label is present.

    labels: int64 (b, A), -1 = missing. Missing cells are dropped by indexing before the loss is computed,
    so their content is never read (a -1 given to cross_entropy would raise).
    """
    import torch
    import torch.nn.functional as F

    total = logits[0].new_zeros(())
    for j, z in enumerate(logits):
        rows = torch.nonzero(labels[:, j] >= 0, as_tuple=True)[0]
        if rows.numel() == 0:
            continue
        target = labels.index_select(0, rows)[:, j]
        total = total + F.cross_entropy(z.index_select(0, rows), target, weight=weights[j])
    return total


def train(catalogue: pd.DataFrame, attributes: list[str] | None = None, params: AttributeParams | None = None,
          image: np.ndarray | None = None, progress: Callable[[float, dict[str, float]], None] | None = None) -> AttributeModel:
    """Fit on the labelled cells of `catalogue` (generic schema; attr_<name> columns are the targets).

    image: optional float32 (n, D) aligned to the rows. progress(fraction, metrics) is called once per epoch.
    """
    import torch

    params = params or AttributeParams()
    _check_catalogue(catalogue)
    names = attribute_names(catalogue, attributes)
    if not names:
        raise ValidationError([Problem("catalogue", None, None, "no attr_<name> column with at least two values: "
                                       "add attribute columns to the catalogue to train the attribute model")])
    torch.set_num_threads(params.threads)
    torch.manual_seed(params.seed)
    rng = np.random.default_rng(params.seed)
    space = LabelSpace.fit(catalogue, names, params)
    labels = space.encode(catalogue)
    encoder = Encoder.fit(catalogue, params, 0 if image is None else image.shape[1])
    inputs = encoder.encode(catalogue, image)
    net = _network(encoder, space, params)
    weights = [torch.from_numpy(class_weights(labels[:, j], len(space.classes[a]), params.class_weight_power))
               for j, a in enumerate(names)]
    # The text tables get sparse gradients (only the rows a batch touches) and Adagrad; a dense Adam over
    # the whole table cost 4x more per step on the shared 2 cores.
    warnings.filterwarnings("ignore", message="Sparse invariant checks are implicitly disabled")
    sparse = ("text.", "words.")
    text_opt = torch.optim.Adagrad([p for n, p in net.named_parameters() if n.startswith(sparse)], lr=params.text_lr)
    dense_opt = torch.optim.AdamW([p for n, p in net.named_parameters() if not n.startswith(sparse)],
                                  lr=params.lr, weight_decay=params.weight_decay, foreach=True)
    label_tensor = torch.from_numpy(labels)
    model = AttributeModel(params, encoder, space, net)
    steps = _schedule(labels, params, rng)
    total_steps = sum(len(s) for s in steps)
    done = 0
    for epoch, epoch_steps in enumerate(steps):
        net.train()
        started, running, count = time.perf_counter(), 0.0, 0
        for task, rows in epoch_steps:
            logits = net(*_tensors(inputs.rows(rows)))
            batch_labels = label_tensor[torch.from_numpy(rows)]
            if task >= 0:  # ASOS: only this attribute's head (its dataset holds only rows labelled for it)
                batch_labels = _only(batch_labels, task)
            loss = masked_loss(logits, batch_labels, weights)
            text_opt.zero_grad()
            dense_opt.zero_grad()
            loss.backward()
            text_opt.step()
            dense_opt.step()
            running, count = running + float(loss.detach()), count + 1
        done += len(epoch_steps)
        record = {"epoch": epoch + 1, "loss": running / max(count, 1),
                  "items_per_s": sum(len(r) for _, r in epoch_steps) / max(time.perf_counter() - started, 1e-9)}
        model.history.append(record)
        if progress is not None:
            progress(done / max(total_steps, 1), record)
    net.eval()
    return model


def _only(labels, task: int):  # noqa: ANN001, ANN202
    import torch

    masked = torch.full_like(labels, -1)
    masked[:, task] = labels[:, task]
    return masked


def _schedule(labels: np.ndarray, params: AttributeParams, rng: np.random.Generator) -> list[list[tuple[int, np.ndarray]]]:
    """Per epoch, the (task, row indices) mini-batches. masked: task -1 over items with ≥ 1 label;
    tasks: each attribute's labelled rows in its own batches, the tasks' batches interleaved in random order."""
    epochs = []
    bs = params.batch_size
    for _ in range(params.epochs):
        if params.mode == "masked":
            rows = rng.permutation(np.flatnonzero((labels >= 0).any(axis=1)))
            epochs.append([(-1, rows[s:s + bs]) for s in range(0, len(rows), bs)])
        else:
            batches = []
            for j in range(labels.shape[1]):
                rows = rng.permutation(np.flatnonzero(labels[:, j] >= 0))
                batches += [(j, rows[s:s + bs]) for s in range(0, len(rows), bs)]
            order = rng.permutation(len(batches))
            epochs.append([batches[k] for k in order])
    return epochs


def _check_catalogue(catalogue: pd.DataFrame) -> None:
    problems = []
    if "item_id" not in catalogue.columns:
        problems.append(Problem("catalogue", None, "item_id", "required column is missing"))
    elif catalogue["item_id"].duplicated().any():
        dup = catalogue["item_id"][catalogue["item_id"].duplicated()].iloc[0]
        problems.append(Problem("catalogue", None, "item_id", "item ids must be unique", str(dup)))
    if problems:
        raise ValidationError(problems)


# ---------------------------------------------------------------------------------------------- baseline
def tfidf_logistic(train_text: list[str], train_labels: np.ndarray, test_text: list[str], C: float = 10.0,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Per-attribute TF-IDF (word 1–2-grams, sublinear tf) + multinomial logistic regression on name+description.

    train_labels: str (n,). Returns (predicted str (m,), probability float (m,)).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, token_pattern=r"(?u)\b\w+\b")
    x = vectorizer.fit_transform(train_text)
    classes = np.unique(train_labels)
    if len(classes) == 1:
        return np.full(len(test_text), classes[0]), np.ones(len(test_text))
    model = LogisticRegression(C=C, max_iter=300, random_state=seed).fit(x, train_labels)
    p = model.predict_proba(vectorizer.transform(test_text))
    best = p.argmax(axis=1)
    return model.classes_[best], p[np.arange(len(best)), best]
