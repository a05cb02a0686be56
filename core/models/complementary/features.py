"""Item content as arrays for the pair model, co-outfit pairs, stylist labels and same-type sampling."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.columns import Columns, attribute_columns
from core.errors import Problem, UnknownIdError, ValidationError
from core.features.content import align_image_vectors

# Coarse-to-fine catalogue columns used as categorical item content when present.
CATEGORICAL_COLUMNS = ("category", "category_group", "division", "brand")
TEXT_COLUMNS = ("name", "description")
_TOKEN = re.compile(r"[a-z0-9]+")


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
    row_of: dict[str, int] = field(default_factory=dict, repr=False)  # item id -> row

    def __post_init__(self) -> None:
        self.row_of = {str(i): k for k, i in enumerate(self.item_ids)}

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def vocab_size(self) -> int:
        return 1 + sum(len(v) for v in self.vocabularies.values())

    def index(self, ids: "list[str] | np.ndarray | pd.Series", what: str = "item") -> np.ndarray:
        """Row numbers int64 (n,) of external ids; raises UnknownIdError naming the first unknown ones."""
        ids = [str(i) for i in ids]
        missing = [i for i in ids if i not in self.row_of]
        if missing:
            raise UnknownIdError(
                f"{len(missing)} {what} id(s) not in the catalogue the model was trained on, e.g. {missing[:3]}: "
                "add them to the products file or retrain"
            )
        return np.fromiter((self.row_of[i] for i in ids), dtype=np.int64, count=len(ids))

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
        raise ValidationError([Problem("products", None, c, "required column missing")
                               for c in (Columns.item, Columns.category) if c not in catalogue.columns])
    catalogue = catalogue.drop_duplicates(Columns.item).reset_index(drop=True)
    item_ids = catalogue[Columns.item].astype(str).to_numpy(dtype=object)
    field_names = [c for c in CATEGORICAL_COLUMNS
                   if c in catalogue.columns] + attribute_columns(list(catalogue.columns))
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
    aligned = align_image_vectors(item_ids, image)
    return np.zeros((len(item_ids), 0), dtype=np.float32) if aligned is None else aligned


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
    frame = frame[frame[Columns.item].isin(feats.row_of)]
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
    known = labels["item_a"].astype(str).isin(feats.row_of) & labels["item_b"].astype(str).isin(feats.row_of)
    labels = labels[labels["label"].isin([0, 1]) & known]
    pairs = np.stack([feats.index(labels["item_a"]), feats.index(labels["item_b"])],
                     axis=1) if len(labels) else np.zeros((0, 2), np.int64)
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

def known_id_slots(feats: ItemFeatures, outfits: pd.DataFrame) -> np.ndarray:
    """int64 (n_items,): 1..k for items that appear in training outfits, 0 otherwise."""
    seen = np.zeros(feats.n_items, dtype=bool)
    ids = outfits[Columns.item].astype(str)
    seen[feats.index(ids[ids.isin(feats.row_of)].unique())] = True
    slots = np.zeros(feats.n_items, dtype=np.int64)
    slots[seen] = np.arange(1, seen.sum() + 1)
    return slots
