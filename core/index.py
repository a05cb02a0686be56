"""Exact cosine neighbours with faiss: inner product over unit-normalised vectors (IndexFlatIP)."""

from __future__ import annotations

import numpy as np

from core.errors import UnknownIdError


class NeighbourIndex:
    """Exact cosine search over one embedding space; rows are items, zero rows never match anything."""

    def __init__(self, vectors: np.ndarray, item_ids: np.ndarray | None = None) -> None:
        """vectors: float (n, d); item_ids: str (n,) (defaults to row numbers)."""
        import faiss  # noqa: PLC0415 — faiss loads only where an index is built

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.vectors = np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)
        self.empty = norms.ravel() < 1e-12
        self.item_ids = np.asarray(item_ids if item_ids is not None else np.arange(len(vectors)).astype(str))
        self._position = {str(i): k for k, i in enumerate(self.item_ids)}
        self.index = faiss.IndexFlatIP(self.vectors.shape[1])
        self.index.add(self.vectors)

    def __len__(self) -> int:
        return self.index.ntotal

    def position(self, item_id: str) -> int:
        try:
            return self._position[str(item_id)]
        except KeyError:
            raise UnknownIdError(f"item '{item_id}' is not in this model version: pick an item of the catalogue "
                                 "it was trained on, or train again") from None

    def search(self, queries: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Top-k cosine of each query row: (scores float32 (q, k), rows int64 (q, k); -1 = no neighbour)."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        norms = np.linalg.norm(queries, axis=1, keepdims=True)
        queries = np.ascontiguousarray(queries / np.maximum(norms, 1e-12))
        k = min(k, len(self))
        scores, rows = self.index.search(queries, k)
        return scores, rows.astype(np.int64)

    def neighbours(self, item_id: str, k: int = 10) -> list[tuple[str, float]]:
        """The k most similar other items of `item_id` as (item_id, cosine); empty if it has no vector here."""
        row = self.position(item_id)
        if self.empty[row]:
            return []
        scores, rows = self.search(self.vectors[row:row + 1], k + 1)
        out = [(str(self.item_ids[r]), float(s)) for s, r in zip(scores[0], rows[0])
               if r >= 0 and r != row and not self.empty[r]]
        return out[:k]


def brute_force_search(vectors: np.ndarray, queries: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """NumPy baseline of NeighbourIndex.search (benchmarks, tests): (scores (q, k), rows (q, k))."""
    v = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    q = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
    scores = q.astype(np.float32) @ v.astype(np.float32).T
    k = min(k, v.shape[0])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
    top = np.take_along_axis(top, order, axis=1)
    return np.take_along_axis(scores, top, axis=1), top.astype(np.int64)
