"""Siamese complementary-pair model: a shared content encoder, a concat+max/min/sum/avg fusion and a pair score."""

from __future__ import annotations

import re
import zlib
from dataclasses import asdict, dataclass, field, fields
from typing import Callable

import numpy as np
import pandas as pd
import torch
from torch import nn

from core.columns import Columns, attribute_columns
from core.errors import UnknownIdError, ValidationError, Problem

# Coarse-to-fine catalogue columns used as categorical item content when present.
CATEGORICAL_COLUMNS = ("category", "category_group", "division", "brand")
TEXT_COLUMNS = ("name", "description")
FUSIONS = ("concat", "max", "min", "sum", "avg", "mul")
_TOKEN = re.compile(r"[a-z0-9]+")

ProgressFn = Callable[[float, str, dict], None]


@dataclass
class ComplementaryParams:
    """Hyper-parameters; round-trip to JSON so a saved version records how it was made."""

    dim: int = 64  # item embedding size
    field_dim: int = 16  # per categorical field
    hidden: int = 128
    epochs: int = 10
    batch_size: int = 1024
    lr: float = 3e-3
    weight_decay: float = 1e-6
    negatives_per_positive: int = 2  # type-aware negatives per co-outfit pair and epoch
    label_weight: float = 3.0  # a stylist label counts this many sampled pairs
    use_image: bool = True  # the workspace's image vectors, when it has them, feed the encoder
    use_item_ids: bool = True  # a learned vector per item seen in training outfits (content still carries new items)
    id_dim: int = 32
    id_dropout: float = 0.25  # share of training rows whose id vectors are hidden so content learns on its own
    fusion: tuple[str, ...] = ("concat", "max", "min", "sum", "avg")
    text_buckets: int = 4096
    max_positive_pairs: int = 400_000  # cap on co-outfit pairs per epoch (large outfit files)
    seed: int = 42
    threads: int = 1  # 2 threads stall 10-20x on a busy shared machine (OpenMP barriers); this model is small

    def to_dict(self) -> dict:
        out = asdict(self)
        out["fusion"] = list(self.fusion)
        return out

    @classmethod
    def from_dict(cls, values: dict | None) -> "ComplementaryParams":
        values = dict(values or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValidationError([Problem("params", None, k, f"unknown parameter; use one of {sorted(known)}") for k in unknown])
        if "fusion" in values:
            bad = [f for f in values["fusion"] if f not in FUSIONS]
            if bad or not values["fusion"]:
                raise ValidationError([Problem("params", None, "fusion", f"must be a non-empty subset of {FUSIONS}", str(bad))])
            values["fusion"] = tuple(values["fusion"])
        return cls(**values)


@dataclass
class ItemFeatures:
    """Content of every catalogue item as arrays (row i = item_ids[i]).

    cat_codes int64 (n, F): per-field codes already offset into one shared table (0 = missing);
    numeric float32 (n, k); text_indices int64 (nnz,) + text_offsets int64 (n,) for an EmbeddingBag;
    image float32 (n, d) or shape (n, 0); type_codes int64 (n,) (finest category, for type-aware swaps);
    slots unicode (n,) (coarse category, for "complete the look").
    """

    item_ids: np.ndarray
    field_names: list[str]
    vocabularies: dict[str, np.ndarray]
    cat_codes: np.ndarray
    numeric: np.ndarray
    text_indices: np.ndarray
    text_offsets: np.ndarray
    image: np.ndarray
    type_codes: np.ndarray
    types: np.ndarray
    slots: np.ndarray
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = {str(i): k for k, i in enumerate(self.item_ids)}

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def vocab_size(self) -> int:
        return 1 + sum(len(v) for v in self.vocabularies.values())

    def index(self, ids: "list[str] | np.ndarray | pd.Series", what: str = "item") -> np.ndarray:
        """Row numbers int64 (n,) of external ids; raises UnknownIdError naming the first unknown ones."""
        ids = [str(i) for i in ids]
        missing = [i for i in ids if i not in self._index]
        if missing:
            raise UnknownIdError(
                f"{len(missing)} {what} id(s) not in the catalogue the model was trained on, e.g. {missing[:3]}: "
                "add them to the products file or retrain"
            )
        return np.fromiter((self._index[i] for i in ids), dtype=np.int64, count=len(ids))

    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays = {
            "item_ids": self.item_ids.astype(str),
            "cat_codes": self.cat_codes,
            "numeric": self.numeric,
            "text_indices": self.text_indices,
            "text_offsets": self.text_offsets,
            "image": self.image,
            "type_codes": self.type_codes,
            "types": self.types.astype(str),
            "slots": self.slots.astype(str),
        }
        for name, vocab in self.vocabularies.items():
            arrays[f"vocab.{name}"] = vocab.astype(str)
        return arrays

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], field_names: list[str]) -> "ItemFeatures":
        return cls(
            item_ids=arrays["item_ids"].astype(object),
            field_names=list(field_names),
            vocabularies={n: arrays[f"vocab.{n}"] for n in field_names},
            cat_codes=arrays["cat_codes"].astype(np.int64),
            numeric=arrays["numeric"].astype(np.float32),
            text_indices=arrays["text_indices"].astype(np.int64),
            text_offsets=arrays["text_offsets"].astype(np.int64),
            image=arrays["image"].astype(np.float32),
            type_codes=arrays["type_codes"].astype(np.int64),
            types=arrays["types"].astype(object),
            slots=arrays["slots"].astype(object),
        )


def _clean(values: pd.Series) -> pd.Series:
    return values.astype("string").fillna("").str.strip()


def build_item_features(
    catalogue: pd.DataFrame,
    image: tuple[np.ndarray, np.ndarray] | None = None,
    text_buckets: int = 4096,
) -> ItemFeatures:
    """Encode a generic-schema catalogue (item_id, category, category_group, ..., attr_*) into ItemFeatures."""
    if Columns.item not in catalogue.columns or Columns.category not in catalogue.columns:
        raise ValidationError([Problem("products", None, c, "required column missing") for c in (Columns.item, Columns.category) if c not in catalogue.columns])
    catalogue = catalogue.drop_duplicates(Columns.item).reset_index(drop=True)
    item_ids = catalogue[Columns.item].astype(str).to_numpy(dtype=object)
    field_names = [c for c in CATEGORICAL_COLUMNS if c in catalogue.columns] + attribute_columns(list(catalogue.columns))
    vocabularies: dict[str, np.ndarray] = {}
    codes = np.zeros((len(catalogue), len(field_names)), dtype=np.int64)
    offset = 1  # 0 is "missing" for every field
    for j, name in enumerate(field_names):
        values = _clean(catalogue[name])
        vocab = np.array(sorted(v for v in values.unique() if v), dtype=object)
        lookup = {v: k for k, v in enumerate(vocab)}
        codes[:, j] = [offset + lookup[v] if v else 0 for v in values]
        vocabularies[name] = vocab
        offset += len(vocab)
    numeric = _numeric(catalogue)
    text_indices, text_offsets = _hashed_text(catalogue, text_buckets)
    types = _clean(catalogue[Columns.category]).replace("", "(none)").to_numpy(dtype=object)
    _, type_codes = np.unique(types.astype(str), return_inverse=True)
    slot_source = "category_group" if "category_group" in catalogue.columns else Columns.category
    slots = _clean(catalogue[slot_source]).replace("", "(none)").to_numpy(dtype=object)
    return ItemFeatures(
        item_ids=item_ids,
        field_names=field_names,
        vocabularies=vocabularies,
        cat_codes=codes,
        numeric=numeric,
        text_indices=text_indices,
        text_offsets=text_offsets,
        image=_image_matrix(item_ids, image),
        type_codes=type_codes.astype(np.int64),
        types=types,
        slots=slots,
    )


def _numeric(catalogue: pd.DataFrame) -> np.ndarray:
    """log-price standardised + a missing flag, float32 (n, 2); (n, 0) when there is no price."""
    if Columns.price not in catalogue.columns:
        return np.zeros((len(catalogue), 0), dtype=np.float32)
    price = pd.to_numeric(catalogue[Columns.price], errors="coerce").to_numpy(dtype=np.float64)
    present = np.isfinite(price) & (price >= 0)
    if not present.any():
        return np.zeros((len(catalogue), 0), dtype=np.float32)
    logp = np.log1p(np.where(present, price, 0.0))
    mean, std = logp[present].mean(), logp[present].std() + 1e-6
    return np.stack([np.where(present, (logp - mean) / std, 0.0), (~present).astype(float)], axis=1).astype(np.float32)


def _hashed_text(catalogue: pd.DataFrame, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """Bag of hashed word tokens of name + description (crc32: stable across processes)."""
    columns = [c for c in TEXT_COLUMNS if c in catalogue.columns]
    indices: list[int] = []
    offsets = np.zeros(len(catalogue), dtype=np.int64)
    if columns:
        text = _clean(catalogue[columns[0]])
        for c in columns[1:]:
            text = text + " " + _clean(catalogue[c])
        for row, value in enumerate(text.str.lower()):
            offsets[row] = len(indices)
            indices.extend(sorted({zlib.crc32(t.encode()) % buckets for t in _TOKEN.findall(value)}))
    else:
        offsets[:] = 0
    return np.asarray(indices, dtype=np.int64), offsets


def _image_matrix(item_ids: np.ndarray, image: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    if image is None:
        return np.zeros((len(item_ids), 0), dtype=np.float32)
    ids, vectors = image
    lookup = {str(i): k for k, i in enumerate(ids)}
    out = np.zeros((len(item_ids), vectors.shape[1]), dtype=np.float32)
    rows = [(k, lookup[str(i)]) for k, i in enumerate(item_ids) if str(i) in lookup]
    if rows:
        dst, src = map(np.asarray, zip(*rows))
        out[dst] = vectors[src]
    return out


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


@dataclass
class TrainingSet:
    """Rows of (item a, item b) as catalogue row numbers, with labels (1 goes / 0 not) and weights.

    positives int64 (p, 2) from co-outfit pairs; labelled int64 (l, 2) + labelled_y float32 (l,) from stylists.
    Type-aware negatives are drawn afresh every epoch from `positives`.
    """

    positives: np.ndarray
    labelled: np.ndarray
    labelled_y: np.ndarray


def outfit_pairs(outfits: pd.DataFrame, feats: ItemFeatures) -> np.ndarray:
    """Unique unordered co-outfit pairs int64 (p, 2) (a < b) of items known to `feats`."""
    frame = outfits[[Columns.outfit, Columns.item]].astype(str).drop_duplicates()
    frame = frame[frame[Columns.item].isin(feats._index)]
    rows = feats.index(frame[Columns.item])
    codes, _ = pd.factorize(frame[Columns.outfit])
    order = np.lexsort((rows, codes))
    codes, rows = codes[order], rows[order]
    bounds = np.flatnonzero(np.diff(codes)) + 1
    starts, ends = np.r_[0, bounds], np.r_[bounds, len(codes)]
    pairs = []
    for s, e in zip(starts, ends):
        members = rows[s:e]
        if len(members) > 1:
            i, j = np.triu_indices(len(members), k=1)
            pairs.append(np.stack([members[i], members[j]], axis=1))
    if not pairs:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.concatenate(pairs)
    pairs = np.sort(pairs, axis=1)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    return np.unique(pairs, axis=0)


def build_training_set(outfits: pd.DataFrame, feats: ItemFeatures, labels: pd.DataFrame | None = None) -> TrainingSet:
    """Co-outfit positives plus stylist labels (columns item_a, item_b, label in {1, 0}; other values ignored)."""
    positives = outfit_pairs(outfits, feats)
    if labels is None or labels.empty:
        return TrainingSet(positives, np.zeros((0, 2), np.int64), np.zeros(0, np.float32))
    labels = labels[labels["label"].isin([0, 1]) & labels["item_a"].astype(str).isin(feats._index) & labels["item_b"].astype(str).isin(feats._index)]
    pairs = np.stack([feats.index(labels["item_a"]), feats.index(labels["item_b"])], axis=1) if len(labels) else np.zeros((0, 2), np.int64)
    return TrainingSet(positives, pairs.astype(np.int64), labels["label"].to_numpy(dtype=np.float32))


class TypeSampler:
    """Uniform draws of another item of the same finest category (a random shoe for a shoe)."""

    def __init__(self, type_codes: np.ndarray, rng: np.random.Generator):
        self.order = np.argsort(type_codes, kind="stable")
        counts = np.bincount(type_codes)
        self.starts = np.r_[0, np.cumsum(counts)[:-1]]
        self.counts = counts
        self.type_codes = type_codes
        self.rng = rng

    def draw(self, items: np.ndarray) -> np.ndarray:
        """int64 (n,) items of the same type as `items` (the item itself only when its type has one member)."""
        t = self.type_codes[items]
        size = self.counts[t]
        pick = self.starts[t] + (self.rng.random(len(items)) * size).astype(np.int64)
        out = self.order[pick]
        clash = (out == items) & (size > 1)
        if clash.any():  # redraw once shifted, so the swap is a different item
            shifted = self.starts[t[clash]] + (pick[clash] - self.starts[t[clash]] + 1) % size[clash]
            out[clash] = self.order[shifted]
        return out


class ComplementaryModel:
    """A trained pair model over a fixed catalogue: score pairs, outfits, and complete a look."""

    def __init__(self, feats: ItemFeatures, params: ComplementaryParams, known_ids: np.ndarray | None = None):
        self.feats = feats
        self.params = params
        # id slot per catalogue row: 0 = not seen in training outfits (content only)
        self.id_slots = known_ids if known_ids is not None else np.zeros(feats.n_items, dtype=np.int64)
        n_known = int(self.id_slots.max()) if params.use_item_ids and self.id_slots.size else 0
        torch.manual_seed(params.seed)
        self.encoder = ItemEncoder(feats, params, n_known)
        self.scorer = PairScorer(params)
        self._embeddings: np.ndarray | None = None

    # -- inputs ---------------------------------------------------------------------------------------------
    def _inputs(self, rows: np.ndarray, hide_ids: np.ndarray | None = None) -> dict[str, torch.Tensor]:
        f = self.feats
        out = {"cat": torch.from_numpy(f.cat_codes[rows])}
        if self.encoder.has_text:
            starts = f.text_offsets[rows]
            ends = np.where(rows + 1 < f.n_items, f.text_offsets[np.minimum(rows + 1, f.n_items - 1)], len(f.text_indices))
            lengths = ends - starts
            idx = np.concatenate([f.text_indices[s:e] for s, e in zip(starts, ends)]) if lengths.sum() else np.zeros(0, np.int64)
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
    def fit(self, data: TrainingSet, progress: ProgressFn | None = None) -> list[dict]:
        """Train with BCE on co-outfit positives, fresh type-aware negatives each epoch and weighted labels.

        Returns one dict of training figures per epoch (loss)."""
        p = self.params
        torch.set_num_threads(p.threads)
        rng = np.random.default_rng(p.seed)
        sampler = TypeSampler(self.feats.type_codes, rng)
        opt = torch.optim.Adam(list(self.encoder.parameters()) + list(self.scorer.parameters()), lr=p.lr, weight_decay=p.weight_decay)
        loss_fn = nn.BCEWithLogitsLoss(reduction="none")
        history = []
        self.encoder.train()
        self.scorer.train()
        for epoch in range(p.epochs):
            a, b, y, w = self._epoch_rows(data, sampler, rng)
            total, seen = 0.0, 0
            for s in range(0, len(a), p.batch_size):
                sl = slice(s, s + p.batch_size)
                logits = self._logits(a[sl], b[sl], rng, training=True)
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
        self.encoder.eval()
        self.scorer.eval()
        self._embeddings = None
        return history

    def _epoch_rows(self, data: TrainingSet, sampler: TypeSampler, rng: np.random.Generator):
        p = self.params
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
        w = np.concatenate([np.ones(len(anchor)), np.full(len(neg_a), 1.0 / k), np.full(len(data.labelled), p.label_weight)]).astype(np.float32)
        order = rng.permutation(len(a))
        return a[order], b[order], y[order], w[order]

    def _logits(self, a: np.ndarray, b: np.ndarray, rng: np.random.Generator | None = None, training: bool = False) -> torch.Tensor:
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
        frame = frame.sort_values(["slot", Columns.score], ascending=[True, False]).groupby("slot", sort=True).head(per_slot)
        frame[Columns.rank] = frame.groupby("slot").cumcount() + 1
        frame[Columns.item] = self.feats.item_ids[frame["row"].to_numpy()]
        return frame[["slot", Columns.item, Columns.score, Columns.rank]].reset_index(drop=True)

    # -- persistence ----------------------------------------------------------------------------------------
    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict]:
        """Arrays (content, id slots, weights as float32) and JSON meta for `ArtifactStore.save`."""
        arrays = {f"feat.{k}": v for k, v in self.feats.to_arrays().items()}
        arrays["id_slots"] = self.id_slots.astype(np.int64)
        for prefix, module in (("encoder", self.encoder), ("scorer", self.scorer)):
            for name, tensor in module.state_dict().items():
                arrays[f"w.{prefix}.{name}"] = tensor.detach().cpu().numpy()
        meta = {"params": self.params.to_dict(), "field_names": self.feats.field_names}
        return arrays, meta

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], meta: dict) -> "ComplementaryModel":
        params = ComplementaryParams.from_dict(meta["params"])
        feats = ItemFeatures.from_arrays({k[5:]: v for k, v in arrays.items() if k.startswith("feat.")}, meta["field_names"])
        model = cls(feats, params, arrays["id_slots"].astype(np.int64))
        for prefix, module in (("encoder", model.encoder), ("scorer", model.scorer)):
            state = {k[len(prefix) + 3:]: torch.from_numpy(np.array(v)) for k, v in arrays.items() if k.startswith(f"w.{prefix}.")}
            module.load_state_dict(state)
        model.encoder.eval()
        model.scorer.eval()
        return model


def known_id_slots(feats: ItemFeatures, outfits: pd.DataFrame) -> np.ndarray:
    """int64 (n_items,): 1..k for items that appear in training outfits, 0 otherwise."""
    seen = np.zeros(feats.n_items, dtype=bool)
    ids = outfits[Columns.item].astype(str)
    seen[feats.index(ids[ids.isin(feats._index)].unique())] = True
    slots = np.zeros(feats.n_items, dtype=np.int64)
    slots[seen] = np.arange(1, seen.sum() + 1)
    return slots


def train(
    catalogue: pd.DataFrame,
    outfits: pd.DataFrame,
    labels: pd.DataFrame | None = None,
    params: ComplementaryParams | None = None,
    image: tuple[np.ndarray, np.ndarray] | None = None,
    progress: ProgressFn | None = None,
) -> tuple[ComplementaryModel, list[dict]]:
    """Fit a pair model on a catalogue, its training outfits and optional stylist labels."""
    params = params or ComplementaryParams()
    feats = build_item_features(catalogue, image, params.text_buckets)
    data = build_training_set(outfits, feats, labels)
    if len(data.positives) == 0:
        raise ValidationError([Problem("outfits", None, Columns.outfit, "no outfit has two items of the catalogue: import outfits whose items are in the products file")])
    model = ComplementaryModel(feats, params, known_id_slots(feats, outfits) if params.use_item_ids else None)
    history = model.fit(data, progress)
    return model, history


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


def fit_set_model(model: ComplementaryModel, outfits: list[np.ndarray], epochs: int = 20, seed: int = 0) -> OutfitSetModel:
    """Train a set scorer on real outfits (rows) against copies with one to all items swapped for same-type ones."""
    torch.set_num_threads(model.params.threads)
    rng = np.random.default_rng(seed)
    sampler = TypeSampler(model.feats.type_codes, rng)
    z_all = torch.from_numpy(model.embeddings())
    net = OutfitSetModel(z_all.shape[1])
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(epochs):
        for s in range(0, len(outfits), 256):
            batch = outfits[s:s + 256]
            negs = []
            for g in batch:
                swap = rng.random(len(g)) < rng.uniform(0.2, 1.0)
                swap[rng.integers(len(g))] = True  # at least one item differs
                negs.append(np.where(swap, sampler.draw(g), g))
            sets = list(batch) + negs
            rows = np.concatenate(sets)
            owner = torch.from_numpy(np.repeat(np.arange(len(sets)), [len(x) for x in sets]))
            y = torch.cat([torch.ones(len(batch)), torch.zeros(len(negs))])
            loss = loss_fn(net(z_all[torch.from_numpy(rows)], owner, len(sets)), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()
    return net


def set_scores(net: OutfitSetModel, model: ComplementaryModel, sets: list[np.ndarray]) -> np.ndarray:
    """Set-model probabilities float32 (len(sets),)."""
    if not sets:
        return np.zeros(0, np.float32)
    z_all = torch.from_numpy(model.embeddings())
    rows = torch.from_numpy(np.concatenate(sets))
    owner = torch.from_numpy(np.repeat(np.arange(len(sets)), [len(x) for x in sets]))
    with torch.no_grad():
        return torch.sigmoid(net(z_all[rows], owner, len(sets))).numpy()
