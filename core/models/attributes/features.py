"""What the attribute model learns from a catalogue besides its weights: label space, input encoder, checks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from core.columns import ATTRIBUTE_PREFIX, attribute_columns, attribute_name
from core.errors import Problem, ValidationError
from core.features.content import align_image_vectors
from core.features.text import TextHasher, WordSequencer
from core.models.attributes.params import AttributeParams

OTHER = "other"
CATEGORICAL_FIELDS: tuple[str, ...] = ("brand", "category", "category_group", "division")


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
        types = (catalogue["category"].fillna("").astype(str) if "category" in catalogue
                 else pd.Series("", index=catalogue.index))
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
                      None if self.image is None else self.image[index],
                      None if self.words is None else self.words[index])


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
        return cls(TextHasher(params.buckets, params.min_df).fit(catalogue), vocabularies,
                   (mean, std if std > 0 else 1.0), image_dim, words)

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
    return align_image_vectors(catalogue["item_id"].to_numpy(), features)


def attribute_names(catalogue: pd.DataFrame, wanted: list[str] | None = None) -> list[str]:
    """The attributes to model: `wanted` (names without attr_) or every attr_* column with at least 2 values."""
    present = [attribute_name(c) for c in attribute_columns(list(catalogue.columns))]
    if wanted:
        missing = [w for w in wanted if w not in present]
        if missing:
            raise ValidationError([Problem("catalogue", None, ATTRIBUTE_PREFIX + m,
                                           "attribute column not in the catalogue")
                                   for m in missing])
        return list(wanted)
    return [a for a in present if catalogue[ATTRIBUTE_PREFIX + a].dropna().nunique() >= 2]



def check_catalogue(catalogue: pd.DataFrame) -> None:
    """Refuse a catalogue without unique item ids (ValidationError naming the first duplicate)."""
    problems = []
    if "item_id" not in catalogue.columns:
        problems.append(Problem("catalogue", None, "item_id", "required column is missing"))
    elif catalogue["item_id"].duplicated().any():
        dup = catalogue["item_id"][catalogue["item_id"].duplicated()].iloc[0]
        problems.append(Problem("catalogue", None, "item_id", "item ids must be unique", str(dup)))
    if problems:
        raise ValidationError(problems)


