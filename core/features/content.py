"""Content features of items: TF-IDF of name+description, categorical codes, log price, optional image vectors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from core.columns import Columns, attribute_columns
from core.errors import ValidationError, Problem

# Coarse fields first; attr_* columns are appended as further categorical fields.
CATEGORICAL_FIELDS: tuple[str, ...] = ("brand", "category", "category_group", "division")
TEXT_FIELDS: tuple[str, ...] = ("name", "description")


@dataclass
class ContentFeatures:
    """Model inputs for n items, row i = item_ids[i].

    text: csr float32 (n, V), l2-normalised TF-IDF rows (word 1–2-grams).
    categorical: int64 (n, F) codes per field, 0 = missing or unseen.
    numeric: float32 (n, 2): standardised log1p(price) and a price-missing flag.
    image: float32 (n, D) or None.
    """

    item_ids: np.ndarray
    text: sp.csr_matrix
    categorical: np.ndarray
    numeric: np.ndarray
    image: np.ndarray | None
    fields: list[str]
    vocabularies: dict[str, np.ndarray] = field(default_factory=dict)  # field -> values (code = index + 1)
    text_vocabulary: np.ndarray = field(default_factory=lambda: np.array([], dtype=str))
    idf: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.float32))
    price_stats: tuple[float, float] = (0.0, 1.0)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def cardinalities(self) -> list[int]:
        """Embedding sizes per categorical field (vocabulary + 1 for 'missing')."""
        return [len(self.vocabularies[f]) + 1 for f in self.fields]

    def raw_matrix(self) -> sp.csr_matrix:
        """The content-only baseline space: csr float32 (n, V + Σ one-hots + 1), rows l2-normalised.

        Text, each categorical field and price are given equal weight before the row normalisation, so
        no single block dominates the cosine.
        """
        blocks = [self.text]
        n = self.n_items
        for j, name in enumerate(self.fields):
            codes = self.categorical[:, j]
            known = codes > 0
            onehot = sp.csr_matrix((np.ones(known.sum(), np.float32), (np.flatnonzero(known), codes[known] - 1)),
                                   shape=(n, len(self.vocabularies[name])))
            blocks.append(onehot)
        blocks.append(sp.csr_matrix(self.numeric[:, :1] * 0.5))
        if self.image is not None:
            norms = np.linalg.norm(self.image, axis=1, keepdims=True)
            blocks.append(sp.csr_matrix(self.image / np.maximum(norms, 1e-12)))
        matrix = sp.hstack(blocks, format="csr", dtype=np.float32)
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        return sp.csr_matrix(sp.diags(1.0 / np.maximum(norms, 1e-12)) @ matrix, dtype=np.float32)

    def to_arrays(self, prefix: str = "content.") -> dict[str, np.ndarray]:
        """The fitted vocabularies (not the per-item matrices) for ArtifactStore.save."""
        arrays = {f"{prefix}text_vocabulary": self.text_vocabulary.astype(str),
                  f"{prefix}idf": self.idf.astype(np.float32),
                  f"{prefix}price_stats": np.array(self.price_stats, np.float64),
                  f"{prefix}fields": np.array(self.fields, dtype=str)}
        for name in self.fields:
            arrays[f"{prefix}vocab.{name}"] = self.vocabularies[name].astype(str)
        return arrays


def categorical_fields(catalogue: pd.DataFrame) -> list[str]:
    """The categorical fields present in `catalogue`: brand, category, ... then every attr_* column."""
    return [c for c in CATEGORICAL_FIELDS if c in catalogue.columns] + attribute_columns(list(catalogue.columns))


def item_text(catalogue: pd.DataFrame) -> pd.Series:
    """name + description, plus the categorical values as words (Mango-style catalogues have no prose)."""
    parts = [catalogue[c].fillna("").astype(str) for c in TEXT_FIELDS if c in catalogue.columns]
    for c in categorical_fields(catalogue):
        parts.append(catalogue[c].fillna("").astype(str).str.replace(r"[\s/&,-]+", "_", regex=True))
    if not parts:
        return pd.Series([""] * len(catalogue), index=catalogue.index)
    text = parts[0]
    for part in parts[1:]:
        text = text + " " + part
    return text.str.lower()


def build_content_features(catalogue: pd.DataFrame, image_features: tuple[np.ndarray, np.ndarray] | None = None,
                           max_features: int = 20000, min_df: int = 2) -> ContentFeatures:
    """Fit the text/categorical/price encoders on the whole catalogue (no labels are used, so no leakage).

    catalogue: generic schema (item_id, name, description, brand, category, ..., price, attr_*).
    image_features: optional (item_ids, float32 (m, D)); items without a vector get zeros.
    """
    # sklearn loads only where content features are fitted
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415

    if Columns.item not in catalogue.columns:
        raise ValidationError([Problem("catalogue", None, Columns.item, "column is required")])
    if catalogue.empty:
        raise ValidationError([Problem("catalogue", None, None, "the catalogue is empty: import a catalogue first")])
    item_ids = catalogue[Columns.item].astype(str).to_numpy()
    texts = item_text(catalogue)
    min_df_used = min_df if len(catalogue) >= 50 else 1
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=min_df_used, max_features=max_features,
                                 sublinear_tf=True, dtype=np.float32, token_pattern=r"(?u)\b\w+\b")
    try:
        text = vectorizer.fit_transform(texts.tolist()).tocsr().astype(np.float32)
        vocabulary = vectorizer.get_feature_names_out().astype(str)
        idf = vectorizer.idf_.astype(np.float32)
    except ValueError:  # no token anywhere: a catalogue without text still has categories and price
        text = sp.csr_matrix((len(catalogue), 1), dtype=np.float32)
        vocabulary, idf = np.array(["<none>"]), np.ones(1, np.float32)

    fields = categorical_fields(catalogue)
    vocabularies: dict[str, np.ndarray] = {}
    codes = np.zeros((len(catalogue), len(fields)), dtype=np.int64)
    for j, name in enumerate(fields):
        values = catalogue[name].astype("string").fillna("").str.strip()
        uniques = np.array(sorted(v for v in values.unique() if v), dtype=str)
        vocabularies[name] = uniques
        lookup = {v: i + 1 for i, v in enumerate(uniques)}
        codes[:, j] = values.map(lambda v: lookup.get(v, 0)).to_numpy(dtype=np.int64)

    numeric, price_stats = _price_block(catalogue)
    image = align_image_vectors(item_ids, image_features)
    return ContentFeatures(item_ids, text, codes, numeric, image, fields, vocabularies, vocabulary, idf, price_stats)


def _price_block(catalogue: pd.DataFrame) -> tuple[np.ndarray, tuple[float, float]]:
    price = pd.to_numeric(catalogue[Columns.price], errors="coerce") if Columns.price in catalogue.columns \
        else pd.Series(np.nan, index=catalogue.index)
    log_price = np.log1p(price.clip(lower=0).to_numpy(dtype=np.float64))
    known = np.isfinite(log_price)
    mean = float(log_price[known].mean()) if known.any() else 0.0
    std = float(log_price[known].std()) if known.sum() > 1 else 1.0
    std = std if std > 1e-9 else 1.0
    standardised = np.where(known, (log_price - mean) / std, 0.0)
    return np.stack([standardised, (~known).astype(np.float64)], axis=1).astype(np.float32), (mean, std)


def align_image_vectors(item_ids: np.ndarray,
                        image_features: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray | None:
    """Image vectors in `item_ids` order: float32 (n, D), zeros for items without one; None without image features."""
    if image_features is None:
        return None
    ids, vectors = image_features
    position = {str(i): k for k, i in enumerate(ids)}
    out = np.zeros((len(item_ids), vectors.shape[1]), dtype=np.float32)
    rows = np.array([position.get(str(i), -1) for i in item_ids], dtype=np.int64)
    found = rows >= 0
    out[found] = vectors[rows[found]]
    return out


def describe(features: ContentFeatures) -> dict[str, Any]:
    """Sizes of each input block, for the version's metadata."""
    return {"n_items": features.n_items, "text_features": int(features.text.shape[1]), "fields": features.fields,
            "cardinalities": features.cardinalities,
            "image_dim": 0 if features.image is None else int(features.image.shape[1])}
