"""Product text as model inputs: hashed n-gram TF-IDF bags and word-id sequences, stored as arrays (nothing pickled)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

DEFAULT_BUCKETS = 2 ** 18


def product_text(catalogue: pd.DataFrame, fields: tuple[str, ...] = ("name", "description")) -> list[str]:
    """name + description (missing → empty) per row, lower-cased; list[str] of len(catalogue)."""
    parts = [catalogue[f].fillna("").astype(str) if f in catalogue.columns else pd.Series("", index=catalogue.index)
             for f in fields]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + " . " + part
    return joined.str.lower().tolist()


@dataclass
class TextHasher:
    """Hashed TF-IDF: word 1–2-grams of name+description plus char 2–4-grams of the name, one bucket space.

    Hashing keeps the model's state to arrays (idf and a column per bucket) and never fails on unseen words;
    the name's character n-grams catch spelling variants ("T-shirt", "tshirt") the word grams miss. Buckets
    seen in fewer than `min_df` training items are dropped, which keeps the trainable text table small enough
    for a dense gradient (a sparse one over 2^18 buckets cost ~50x more per step on 2 cores).
    idf: float32 (buckets,).
    """

    buckets: int = DEFAULT_BUCKETS
    min_df: int = 2
    idf: np.ndarray | None = None
    remap: np.ndarray | None = None  # int64 (buckets,): column of each kept bucket, -1 = dropped (df < min_df)

    @property
    def n_features(self) -> int:
        return int(self.remap.max()) + 1 if self.remap is not None and self.remap.size and self.remap.max() >= 0 else 1

    def _vectorizers(self) -> tuple[HashingVectorizer, HashingVectorizer]:
        words = HashingVectorizer(n_features=self.buckets, ngram_range=(1, 2), alternate_sign=False, norm=None,
                                  token_pattern=r"(?u)\b\w+\b", dtype=np.float32)
        chars = HashingVectorizer(n_features=self.buckets, analyzer="char_wb", ngram_range=(2, 4),
                                  alternate_sign=False, norm=None, dtype=np.float32)
        return words, chars

    def counts(self, catalogue: pd.DataFrame) -> sp.csr_matrix:
        """Raw n-gram counts: csr float32 (n, buckets)."""
        if len(catalogue) == 0:
            return sp.csr_matrix((0, self.buckets), dtype=np.float32)
        words, chars = self._vectorizers()
        names = (catalogue["name"].fillna("").astype(str).str.lower().tolist() if "name" in catalogue
                 else [""] * len(catalogue))
        matrix = words.transform(product_text(catalogue)) + chars.transform(names)
        return sp.csr_matrix(matrix, dtype=np.float32)

    def fit(self, catalogue: pd.DataFrame) -> "TextHasher":
        """Learn smoothed idf per bucket from the training catalogue."""
        counts = self.counts(catalogue)
        df = np.bincount(counts.indices, minlength=self.buckets).astype(np.float64)
        n = counts.shape[0]
        idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
        kept = df >= max(self.min_df, 1)
        idf[~kept] = 0.0
        self.idf = idf.astype(np.float32)
        self.remap = np.where(kept, np.cumsum(kept) - 1, -1).astype(np.int64)
        return self

    def transform(self, catalogue: pd.DataFrame) -> sp.csr_matrix:
        """Sublinear-tf × idf rows over the kept buckets, l2-normalised: csr float32 (n, n_features), sorted indices."""
        if self.idf is None or self.remap is None:
            raise RuntimeError("TextHasher.transform before fit")
        counts = self.counts(catalogue)
        counts.data = 1.0 + np.log(counts.data)
        weighted = sp.csr_matrix(counts.multiply(self.idf[None, :]), dtype=np.float32)
        weighted.eliminate_zeros()
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        weighted = sp.csr_matrix(sp.diags(1.0 / norms) @ weighted, dtype=np.float32)
        weighted.indices = self.remap[weighted.indices].astype(weighted.indices.dtype)  # every kept bucket has idf > 0
        weighted = sp.csr_matrix((weighted.data, weighted.indices, weighted.indptr),
                                 shape=(weighted.shape[0], self.n_features))
        weighted.sort_indices()
        return weighted

    def to_arrays(self, prefix: str = "text.") -> dict[str, np.ndarray]:
        return {f"{prefix}idf": self.idf, f"{prefix}remap": self.remap,
                f"{prefix}buckets": np.array([self.buckets, self.min_df], dtype=np.int64)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str = "text.") -> "TextHasher":
        sizes = arrays[f"{prefix}buckets"]
        return cls(buckets=int(sizes[0]), min_df=int(sizes[1]),
                   idf=np.asarray(arrays[f"{prefix}idf"], dtype=np.float32),
                   remap=np.asarray(arrays[f"{prefix}remap"], dtype=np.int64))


WORD = re.compile(r"(?u)\b\w+\b")
PAD, UNKNOWN = 0, 1  # word ids reserved for padding and for words outside the vocabulary


@dataclass
class WordSequencer:
    """name + description as word ids in their order (the input of a convolution over words).

    The vocabulary holds the words seen in ≥ `min_df` training items, most frequent first; word k has id k + 2,
    anything else is UNKNOWN. Sequences keep the first `max_words` words (the name and the description's first
    sentences, where attribute phrases like "has short sleeves" sit) and are right-padded with PAD.
    vocabulary: str (V,).
    """

    min_df: int = 2
    max_words: int = 128
    vocabulary: np.ndarray | None = None

    @property
    def n_ids(self) -> int:
        return 2 + (0 if self.vocabulary is None else len(self.vocabulary))

    def fit(self, catalogue: pd.DataFrame) -> "WordSequencer":
        df = Counter(word for text in product_text(catalogue) for word in set(WORD.findall(text)))
        kept = [w for w, n in sorted(df.items(), key=lambda kv: (-kv[1], kv[0])) if n >= max(self.min_df, 1)]
        self.vocabulary = np.array(kept, dtype=str)
        return self

    def transform(self, catalogue: pd.DataFrame) -> np.ndarray:
        """int64 (n, L) word ids, L = min(max_words, longest text) and at least 1, PAD after each text's end."""
        if self.vocabulary is None:
            raise RuntimeError("WordSequencer.transform before fit")
        ids = {w: k + 2 for k, w in enumerate(self.vocabulary.tolist())}
        rows = [[ids.get(w, UNKNOWN) for w in WORD.findall(text)[:self.max_words]] for text in product_text(catalogue)]
        out = np.full((len(rows), max((len(r) for r in rows), default=1) or 1), PAD, dtype=np.int64)
        for i, row in enumerate(rows):
            out[i, :len(row)] = row
        return out

    def to_arrays(self, prefix: str = "words.") -> dict[str, np.ndarray]:
        return {f"{prefix}vocabulary": self.vocabulary.astype(str),
                f"{prefix}sizes": np.array([self.min_df, self.max_words], dtype=np.int64)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str = "words.") -> "WordSequencer":
        sizes = arrays[f"{prefix}sizes"]
        return cls(min_df=int(sizes[0]), max_words=int(sizes[1]), vocabulary=arrays[f"{prefix}vocabulary"].astype(str))


def bag_inputs(matrix: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A csr matrix as EmbeddingBag inputs: (indices int64 (nnz,), offsets int64 (n,), weights float32 (nnz,))."""
    return (matrix.indices.astype(np.int64), matrix.indptr[:-1].astype(np.int64), matrix.data.astype(np.float32))
