"""The hybrid's linear half: one TF-IDF vocabulary, a logistic regression per attribute, stored as plain arrays."""

# ASOS's model is a hybrid of the multi-task network and what a linear model reads well: a logistic regression
# over every word 1–2-gram, fitted to convergence, reads one-word attributes (pattern, season) as well as the
# network or better. The fitted state is a vocabulary, its idf and one coefficient matrix per attribute, so a
# version stores it as arrays (no pickle) and predicts with numpy and scipy only.

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp

from core.columns import ATTRIBUTE_PREFIX
from core.features.text import product_text
from core.models.attributes.features import LabelSpace

ABSENT = -1e4  # intercept of a class the training rows never showed: probability exactly 0 after the softmax
MAX_ITER = 300  # as the TF-IDF + LR baseline: near convergence on every catalogue measured
WARM_ITER = 60  # a refit started from the inner fit's coefficients needs only a few lbfgs steps
TOKEN_PATTERN = r"(?u)\b\w+\b"


@dataclass
class LinearText:
    """TF-IDF (word 1–2-grams, sublinear tf, min_df 2) + multinomial logistic regression per attribute.

    vocabulary: str (V,) terms in column order; idf: float32 (V,); coef[a]: float32 (k_a, V) and intercept[a]:
    float32 (k_a,) in the order of classes[a], the label space's (a class without training rows gets intercept
    ABSENT).
    """

    vocabulary: np.ndarray
    idf: np.ndarray
    coef: dict[str, np.ndarray]
    intercept: dict[str, np.ndarray]
    classes: dict[str, np.ndarray]

    @classmethod
    def fit(cls, catalogue: pd.DataFrame, space: LabelSpace, C: float = 10.0, seed: int = 0,
            warm: "LinearText | None" = None) -> "LinearText":
        """Fit on the labelled cells of `catalogue` (labels mapped by `space`, rare values → "other").

        warm: a model fitted on a subset of these rows (the inner split): its coefficients start lbfgs, so the
        refit on every row costs a fraction of a cold fit.
        """
        from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415 — sklearn only when fitting

        text = product_text(catalogue)
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, token_pattern=TOKEN_PATTERN,
                                     dtype=np.float32)
        try:
            x = vectorizer.fit_transform(text).tocsr()
            vocabulary = vectorizer.get_feature_names_out().astype(str)
            idf = vectorizer.idf_.astype(np.float32)
        except ValueError:  # no term in two items (a tiny catalogue): the linear half then knows only the priors
            x, vocabulary, idf = sp.csr_matrix((len(text), 0), dtype=np.float32), np.zeros(0, str), np.zeros(0,
                                                                                                           np.float32)
        coef, intercept = {}, {}
        for name in space.attributes:
            coef[name], intercept[name] = _fit_one(x, catalogue, space, name, C, seed, vocabulary, warm)
        return cls(vocabulary, idf, coef, intercept, {a: space.classes[a].astype(str) for a in space.attributes})

    def features(self, catalogue: pd.DataFrame) -> sp.csr_matrix:
        """TF-IDF rows (l2-normalised, as TfidfVectorizer), csr float32 (n, V)."""
        from sklearn.feature_extraction.text import CountVectorizer  # noqa: PLC0415

        if len(self.vocabulary) == 0:
            return sp.csr_matrix((len(catalogue), 0), dtype=np.float32)
        counts = CountVectorizer(ngram_range=(1, 2), token_pattern=TOKEN_PATTERN, dtype=np.float32,
                                 vocabulary={t: i for i, t in enumerate(self.vocabulary)}).transform(
            product_text(catalogue)).tocsr()
        counts.data = (np.log(counts.data) + 1.0).astype(np.float32)  # sublinear tf
        weighted = counts @ sp.diags(self.idf.astype(np.float32))
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
        return sp.csr_matrix(sp.diags((1.0 / np.maximum(norms, 1e-12)).astype(np.float32)) @ weighted,
                             dtype=np.float32)

    def probabilities(self, catalogue: pd.DataFrame) -> dict[str, np.ndarray]:
        """{attribute: float32 (n, k_a)} softmax probabilities in the label space's class order."""
        x = self.features(catalogue)
        out = {}
        for name, w in self.coef.items():
            z = np.asarray(x @ w.T, dtype=np.float32) + self.intercept[name]
            z -= z.max(axis=1, keepdims=True)
            e = np.exp(z)
            out[name] = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
        return out

    def to_arrays(self, attributes: list[str], prefix: str = "linear.") -> dict[str, np.ndarray]:
        """linear.vocabulary, linear.idf, linear.<j>.coef, linear.<j>.intercept (j: the attribute's position)."""
        arrays = {f"{prefix}vocabulary": self.vocabulary.astype(str), f"{prefix}idf": self.idf.astype(np.float32)}
        for j, name in enumerate(attributes):
            arrays[f"{prefix}{j}.coef"] = self.coef[name].astype(np.float32)
            arrays[f"{prefix}{j}.intercept"] = self.intercept[name].astype(np.float32)
        return arrays

    @staticmethod
    def array_names(attributes: list[str], prefix: str = "linear.") -> list[str]:
        return [f"{prefix}vocabulary", f"{prefix}idf", *(f"{prefix}{j}.{part}" for j in range(len(attributes))
                                                         for part in ("coef", "intercept"))]

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], space: LabelSpace,
                    prefix: str = "linear.") -> "LinearText":
        """The model `to_arrays` stored; its classes are the label space's (stored once, with the network)."""
        attributes = space.attributes
        model = cls(arrays[f"{prefix}vocabulary"].astype(str), arrays[f"{prefix}idf"].astype(np.float32),
                    {a: arrays[f"{prefix}{j}.coef"].astype(np.float32) for j, a in enumerate(attributes)},
                    {a: arrays[f"{prefix}{j}.intercept"].astype(np.float32) for j, a in enumerate(attributes)},
                    {a: space.classes[a].astype(str) for a in attributes})
        for a in attributes:
            k = len(model.classes[a])
            if model.coef[a].shape != (k, len(model.vocabulary)) or model.intercept[a].shape != (k,):
                raise ValueError(f"linear arrays of attribute {a!r} have shape {model.coef[a].shape}, expected "
                                 f"({k}, {len(model.vocabulary)})")
        return model


def _fit_one(x: sp.csr_matrix, catalogue: pd.DataFrame, space: LabelSpace, name: str, C: float, seed: int,
             vocabulary: np.ndarray, warm: LinearText | None) -> tuple[np.ndarray, np.ndarray]:
    """(coef float32 (k, V), intercept float32 (k,)) of one attribute, rows in the space's class order."""
    from sklearn.exceptions import ConvergenceWarning  # noqa: PLC0415
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

    classes = space.classes[name]
    k, v = len(classes), x.shape[1]
    coef, intercept = np.zeros((k, v), np.float32), np.full(k, ABSENT, np.float32)
    column = ATTRIBUTE_PREFIX + name
    if column not in catalogue:
        intercept[:] = 0.0  # nothing to learn from: uniform
        return coef, intercept
    rows = catalogue[column].notna().to_numpy()
    labels = space.canonical(name, catalogue.loc[rows, column].astype(str)).to_numpy(dtype=str)
    index = {c: i for i, c in enumerate(classes.astype(str))}
    present = np.unique(labels)
    position = np.array([index[c] for c in present], dtype=int)
    if len(present) < 2 or v == 0:
        counts = np.array([(labels == c).sum() for c in present], dtype=float)
        if counts.size:
            intercept[position] = np.log(counts / counts.sum()).astype(np.float32)
        else:
            intercept[:] = 0.0
        return coef, intercept
    model = LogisticRegression(C=C, max_iter=MAX_ITER, random_state=seed)
    start = _warm_start(warm, name, classes, present, vocabulary)
    if start is not None:
        model.set_params(warm_start=True, max_iter=WARM_ITER)
        model.coef_, model.intercept_ = start
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # as the baseline: max_iter bounds the time
        model.fit(x[rows], labels)
    fitted_coef, fitted_intercept = model.coef_.astype(np.float32), model.intercept_.astype(np.float32)
    if len(present) == 2:  # sklearn's binary form: one row of logits for the second class, the first at 0
        coef[position[1]], intercept[position[1]], intercept[position[0]] = fitted_coef[0], fitted_intercept[0], 0.0
    else:
        coef[position], intercept[position] = fitted_coef, fitted_intercept
    return coef, intercept


def _warm_start(warm: LinearText | None, name: str, classes: np.ndarray, present: np.ndarray,
                vocabulary: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The inner fit's coefficients re-indexed to this fit's classes and vocabulary (multinomial only; None when
    there is nothing to start from)."""
    if warm is None or name not in warm.coef or len(present) < 3:
        return None
    old_index = {c: i for i, c in enumerate(warm.classes[name])}
    old_terms = {t: i for i, t in enumerate(warm.vocabulary)}
    term_from = np.array([old_terms.get(t, -1) for t in vocabulary], dtype=int)
    known = term_from >= 0
    w_old, b_old = warm.coef[name], warm.intercept[name]
    coef = np.zeros((len(present), len(vocabulary)), dtype=np.float64)
    intercept = np.zeros(len(present), dtype=np.float64)
    for r, c in enumerate(present):  # a class the inner fit did not know starts at 0
        if c in old_index and b_old[old_index[c]] > ABSENT / 2:
            coef[r, known] = w_old[old_index[c], term_from[known]]
            intercept[r] = b_old[old_index[c]]
    return coef, intercept
