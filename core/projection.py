"""Seeded 2-D UMAP layouts of embedding spaces (umap is imported lazily: it costs seconds to import)."""

from __future__ import annotations

import warnings

import numpy as np


def project(vectors: np.ndarray, seed: int = 42, n_neighbors: int = 15, min_dist: float = 0.1) -> np.ndarray:
    """2-D layout of the rows of `vectors` (float (n, d)) → float32 (n, 2); the same seed gives the same map.

    Rows are unit-normalised first, so Euclidean distance ranks like cosine; zero rows (items without any
    vector in this space) all land in one spot, which is what an empty ALS vector means.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    n = len(vectors)
    if n == 0:
        return np.zeros((0, 2), np.float32)
    if n < 4:  # UMAP needs a neighbourhood; a handful of points is laid out on a line
        return np.stack([np.arange(n, dtype=np.float32), np.zeros(n, np.float32)], axis=1)

    import umap  # noqa: PLC0415 — umap costs seconds to import (see the docstring)

    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.maximum(norms, 1e-12)
    # Items with the same content get the same predicted vector (Mango: 2,114 distinct among 9,222). Groups of
    # identical rows larger than n_neighbors become disconnected components, and UMAP's spectral initialisation
    # of many components took > 20 min; so the distinct rows are laid out and copies get a small seeded jitter.
    distinct, inverse = np.unique(np.round(unit, 6), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    if len(distinct) < 4:
        layout = np.zeros((len(distinct), 2), np.float32)
        layout[:, 0] = np.arange(len(distinct))
    else:
        # A fixed random_state makes UMAP single-threaded and deterministic: maps stay stable between runs.
        reducer = umap.UMAP(n_components=2, n_neighbors=min(n_neighbors, len(distinct) - 1), min_dist=min_dist,
                            random_state=seed, init="spectral" if len(distinct) > 50 else "random",
                            metric="euclidean")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # n_jobs is overridden by random_state
            layout = np.asarray(reducer.fit_transform(distinct), dtype=np.float32)
    out = layout[inverse]
    copies = np.bincount(inverse)[inverse] > 1
    if copies.any():
        spread = float(np.ptp(layout, axis=0).max()) if len(layout) > 1 else 1.0
        jitter = np.random.default_rng(seed).normal(scale=0.004 * max(spread, 1e-6), size=(int(copies.sum()), 2))
        out[copies] += jitter.astype(np.float32)
    return out.astype(np.float32)
